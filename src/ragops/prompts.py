"""The prompt registry: prompt templates in ``prompts/`` as immutable, content-hashed versions.

A prompt is a file ``prompts/<name>.txt`` (or ``.md``) whose placeholders are Python
``str.format`` fields: ``{context}``; a literal brace is written ``{{`` or ``}}``. It may start
with a YAML front matter that describes it and declares its variables::

    ---
    description: Answer from retrieved context
    variables: [context, question]
    ---
    Answer the question using only the context below.
    {context}
    Question: {question}

Without front matter the variables are the placeholders found, in order of first use. With a
``variables:`` list, it must name exactly the placeholders used, so a typo is caught when the
file is scanned, not when a model gets a prompt with a hole in it. Files whose name starts
with ``.`` or ``_``, and ``README.*``, are not prompts.

**Versions.** :meth:`PromptRegistry.scan` registers each file's current content as a version
when that content is new. A version is keyed by the sha256 of the normalized file (UTF-8, LF
line ends, no trailing blank space at the end, front matter included); it is never changed
afterwards, and registering identical content again does nothing. Versions are also numbered
per prompt in registration order (``v1``, ``v2``, ...). Editing a file and scanning adds a
version; the earlier ones stay retrievable by hash, number or alias, even after the file is
deleted.

**Aliases.** An alias (``production``, ``staging``, any name) points at one version; moves
are recorded in a history with actor and reason, and :meth:`PromptRegistry.rollback` pops
the latest move (rolling back twice goes back two promotions), like index environments.
When ``scan`` registers the *first* version of a prompt it points ``production`` at it (in
the same transaction, recorded in the history), so a fresh project works with no promote.
Every later version serves nothing until it is promoted: editing a file never changes what
``production`` renders.

**Refs.** :meth:`PromptRegistry.get` and the CLI accept, tried in this order: ``None`` or
``latest`` (the newest registered version), an alias name, ``v<N>`` (version number), a
sha256 or an unambiguous prefix of it (at least 4 hex digits; the short id has 12). A ref may
be prefixed by the prompt name: ``answer@3f2a9c1b0d4e``.

    registry = PromptRegistry(project.catalog, project.config.prompts_path)
    registry.scan()
    prompt = registry.get("answer", "production")
    text = prompt.render(context="...", question="...")
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import yaml

from ragops.catalog import (
    _aware,
    _now,
    prompt_alias_history,
    prompt_aliases,
    prompt_versions,
)
from ragops.errors import (
    CatalogError,
    ConfigError,
    IndexNotFoundError,
    PromotionError,
    RagopsError,
)

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection

    from ragops.catalog import Catalog
    from ragops.project import Project

__all__ = [
    "prompt_files",
    "LATEST",
    "PRODUCTION",
    "PROMPT_SUFFIXES",
    "AliasMove",
    "PromptFile",
    "PromptRegistry",
    "PromptRenderError",
    "PromptVersion",
    "content_sha256",
    "normalize",
    "parse_prompt",
]

PROMPT_SUFFIXES = (".txt", ".md")
PRODUCTION = "production"
LATEST = "latest"
SHORT_ID_LENGTH = 12
_MIN_PREFIX = 4
_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,47}$"
_NAME_FIX = "use 1-48 lowercase letters, digits, '-' or '_', starting with a letter"
_FRONT_MATTER_KEYS = ("description", "variables")
_FIELD = re.compile(r"^(?P<name>[^!:]*)(?:!(?P<conversion>[^:]*))?(?::(?P<spec>.*))?$", re.S)


class PromptRenderError(RagopsError, ValueError):
    """A prompt was rendered with missing or unexpected variables, or a value that does not fit
    its placeholder's format."""


