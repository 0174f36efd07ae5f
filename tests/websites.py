"""A real web site on loopback for the web connector's tests and benchmark.

``Site`` serves pages from a dict that a test edits between syncs, answers conditional GETs
(``If-None-Match`` against each page's ETag, derived from its body), serves redirects,
robots.txt and sitemaps, can answer 429 with Retry-After a set number of times, and logs every
request as (method, path, status) so a test can assert what was fetched.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Site", "serve_site"]


@dataclass
class Site:
    #: path -> (content type, body)
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    #: path -> where it redirects (301)
    redirects: dict[str, str] = field(default_factory=dict)
    #: path -> how many more times it answers 429 (Retry-After: ``retry_after``)
    throttled: dict[str, int] = field(default_factory=dict)
    retry_after: str = "1"
    #: send ETags (conditional GETs answered with 304)
    etags: bool = True
    log: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def html(self, path: str, title: str, body: str, links: list[str] = ()) -> None:  # type: ignore[assignment]
        anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
        page = (
            f"<!doctype html><html><head><title>{title}</title></head><body>"
            f"<h1>{title}</h1><p>{body}</p><ul>{anchors}</ul></body></html>"
        )
        self.pages[path] = ("text/html; charset=utf-8", page.encode())

    def fetched(self, status: int | None = None) -> list[str]:
        """Paths requested (with ``status``, when given), in order."""
        with self.lock:
            return [p for _, p, s in self.log if status is None or s == status]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        status, headers, body = self._response(path, handler.headers.get("If-None-Match"))
        with self.lock:
            self.log.append((handler.command, path, status))
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def _response(self, path: str, if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            if self.throttled.get(path, 0) > 0:
                self.throttled[path] -= 1
                return 429, {"Retry-After": self.retry_after}, b""
        if path in self.redirects:
            return 301, {"Location": self.redirects[path]}, b""
        if path not in self.pages:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        kind, body = self.pages[path]
        headers = {"Content-Type": kind}
        if self.etags:
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers["ETag"] = etag
            if if_none_match == etag:
                return 304, {"ETag": etag}, b""
        return 200, headers, body


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        self.site.answer(self)

    def do_HEAD(self) -> None:  # noqa: N802
        self.site.answer(self)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that stopped reading a body it does not want
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def serve_site(site: Site) -> Iterator[Site]:
    """Serve ``site`` on a free loopback port (``site.base``) until the block ends."""
    handler = type("SiteHandler", (_Handler,), {"site": site})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
