"""Who is calling: the API key of a request (``Authorization: Bearer <key>``) and its scope."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Request

from ragops.access import authenticate, require_scope
from ragops.catalog import ApiKeyRecord, current_actor
from ragops.catalog.database import now

__all__ = ["LOCAL_KEY_ID", "caller"]

#: The key id the server's local token acts under (``server.token``, for the project's CLI).
LOCAL_KEY_ID = "local"


def caller(scope: str, action: str) -> Callable[[Request], ApiKeyRecord]:
    """A dependency: the request's key, checked, with at least ``scope`` (``action`` names
    the operation in a 403)."""

    def dependency(request: Request) -> ApiKeyRecord:
        header = request.headers.get("authorization", "")
        kind, _, token = header.partition(" ")
        presented = token.strip() if kind.lower() == "bearer" else None
        local = request.app.state.local_token
        if presented and local and hmac.compare_digest(presented, local):
            key = _local_key(request.headers.get("x-ragops-actor"))
        else:
            key = authenticate(request.app.state.project.catalog, presented)
        require_scope(key, scope, action)
        request.state.key_id = key.key_id
        return key

    return dependency


def _local_key(actor: str | None) -> ApiKeyRecord:
    """The local token's caller: an admin, acting as the user the CLI names."""
    who = (actor or current_actor())[:100]
    return ApiKeyRecord(
        key_id=LOCAL_KEY_ID,
        secret_sha256="",
        name="the server's local token",
        principals=(f"local:{who}",),
        scope="admin",
        created_at=now(),
        created_by=who,
    )
