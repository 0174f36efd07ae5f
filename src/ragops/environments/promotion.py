"""Promotion and rollback: moving an index environment (and its prompt alias) with evidence.

An environment (``production``, ``staging``, any name) points at one index version and, for an
index with a prompt, the prompt alias of the same name points at one prompt version. A
promotion moves both in one catalog transaction, holding the index's lease (so retention
cannot prune the version meanwhile); for ``production`` the gates are checked first
(:mod:`ragops.environments.gates`) and the Qdrant alias ``<project>.<index>`` is moved inside
that transaction, so the pointer and the alias move together or not at all. Nothing is copied
or re-embedded. ``force`` overrides failing gates and is recorded with its reason.

A rollback pops the environment's history: it returns to the version before the latest
promotion, and returns the prompt alias too when that promotion moved it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragops.catalog import INDEX, PROMPT, Hold, Lease, PointerMove, current_actor
from ragops.environments.gates import PRODUCTION, GateResult, check_gates
from ragops.errors import IndexNotFoundError, PromotionError, RagopsError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection

    from ragops.project import Project

__all__ = ["PRODUCTION", "Promotion", "promote", "rollback"]


@dataclass(frozen=True)
class Promotion:
    """What a promote or rollback did. ``action`` is ``promote``, ``rollback``, ``unchanged``
    (the environment was there already: nothing was recorded) or ``held`` (an automatic
    promotion skipped an environment held against it: ``hold`` says by whom and why)."""

    index: str
    env: str
    action: str
    from_version: int | None
    to_version: int
    forced: bool = False
    prompt: dict[str, Any] | None = None
    gates: list[GateResult] = field(default_factory=list)
    reason: str | None = None
    #: The hold in place (action ``held``), set (a rollback) or released (a manual promote).
    hold: Hold | None = None

    @property
    def moved(self) -> bool:
        return self.action in ("promote", "rollback")

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "environment": self.env,
            "action": self.action,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "forced": self.forced,
            "prompt": self.prompt,
            "gates": [g.to_dict() for g in self.gates],
            "reason": self.reason,
            "hold": self.hold.to_dict() if self.hold is not None else None,
        }


def promote(
    project: Project,
    index: str,
    version: int,
    env: str = PRODUCTION,
    *,
    prompt: str | None = None,
    force: bool = False,
    reason: str | None = None,
    wait: float = 0.0,
    lease: Lease | None = None,
    automatic: bool = False,
) -> Promotion:
    """Point ``env`` at ``version`` (and its prompt alias at ``prompt``: an alias, ``v<N>``, a
    hash or ``latest``; default: the version ``env`` already serves).

    Gates apply to production; ``force`` needs a ``reason``. ``wait``: seconds to wait for the
    index's lease. A manual promotion releases a hold on the environment; an ``automatic`` one
    (``ragops run``, Dagster) skips a held environment and says so (action ``held``). Raises
    PromotionError (refused), IndexNotFoundError (no such version, or pruned) or
    IndexLockedError (another operation holds the index).
    """
    if force and not reason:
        raise PromotionError('--force needs --reason "why": forced promotions are audited')
    with _held(project, index, "promote", lease, wait) as held:
        catalog = project.catalog
        info = catalog.versions.get(index, version)
        prompt_name, prompt_from, prompt_to = _prompt_move(project, index, env, prompt)
        results = check_gates(project, index, version, prompt_to) if env == PRODUCTION else []
        failing = [r for r in results if not r.passed]
        if failing and not force:
            lines = "\n".join(f"  - {r.gate} [{r.eval_set}]: {r.detail}" for r in failing)
            raise PromotionError(
                f"refusing to promote {index} version {version} to {env}: {len(failing)} gate "
                f"check(s) fail:\n{lines}\nImprove the index, or override with --force "
                '--reason "why"',
                gates=results,
            )
        current = catalog.pointers.get(INDEX, index, env)
        from_version = current.version if current is not None else None
        prompt_info = (
            {"name": prompt_name, "from": prompt_from, "to": prompt_to} if prompt_name else None
        )
        if from_version == version and prompt_from == prompt_to:
            return Promotion(
                index, env, "unchanged", from_version, version, False, prompt_info, results
            )
        hold = current.hold if current is not None else None
        if automatic and hold is not None:
            return Promotion(
                index, env, "held", from_version, version, False, prompt_info, results, None, hold
            )
        evidence = {"gates": [r.to_dict() for r in results], "prompt": prompt_info}
        forced = bool(force and failing)

        def moves(connection: Connection) -> None:
            catalog.pointers.move(
                INDEX,
                index,
                env,
                str(version),
                action="promote",
                actor=current_actor(),
                reason=reason,
                forced=forced,
                evidence=evidence,
                expected_from=current.target if current is not None else None,
                connection=connection,
            )
            if prompt_name is not None and prompt_from != prompt_to:
                assert prompt_to is not None
                catalog.pointers.move(
                    PROMPT,
                    prompt_name,
                    env,
                    prompt_to,
                    action="promote",
                    actor=current_actor(),
                    reason=reason or f"promoted with {index} version {version}",
                    expected_from=prompt_from,
                    connection=connection,
                )
            if hold is not None:  # a person promoted: automation may move it again
                catalog.pointers.set_hold(
                    INDEX, index, env, actor=current_actor(), hold=False,
                    reason=f"released by the promotion to version {version}",
                    connection=connection,
                )  # fmt: skip

        _commit(project, index, env, info.generation_id, held, moves)
        promotion = Promotion(
            index, env, "promote", from_version, version, forced, prompt_info, results, reason,
            hold,
        )  # fmt: skip
    _record(project, promotion)
    return promotion


def rollback(
    project: Project,
    index: str,
    env: str = PRODUCTION,
    *,
    reason: str | None = None,
    wait: float = 0.0,
    lease: Lease | None = None,
    hold: bool = True,
) -> Promotion:
    """Return ``env`` to the version before its latest promotion (and the prompt alias to
    what it was, when that promotion moved it).

    ``hold`` (the default) holds the environment against automatic promotion afterwards, so a
    sync triggered by the next document edit does not promote the version that was rolled
    back from; ``ragops release`` (or a manual promotion) ends the hold.
    """
    with _held(project, index, "rollback", lease, wait) as held:
        catalog = project.catalog
        current = catalog.pointers.get(INDEX, index, env)
        if current is None:
            raise IndexNotFoundError(f"index {index!r} has no {env!r} environment to roll back")
        stack = catalog.pointers.stack(INDEX, index, env)
        if len(stack) < 2:
            raise PromotionError(_nothing_to_roll_back(project, index, env, current.version))
        undone, target_move = stack[-1], stack[-2]
        target = catalog.versions.get(index, target_move.to_version)
        prompt_info = undone.evidence.get("prompt") or None
        prompt_back = None
        if prompt_info and prompt_info.get("from") and prompt_info["from"] != prompt_info["to"]:
            alias = catalog.pointers.get(PROMPT, prompt_info["name"], env)
            if alias is not None and alias.target == prompt_info["to"]:
                prompt_back = {
                    "name": prompt_info["name"],
                    "from": alias.target,
                    "to": prompt_info["from"],
                }

        def moves(connection: Connection) -> None:
            catalog.pointers.move(
                INDEX,
                index,
                env,
                str(target.number),
                action="rollback",
                actor=current_actor(),
                reason=reason,
                evidence={"rolled_back_from": current.version, "prompt": prompt_back},
                expected_from=current.target,
                connection=connection,
            )
            if prompt_back is not None:
                catalog.pointers.move(
                    PROMPT,
                    prompt_back["name"],
                    env,
                    prompt_back["to"],
                    action="rollback",
                    actor=current_actor(),
                    reason=reason or f"rolled back with {index} {env}",
                    expected_from=prompt_back["from"],
                    connection=connection,
                )
            if hold:
                catalog.pointers.set_hold(
                    INDEX, index, env, actor=current_actor(), connection=connection,
                    reason=reason or f"rolled back from version {current.version}",
                )  # fmt: skip

        _commit(project, index, env, target.generation_id, held, moves)
        placed = catalog.pointers.get(INDEX, index, env)
        promotion = Promotion(
            index, env, "rollback", current.version, target.number, False, prompt_back, [],
            reason, placed.hold if placed is not None else None,
        )  # fmt: skip
    _record(project, promotion)
    return promotion


def _record(project: Project, promotion: Promotion) -> None:
    """The move as an asset event of the index's Dagster ``production`` asset."""
    from ragops.events import describe

    project.events.emit(lambda: [describe.pointer_event(project, promotion)])


