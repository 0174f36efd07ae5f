"""The ``web`` connector: pages of a web site, from its sitemaps and/or a crawl from seed URLs.

The crawl stays within ``allowed_prefixes`` (default: each seed's folder and each sitemap's
site), honours robots.txt (``Disallow``, ``Crawl-delay``) and ``<meta name="robots">``, and
stops at ``max_depth`` links from the start pages and ``max_pages`` pages. Requests go through
:class:`ragops.sources.http.HttpClient`: a rate limit per host, timeouts, and retries that
honour ``Retry-After``, so a page answering 429 is fetched later, never skipped.

Each page's ``ETag`` (else ``Last-Modified``, else a hash of the body) is its version marker.
The connector keeps every page's validators and links in its :class:`~ragops.SourceState`,
so a resync sends conditional GETs: an unchanged page costs a 304 and is reported
:class:`~ragops.Unchanged`, and the crawl goes on through the links it had. A redirect is
followed (the document id is where it ends, or the page's ``<link rel=canonical>`` when that
is within the allowed prefixes); a page answering 404 or 410 is no longer listed, so it is
deleted. Any other failure (a 401/403 on a page that was indexed, a 5xx after the retries)
fails the listing, and nothing is deleted.

Documents: HTML pages go to the HTML parser (also PDF, plain text and markdown answers);
metadata carries ``url`` and ``title``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
from collections import deque
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ragops_connectors.web.pages import normalize, parse_html, parse_sitemap

from ragops.errors import ConfigError, ConnectorError
from ragops.sources import SourceDocument, SourceState, Unchanged, connector
from ragops.sources.http import HttpClient, TooManyRedirectsError

logger = logging.getLogger(__name__)

#: Content types the connector indexes, and the file extension that picks their parser.
CONTENT_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
}


@connector("web")
def web(
    *,
    state: SourceState,
    seeds: list[str] = [],  # noqa: B006  (pydantic copies defaults)
    sitemaps: list[str] = [],  # noqa: B006
    allowed_prefixes: list[str] = [],  # noqa: B006
    exclude: list[str] = [],  # noqa: B006
    max_depth: int | None = None,
    max_pages: int = 1000,
    rate_limit: float = 5.0,
    respect_robots: bool = True,
    user_agent: str = "ragops",
    timeout: float = 30.0,
    retries: int = 5,
    headers: dict[str, str] = {},  # noqa: B006
    headers_from_env: dict[str, str] = {},  # noqa: B006
    max_bytes: int = 50_000_000,
) -> Iterator[SourceDocument | Unchanged]:
    """Yield the pages of a site (see the module docstring).

    Args:
        seeds: URLs the crawl starts from.
        sitemaps: sitemap (or sitemap index) URLs; their pages start the crawl too.
        allowed_prefixes: only URLs starting with one of these are fetched (default: each
            seed up to its last ``/``, and each sitemap's ``scheme://host/``).
        exclude: URL patterns never fetched (``*`` matches anything, e.g. ``*/changelog/*``).
        max_depth: links followed from the start pages (default: 3 with seeds, 0 with
            sitemaps only: exactly the sitemap's pages).
        max_pages: pages fetched at most per sync (a warning names the limit when reached).
        rate_limit: requests per second per host (robots.txt's Crawl-delay may lower it).
        respect_robots: obey robots.txt for ``user_agent``.
        user_agent: the crawler's name, sent as User-Agent and matched in robots.txt.
        timeout: seconds to connect and for each read.
        retries: retries of a request that may pass (429, 502-504, timeouts).
        headers: headers sent with every request (no secrets here).
        headers_from_env: header name -> environment variable holding its value
            (``{Authorization: WIKI_TOKEN}``): secrets stay out of ragops.yaml.
        max_bytes: a page announcing a larger Content-Length is not downloaded (nor
            indexed); neither is one of a content type that is not indexed.
    """
    starts = _checked_urls("seeds", seeds) + _checked_urls("sitemaps", sitemaps)
    if not starts:
        raise ConfigError(
            "web source: give 'seeds' or 'sitemaps' (or both): the URLs to start from"
        )
    prefixes = _checked_urls("allowed_prefixes", allowed_prefixes) or _default_prefixes(
        seeds, sitemaps
    )
    depth_limit = max_depth if max_depth is not None else (3 if seeds else 0)
    with HttpClient(
        timeout=timeout,
        retries=retries,
        rate_limit=rate_limit,
        headers=headers,
        headers_from_env=headers_from_env,
        user_agent=user_agent,
    ) as http:
        crawl = _Crawl(http, prefixes, exclude, respect_robots, user_agent, state, max_bytes)
        start_pages = [normalize(seed) for seed in seeds]
        start_pages += crawl.sitemap_pages([u for u in (normalize(s) for s in sitemaps) if u])
        yield from crawl.run([u for u in start_pages if u], depth_limit, max_pages)


class _Crawl:
    """One breadth-first crawl; ``state["pages"]`` maps each fetched URL to what it had."""

    def __init__(
        self,
        http: HttpClient,
        prefixes: list[str],
        exclude: list[str],
        respect_robots: bool,
        user_agent: str,
        state: SourceState,
        max_bytes: int,
    ) -> None:
        self.http = http
        self.prefixes = prefixes
        self.exclude = exclude
        self.respect_robots = respect_robots
        self.user_agent = user_agent
        self.state = state
        self.max_bytes = max_bytes
        self.known: dict[str, dict[str, Any]] = dict(state.get("pages") or {})
        self.robots: dict[str, Any] = {}

    def allowed(self, url: str) -> bool:
        if not any(url.startswith(prefix) for prefix in self.prefixes):
            return False
        if any(fnmatch.fnmatchcase(url, pattern) for pattern in self.exclude):
            return False
        return not self.respect_robots or self._robots_allow(url)

    def sitemap_pages(self, sitemaps: list[str]) -> list[str]:
        """The page URLs of ``sitemaps`` (following sitemap indexes), in their order."""
        pages: list[str] = []
        queue, seen = deque(sitemaps), set(sitemaps)
        while queue:
            url = queue.popleft()
            response = self.http.get(url)
            if response.status_code != 200:
                raise ConnectorError(
                    f"web source: sitemap {url} answered HTTP {response.status_code}; fix the "
                    "sitemaps option (a missing sitemap would delete every page)"
                )
            found, nested = parse_sitemap(response.content)
            pages += [u for u in (normalize(p) for p in found) if u]
            for child in (u for u in (normalize(n) for n in nested) if u):
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        return pages

    def run(
        self, starts: list[str], depth_limit: int, max_pages: int
    ) -> Iterator[SourceDocument | Unchanged]:
        pages: dict[str, dict[str, Any]] = {}
        yielded: set[str] = set()
        queue: deque[tuple[str, int]] = deque((url, 0) for url in starts)
        queued = set(starts)
        fetched = 0
        while queue:
            url, depth = queue.popleft()
            if not self.allowed(url):
                continue
            if fetched >= max_pages:
                logger.warning(
                    "web source: stopped at max_pages=%d with %d URL(s) not fetched; raise "
                    "max_pages to index them",
                    max_pages, len(queue) + 1,
                )  # fmt: skip
                break
            fetched += 1
            record, document = self._fetch(url)
            if record is None:
                continue
            pages[url] = record
            doc_id = record.get("doc")
            if doc_id and doc_id not in yielded:
                yielded.add(doc_id)
                yield document if document is not None else Unchanged(doc_id)
            if depth < depth_limit:
                for link in record.get("links", []):
                    if link not in queued:
                        queued.add(link)
                        queue.append((link, depth + 1))
        self.state["pages"] = pages

    def _fetch(self, url: str) -> tuple[dict[str, Any] | None, SourceDocument | None]:
        """(what to keep for ``url``, its document: None when unchanged); (None, None) for a
        page that is gone, not indexable or refused (and was never indexed)."""
        before = self.known.get(url)
        conditional = {}
        if before and before.get("etag"):
            conditional["If-None-Match"] = before["etag"]
        if before and before.get("modified"):
            conditional["If-Modified-Since"] = before["modified"]
        try:
            response = self.http.get(url, headers=conditional, read_body=self._worth_reading)
        except TooManyRedirectsError:
            if before is not None:
                raise
            logger.warning("web source: skipped %s (its redirects do not end)", url)
            return None, None
        status = response.status_code
        if status == 304 and before is not None:
            return before, None
        if status in (404, 410):
            return None, None  # gone: no longer listed, so deleted if it was indexed
        if status != 200:
            if before is not None or status >= 500:
                raise ConnectorError(
                    f"web source: {url} answered HTTP {status}; nothing was deleted. Fix access "
                    "to it (headers_from_env for credentials) or add it to 'exclude'"
                )
            logger.warning("web source: skipped %s (HTTP %d, never indexed)", url, status)
            return None, None
        final = normalize(str(response.url)) or url
        if final != url and not self.allowed(final):
            logger.info("web source: %s redirects outside the allowed prefixes to %s", url, final)
            return None, None
        kind = _content_type(response)
        if not self._worth_reading(response):  # a type not indexed, or past max_bytes: unread
            logger.info(
                "web source: skipped %s (content type %r, %s bytes; max_bytes %d)",
                url, kind, response.headers.get("content-length", "?"), self.max_bytes,
            )  # fmt: skip
            return None, None
        extension = CONTENT_TYPES[kind]
        body = response.content
        page = parse_html(body, final) if extension == ".html" else None
        doc_id = final
        if page is not None and page.canonical and self.allowed(page.canonical):
            doc_id = page.canonical
        record: dict[str, Any] = {
            "etag": response.headers.get("etag"),
            "modified": response.headers.get("last-modified"),
            "links": [] if page is None or page.nofollow else page.links,
            "doc": None if page is not None and page.noindex else doc_id,
        }
        marker = _marker(record, body)
        title = (page.title if page is not None else None) or _name(doc_id)
        document = SourceDocument(
            doc_id=doc_id,
            version=marker,
            filename=f"{_name(doc_id)}{extension}",
            load=lambda: body,
            mime_type=kind if kind != "application/xhtml+xml" else "text/html",
            metadata={"url": doc_id, "title": title},
            size=len(body),
        )
        return record, document

    def _worth_reading(self, response: Any) -> bool:
        """Whether a 200's body is downloaded: a type the index takes, within max_bytes."""
        if response.status_code != 200:
            return True
        length = response.headers.get("content-length", "")
        too_large = length.isdigit() and int(length) > self.max_bytes
        return _content_type(response) in CONTENT_TYPES and not too_large

    def _robots_allow(self, url: str) -> bool:
        from protego import Protego

        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            response = self.http.get(f"{origin}/robots.txt")
            if response.status_code >= 500:
                raise ConnectorError(
                    f"web source: {origin}/robots.txt answered HTTP {response.status_code}; "
                    "the site may not be crawled until it answers (or set respect_robots: false "
                    "for your own site)"
                )
            text = response.text if response.status_code == 200 else ""
            rules = Protego.parse(text)
            delay = rules.crawl_delay(self.user_agent)
            if delay:
                self.http.limiter.slow_down(parts.netloc, float(delay))
            self.robots[origin] = rules
        return bool(self.robots[origin].can_fetch(url, self.user_agent))


def _content_type(response: Any) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _marker(record: dict[str, Any], body: bytes) -> str:
    if record["etag"]:
        return f"etag:{record['etag']}"
    if record["modified"]:
        return f"modified:{record['modified']}"
    return f"sha256:{hashlib.sha256(body).hexdigest()}"


def _name(url: str) -> str:
    """A file name for the page's parser to go by: the last part of its path."""
    stem = PurePosixPath(urlsplit(url).path).name
    return PurePosixPath(stem).stem or "index"


def _checked_urls(option: str, urls: list[str]) -> list[str]:
    checked = []
    for url in urls:
        normalized = normalize(url)
        if normalized is None:
            raise ConfigError(
                f"web source: {option} holds {url!r}, which is not an http(s) URL; write it "
                "as https://host/path"
            )
        checked.append(normalized)
    return checked


def _default_prefixes(seeds: list[str], sitemaps: list[str]) -> list[str]:
    prefixes = []
    for seed in seeds:
        url = normalize(seed) or seed
        prefixes.append(url[: url.rindex("/") + 1])
    for sitemap in sitemaps:
        parts = urlsplit(normalize(sitemap) or sitemap)
        prefixes.append(f"{parts.scheme}://{parts.netloc}/")
    return list(dict.fromkeys(prefixes))
