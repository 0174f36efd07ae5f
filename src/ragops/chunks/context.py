"""The text a chunk is embedded as: its document's title and its heading path, then its text.

A chunk cut from the middle of a section ("It is rebuilt nightly.") says little on its own; the
same words under "Operations > Index lifecycle" say what "it" is. The stored text stays the
chunk's own text: only the vectors (dense and BM25) see the context. Which parts are added is
part of the index spec (``context:`` in ragops.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["embedding_text"]


def embedding_text(
    text: str, metadata: Mapping[str, Any], context: Mapping[str, bool] | None
) -> str:
    """``text`` with the context lines ``context`` asks for, or ``text`` itself when none.

    The title comes from the ``title`` metadata (connectors that know one set it) and the
    heading path from the markdown chunker's ``section`` (``Guide/Install/Linux`` becomes
    ``Guide > Install > Linux``). A title equal to the path's first heading is given once.
    """
    if not context:
        return text
    lines: list[str] = []
    title = str(metadata.get("title") or "").strip() if context.get("title") else ""
    headings: list[str] = []
    if context.get("headings"):
        section = str(metadata.get("section") or "")
        headings = [part.strip() for part in section.split("/") if part.strip()]
    if title and not (headings and headings[0].lstrip("# ").lower() == title.lower()):
        lines.append(title)
    if headings:
        lines.append(" > ".join(headings))
    if not lines:
        return text
    return "\n".join(lines) + "\n\n" + text