def _held(project: Project, index: str, purpose: str, lease: Lease | None, wait: float) -> Any:
    if lease is not None:
        return project.hold(index, purpose, lease)
    return project.lease(index, purpose, wait=wait)


def _prompt_move(
    project: Project, index: str, env: str, ref: str | None
) -> tuple[str | None, str | None, str | None]:
    """(prompt name, the version ``env``'s alias points at now, the version to point it at)."""
    name = project.config.index(index).prompt
    if name is None:
        if ref is not None:
            raise PromotionError(
                f"--prompt {ref!r} given but index {index!r} names no prompt "
                f"(indexes.{index}.prompt)"
            )
        return None, None, None
    from ragops.llm.prompts import PromptRegistry

    registry = PromptRegistry.for_project(project)
    registry.scan()
    current = project.catalog.pointers.get(PROMPT, name, env)
    if ref is not None:
        target = registry.get(name, ref).sha256
    elif current is not None:
        target = current.target
    else:  # a new environment starts from production's prompt
        target = registry.get(name, PRODUCTION).sha256
    return name, current.target if current is not None else None, target


def _commit(
    project: Project,
    index: str,
    env: str,
    generation_id: int,
    lease: Lease,
    moves: Any,
) -> None:
    """Run ``moves`` in one fenced transaction; for production, move the Qdrant alias inside
    it (a failing alias rolls the pointers back; a failing commit puts the alias back)."""
    catalog = project.catalog
    alias = project.alias_name(index)
    collection = catalog.generations.get(generation_id).collection
    previous: str | None = None
    moved_alias = False
    try:
        with catalog.database.transaction() as connection:
            lease.fence(connection)
            moves(connection)
            if env == PRODUCTION:
                previous = project.store.get_alias(alias)
                _check_alias_owner(project, index, alias, previous)
                project.store.set_alias(alias, collection)
                moved_alias = previous != collection
    except BaseException:
        if moved_alias and previous is not None:
            # best effort: the next promotion sets it again; readers follow the catalog
            with contextlib.suppress(RagopsError):
                project.store.set_alias(alias, previous)
        raise


