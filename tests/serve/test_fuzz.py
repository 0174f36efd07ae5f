"""Fuzzing ``ragops serve`` against its own OpenAPI spec with schemathesis: whatever a client
sends, with a read key, a write key or none, the server answers without a 5xx and stays up."""

from __future__ import annotations

import hypothesis
import schemathesis
from hypothesis import HealthCheck, settings

from tests.serve.conftest import Server

EXAMPLES = 12


def test_no_request_gets_a_server_error(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    failures: list[str] = []
    for operation in operations:
        for scope in ("read", "write", None):
            _fuzz(server, operation, scope, failures)
    assert failures == [], "\n".join(failures[:10])
    assert server.process.poll() is None
    assert "Traceback" not in server.output()


def _fuzz(server: Server, operation: object, scope: str | None, failures: list[str]) -> None:
    headers = {"Authorization": f"Bearer {server.keys[scope]}"} if scope else {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy())  # type: ignore[attr-defined]
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=server.url, headers=headers, timeout=120)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} ({scope or 'no'} key) -> "
                f"{response.status_code}: {response.text[:200]}"
            )

    check()
