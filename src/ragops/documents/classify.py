"""A cheap stand-in for unstructured's spaCy paragraph classifier on HTML and markdown.

unstructured's HTML parser (also used for markdown and e-mail bodies) calls
``is_possible_narrative_text`` on every paragraph, which runs the spaCy pipeline; the answer
only picks ``NarrativeText`` over ``UncategorizedText`` and never changes ragops' rendered text,
yet it is ~85% of the parse time on markdown.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import Any, Final

__all__ = ["FAST_CLASSIFICATION", "install_fast_classifier"]

logger = logging.getLogger(__name__)

FAST_CLASSIFICATION: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "ragops_fast_classification", default=False
)
_HOOK_MARKER: Final[str] = "__ragops_fast_classification__"


def install_fast_classifier() -> bool:
    """Route unstructured's HTML paragraph classifier through a switch; True when in place.

    unstructured's HTML parser (also used for markdown and e-mail bodies) calls
    ``is_possible_narrative_text`` on every paragraph, which runs the spaCy pipeline; the
    answer only picks ``NarrativeText`` over ``UncategorizedText``. The hook calls the cheap
    :func:`_looks_like_prose` while :data:`FAST_CLASSIFICATION` is set in the current context
    (threads and other callers are unaffected) and the original otherwise.
    """
    try:
        from unstructured.partition.html import parser as html_parser
    except ImportError:  # pragma: no cover - unstructured[md] is a dependency
        return False
    current: Callable[..., bool] | None = getattr(html_parser, "is_possible_narrative_text", None)
    if current is None:  # pragma: no cover - a future unstructured moved it
        logger.warning("unstructured changed: HTML/markdown parsing keeps its NLP classifier")
        return False
    if getattr(current, _HOOK_MARKER, False):
        return True
    original = current

    def is_possible_narrative_text(text: str, *args: Any, **kwargs: Any) -> bool:
        if FAST_CLASSIFICATION.get():
            return _looks_like_prose(text)
        return original(text, *args, **kwargs)

    setattr(is_possible_narrative_text, _HOOK_MARKER, True)
    html_parser.is_possible_narrative_text = is_possible_narrative_text
    return True


def _looks_like_prose(text: str) -> bool:
    """Three or more words, mostly letters, not shouted: a cheap stand-in for the NLP check."""
    sample = text[:200]
    letters = sum(1 for char in sample if char.isalpha())
    visible = sum(1 for char in sample if not char.isspace())
    return (
        len(text.split()) >= 3 and visible > 0 and letters / visible >= 0.5 and not text.isupper()
    )
