"""Creating, checking and revoking API keys (see :mod:`ragops.access`)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from ragops.access.principals import principal_problem
from ragops.catalog import ApiKeyRecord, current_actor
from ragops.catalog.database import now
from ragops.errors import (
    AuthenticationError,
    ConfigError,
    IndexNotFoundError,
    PermissionDeniedError,
)

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import Catalog

__all__ = [
    "SCOPES",
    "NewKey",
    "Scope",
    "authenticate",
    "create_key",
    "list_keys",
    "require_scope",
    "revoke_key",
]

Scope = Literal["read", "write", "admin"]
#: Scopes from least to most: each allows what the ones before it allow.
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
PREFIX = "rgk"
_KEY = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{20,}})$")


@dataclass(frozen=True)
class NewKey:
    """A key just created: ``key`` is the whole key, shown this once; ``record`` what is
    stored."""

    key: str
    record: ApiKeyRecord


def create_key(
    catalog: Catalog,
    principals: Sequence[str],
    scope: str = "read",
    *,
    name: str | None = None,
) -> NewKey:
    """Create a key that acts as ``principals`` with ``scope``; ConfigError for a principal
    or scope that is not valid, naming the fix."""
    checked_scope = _scope(scope)
    if not principals:
        raise ConfigError(
            "a key needs at least one principal (--principal user:alice); the principals "
            "decide which documents it may read"
        )
    for principal in principals:
        problem = principal_problem(principal)
        if problem is not None:
            raise ConfigError(problem)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        key_id=key_id,
        secret_sha256=_digest(secret),
        name=name,
        principals=tuple(dict.fromkeys(principals)),
        scope=checked_scope,
        created_at=now(),
        created_by=current_actor(),
    )
    catalog.api_keys.add(record)
    return NewKey(f"{PREFIX}_{key_id}_{secret}", record)


def authenticate(catalog: Catalog, presented: str | None) -> ApiKeyRecord:
    """The key ``presented`` (as a client sent it), checked against its stored hash in
    constant time. AuthenticationError when it is missing, malformed, unknown or revoked (the
    message never repeats the secret)."""
    if not presented:
        raise AuthenticationError(
            "no API key: send it as `Authorization: Bearer <key>` (create one with "
            "`ragops keys create --principal user:NAME`)"
        )
    match = _KEY.match(presented.strip())
    if match is None:
        raise AuthenticationError(
            f"malformed API key: a key reads {PREFIX}_<12 hex digits>_<secret>, as "
            "`ragops keys create` printed it"
        )
    key_id, secret = match.groups()
    record = catalog.api_keys.get(key_id)
    # compare even when the id is unknown, so the answer takes as long either way
    expected = record.secret_sha256 if record is not None else _digest(secrets.token_hex(8))
    if not hmac.compare_digest(_digest(secret), expected) or record is None:
        raise AuthenticationError(f"unknown API key {key_id}: check the key, or create one")
    if record.revoked:
        raise AuthenticationError(
            f"API key {key_id} was revoked by {record.revoked_by} at "
            f"{record.revoked_at:%Y-%m-%d %H:%M} UTC; ask for a new key"
        )
    catalog.api_keys.touch(key_id)
    return record


def require_scope(record: ApiKeyRecord, needed: str, action: str) -> None:
    """PermissionDeniedError unless ``record``'s scope allows ``needed`` (``action`` names
    what was asked, for the message)."""
    if SCOPES.index(_scope(record.scope)) < SCOPES.index(_scope(needed)):
        raise PermissionDeniedError(
            f"API key {record.key_id} has scope {record.scope!r}; {action} needs "
            f"{needed!r} or more: use a key with that scope"
        )


def list_keys(catalog: Catalog, *, include_revoked: bool = False) -> list[ApiKeyRecord]:
    """The keys (without secrets), oldest first."""
    return [k for k in catalog.api_keys.all() if include_revoked or not k.revoked]


def revoke_key(catalog: Catalog, key_id: str, *, reason: str | None = None) -> ApiKeyRecord:
    """Revoke the key ``key_id`` (it stops working at once; its row and audit stay).
    IndexNotFoundError for an unknown id; revoking twice keeps the first revocation."""
    record = catalog.api_keys.get(key_id)
    if record is None:
        known = ", ".join(k.key_id for k in catalog.api_keys.all()) or "none"
        raise IndexNotFoundError(f"no API key {key_id!r}; keys: {known} (`ragops keys list`)")
    return catalog.api_keys.revoke(key_id, actor=current_actor(), reason=reason) or record


def _scope(scope: str) -> Scope:
    if scope not in SCOPES:
        raise ConfigError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    return cast(Scope, scope)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
