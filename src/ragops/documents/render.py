"""Elements rendered as light markdown (headings, list items, fenced code, paragraphs)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["RENDER_VERSION", "Element", "render_markdown"]

#: Bumped whenever :func:`render_markdown` output changes, so index fingerprints change too.
RENDER_VERSION: Final[int] = 1

#: Element kinds kept in :attr:`ParsedDocument.elements` but left out of the rendered text.
_NOT_RENDERED: Final[frozenset[str]] = frozenset({"PageBreak", "PageNumber", "Image"})


@dataclass(frozen=True)
class Element:
    """One piece of a parsed document.

    ``kind`` is unstructured's category (``"Title"``, ``"NarrativeText"``, ``"ListItem"``,
    ``"Table"``, ``"CodeSnippet"``, ...); ``metadata`` holds the :data:`KEPT_METADATA` keys that
    unstructured filled in (``page_number``, ``category_depth``, ...) plus ``element_id``.
    """

    kind: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def render_markdown(elements: Iterable[Element]) -> str:
    """Render elements as light markdown: headings, list items, fenced code, paragraphs.

    Blocks are separated by blank lines; consecutive list items by single newlines. A line of
    body text that would read as markdown structure (``#``, a code fence) is escaped with a
    backslash so a header splitter does not mistake it for a heading.
    """
    blocks: list[str] = []
    previous_kind = ""
    for element in elements:
        if element.kind in _NOT_RENDERED or not element.text.strip():
            continue
        block = _render_block(element)
        if element.kind == "ListItem" and previous_kind == "ListItem":
            blocks[-1] = f"{blocks[-1]}\n{block}"
        else:
            blocks.append(block)
        previous_kind = element.kind
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _render_block(element: Element) -> str:
    text = element.text.strip()
    if element.kind == "Title":
        depth = element.metadata.get("category_depth")
        level = min(max(int(depth or 0) + 1, 1), 6)
        return f"{'#' * level} {_one_line(text)}"
    if element.kind == "ListItem":
        return f"- {_escape(_one_line(text))}"
    if element.kind == "CodeSnippet":
        fence = "````" if "```" in text else "```"
        return f"{fence}\n{element.text.strip(chr(10))}\n{fence}"
    return "\n".join(_escape(line) for line in text.splitlines())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _escape(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(("#", "```", "~~~")):
        return "\\" + stripped
    return line