# -- versions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptVersion:
    """One immutable version of a prompt.

    ``sha256`` hashes ``content`` (the normalized file, front matter included); ``template``
    is the text after the front matter, which :meth:`render` fills in.
    """

    name: str
    sha256: str
    number: int
    template: str = field(repr=False)
    variables: tuple[str, ...]
    description: str | None
    created_at: datetime
    #: The file (relative to the prompts folder) this content was first registered from.
    path: str
    content: str = field(repr=False)

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


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias: ``action`` is ``promote``, ``rollback`` or ``unchanged`` (a
    promotion to the version the alias already points at, which records nothing)."""

    name: str
    alias: str
    action: str
    from_sha256: str | None
    to_sha256: str
    actor: str
    reason: str | None
    at: datetime

    @property
    def from_short(self) -> str | None:
        return self.from_sha256[:SHORT_ID_LENGTH] if self.from_sha256 else None

    @property
    def to_short(self) -> str:
        return self.to_sha256[:SHORT_ID_LENGTH]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "alias": self.alias,
            "action": self.action,
            "from_sha256": self.from_sha256,
            "to_sha256": self.to_sha256,
            "from": self.from_short,
            "to": self.to_short,
            "actor": self.actor,
            "reason": self.reason,
            "at": self.at.isoformat(timespec="seconds"),
        }


# -- parsing prompt files --------------------------------------------------------------------


@dataclass(frozen=True)
class PromptFile:
    """A prompt file parsed and checked, not (yet) registered."""

    name: str
    path: str
    content: str
    sha256: str
    template: str
    variables: tuple[str, ...]
    description: str | None


def normalize(text: str) -> str:
    """The canonical form of a prompt file: LF line ends, no BOM, one final newline."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip() + "\n"


def content_sha256(text: str) -> str:
    """The version id of a prompt file's text (normalized first)."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


def parse_prompt(text: str, *, name: str, where: str = "<prompt>") -> PromptFile:
    """Parse and check one prompt's text; ConfigError names ``where``, the line and the fix."""
    content = normalize(text)
    header, body, body_line = _split_front_matter(content, where)
    stripped = body.lstrip("\n")
    first_line = body_line + (len(body) - len(stripped))
    template = stripped.rstrip("\n")
    if not template.strip():
        raise ConfigError(f"{where}: the prompt has no text; write the template in the file")
    used = _placeholders(template, where, first_line)
    description: str | None = None
    declared: list[str] | None = None
    if header is not None:
        description, declared = _front_matter_settings(header, where)
    order: list[str] = []
    for variable, _line in used:
        if variable not in order:
            order.append(variable)
    if declared is not None:
        undeclared = [v for v in order if v not in declared]
        unused = [v for v in declared if v not in order]
        problems = []
        for variable in undeclared:
            line = next(line for v, line in used if v == variable)
            problems.append(
                f"{{{variable}}} is used on line {line} but not declared; add {variable!r} to "
                "`variables:` (or remove the placeholder)"
            )
        for variable in unused:
            problems.append(
                f"{variable!r} is declared in `variables:` but the text never uses "
                f"{{{variable}}}; remove it from `variables:` or use it in the text"
            )
        if problems:
            raise ConfigError(f"{where}: " + "; ".join(problems))
        variables = tuple(declared)
    else:
        variables = tuple(order)
    return PromptFile(
        name=name,
        path=where,
        content=content,
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
        template=template,
        variables=variables,
        description=description,
    )


