"""Documents: one file's bytes turned into text with ``unstructured``, or a clear reason why not.

:func:`parse_document` is the entry point; a failure is a :class:`~ragops.errors.ParseError`
whose message a user can act on, and the document is quarantined by the sync.
"""

from __future__ import annotations

from ragops.documents.offline import configure_offline, ocr_available
from ragops.documents.parse import (
    DEFAULT_MAX_BYTES,
    PDF_STRATEGIES,
    ParsedDocument,
    PdfStrategy,
    TextClassification,
    parse_document,
    parser_id,
)
from ragops.documents.render import Element, render_markdown

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PDF_STRATEGIES",
    "Element",
    "ParsedDocument",
    "PdfStrategy",
    "TextClassification",
    "configure_offline",
    "ocr_available",
    "parse_document",
    "parser_id",
    "render_markdown",
]
