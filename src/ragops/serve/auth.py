"""Who is calling: the API key of a request (``Authorization: Bearer <key>``) and its scope."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from ragops.access import authenticate, require_scope
from ragops.catalog import ApiKeyRecord

__all__ = ["caller"]


def caller(scope: str, action: str) -> Callable[[Request], ApiKeyRecord]:
    """A dependency: the request's key, checked, with at least ``scope`` (``action`` names
    the operation in a 403)."""

    def dependency(request: Request) -> ApiKeyRecord:
        header = request.headers.get("authorization", "")
        kind, _, token = header.partition(" ")
        presented = token.strip() if kind.lower() == "bearer" else None
        key = authenticate(request.app.state.project.catalog, presented)
        require_scope(key, scope, action)
        request.state.key_id = key.key_id
        return key

    return dependency
