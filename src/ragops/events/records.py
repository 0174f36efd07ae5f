"""Asset events, the sink protocol, and the recorder a project hands steps."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["AssetEvent", "EventRecorder", "EventSink", "Markdown"]

log = logging.getLogger(__name__)


class Markdown(str):
    """A metadata value to show as Markdown (a table an operator reads in the UI)."""


@dataclass(frozen=True)
class AssetEvent:
    """One event of one asset: a ``materialization`` (the asset has a new value: a version was
    built, evaluated, promoted), an ``observation`` (something about it was seen: a hold, an
    eval of an older version) or a ``check`` (an asset check evaluated: the gates).
    ``metadata`` holds plain values (int, float, str, bool, None, lists and dicts,
    :class:`Markdown`); ``data_version`` is the value's identity, the same one the Dagster
    asset reports, so automation reacts to a change exactly once."""

    key: tuple[str, ...]
    kind: Literal["materialization", "observation", "check"]
    metadata: dict[str, Any] = field(default_factory=dict)
    data_version: str | None = None
    description: str | None = None
    #: For a ``check``: the asset check's name and whether it passed.
    check: str | None = None
    passed: bool | None = None


class EventSink(Protocol):
    """Where asset events go. ``record`` may fail; the recorder logs it and goes on."""

    def record(self, events: Sequence[AssetEvent]) -> None: ...

    def close(self) -> None: ...


class EventRecorder:
    """What a project hands its steps: ``emit`` events (built only when a sink listens),
    ``deferred`` to record a job's events together at its end. A failing sink never fails the
    work it reports on: the failure is logged as a warning."""

    def __init__(self, sink: EventSink | None) -> None:
        self.sink = sink
        self._depth = 0
        self._pending: list[AssetEvent] = []

    @property
    def enabled(self) -> bool:
        return self.sink is not None

    def emit(self, describe: Callable[[], Iterable[AssetEvent]]) -> None:
        """Record the events ``describe()`` returns (not called at all without a sink)."""
        if self.sink is None:
            return
        try:
            events = list(describe())
        except Exception:  # a bug in describing must not fail the step that did the work
            log.warning("could not describe ragops asset events", exc_info=True)
            return
        if self._depth:
            self._pending.extend(events)
        else:
            self._send(events)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold events back until the block ends, then record them in order (a job's index
        version, eval and promotion reach Dagster together, so its automation does not start
        an eval of a version this job is still evaluating)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth and self._pending:
                pending, self._pending = self._pending, []
                self._send(pending)

    def close(self) -> None:
        if self.sink is not None:
            with contextlib.suppress(Exception):
                self.sink.close()

    def _send(self, events: Sequence[AssetEvent]) -> None:
        if not events or self.sink is None:
            return
        try:
            self.sink.record(events)
        except Exception as exc:  # noqa: BLE001  (reported; the work itself is done)
            keys = ", ".join("/".join(e.key) for e in events)
            log.warning(
                "could not record %d asset event(s) (%s) on the Dagster instance: %s: %s; the "
                "work is done and in the catalog, only the Dagster UI's history misses it",
                len(events), keys, exc.__class__.__name__, exc,
            )  # fmt: skip
