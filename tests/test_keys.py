"""API keys: created once and shown once, stored only as a hash, checked in constant time,
scoped, revocable, audited; on SQLite and PostgreSQL catalogs and over the CLI."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ragops.access import authenticate, create_key, list_keys, require_scope, revoke_key
from ragops.catalog import Catalog
from ragops.errors import (
    AuthenticationError,
    ConfigError,
    IndexNotFoundError,
    PermissionDeniedError,
)
from tests.conftest import write_project
from tests.test_cli import as_json, cli


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    catalog = Catalog(catalog_url)
    yield catalog
    catalog.close()


def test_a_key_is_stored_as_a_hash_and_authenticates_as_its_principals(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGOPS_ACTOR", "ops-bot")
    created = create_key(catalog, ["user:alice", "group:eng"], "write", name="wiki app")
    prefix, key_id, secret = created.key.split("_", 2)
    assert (prefix, key_id) == ("rgk", created.record.key_id) and len(secret) >= 40

    found = authenticate(catalog, created.key)
    assert found.principals == ("user:alice", "group:eng")
    assert (found.scope, found.name, found.created_by) == ("write", "wiki app", "ops-bot")
    assert catalog.api_keys.get(key_id).last_used_at is not None  # type: ignore[union-attr]

    # Nothing in the database holds the secret, only its sha256.
    with catalog.database.read() as connection:
        stored = [dict(r) for r in connection.execute(sa.text("SELECT * FROM api_keys")).mappings()]
        audit = connection.execute(sa.text("SELECT * FROM audit_log")).mappings().all()
    assert secret not in json.dumps(stored, default=str) + json.dumps(
        [dict(a) for a in audit], default=str
    )
    assert stored[0]["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert [(a["action"], a["subject"], a["actor"]) for a in audit] == [
        ("key_create", f"key:{key_id}", "ops-bot")
    ]


def test_missing_malformed_unknown_and_wrong_keys_are_refused_without_echoing_them(
    catalog: Catalog,
) -> None:
    created = create_key(catalog, ["user:bob"])
    key_id = created.record.key_id
    wrong_secret = f"rgk_{key_id}_{'x' * 43}"
    unknown_id = f"rgk_{'0' * 12}_{created.key.split('_', 2)[2]}"
    for presented, message in [
        (None, "no API key: send it as `Authorization: Bearer <key>`"),
        ("", "no API key"),
        ("hunter2", "malformed API key"),
        (wrong_secret, f"unknown API key {key_id}"),
        (unknown_id, "unknown API key 000000000000"),
    ]:
        with pytest.raises(AuthenticationError) as raised:
            authenticate(catalog, presented)
        assert message in str(raised.value)
        if presented:
            assert presented.split("_", 2)[-1] not in str(raised.value), (
                "the secret is never echoed"
            )


def test_scopes_are_ordered_read_write_admin(catalog: Catalog) -> None:
    reader = create_key(catalog, ["user:carol"], "read").record
    writer = create_key(catalog, ["user:dan"], "write").record
    admin = create_key(catalog, ["user:erin"], "admin").record
    require_scope(reader, "read", "search")
    require_scope(writer, "write", "promote")
    require_scope(admin, "write", "promote")
    with pytest.raises(PermissionDeniedError, match=r"has scope 'read'; promote needs 'write'"):
        require_scope(reader, "write", "promote")
    with pytest.raises(PermissionDeniedError, match="keys needs 'admin'"):
        require_scope(writer, "admin", "keys")


def test_a_revoked_key_stops_working_at_once_and_stays_listed(catalog: Catalog) -> None:
    created = create_key(catalog, ["user:fay"], "read")
    key_id = created.record.key_id
    revoked = revoke_key(catalog, key_id, reason="laptop lost")
    assert revoked.revoked and revoked.revoked_at is not None
    with pytest.raises(AuthenticationError, match=f"API key {key_id} was revoked by"):
        authenticate(catalog, created.key)
    assert revoke_key(catalog, key_id).revoked_at == revoked.revoked_at, "the first one stays"
    assert list_keys(catalog) == []
    assert [k.key_id for k in list_keys(catalog, include_revoked=True)] == [key_id]
    [entry] = [e for e in catalog.audit.entries(f"key:{key_id}") if e["action"] == "key_revoke"]
    assert entry["detail"] == {"reason": "laptop lost"}
    with pytest.raises(IndexNotFoundError, match=f"no API key 'nope'; keys: {key_id}"):
        revoke_key(catalog, "nope")


@pytest.mark.parametrize(
    ("principals", "scope", "message"),
    [
        ([], "read", "a key needs at least one principal"),
        (["alice"], "read", "principal 'alice' is not valid: write <kind>:<name>"),
        (["user:al ice"], "read", "principal 'user:al ice' is not valid"),
        (["user:alice"], "owner", "scope 'owner' is not one of read, write, admin"),
    ],
)
def test_bad_principals_and_scopes_are_refused_before_anything_is_stored(
    catalog: Catalog, principals: list[str], scope: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        create_key(catalog, principals, scope)
    assert catalog.api_keys.all() == []


def test_keys_over_the_cli(tmp_path: Path) -> None:
    cwd = write_project(tmp_path / "p").parent
    created = as_json(
        cli("keys", "create", "--principal", "user:alice", "--principal", "group:eng",
            "--scope", "write", "--name", "wiki", "--json", cwd=cwd)
    )  # fmt: skip
    assert created["key"].startswith(f"rgk_{created['key_id']}_")
    assert created["principals"] == ["user:alice", "group:eng"] and created["scope"] == "write"
    plain = cli("keys", "create", "--principal", "user:bob", cwd=cwd)
    assert plain.returncode == 0 and plain.stdout.strip().startswith("rgk_"), plain.stdout
    assert "it is shown only now" in plain.stderr

    listed = as_json(cli("keys", "list", "--json", cwd=cwd))["keys"]
    assert [k["name"] for k in listed] == ["wiki", None]
    assert created["key"] not in json.dumps(listed) and "secret" not in json.dumps(listed)
    table = cli("keys", "list", cwd=cwd)
    assert created["key_id"] in table.stdout and "user:alice, group:eng" in table.stdout

    revoked = cli("keys", "revoke", created["key_id"], "--reason", "rotated", cwd=cwd)
    assert revoked.returncode == 0 and f"revoked key {created['key_id']}" in revoked.stdout
    assert len(as_json(cli("keys", "list", "--json", cwd=cwd))["keys"]) == 1
    refused = cli("keys", "create", "--principal", "alice", cwd=cwd)
    assert refused.returncode == 1 and "principal 'alice' is not valid" in refused.stderr
