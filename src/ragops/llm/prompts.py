"""The prompt registry: prompt files (``ragops.llm.prompt_files``) as immutable, content-hashed
versions with aliases, on the catalog's pointer mechanism (the same one index environments use).

**Versions.** :meth:`PromptRegistry.scan` registers each file's current content as a version
when that content is new. A version is keyed by the sha256 of the normalized file and never
changes afterwards; versions are also numbered per prompt (``v1``, ``v2``, ...). Earlier
versions stay retrievable by hash, number or alias, even after the file is deleted.

**Aliases.** An alias (``production``, ``staging``, any name) is a pointer of kind ``prompt``
to one version; every move is recorded with actor and reason, and :meth:`rollback` pops the
newest move. When ``scan`` registers the *first* version of a prompt it points ``production``
at it (in the same transaction), so a fresh project works with no promote; every later
version serves nothing until it is promoted.

**Refs.** :meth:`PromptRegistry.get` accepts, tried in this order: ``None`` or ``latest`` (the
newest registered version), an alias name, ``v<N>``, a sha256 or an unambiguous prefix of it
(at least 4 hex digits). A ref may be prefixed by the prompt name: ``answer@3f2a9c1b0d4e``.

    registry = PromptRegistry.for_project(project)
    registry.scan()
    text = registry.get("answer", "production").render(context="...", question="...")
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ragops.catalog import PROMPT, PointerMove, PromptRecord, current_actor
from ragops.catalog.prompts import PromptVersions
from ragops.errors import (
    CatalogError,
    ConfigError,
    IndexNotFoundError,
    PromotionError,
    PromptRenderError,
)
from ragops.llm.prompt_files import PromptFile, parse_prompt, prompt_files

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import Catalog
    from ragops.project import Project

__all__ = ["LATEST", "PRODUCTION", "PromptRegistry", "PromptVersion", "index_prompt"]

PRODUCTION = "production"
LATEST = "latest"
SHORT_ID_LENGTH = 12
_MIN_PREFIX = 4
_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,47}$"
_NAME_FIX = "use 1-48 lowercase letters, digits, '-' or '_', starting with a letter"


@dataclass(frozen=True)
class PromptVersion(PromptRecord):
    """One immutable version of a prompt: ``sha256`` hashes ``content`` (the normalized file,
    front matter included); ``template`` is the text after the front matter."""

    @property
    def short_id(self) -> str:
        return self.sha256[:SHORT_ID_LENGTH]

    @property
    def ref(self) -> str:
        """``name@short_id``: accepted back by :meth:`PromptRegistry.get`."""
        return f"{self.name}@{self.short_id}"

    def render(self, /, **values: Any) -> str:
        """The template with every variable filled in.

        Every declared variable must be given and nothing else: a missing or unexpected
        variable raises :class:`PromptRenderError` naming it (values are never re-parsed, so
        braces inside them are kept as they are).
        """
        missing = [name for name in self.variables if name not in values]
        extra = sorted(set(values) - set(self.variables))
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"missing {', '.join(missing)}")
            if extra:
                problems.append(f"unexpected {', '.join(extra)}")
            takes = ", ".join(self.variables) or "no variables"
            raise PromptRenderError(
                f"prompt {self.ref} (v{self.number}) takes {takes}; {'; '.join(problems)}. "
                "Pass exactly its variables, or edit its file and promote the new version"
            )
        try:
            return self.template.format(**values)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise PromptRenderError(
                f"prompt {self.ref} (v{self.number}) cannot be rendered with these values: "
                f"{exc.__class__.__name__}: {exc}; check the format spec of its placeholders"
            ) from None

    def to_dict(self, text: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "sha256": self.sha256,
            "short_id": self.short_id,
            "number": self.number,
            "variables": list(self.variables),
            "description": self.description,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "path": self.path,
        }
        if text:
            data["template"] = self.template
            data["content"] = self.content
        return data


def _version(record: PromptRecord) -> PromptVersion:
    return PromptVersion(**{f.name: getattr(record, f.name) for f in dataclasses.fields(record)})


class PromptRegistry:
    """Prompt files of a folder, registered as versions in the catalog, with aliases.

    Thread- and process-safe: every write is one catalog transaction, and two processes
    registering the same content at once end with one version.
    """

    def __init__(self, catalog: Catalog, prompts_dir: str | Path) -> None:
        self.catalog = catalog
        self.prompts_dir = Path(prompts_dir)

    @classmethod
    def for_project(cls, project: Project) -> PromptRegistry:
        """The registry of a project: its catalog and its ``prompts_dir``."""
        return cls(project.catalog, project.config.prompts_path)

    # -- files -------------------------------------------------------------------------------

    def files(self) -> dict[str, Path]:
        """Prompt name → file, for the prompt files in the folder now (none if no folder)."""
        return prompt_files(self.prompts_dir)

    def scan(self) -> list[PromptVersion]:
        """Register the current content of every prompt file; returns the new versions.

        Every file is checked first: if any is invalid, nothing is registered and one
        ConfigError lists each problem. A prompt's first version becomes ``production``.
        """
        parsed: list[PromptFile] = []
        problems: list[str] = []
        for name, path in self.files().items():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                problems.append(f"{path}: not UTF-8 text; save it as UTF-8")
                continue
            try:
                parsed.append(parse_prompt(text, name=name, where=str(path)))
            except ConfigError as exc:
                problems.append(str(exc))
        if len(problems) == 1:
            raise ConfigError(problems[0])
        if problems:
            raise ConfigError(
                f"{len(problems)} prompt files are invalid:\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            )
        registered = []
        for prompt in parsed:
            relative = Path(prompt.path).relative_to(self.prompts_dir).as_posix()
            version = self._register(prompt, relative)
            if version is not None:
                registered.append(version)
        return registered

    def _register(self, prompt: PromptFile, path: str) -> PromptVersion | None:
        for _attempt in range(5):
            try:
                with self.catalog.database.transaction() as connection:
                    record = PromptVersions.insert_if_new(
                        connection,
                        name=prompt.name,
                        sha256=prompt.sha256,
                        path=path,
                        content=prompt.content,
                        template=prompt.template,
                        variables=prompt.variables,
                        description=prompt.description,
                    )
                    if record is None:
                        return None
                    if self.catalog.pointers.get(PROMPT, prompt.name, PRODUCTION) is None:
                        self.catalog.pointers.move(
                            PROMPT,
                            prompt.name,
                            PRODUCTION,
                            prompt.sha256,
                            action="promote",
                            actor=current_actor(),
                            reason="first version (automatic)",
                            connection=connection,
                        )
                return _version(record)
            except sa.exc.IntegrityError:
                continue  # another process registered this prompt meanwhile: look again
        raise CatalogError(
            f"could not register prompt {prompt.name!r} ({prompt.path}): the catalog kept "
            "changing under it; try again"
        )

    # -- reading -----------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every prompt with a registered version, sorted."""
        return self.catalog.prompts.names()

    def versions(self, name: str) -> list[PromptVersion]:
        """The versions of a prompt, oldest first (``[-1]`` is ``latest``)."""
        found = [_version(r) for r in self.catalog.prompts.of_prompt(name)]
        if not found:
            raise self._unknown(name)
        return found

    def get(self, name: str, ref: str | None = None) -> PromptVersion:
        """One version: ``ref`` is None/``latest``, an alias, ``v<N>`` or a (prefix of a) hash.

        IndexNotFoundError names the prompt's aliases and versions when nothing matches.
        """
        versions = self.versions(name)
        if ref is not None and ref.startswith(f"{name}@"):
            ref = ref.removeprefix(f"{name}@")
        if ref is None or ref == LATEST:
            return versions[-1]
        by_sha = {v.sha256: v for v in versions}
        alias = self.catalog.pointers.get(PROMPT, name, ref)
        if alias is not None:
            return by_sha[alias.target]
        numbered = re.fullmatch(r"v(\d+)", ref)
        if numbered:
            number = int(numbered.group(1))
            for version in versions:
                if version.number == number:
                    return version
        elif re.fullmatch(rf"[0-9a-fA-F]{{{_MIN_PREFIX},64}}", ref):
            matches = [v for v in versions if v.sha256.startswith(ref.lower())]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise IndexNotFoundError(
                    f"prompt {name!r}: {ref!r} matches {len(matches)} versions "
                    f"({', '.join(v.short_id for v in matches)}); give more digits"
                )
        raise IndexNotFoundError(
            f"prompt {name!r} has no alias, version or hash {ref!r}; "
            f"{self._describe(name, versions)}. Use an alias, v<N>, a hash prefix "
            f"({_MIN_PREFIX}+ hex digits) or 'latest'"
        )

    def aliases(self, name: str) -> dict[str, PromptVersion]:
        """Alias → the version it points at, sorted by alias name."""
        by_sha = {v.sha256: v for v in self.versions(name)}
        pointers = self.catalog.pointers.of_subject(PROMPT, name)
        return {alias: by_sha[pointer.target] for alias, pointer in pointers.items()}

    def history(self, name: str, alias: str | None = None) -> list[PointerMove]:
        """Every alias move of a prompt, oldest first (optionally of one alias)."""
        self.versions(name)
        return self.catalog.pointers.history(PROMPT, name, alias)

    def diff(
        self, name: str, a: str | None = PRODUCTION, b: str | None = LATEST, *, context: int = 3
    ) -> str:
        """A unified diff of two versions' files (front matter included); "" when identical."""
        old, new = self.get(name, a), self.get(name, b)
        return "".join(
            difflib.unified_diff(
                old.content.splitlines(keepends=True),
                new.content.splitlines(keepends=True),
                fromfile=f"{old.ref} (v{old.number}, {a or LATEST})",
                tofile=f"{new.ref} (v{new.number}, {b or LATEST})",
                n=context,
            )
        )

    # -- moving aliases ------------------------------------------------------------------------

    def promote(
        self,
        name: str,
        version_ref: str,
        alias: str = PRODUCTION,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> PointerMove:
        """Point ``alias`` at a version (any ref). Promoting the version it already points at
        records nothing and returns a move with action ``unchanged``."""
        check_alias(alias)
        target = self.get(name, version_ref)
        current = self.catalog.pointers.get(PROMPT, name, alias)
        who = actor or current_actor()
        if current is not None and current.target == target.sha256:
            return PointerMove(
                PROMPT, name, alias, "unchanged", current.target, target.sha256, False, who,
                reason, {}, current.updated_at,
            )  # fmt: skip
        return self.catalog.pointers.move(
            PROMPT,
            name,
            alias,
            target.sha256,
            action="promote",
            actor=who,
            reason=reason,
            expected_from=current.target if current else None,
        )

    def rollback(
        self,
        name: str,
        alias: str = PRODUCTION,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> PointerMove:
        """Return ``alias`` to the version it pointed at before its latest promotion."""
        versions = self.versions(name)
        current = self.catalog.pointers.get(PROMPT, name, alias)
        if current is None:
            raise IndexNotFoundError(
                f"prompt {name!r} has no {alias!r} alias to roll back; "
                f"{self._describe(name, versions)}"
            )
        stack = self.catalog.pointers.stack(PROMPT, name, alias)
        if len(stack) < 2:
            number = next(v.number for v in versions if v.sha256 == current.target)
            raise PromotionError(
                f"prompt {name} {alias} has no earlier version to roll back to: it serves "
                f"v{number} {current.target[:SHORT_ID_LENGTH]}, the oldest version left on its "
                f"rollback stack (see `ragops prompts history {name}`); promote another version "
                f"instead: `ragops prompts promote {name} REF --alias {alias}`"
            )
        return self.catalog.pointers.move(
            PROMPT,
            name,
            alias,
            stack[-2].to_target,
            action="rollback",
            actor=actor or current_actor(),
            reason=reason,
            expected_from=current.target,
        )

    # -- helpers -------------------------------------------------------------------------------

    def _describe(self, name: str, versions: list[PromptVersion]) -> str:
        by_sha = {v.sha256: v for v in versions}
        pointers = self.catalog.pointers.of_subject(PROMPT, name)
        alias_text = ", ".join(
            f"{alias} → v{by_sha[p.target].number} {p.target[:SHORT_ID_LENGTH]}"
            for alias, p in pointers.items()
            if p.target in by_sha
        )
        shown = versions[-10:]
        version_text = ", ".join(f"v{v.number} {v.short_id}" for v in shown)
        if len(versions) > len(shown):
            version_text = f"… {version_text}"
        return f"aliases: {alias_text or 'none'}; versions: {version_text}"

    def _unknown(self, name: str) -> IndexNotFoundError:
        try:
            file = self.files().get(name)
        except ConfigError:
            file = None
        if file is not None:
            return IndexNotFoundError(
                f"prompt {name!r} ({file}) is not registered yet; run `ragops prompts list` "
                "(or PromptRegistry.scan()) to register the prompt files"
            )
        known = self.names()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listing = f"prompts: {', '.join(known)}" if known else "no prompt is registered yet"
        return IndexNotFoundError(
            f"no prompt {name!r}{hint}; {listing}. A prompt is a file "
            f"{self.prompts_dir / name}.txt, registered by `ragops prompts list`"
        )


def index_prompt(project: Project, index: str, ref: str | None = None) -> PromptVersion | None:
    """The version of the index's prompt that ``ref`` names (default: ``production``), after
    registering edited prompt files; None when the index names no prompt."""
    name = project.config.index(index).prompt
    if name is None:
        if ref is not None:
            raise ConfigError(
                f"--prompt {ref!r} given but index {index!r} names no prompt; set "
                f"indexes.{index}.prompt in ragops.yaml"
            )
        return None
    registry = PromptRegistry.for_project(project)
    registry.scan()
    return registry.get(name, ref or PRODUCTION)


def check_alias(alias: str) -> None:
    """ConfigError unless ``alias`` can name an alias (not a version ref)."""
    if not re.match(_NAME_PATTERN, alias):
        raise ConfigError(f"alias {alias!r} is not allowed: {_NAME_FIX}")
    if alias == LATEST or re.fullmatch(r"v\d+", alias):
        raise ConfigError(
            f"alias {alias!r} is not allowed: it reads as a version ref ('latest', 'v<N>'); "
            "choose another name, e.g. 'staging'"
        )
