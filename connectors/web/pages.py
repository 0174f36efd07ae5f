"""What the web connector reads from a page and a sitemap: normalized URLs, links, title,
canonical URL and robots directives (with lxml)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

__all__ = ["Page", "normalize", "parse_html", "parse_sitemap"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize(url: str) -> str | None:
    """``url`` in one spelling per page (lowercase scheme and host, no fragment, no default
    port, ``/`` for an empty path); None for anything but http(s)."""
    url, _ = urldefrag(url.strip())
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if parts.port is not None and parts.port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{parts.port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


@dataclass
class Page:
    """What a fetched HTML page says about itself."""

    title: str | None = None
    links: list[str] = field(default_factory=list)
    canonical: str | None = None
    noindex: bool = False
    nofollow: bool = False


def parse_html(body: bytes, url: str) -> Page:
    """Title, absolute links (http(s), normalized, in page order, once each), canonical URL
    and ``<meta name="robots">`` directives of an HTML page at ``url``."""
    import lxml.etree
    import lxml.html

    try:
        document = lxml.html.document_fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return Page()
    base = url
    for href in document.xpath("//base/@href"):
        base = urljoin(url, str(href).strip())
        break
    page = Page()
    title = " ".join(" ".join(document.xpath("//title//text()")).split())
    if not title:
        title = " ".join(" ".join(document.xpath("(//h1)[1]//text()")).split())
    page.title = title or None
    for content in document.xpath("//meta[translate(@name,'ROBTS','robts')='robots']/@content"):
        directives = {d.strip().lower() for d in str(content).split(",")}
        page.noindex |= bool(directives & {"noindex", "none"})
        page.nofollow |= bool(directives & {"nofollow", "none"})
    for href in document.xpath("//link[translate(@rel,'CANOICL','canoicl')='canonical']/@href"):
        page.canonical = normalize(urljoin(base, str(href)))
        break
    seen: set[str] = set()
    for href in document.xpath("//a/@href"):
        link = normalize(urljoin(base, str(href)))
        if link is not None and link not in seen:
            seen.add(link)
            page.links.append(link)
    return page


def parse_sitemap(body: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index (gzipped or not)."""
    import lxml.etree

    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    root = lxml.etree.fromstring(body, parser=parser)
    if root is None:
        return [], []
    locations = [
        " ".join(str(text).split()) for text in root.xpath("//*[local-name()='loc']/text()")
    ]
    if lxml.etree.QName(root).localname == "sitemapindex":
        return [], locations
    return locations, []
