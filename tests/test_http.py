"""ragops.sources.http against a real HTTP server on loopback: Retry-After is honoured, a wait
longer than max_wait and statuses that keep failing end in HttpError naming the URL, secrets
come from the environment and never show, and the rate limit spaces requests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from ragops.errors import ConfigError, ConnectorError
from ragops.sources.http import HttpClient, HttpError, retry_after_seconds
from tests.websites import Site, serve_site


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    site.pages["/ok"] = ("text/plain", b"ok")
    with serve_site(site):
        yield site


def test_retry_after_is_waited_for_then_the_page_comes(site: Site) -> None:
    site.throttled["/ok"] = 2
    started = time.monotonic()
    with HttpClient(retries=3) as http:
        response = http.get(f"{site.base}/ok")
    assert response.status_code == 200 and response.text == "ok"
    assert time.monotonic() - started >= 2.0, "Retry-After: 1, twice"
    assert site.fetched() == ["/ok", "/ok", "/ok"]


def test_a_wait_beyond_max_wait_fails_at_once(site: Site) -> None:
    site.throttled["/ok"] = 1
    site.retry_after = "3600"
    with HttpClient(max_wait=60) as http, pytest.raises(HttpError) as failed:
        http.get(f"{site.base}/ok")
    assert "asks to wait 3600 s" in str(failed.value) and "/ok" in str(failed.value)
    assert isinstance(failed.value, ConnectorError)
    assert site.fetched() == ["/ok"]


def test_statuses_that_keep_failing_end_in_an_error(site: Site) -> None:
    site.throttled["/ok"] = 10
    site.retry_after = "0"
    with HttpClient(retries=2) as http, pytest.raises(HttpError, match="HTTP 429 after 3"):
        http.get(f"{site.base}/ok")
    assert len(site.fetched()) == 3
    with HttpClient() as http:
        assert http.get(f"{site.base}/missing").status_code == 404, "not retried: returned"
    assert site.fetched()[-1] == "/missing" and len(site.fetched()) == 4


def test_secrets_come_from_the_environment_and_never_show(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAGOPS_TEST_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="RAGOPS_TEST_TOKEN, which is not set"):
        HttpClient(headers_from_env={"Authorization": "RAGOPS_TEST_TOKEN"})
    monkeypatch.setenv("RAGOPS_TEST_TOKEN", "Bearer hunter2")
    with HttpClient(
        retries=0, headers_from_env={"Authorization": "RAGOPS_TEST_TOKEN"}
    ) as http, pytest.raises(HttpError) as failed:  # fmt: skip
        http.get("http://127.0.0.1:9/Bearer hunter2")  # nothing listens on port 9
    assert "hunter2" not in str(failed.value) and "***" in str(failed.value)


def test_the_rate_limit_spaces_requests_per_host(site: Site) -> None:
    with HttpClient(rate_limit=10) as http:
        started = time.monotonic()
        for _ in range(6):
            http.get(f"{site.base}/ok")
        assert time.monotonic() - started >= 0.5, "6 requests at 10/s: 5 gaps of 0.1 s"


def test_a_body_not_wanted_is_not_read(site: Site) -> None:
    site.pages["/big"] = ("application/zip", b"\0" * 2_000_000)
    with HttpClient() as http:
        skipped = http.get(
            f"{site.base}/big", read_body=lambda r: r.headers["content-type"] != "application/zip"
        )
        assert skipped.status_code == 200 and skipped.is_closed
        with pytest.raises(httpx.ResponseNotRead):
            _ = skipped.content
        assert http.get(f"{site.base}/ok", read_body=lambda r: True).text == "ok"


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567670.0) == 10.0
