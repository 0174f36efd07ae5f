"""Finding and reading ``ragops.yaml``; turning validation errors into messages a user can act on.

A bad file fails here, before any work starts, with a :class:`~ragops.errors.ConfigError` that
names the key, the value and the fix (never the whole configuration).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ragops.config.models import DEFAULT_CONFIG_NAME, ProjectConfig, did_you_mean
from ragops.errors import ConfigError

__all__ = ["CONFIG_ENV_VAR", "find_config", "load_config"]

CONFIG_ENV_VAR = "RAGOPS_CONFIG"


def find_config(explicit: str | Path | None = None) -> Path:
    """The configuration file: ``explicit``, else ``$RAGOPS_CONFIG``, else ``./ragops.yaml``."""
    for candidate, origin in (
        (explicit, "--config"),
        (os.environ.get(CONFIG_ENV_VAR), f"${CONFIG_ENV_VAR}"),
    ):
        if candidate:
            path = Path(candidate).expanduser()
            if path.is_dir():
                path = path / DEFAULT_CONFIG_NAME
            if not path.is_file():
                raise ConfigError(f"{origin} points at {path}, which is not a file")
            return path.resolve()
    path = Path.cwd() / DEFAULT_CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"no {DEFAULT_CONFIG_NAME} in {Path.cwd()}: pass --config PATH, set ${CONFIG_ENV_VAR}, "
            "or create a project with `ragops init DIR`"
        )
    return path.resolve()


def load_config(path: str | Path | None = None) -> ProjectConfig:
    """Read and validate a ``ragops.yaml``. Raises ConfigError naming the key, value and fix."""
    config_path = find_config(path)
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{config_path}{where}: not valid YAML ({exc.__class__.__name__}: "
            f"{getattr(exc, 'problem', exc)}); fix the syntax there"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path}: expected a mapping of settings at the top level")
    raw["root"] = config_path.parent
    try:
        return ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(explain(config_path, exc)) from None


def explain(path: Path, exc: ValidationError) -> str:
    """One line per problem: the key, the value (never a whole section) and the fix."""
    lines = [f"{path}: {exc.error_count()} problem(s) in the configuration:"]
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        key = ".".join(location) or "(top level)"
        kind = error["type"]
        message = error["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            allowed = _allowed_keys(error["loc"][:-1])
            hint = did_you_mean(location[-1], allowed) if allowed else ""
            lines.append(
                f"  - {key}: unknown key{hint}; allowed here: {', '.join(sorted(allowed))}"
                if allowed
                else f"  - {key}: unknown key"
            )
        elif kind == "missing":
            lines.append(f"  - {key}: required but missing; add it")
        elif not location or isinstance(error.get("input"), dict | list):
            # a check across keys: the message names the key; the input is a whole section
            lines.append(f"  - {message}" if not location else f"  - {key}: {message}")
        else:
            lines.append(f"  - {key} = {error.get('input')!r}: {message}")
    return "\n".join(lines)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found at ``loc`` in ProjectConfig (for 'did you mean')."""
    model: Any = ProjectConfig
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return []
        if part in fields:
            model = _model_of(fields[part].annotation)
        elif isinstance(part, str) and model is ProjectConfig:
            return []
        # else: a dict key (index or source name) or a list position
    fields = getattr(model, "model_fields", None)
    return [name for name in (fields or {}) if name != "root"]


def _model_of(annotation: Any) -> Any:
    """Unwrap ``X | None``, ``dict[str, X]`` and ``list[X]`` down to a pydantic model class."""
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = _model_of(arg)
        if inner is not None:
            return inner
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