def _split_front_matter(content: str, where: str) -> tuple[dict[str, Any] | None, str, int]:
    """(front matter or None, body, line number of the body's first line)."""
    lines = content.split("\n")
    if lines[0].rstrip() != "---":
        return None, content, 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            header_text = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            break
    else:
        raise ConfigError(
            f"{where}: the front matter opened by '---' on line 1 is never closed; add a line "
            "'---' after its last setting"
        )
    try:
        header = yaml.safe_load(header_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" on line {mark.line + 2}" if mark else ""
        raise ConfigError(
            f"{where}: the front matter is not valid YAML{at} "
            f"({getattr(exc, 'problem', exc)}); fix the syntax, e.g. "
            "`variables: [context, question]`"
        ) from None
    if header is None:
        header = {}
    if not isinstance(header, dict):
        raise ConfigError(
            f"{where}: the front matter must be settings (key: value), e.g. "
            "`description: ...` and `variables: [context, question]`"
        )
    return header, body, index + 2


def _front_matter_settings(
    header: dict[str, Any], where: str
) -> tuple[str | None, list[str] | None]:
    for key in header:
        if key not in _FRONT_MATTER_KEYS:
            close = difflib.get_close_matches(str(key), _FRONT_MATTER_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{where}: unknown front matter key {key!r}{hint}; allowed: "
                f"{', '.join(_FRONT_MATTER_KEYS)}"
            )
    description = header.get("description")
    if description is not None and not isinstance(description, str):
        raise ConfigError(
            f"{where}: description = {description!r}: write it as text, e.g. "
            "`description: Answer from retrieved context`"
        )
    if "variables" not in header:
        return description, None
    declared = header["variables"]
    if declared is None:
        declared = []
    if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
        raise ConfigError(
            f"{where}: variables = {declared!r}: write a list of names, e.g. "
            "`variables: [context, question]`"
        )
    for variable in declared:
        if not variable.isidentifier():
            raise ConfigError(
                f"{where}: variables: {variable!r} is not a valid variable name; use letters, "
                "digits and '_', not starting with a digit"
            )
    duplicates = sorted({v for v in declared if declared.count(v) > 1})
    if duplicates:
        raise ConfigError(
            f"{where}: variables: {', '.join(duplicates)} declared more than once; list each once"
        )
    return description, declared


def _placeholders(template: str, where: str, first_line: int = 1) -> list[tuple[str, int]]:
    """Every ``{name}`` of a str.format template with its line, in order.

    Only plain names are allowed (no positional ``{}``/``{0}``, no ``{a.b}`` or ``{a[0]}``,
    no nested fields in format specs); anything else is a ConfigError with its line.
    """
    found: list[tuple[str, int]] = []

    def line_at(position: int) -> int:
        return first_line + template.count("\n", 0, position)

    literal = "write {{ and }} for a literal brace"
    position = 0
    while position < len(template):
        char = template[position]
        if char == "}":
            if template.startswith("}}", position):
                position += 2
                continue
            raise ConfigError(f"{where} line {line_at(position)}: a single '}}'; {literal}")
        if char != "{":
            position += 1
            continue
        if template.startswith("{{", position):
            position += 2
            continue
        end = template.find("}", position + 1)
        if end == -1:
            raise ConfigError(
                f"{where} line {line_at(position)}: '{{' is never closed; close the placeholder "
                f"({{name}}) or {literal}"
            )
        inner = template[position + 1 : end]
        shown = "{" + inner + "}"
        if "{" in inner or "\n" in inner:
            raise ConfigError(
                f"{where} line {line_at(position)}: '{{' starts a placeholder that is not a "
                f'plain {{name}}; {literal} (e.g. JSON examples: {{{{"answer": "..."}}}})'
            )
        match = _FIELD.match(inner)
        assert match is not None  # the pattern matches any text without a newline
        name = match["name"]
        problem = None
        if name == "" or name.isdigit():
            problem = f"{shown} is positional; name it, e.g. {{question}}"
        elif "." in name or "[" in name:
            problem = (
                f"{shown} reads an attribute or item; use a plain {{name}} and pass the "
                "value itself"
            )
        elif not name.isidentifier():
            problem = f"{shown} is not a placeholder name (a Python identifier such as {{context}})"
        elif match["conversion"] is not None and match["conversion"] not in ("r", "s", "a"):
            problem = f"{shown}: conversion must be !r, !s or !a"
        if problem:
            raise ConfigError(f"{where} line {line_at(position)}: {problem}; or {literal}")
        found.append((name, line_at(position)))
        position = end + 1
    return found


# -- the registry --------------------------------------------------------------------------


def prompt_files(prompts_dir: Path) -> dict[str, Path]:
    """Prompt name → file, for the prompt files in the folder now (none if no folder)."""
    if not prompts_dir.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(prompts_dir.iterdir()):
        if not path.is_file() or path.suffix.lower() not in PROMPT_SUFFIXES:
            continue
        if path.name.startswith((".", "_")) or path.stem.lower() == "readme":
            continue
        name = path.stem
        if not re.match(_NAME_PATTERN, name):
            raise ConfigError(
                f"{path}: {name!r} is not a valid prompt name ({_NAME_FIX}); rename the file"
            )
        if name in found:
            raise ConfigError(
                f"{found[name]} and {path} both define prompt {name!r}; keep one of them"
            )
        found[name] = path
    return found


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
                with self.catalog.transaction() as connection:
                    exists = connection.execute(
                        sa.select(prompt_versions.c.number).where(
                            prompt_versions.c.name == prompt.name,
                            prompt_versions.c.sha256 == prompt.sha256,
                        )
                    ).first()
                    if exists is not None:
                        return None
                    number = (
                        connection.execute(
                            sa.select(sa.func.max(prompt_versions.c.number)).where(
                                prompt_versions.c.name == prompt.name
                            )
                        ).scalar()
                        or 0
                    ) + 1
                    now = _now()
                    row = {
                        "name": prompt.name,
                        "sha256": prompt.sha256,
                        "number": number,
                        "path": path,
                        "content": prompt.content,
                        "template": prompt.template,
                        "variables_json": json.dumps(list(prompt.variables)),
                        "description": prompt.description,
                        "created_at": now,
                    }
                    connection.execute(prompt_versions.insert().values(**row))
                    if _alias_sha(connection, prompt.name, PRODUCTION) is None:
                        _write_move(
                            connection,
                            prompt.name,
                            PRODUCTION,
                            None,
                            prompt.sha256,
                            "promote",
                            _actor(),
                            "first version (automatic)",
                            now,
                        )
                return _version(row)
            except sa.exc.IntegrityError:
                continue  # another process registered this prompt meanwhile: look again
        raise CatalogError(
            f"could not register prompt {prompt.name!r} ({prompt.path}): the catalog kept "
            "changing under it; try again"
        )

    # -- reading -----------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every prompt with a registered version, sorted."""
        query = sa.select(prompt_versions.c.name).distinct().order_by(prompt_versions.c.name)
        with self.catalog.engine.connect() as connection:
            return [row[0] for row in connection.execute(query)]

    def versions(self, name: str) -> list[PromptVersion]:
        """The versions of a prompt, oldest first (``[-1]`` is ``latest``)."""
        query = (
            prompt_versions.select()
            .where(prompt_versions.c.name == name)
            .order_by(prompt_versions.c.number)
        )
        with self.catalog.engine.connect() as connection:
            found = [_version(row) for row in connection.execute(query).mappings()]
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
        alias_sha = self._alias_shas(name).get(ref)
        if alias_sha is not None:
            return by_sha[alias_sha]
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
        return {alias: by_sha[sha] for alias, sha in sorted(self._alias_shas(name).items())}

    def history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every alias move of a prompt, oldest first (optionally of one alias)."""
        self.versions(name)
        query = prompt_alias_history.select().where(prompt_alias_history.c.name == name)
        if alias is not None:
            query = query.where(prompt_alias_history.c.alias == alias)
        with self.catalog.engine.connect() as connection:
            rows = connection.execute(query.order_by(prompt_alias_history.c.id)).mappings()
            return [
                AliasMove(
                    name=row["name"],
                    alias=row["alias"],
                    action=row["action"],
                    from_sha256=row["from_sha256"],
                    to_sha256=row["to_sha256"],
                    actor=row["actor"],
                    reason=row["reason"],
                    at=_aware(row["at"]),
                )
                for row in rows
            ]

    def alias_stack(self, name: str, alias: str) -> list[str]:
        """The versions (sha256) ``alias`` went through, oldest first, rolled-back ones popped."""
        stack: list[str] = []
        for move in self.history(name, alias):
            if move.action == "rollback":
                if stack:
                    stack.pop()
            else:
                stack.append(move.to_sha256)
        return stack

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
    ) -> AliasMove:
        """Point ``alias`` at a version (any ref). Promoting the version it already points at
        records nothing and returns a move with action ``unchanged``."""
        _check_alias(alias)
        target = self.get(name, version_ref)
        return self._move(name, alias, target.sha256, "promote", actor, reason)

    def rollback(
        self,
        name: str,
        alias: str = PRODUCTION,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> AliasMove:
        """Return ``alias`` to the version it pointed at before its latest promotion."""
        versions = self.versions(name)
        current = self._alias_shas(name).get(alias)
        if current is None:
            raise IndexNotFoundError(
                f"prompt {name!r} has no {alias!r} alias to roll back; "
                f"{self._describe(name, versions)}"
            )
        stack = self.alias_stack(name, alias)
        if len(stack) < 2:
            number = next(v.number for v in versions if v.sha256 == current)
            raise PromotionError(
                f"prompt {name} {alias} has no earlier version to roll back to (once its "
                f"rollbacks are undone, v{number} {current[:SHORT_ID_LENGTH]} is the first "
                f"version it pointed at); promote another version instead: "
                f"`ragops prompts promote {name} REF --alias {alias}`"
            )
        return self._move(name, alias, stack[-2], "rollback", actor, reason, expected_from=current)

    def _move(
        self,
        name: str,
        alias: str,
        to_sha256: str,
        action: str,
        actor: str | None,
        reason: str | None,
        expected_from: str | None | object = ...,
    ) -> AliasMove:
        who = actor or _actor()
        now = _now()
        with self.catalog.transaction() as connection:
            current = _alias_sha(connection, name, alias, lock=True)
            if expected_from is not ... and current != expected_from:
                raise PromotionError(
                    f"alias {alias!r} of prompt {name!r} moved to "
                    f"{(current or 'nothing')[:SHORT_ID_LENGTH]} while this change expected "
                    f"{str(expected_from)[:SHORT_ID_LENGTH]}; look at `ragops prompts history "
                    f"{name}` and try again"
                )
            if current == to_sha256 and action == "promote":
                return AliasMove(name, alias, "unchanged", current, to_sha256, who, reason, now)
            _write_move(connection, name, alias, current, to_sha256, action, who, reason, now)
        return AliasMove(name, alias, action, current, to_sha256, who, reason, now)

    # -- helpers -------------------------------------------------------------------------------

    def _alias_shas(self, name: str) -> dict[str, str]:
        query = sa.select(prompt_aliases.c.alias, prompt_aliases.c.sha256).where(
            prompt_aliases.c.name == name
        )
        with self.catalog.engine.connect() as connection:
            return {row[0]: row[1] for row in connection.execute(query)}

    def _describe(self, name: str, versions: list[PromptVersion]) -> str:
        by_sha = {v.sha256: v for v in versions}
        aliases = sorted(self._alias_shas(name).items())
        alias_text = ", ".join(
            f"{alias} → v{by_sha[sha].number} {sha[:SHORT_ID_LENGTH]}" for alias, sha in aliases
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


def _check_alias(alias: str) -> None:
    if not re.match(_NAME_PATTERN, alias):
        raise ConfigError(f"alias {alias!r} is not allowed: {_NAME_FIX}")
    if alias == LATEST or re.fullmatch(r"v\d+", alias):
        raise ConfigError(
            f"alias {alias!r} is not allowed: it reads as a version ref ('latest', 'v<N>'); "
            "choose another name, e.g. 'staging'"
        )


def _alias_sha(connection: Connection, name: str, alias: str, lock: bool = False) -> str | None:
    query = sa.select(prompt_aliases.c.sha256).where(
        prompt_aliases.c.name == name, prompt_aliases.c.alias == alias
    )
    if lock:
        query = query.with_for_update()
    row = connection.execute(query).first()
    return row[0] if row else None


def _write_move(
    connection: Connection,
    name: str,
    alias: str,
    from_sha256: str | None,
    to_sha256: str,
    action: str,
    actor: str,
    reason: str | None,
    at: datetime,
) -> None:
    if from_sha256 is None:
        connection.execute(
            prompt_aliases.insert().values(name=name, alias=alias, sha256=to_sha256, updated_at=at)
        )
    else:
        connection.execute(
            prompt_aliases.update()
            .where(prompt_aliases.c.name == name, prompt_aliases.c.alias == alias)
            .values(sha256=to_sha256, updated_at=at)
        )
    connection.execute(
        prompt_alias_history.insert().values(
            name=name,
            alias=alias,
            action=action,
            from_sha256=from_sha256,
            to_sha256=to_sha256,
            actor=actor,
            reason=reason,
            at=at,
        )
    )


def _actor() -> str:
    from ragops.lifecycle import _actor as lifecycle_actor

    return lifecycle_actor()


def _version(row: Any) -> PromptVersion:
    return PromptVersion(
        name=row["name"],
        sha256=row["sha256"],
        number=row["number"],
        template=row["template"],
        variables=tuple(json.loads(row["variables_json"])),
        description=row["description"],
        created_at=_aware(row["created_at"]),
        path=row["path"],
        content=row["content"],
    )
