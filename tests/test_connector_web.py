"""The ``web`` connector against a real HTTP server on loopback (tests/websites.py): a sitemap,
robots.txt, a redirect, a 404, a page answering 429 with Retry-After twice, and a link loop.

A first sync indexes exactly the reachable, allowed pages (the throttled one included); after
two edits and a delete, a resync embeds exactly the two edited pages, deletes the gone one, and
asks every other page with a conditional GET that costs a 304."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops.errors import ConfigError, ConnectorError
from ragops.project import Project
from ragops.sources import ConnectorRegistry, SourceMemory
from tests.test_cli import as_json, cli
from tests.websites import Site, serve_site

TOPICS = {
    "/docs/": ("Handbook", "Start here: the staff handbook of the Example company."),
    "/docs/leave": ("Leave", "Everyone gets twenty-five days of paid leave each year."),
    "/docs/badges": ("Badges", "Lost badges are replaced at the reception desk."),
    "/docs/lunch": ("Lunch", "The canteen serves lunch from noon until two."),
    "/docs/loop-a": ("Parking", "Visitors park in the north garage on level two."),
    "/docs/loop-b": ("Bikes", "Bicycles go in the basement racks beside the lifts."),
    "/docs/busy": ("Failover", "The database failover takes four minutes."),
    "/docs/private/salaries": ("Salaries", "The salary bands are confidential."),
}


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    with serve_site(site):
        links = {
            "/docs/": ["leave", "badges", "old-lunch", "missing", "loop-a", "loop-b",
                       "private/salaries", "http://example.invalid/elsewhere",
                       "mailto:hr@example.org"],
            "/docs/loop-a": ["/docs/loop-b"],
            "/docs/loop-b": ["/docs/loop-a", "/docs/"],
        }  # fmt: skip
        for path, (title, body) in TOPICS.items():
            site.html(path, title, body, links.get(path, []))
        site.redirects["/docs/old-lunch"] = "/docs/lunch"
        site.throttled["/docs/busy"] = 2  # 429 with Retry-After: 1, twice
        site.pages["/robots.txt"] = ("text/plain", b"User-agent: *\nDisallow: /docs/private/\n")
        urls = "".join(f"<url><loc>{site.base}{p}</loc></url>" for p in ["/docs/busy"])
        site.pages["/sitemap.xml"] = (
            "application/xml",
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>".encode(),
        )
        yield site


def write_config(root: Path, site: Site, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "ragops.yaml"
    config.write_text(
        "project: websource\n"
        "sources:\n"
        "  handbook:\n"
        "    connector: web\n"
        f"    seeds: ['{site.base}/docs/']\n"
        f"    sitemaps: ['{site.base}/sitemap.xml']\n"
        f"    allowed_prefixes: ['{site.base}/docs/']\n"
        "    rate_limit: 0\n"
        "    public: true\n" + extra + "indexes:\n"
        "  docs: {sources: [handbook], chunker: {kind: sentence}}\n"
    )
    return config


def test_sync_resync_with_conditional_gets_edits_and_a_delete(site: Site, tmp_path: Path) -> None:
    config = write_config(tmp_path / "project", site)
    base = f"{site.base}/docs/"
    with Project.open(config) as project:
        [first] = ragops.sync(project)
        ids = {key[1] for key in project.catalog.documents.states(1)}
        expected = {base + p for p in ["", "leave", "badges", "lunch", "loop-a", "loop-b", "busy"]}
        assert ids == expected, "redirect followed to /docs/lunch; 404, robots, outside: left out"
        assert (first.documents.new, first.embedded) == (7, 7)
        assert site.fetched().count("/docs/busy") == 3, "two 429s, then the page"
        assert "/docs/private/salaries" not in site.fetched(), "robots.txt disallows it"
        assert site.fetched(404) == ["/docs/missing"]
        ragops.promote(project, "docs", 1)
        [hit] = Retriever(project, "docs").search("how long does the failover take", k=1)
        assert hit.doc_id == base + "busy", "the page that answered 429 twice is indexed"
        assert hit.metadata["url"] == base + "busy" and hit.metadata["title"] == "Failover"
        [hit] = Retriever(project, "docs").search("when is lunch served", k=1)
        assert hit.doc_id == base + "lunch" and hit.metadata["title"] == "Lunch"

    site.html("/docs/leave", "Leave", "Everyone now gets thirty days of paid leave each year.")
    site.html("/docs/badges", "Badges", "Lost badges are replaced by security, room 12.")
    links_b = ["/docs/loop-a", "/docs/"]
    site.html("/docs/loop-b", "Bikes", TOPICS["/docs/loop-b"][1], links_b)  # unchanged bytes
    del site.pages["/docs/loop-a"]  # loop-b still links to it: now a 404
    site.clear_log()
    with Project.open(config) as project:  # a new process would do the same: state is stored
        [second] = ragops.sync(project)
        d = second.documents
        assert (d.new, d.changed, d.deleted, d.unchanged) == (0, 2, 1, 4)
        assert second.embedded == 2, "exactly the two edited pages are embedded"
        revalidated = set(site.fetched(304))
        assert revalidated == {"/docs/", "/docs/lunch", "/docs/busy", "/docs/loop-b"}, site.log
        assert sorted(site.fetched(200)) == [
            "/docs/badges", "/docs/leave", "/robots.txt", "/sitemap.xml"
        ]  # fmt: skip
        ragops.promote(project, "docs", 2)
        [hit] = Retriever(project, "docs").search("how many days of paid leave", k=1)
        assert "thirty days" in hit.text
        gone = Retriever(project, "docs").search("where do visitors park", k=5)
        assert base + "loop-a" not in {h.doc_id for h in gone}

        site.clear_log()
        [third] = ragops.sync(project)
        assert not third.created_version and third.embedded == 0
        assert sorted(site.fetched(200)) == ["/robots.txt", "/sitemap.xml"], "pages: all 304"


def test_full_listing_ignores_the_saved_validators(site: Site, tmp_path: Path) -> None:
    config = write_config(tmp_path / "project", site)
    with Project.open(config) as project:
        ragops.sync(project)
    site.clear_log()
    [synced] = as_json(cli("sync", "--full-listing", "--json", cwd=config.parent))["indexes"]
    assert site.fetched(304) == [], "a full listing sends no conditional GET"
    assert len(site.fetched(200)) == 9, "7 pages, robots.txt and the sitemap"
    assert synced["embedded"] == 0 and synced["created_version"] is False
    site.clear_log()
    with Project.open(config) as project:
        [again] = ragops.sync(project)
    assert again.embedded == 0 and len(site.fetched(304)) == 7, "validators saved afresh"


def listing(site: Site, memory: SourceMemory | None = None, **options: object):  # type: ignore[no-untyped-def]
    web = ConnectorRegistry().get("web")
    defaults = {"seeds": [f"{site.base}/docs/"], "rate_limit": 0, "retries": 1}
    return web.listing("site", {**defaults, **options}, None, memory)


def test_a_known_page_that_is_refused_fails_the_listing(site: Site) -> None:
    first = listing(site)
    assert len(first.documents) == 6, "busy is only in the sitemap"
    original = site._response

    def forbidden(path: str, etag: str | None):  # type: ignore[no-untyped-def]
        return (403, {}, b"") if path == "/docs/leave" else original(path, etag)

    site._response = forbidden  # type: ignore[method-assign]
    with pytest.raises(ConnectorError, match=r"/docs/leave answered HTTP 403; nothing was deleted"):
        listing(site, first.memory)
    fresh = listing(site)  # never indexed: a forbidden link is skipped, not an error
    assert f"{site.base}/docs/leave" not in {d.doc_id for d in fresh.documents}


def test_a_missing_sitemap_and_bad_options_fail_before_any_page(site: Site) -> None:
    with pytest.raises(ConnectorError, match="sitemap .*/nope.xml answered HTTP 404"):
        listing(site, seeds=[], sitemaps=[f"{site.base}/nope.xml"])
    with pytest.raises(ConnectorError, match="not an http"):
        listing(site, seeds=["ftp://example.org/"])
    with pytest.raises(ConnectorError, match="give 'seeds' or 'sitemaps'"):
        listing(site, seeds=[])
    web = ConnectorRegistry().get("web")
    with pytest.raises(ConfigError, match="did you mean 'max_pages'"):
        web.validate_options("site", {"seeds": ["http://x/"], "max_page": 3})
    assert "state" not in web.option_names()


def test_a_redirect_loop_is_skipped_when_never_indexed(site: Site) -> None:
    site.redirects["/docs/spin"] = "/docs/spin"
    site.html("/docs/start", "Start", "A page linking to a redirect loop.", ["spin"])
    found = listing(site, seeds=[f"{site.base}/docs/start"])
    assert [d.doc_id for d in found.documents] == [f"{site.base}/docs/start"]
    assert site.fetched().count("/docs/spin") > 1, "followed, then given up"


def test_binaries_and_oversized_pages_are_not_downloaded(site: Site) -> None:
    site.pages["/docs/release.zip"] = ("application/zip", b"PK" + b"\0" * 3_000_000)
    site.html("/docs/huge", "Huge", "word " * 20_000)
    site.html("/docs/start", "Start", "Downloads.", ["release.zip", "huge"])
    found = listing(site, seeds=[f"{site.base}/docs/start"], max_bytes=50_000)
    assert [d.doc_id for d in found.documents] == [f"{site.base}/docs/start"]
    assert {"/docs/release.zip", "/docs/huge"} <= set(site.fetched(200)), "asked, then dropped"


def test_limits_depth_and_pages(site: Site) -> None:
    shallow = listing(site, max_depth=0)
    assert [d.doc_id for d in shallow.documents] == [f"{site.base}/docs/"]
    capped = listing(site, max_pages=3)
    assert len(capped.documents) == 3


def test_canonical_urls_and_noindex(site: Site) -> None:
    site.pages["/docs/print/leave"] = (
        "text/html",
        b'<html><head><title>Leave (print)</title><link rel="canonical" href="/docs/leave">'
        b"</head><body>Everyone gets leave.</body></html>",
    )
    site.pages["/docs/drafts"] = (
        "text/html",
        b'<html><head><meta name="robots" content="noindex"></head><body>'
        b'<a href="/docs/print/leave">print</a></body></html>',
    )
    found = listing(site, seeds=[f"{site.base}/docs/drafts"], max_depth=2)
    assert [d.doc_id for d in found.documents] == [f"{site.base}/docs/leave"]
    assert found.documents[0].metadata["title"] == "Leave (print)"
