"""Holding an environment against automatic promotion.

A held environment stays where it is while ``ragops run`` and the Dagster production step go
on building and evaluating new versions: they skip it and say who holds it and why. A
rollback holds the environment it moved (so the next document edit does not promote the
version that was rolled back from); ``ragops hold`` does it by hand; ``ragops release`` or a
manual ``ragops promote`` ends the hold. Both are recorded in the environment's history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragops.catalog import INDEX, Hold, current_actor
from ragops.errors import IndexNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["hold", "release"]


def hold(
    project: Project, index: str, env: str = "production", *, reason: str | None = None
) -> Hold | None:
    """Hold ``env`` against automatic promotion; the hold in place (None: it was held)."""
    return _set(project, index, env, reason, held=True)


def release(
    project: Project, index: str, env: str = "production", *, reason: str | None = None
) -> Hold | None:
    """End the hold on ``env``; the hold released (None: it was not held)."""
    return _set(project, index, env, reason, held=False)


def _set(project: Project, index: str, env: str, reason: str | None, *, held: bool) -> Hold | None:
    with project.lease(index, "hold" if held else "release"):
        catalog = project.catalog
        pointer = catalog.pointers.get(INDEX, index, env)
        if pointer is None:
            raise IndexNotFoundError(
                f"index {index!r} has no {env!r} environment to {'hold' if held else 'release'}; "
                f"promote a version first: `ragops promote {index} VERSION --env {env}`"
            )
        before = pointer.hold
        move = catalog.pointers.set_hold(
            INDEX, index, env, actor=current_actor(), reason=reason, hold=held
        )
        if move is None:
            return None
        after = catalog.pointers.get(INDEX, index, env)
        changed = after.hold if held and after is not None else before
    if changed is not None:
        from ragops.events import describe

        project.events.emit(lambda: [describe.hold_event(project, index, env, changed, held=held)])
    return changed