def _check_alias_owner(project: Project, index: str, alias: str, current: str | None) -> None:
    if current is None:
        return
    ours = {g.collection for g in project.catalog.generations.of_index(index)}
    if current not in ours:
        raise PromotionError(
            f"the Qdrant alias {alias!r} points at collection {current!r}, which is not one of "
            f"this project's (id {project.project_id}): another project named "
            f"{project.config.project!r} uses the same store; give this one another `project:` "
            "name in ragops.yaml"
        )


def _nothing_to_roll_back(project: Project, index: str, env: str, version: int) -> str:
    moves: list[PointerMove] = [
        m for m in project.catalog.pointers.history(INDEX, index, env) if m.moved
    ]
    path = ", ".join(
        f"{m.from_target or '∅'} → {m.to_target}"
        + (" (rollback)" if m.action == "rollback" else "")
        for m in moves[-8:]
    )
    more = "… " if len(moves) > 8 else ""
    if len(moves) == 1:
        where = f"its first and only promotion (moves: {path})"
    else:
        where = (
            "the oldest version left on its rollback stack: every promotion after it has "
            f"been rolled back (moves: {more}{path})"
        )
    return (
        f"{index} {env} serves version {version}, {where}. Promote the version you want "
        f"instead: `ragops promote {index} VERSION --env {env}`"
    )
