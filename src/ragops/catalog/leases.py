"""Index locks as leases: held by one process, renewed while it lives, recoverable when it dies.

Everything that changes an index (sync, promote, rollback, retention) holds the index's lease.
A lease row names its holder for people (operation, PID, host, command) and carries a random
``token`` that identifies the holding process for the database, so two containers that share
a hostname and a PID can never take each other's lease.

- **Renewal.** The holder renews the lease every ``lease_seconds / 4`` from a background
  thread; a lease not renewed for ``lease_seconds`` has expired and the next process takes it
  over (recorded in the audit log). A holder whose process is provably gone (same machine
  boot and PID namespace, and its PID no longer runs the same process) loses it at once.
- **Fencing.** Every commit of a lease holder renews the lease *inside* the commit's
  transaction (:meth:`Lease.fence`) and fails with :class:`~ragops.errors.LeaseLostError`
  when the lease was taken over meanwhile, so a process that stalled past its lease commits
  nothing. Takeovers compare-and-swap on the renewal counter, so a holder that renews at the
  last moment keeps its lease.
- **Unlock.** :meth:`Leases.unlock` (``ragops unlock INDEX``) frees the lease of a holder that
  is gone, audited; a lease still being renewed needs ``force`` (its holder looks alive).

Times are the hosts' own clocks (epoch seconds); hosts that share a catalog need clocks in sync
to well within ``lease_seconds`` (NTP does that).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ragops.catalog.audit import Audit
from ragops.catalog.database import Database
from ragops.catalog.schema import leases
from ragops.errors import IndexLockedError, LeaseLostError

__all__ = ["Lease", "LeaseInfo", "Leases", "index_lease"]


def index_lease(index: str) -> str:
    """The lease name of an index."""
    return f"index:{index}"


def _label(name: str) -> str:
    """``index 'docs'`` for people, from the lease name ``index:docs``."""
    kind, _, subject = name.partition(":")
    return f"{kind} {subject!r}" if subject else name


@dataclass(frozen=True)
class LeaseInfo:
    """A lease as stored: who holds it, since when, and until when it is valid."""

    name: str
    token: str
    holder: str
    host: str
    process: str
    acquired_at: float
    renewed_at: float
    expires_at: float
    renewals: int

    def expired(self, at: float | None = None) -> bool:
        return (time.time() if at is None else at) >= self.expires_at

    def describe(self, at: float | None = None) -> str:
        """``sync by pid 12 on host (`ragops sync`) for 40 s, renewed 3 s ago``."""
        at = time.time() if at is None else at
        renewed = at - self.renewed_at
        state = (
            f"expired {at - self.expires_at:.0f} s ago"
            if self.expired(at)
            else f"renewed {renewed:.0f} s ago"
        )
        return f"{self.holder} for {_duration(at - self.acquired_at)}, {state}"


class Lease:
    """A lease this process holds. Use as a context manager; it renews itself until released."""

    def __init__(self, leases: Leases, info: LeaseInfo) -> None:
        self._leases = leases
        self.name = info.name
        self.token = info.token
        self._lost = threading.Event()
        self._released = threading.Event()
        self._renewer = threading.Thread(
            target=self._renew_until_released, name=f"ragops-lease-{info.name}", daemon=True
        )
        self._renewer.start()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        """Raise LeaseLostError when the lease was taken over (call before each write)."""
        if self._lost.is_set():
            raise self._lost_error()

    def fence(self, connection: Connection) -> None:
        """Renew the lease inside ``connection``'s transaction, or raise LeaseLostError.

        Pass it as ``fence=`` to a commit: the commit then happens only while this process
        still holds the lease, and holds it for another ``lease_seconds`` afterwards.
        """
        if not self._leases.renew(self.name, self.token, connection):
            self._lost.set()
            raise self._lost_error()

    def release(self) -> None:
        if self._released.is_set():
            return
        self._released.set()
        self._renewer.join(timeout=5)
        self._leases.delete(self.name, self.token)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def _renew_until_released(self) -> None:
        interval = max(self._leases.seconds / 4, 0.25)
        while not self._released.wait(interval):
            try:
                if not self._leases.renew(self.name, self.token):
                    self._lost.set()
                    return
            except sa.exc.SQLAlchemyError:
                continue  # the database is unreachable: commits will fail on their own

    def _lost_error(self) -> LeaseLostError:
        current = self._leases.holder(self.name)
        now = f"; it is now held by {current.describe()}" if current else ""
        return LeaseLostError(
            f"this process's lock on {_label(self.name)} expired and was taken over{now}. "
            "Nothing was committed; run the operation again (a process that stalls for longer "
            "than catalog.lease_seconds loses its lock)",
            holder=current.holder if current else "",
        )


class Leases:
    """Acquiring, renewing, inspecting and freeing leases (see the module docstring)."""

    def __init__(self, database: Database, audit: Audit, seconds: float = 60.0) -> None:
        self.database = database
        self.audit = audit
        self.seconds = seconds

    def acquire(
        self,
        name: str,
        purpose: str,
        *,
        wait: float = 0.0,
        on_wait: Callable[[LeaseInfo], None] | None = None,
    ) -> Lease:
        """Take the lease ``name`` for ``purpose`` (``sync``, ``promote``, ...).

        When another live process holds it, wait up to ``wait`` seconds (``on_wait`` is called
        with the holder while waiting), then raise IndexLockedError naming the holder and how
        long it has held the lease.
        """
        deadline = time.monotonic() + wait
        delay = 0.2
        while True:
            acquired, current = self._try_acquire(name, purpose)
            if acquired:
                return Lease(self, current)
            if time.monotonic() >= deadline:
                raise IndexLockedError(
                    f"{_label(name)} is locked by {current.describe()}; wait for it to finish "
                    f"(--wait), or, if that process is gone, free it with `ragops unlock "
                    f"{name.removeprefix('index:')}`",
                    holder=current.holder,
                    age_seconds=time.time() - current.acquired_at,
                )
            if on_wait is not None:
                on_wait(current)
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, 2.0)

    def holder(self, name: str) -> LeaseInfo | None:
        with self.database.read() as connection:
            row = (
                connection.execute(leases.select().where(leases.c.name == name)).mappings().first()
            )
        return _info(row) if row else None

    def is_live(self, info: LeaseInfo) -> bool:
        """False when the lease expired or its process is provably gone."""
        return not info.expired() and _process_state(info.process) != "gone"

    def renew(self, name: str, token: str, connection: Connection | None = None) -> bool:
        """Extend the lease by ``seconds``; False when ``token`` no longer holds it."""
        at = time.time()
        statement = (
            leases.update()
            .where(leases.c.name == name, leases.c.token == token)
            .values(renewed_at=at, expires_at=at + self.seconds, renewals=leases.c.renewals + 1)
        )
        if connection is not None:
            return bool(connection.execute(statement).rowcount)
        with self.database.transaction() as own:
            return bool(own.execute(statement).rowcount)

    def delete(self, name: str, token: str) -> None:
        with self.database.transaction() as connection:
            connection.execute(
                leases.delete().where(leases.c.name == name, leases.c.token == token)
            )

    def unlock(
        self, name: str, *, actor: str, reason: str | None = None, force: bool = False
    ) -> LeaseInfo | None:
        """Free the lease ``name`` of a holder that is gone; None when nothing holds it.

        Refuses (IndexLockedError) a holder that provably still runs on this machine, and,
        without ``force``, one that is still renewing its lease. Audited.
        """
        info = self.holder(name)
        if info is None:
            return None
        state = _process_state(info.process)
        if state == "running":
            raise IndexLockedError(
                f"{_label(name)} is held by {info.describe()}, and that process is still running "
                "on this machine: stop it first (a lock of a running process is never freed)",
                holder=info.holder,
                age_seconds=time.time() - info.acquired_at,
            )
        if state == "unknown" and not info.expired() and not force:
            raise IndexLockedError(
                f"{_label(name)} is held by {info.describe()}: its holder runs elsewhere and still "
                "renews the lock, so it looks alive. Wait for it, or pass --force if you know "
                f"that process is gone (otherwise the lock expires in "
                f"{info.expires_at - time.time():.0f} s unless it is renewed)",
                holder=info.holder,
                age_seconds=time.time() - info.acquired_at,
            )
        with self.database.transaction() as connection:
            deleted = connection.execute(
                leases.delete().where(
                    leases.c.name == name,
                    leases.c.token == info.token,
                    leases.c.renewals == info.renewals,
                )
            ).rowcount
            if not deleted:
                raise IndexLockedError(
                    f"{_label(name)} changed hands while unlocking; try `ragops unlock` again",
                    holder=info.holder,
                )
            self.audit.record(
                connection,
                actor=actor,
                action="unlock",
                subject=name,
                detail={
                    "holder": info.holder,
                    "held_seconds": round(time.time() - info.acquired_at, 1),
                    "state": "expired" if info.expired() else state,
                    "forced": force,
                    "reason": reason,
                },
            )
        return info

    # -- internals ---------------------------------------------------------------------------

    def _try_acquire(self, name: str, purpose: str) -> tuple[bool, LeaseInfo]:
        """(True, our new lease), or (False, the live lease of another holder)."""
        at = time.time()
        row = {
            "name": name,
            "token": str(uuid.uuid4()),
            "holder": _holder_text(purpose),
            "host": socket.gethostname()[:255],
            "process": _process_identity(),
            "acquired_at": at,
            "renewed_at": at,
            "expires_at": at + self.seconds,
            "renewals": 0,
        }
        for _ in range(5):
            try:
                with self.database.transaction() as connection:
                    connection.execute(leases.insert().values(**row))
                return True, _info(row)
            except sa.exc.IntegrityError:
                current = self.holder(name)
                if current is None:
                    continue  # released meanwhile
                gone = _process_state(current.process) == "gone"
                if not gone and not current.expired():
                    return False, current
                if self._take_over(current, row, "expired" if current.expired() else "gone"):
                    return True, _info(row)
        current = self.holder(name)
        if current is None:
            raise IndexLockedError(f"could not take the lock of {_label(name)}; try again")
        return False, current

    def _take_over(self, current: LeaseInfo, row: dict[str, Any], why: str) -> bool:
        with self.database.transaction() as connection:
            taken = connection.execute(
                leases.update()
                .where(
                    leases.c.name == current.name,
                    leases.c.token == current.token,
                    leases.c.renewals == current.renewals,
                )
                .values(**{k: v for k, v in row.items() if k != "name"})
            ).rowcount
            if taken:
                self.audit.record(
                    connection,
                    actor=row["holder"],
                    action="lease_takeover",
                    subject=current.name,
                    detail={"previous_holder": current.holder, "why": why},
                )
        return bool(taken)


def _info(row: Any) -> LeaseInfo:
    return LeaseInfo(**{key: row[key] for key in LeaseInfo.__dataclass_fields__})


def _holder_text(purpose: str) -> str:
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
    command = command if len(command) <= 200 else command[:199] + "…"
    return f"{purpose} by pid {os.getpid()} on {socket.gethostname()} (`{command}`)"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# -- process identity ---------------------------------------------------------------------------


def _process_identity(pid: int | None = None) -> str:
    """``boot id / pid namespace / pid / start time``: enough to tell, on the same machine and
    in the same PID namespace, whether the process still runs (a reused PID has another start
    time). Another machine or container has another boot id or namespace."""
    pid = os.getpid() if pid is None else pid
    return f"{_boot_id()}/{_pid_namespace()}/{pid}/{_start_time(pid) or '?'}"


def _process_state(identity: str) -> str:
    """``running``, ``gone`` (provably), or ``unknown`` (another machine or namespace)."""
    parts = identity.split("/")
    if len(parts) != 4 or parts[0] != _boot_id() or parts[1] != _pid_namespace():
        return "unknown"
    if parts[0] == "?" or parts[1] == "?" or not parts[2].isdigit():
        return "unknown"
    start = _start_time(int(parts[2]))
    return "running" if start is not None and start == parts[3] else "gone"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or "?"
    except OSError:
        return "?"


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "?"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None
