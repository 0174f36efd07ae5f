"""How a document's parse failure is worded: ``ParseError("<file>: <reason> (<exception>)")``."""

from __future__ import annotations

from pathlib import PurePath

from ragops.errors import ParseError

__all__ = ["extension", "not_a_valid", "not_text", "parse_error", "shorten"]


def parse_error(filename: str, reason: str, exc: BaseException | None = None) -> ParseError:
    """``ParseError("<filename>: <reason> (<exception type>)")``."""
    suffix = f" ({_qualified_name(exc)})" if exc is not None else ""
    return ParseError(f"{filename}: {reason}{suffix}")


def _qualified_name(exc: BaseException) -> str:
    module = type(exc).__module__.split(".")[0]
    return type(exc).__name__ if module == "builtins" else f"{module}.{type(exc).__name__}"


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def extension(filename: str) -> str:
    return PurePath(filename).suffix.lower()


def not_text(filename: str, detail: str) -> ParseError:
    return parse_error(
        filename,
        f"not valid UTF-8/UTF-16 text ({detail}): binary data, or the wrong file extension?",
    )


def not_a_valid(ext: str) -> str:
    return f"not a valid {ext} file: damaged, or not the format its name says"
