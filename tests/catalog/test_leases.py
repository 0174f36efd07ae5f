"""Index locks as leases, with real processes: named holders, takeover of dead or expired
holders, fencing of a holder that stalled, and ``unlock``. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragops.catalog import Catalog
from ragops.errors import IndexLockedError

REPO = Path(__file__).resolve().parents[2]
LEASE = "index:docs"


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    catalog = Catalog(catalog_url, lease_seconds=2)
    yield catalog
    catalog.close()


def _holder(
    url: str, *, seconds: float = 2, own_pid_namespace: bool = False
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.catalog.lease_holder", url, str(seconds)]
    if own_pid_namespace:  # as a process in another container would be
        command = ["unshare", "--pid", "--fork", "--kill-child", *command]
    process = subprocess.Popen(
        command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def _say(process: subprocess.Popen[str], command: str) -> str:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(command + "\n")
    process.stdin.flush()
    return process.stdout.readline().strip()


def test_the_lock_names_its_holder_and_how_long_it_has_held_it(catalog: Catalog) -> None:
    holder = _holder(catalog.url, seconds=30)
    try:
        time.sleep(1.1)
        with pytest.raises(IndexLockedError) as raised:
            catalog.leases.acquire(LEASE, "promote")
        message = str(raised.value)
        assert f"sync by pid {holder.pid}" in message
        assert "lease_holder" in message and "for 1 s" in message
        assert raised.value.age_seconds >= 1
    finally:
        assert _say(holder, "release") == "released"
        holder.wait(timeout=30)
    with catalog.leases.acquire(LEASE, "promote"):
        pass


def test_a_dead_holder_on_this_machine_loses_its_lock_at_once(catalog: Catalog) -> None:
    holder = _holder(catalog.url, seconds=3600)
    holder.kill()
    holder.wait(timeout=30)
    started = time.monotonic()
    with catalog.leases.acquire(LEASE, "sync"):
        assert time.monotonic() - started < 5, "no need to wait an hour for the lease to expire"
    [entry] = catalog.audit.entries(LEASE)
    assert entry["action"] == "lease_takeover" and entry["detail"]["why"] == "gone"


def test_a_stalled_holder_loses_its_lock_when_it_expires_and_then_commits_nothing(
    catalog: Catalog,
) -> None:
    holder = _holder(catalog.url, seconds=2)
    try:
        os.kill(holder.pid, signal.SIGSTOP)  # alive, but renews nothing
        with pytest.raises(IndexLockedError):
            catalog.leases.acquire(LEASE, "sync")
        with catalog.leases.acquire(LEASE, "sync", wait=10):
            os.kill(holder.pid, signal.SIGCONT)
            assert _say(holder, "commit").startswith("lost: this process's lock on index 'docs'")
        [entry] = catalog.audit.entries(LEASE)
        assert entry["detail"]["why"] == "expired"
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait(timeout=30)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_a_holder_in_another_pid_namespace_is_never_judged_dead_by_its_pid(
    catalog: Catalog,
) -> None:
    """Containers share hostnames and PIDs: a holder we cannot see keeps its lock until it
    stops renewing it for lease_seconds, or an operator frees it with --force."""
    holder = _holder(catalog.url, seconds=2, own_pid_namespace=True)
    holder.kill()  # kills unshare; its child (the holder, pid 1 in its namespace) goes too
    holder.wait(timeout=30)
    info = catalog.leases.holder(LEASE)
    assert info is not None and "pid 1 on" in info.holder
    with pytest.raises(IndexLockedError):
        catalog.leases.acquire(LEASE, "sync")
    with catalog.leases.acquire(LEASE, "sync", wait=10):
        pass  # taken over once it expired


def test_unlock_frees_a_dead_holder_and_refuses_a_live_one(catalog: Catalog) -> None:
    alive = _holder(catalog.url, seconds=30)
    try:
        with pytest.raises(IndexLockedError, match="still running on this machine"):
            catalog.leases.unlock(LEASE, actor="ops", force=True)
    finally:
        alive.kill()
        alive.wait(timeout=30)
    freed = catalog.leases.unlock(LEASE, actor="ops", reason="holder crashed")
    assert freed is not None and f"pid {alive.pid}" in freed.holder
    assert catalog.leases.holder(LEASE) is None
    assert catalog.leases.unlock(LEASE, actor="ops") is None, "nothing left to unlock"
    [entry] = catalog.audit.entries(LEASE)
    assert entry["action"] == "unlock" and entry["actor"] == "ops"
    assert entry["detail"]["reason"] == "holder crashed" and entry["detail"]["state"] == "gone"


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_unlock_of_a_holder_elsewhere_needs_force(catalog_url: str) -> None:
    catalog = Catalog(catalog_url, lease_seconds=3600)
    try:
        holder = _holder(catalog_url, seconds=3600, own_pid_namespace=True)
        holder.kill()
        holder.wait(timeout=30)
        with pytest.raises(IndexLockedError, match="pass --force if you know"):
            catalog.leases.unlock(LEASE, actor="ops")
        assert catalog.leases.unlock(LEASE, actor="ops", force=True) is not None
        assert catalog.audit.entries(LEASE)[-1]["detail"]["forced"] is True
    finally:
        catalog.close()


def test_a_long_command_line_fits_the_holder_column(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["ragops", "sync", "x" * 5000])
    with catalog.leases.acquire(LEASE, "sync"):
        info = catalog.leases.holder(LEASE)
        assert info is not None and len(info.holder) < 400
