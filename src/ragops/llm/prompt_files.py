"""Prompt files: templates in ``prompts/``, parsed and checked before they are registered.

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

A prompt version's id is the sha256 of the normalized file (UTF-8, LF line ends, one final
newline, front matter included): :func:`content_sha256`.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ragops.errors import ConfigError

__all__ = [
    "PROMPT_SUFFIXES",
    "PromptFile",
    "content_sha256",
    "normalize",
    "parse_prompt",
    "prompt_files",
]

PROMPT_SUFFIXES = (".txt", ".md")
_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,47}$"
_NAME_FIX = "use 1-48 lowercase letters, digits, '-' or '_', starting with a letter"
_FRONT_MATTER_KEYS = ("description", "variables")
_FIELD = re.compile(r"^(?P<name>[^!:]*)(?:!(?P<conversion>[^:]*))?(?::(?P<spec>.*))?$", re.S)


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
