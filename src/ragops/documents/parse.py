"""Turn one document's bytes into text with ``unstructured``, or say clearly why not.

:func:`parse_document` partitions a file into :class:`Element` objects (unstructured's
categories: ``Title``, ``NarrativeText``, ``ListItem``, ``Table``, ...) and renders them as
light markdown in :attr:`ParsedDocument.text`, so that both a sentence splitter and a
markdown-header splitter can consume it::

    # Title              Title, '#' repeated (category_depth + 1) times
    A paragraph.         NarrativeText, UncategorizedText, Table (its text), ...
    - an item            consecutive ListItems, one per line
    ```                  CodeSnippet, fenced so '#' comments are not read as headings
    code
    ```

A document that cannot be turned into text raises :class:`ragops.errors.ParseError` with a
short reason a user can act on ("PDF is password-protected", "file type .ppt needs LibreOffice
(`soffice`) which is not installed", ...); the caller quarantines it and carries on. Zero
extracted text is an error too, so nothing is indexed empty.

Offline: :func:`configure_offline` (called by :func:`parse_document`) opts unstructured out of
its telemetry ping and makes Hugging Face libraries fail fast instead of downloading. It also
checks that the spaCy model ``en_core_web_sm`` is installed, because unstructured 0.27 would
otherwise download it at the first parse. unstructured 0.27 no longer uses NLTK, so no NLTK
data is needed.

Speed: unstructured classifies every HTML/markdown paragraph with spaCy (NarrativeText vs
UncategorizedText) and detects languages with langdetect; on markdown that is ~85% of the
time and changes nothing in the rendered text. ``text_classification="fast"`` (the default)
replaces that check with a cheap heuristic for HTML and markdown only; element *kinds* there
still come from the tags. Other formats keep unstructured's NLP heuristics, which decide what
is a ``Title`` (plain text spends ~90% of its parse time there). Language detection is skipped:
unstructured only writes it into element metadata, which ragops drops.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from ragops.documents.classify import FAST_CLASSIFICATION, install_fast_classifier
from ragops.documents.filetypes import ZIP_FILE_TYPES, detect_file_type, preflight
from ragops.documents.offline import configure_offline, ocr_available
from ragops.documents.reasons import extension, not_a_valid, not_text, parse_error, shorten
from ragops.documents.render import RENDER_VERSION, Element, render_markdown
from ragops.errors import ParserSetupError

if TYPE_CHECKING:
    from unstructured.documents.elements import Element as UnstructuredElement
    from unstructured.file_utils.model import FileType

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PDF_STRATEGIES",
    "ParsedDocument",
    "PdfStrategy",
    "TextClassification",
    "parse_document",
    "parser_id",
]

PdfStrategy = Literal["fast", "ocr_only", "hi_res", "auto"]
"""How PDFs are read: ``fast`` (embedded text via pdfminer, no OCR), ``ocr_only`` (tesseract),
``hi_res`` (layout model: needs its weights in the local Hugging Face cache), ``auto``
(unstructured chooses per file; a scanned PDF then needs ``hi_res``)."""

TextClassification = Literal["fast", "nlp"]
"""How HTML/markdown paragraphs are classified: ``fast`` (heuristic) or ``nlp`` (spaCy)."""

PDF_STRATEGIES: Final[tuple[str, ...]] = ("fast", "ocr_only", "hi_res", "auto")
TEXT_CLASSIFICATIONS: Final[tuple[str, ...]] = ("fast", "nlp")

#: Files larger than this are refused (quarantined) unless the caller passes another limit.
DEFAULT_MAX_BYTES: Final[int] = 64 * 1024 * 1024

#: Element metadata worth keeping (unstructured's metadata also holds coordinates, file names,
#: languages, ... that the rest of ragops does not use).
KEPT_METADATA: Final[tuple[str, ...]] = (
    "page_number",
    "page_name",
    "category_depth",
    "parent_id",
    "text_as_html",
    "header_footer_type",
    "section",
    "subject",
    "sent_from",
    "sent_to",
    "attached_to_filename",
)


@dataclass(frozen=True)
class ParsedDocument:
    """A document as text.

    ``text`` is ``elements`` rendered as light markdown (see :func:`render_markdown`);
    ``parser`` names the parser that produced it, e.g. ``"unstructured 0.27.32 partition_pdf
    strategy=fast"``; ``mime_type`` is the detected file type.
    """

    text: str
    elements: list[Element]
    parser: str
    mime_type: str = ""


def parser_id(
    *, pdf_strategy: PdfStrategy = "fast", text_classification: TextClassification = "fast"
) -> str:
    """Identify the parser configuration, for index-spec fingerprints.

    Changes when the unstructured version, a setting that changes output, or the rendering
    changes.
    """
    return (
        f"ragops.parse/{RENDER_VERSION} unstructured=={_unstructured_version()} "
        f"pdf_strategy={pdf_strategy} text_classification={text_classification}"
    )


@functools.cache
def _unstructured_version() -> str:
    from importlib.metadata import version

    return version("unstructured")


# ------------------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------------------


def parse_document(
    content: bytes,
    filename: str,
    mime_type: str | None = None,
    *,
    pdf_strategy: PdfStrategy = "fast",
    text_classification: TextClassification = "fast",
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    ocr_languages: Sequence[str] = ("eng",),
) -> ParsedDocument:
    """Parse one document's bytes into elements and light-markdown text.

    Args:
        content: the file's bytes.
        filename: its name or path; the extension helps detect the type and is named in errors.
        mime_type: the source's content type, when it knows one. Generic types
            (``application/octet-stream``) and unknown ones are ignored.
        pdf_strategy: see :data:`PdfStrategy`. Images are always OCR'd (``hi_res`` if asked).
        text_classification: see :data:`TextClassification`.
        max_bytes: larger files are refused; ``None`` for no limit.
        ocr_languages: tesseract language codes, used when OCR runs.

    Raises:
        ParseError: this document cannot be turned into text; the message says why and,
            where there is one, the fix.
        ParserSetupError: the parser cannot run here at all (spaCy model missing, OCR asked
            for but not installed).
        ValueError: an unknown ``pdf_strategy`` or ``text_classification``.
    """
    _check_settings(pdf_strategy, text_classification)
    configure_offline()
    _check_size(content, filename, max_bytes)
    file_type = detect_file_type(content, filename, mime_type)
    content, encoding = preflight(content, filename, file_type)
    strategy = _strategy_for(file_type, pdf_strategy)
    raw = _partition(
        content,
        filename,
        file_type,
        encoding=encoding,
        strategy=strategy,
        fast_classification=text_classification == "fast",
        ocr_languages=list(ocr_languages),
    )
    elements = [el for el in (_convert(r) for r in raw) if el.text.strip()]
    text = render_markdown(elements)
    if not text.strip():
        raise parse_error(filename, _no_text_reason(content, file_type, strategy))
    if "\x00" in text:
        raise not_text(filename, "it decoded to NUL characters")
    return ParsedDocument(
        text=text,
        elements=elements,
        parser=_parser_label(file_type, strategy),
        mime_type=file_type.mime_type,
    )


def _check_settings(pdf_strategy: str, text_classification: str) -> None:
    if pdf_strategy not in PDF_STRATEGIES:
        raise ValueError(f"pdf_strategy {pdf_strategy!r} is not one of {PDF_STRATEGIES}")
    if text_classification not in TEXT_CLASSIFICATIONS:
        raise ValueError(
            f"text_classification {text_classification!r} is not one of {TEXT_CLASSIFICATIONS}"
        )
    if pdf_strategy == "ocr_only" and not ocr_available():
        raise ParserSetupError(
            "parsing.pdf_strategy 'ocr_only' needs the tesseract OCR binary, which is not "
            "installed: install tesseract (e.g. `apt-get install tesseract-ocr`) or set "
            "parsing.pdf_strategy: fast in ragops.yaml"
        )


def _check_size(content: bytes, filename: str, max_bytes: int | None) -> None:
    if not content:
        raise parse_error(filename, "file is empty")
    if max_bytes is not None and len(content) > max_bytes:
        raise parse_error(
            filename,
            f"file is {len(content) / 2**20:.1f} MiB, over the {max_bytes / 2**20:g} MiB "
            "limit (raise parsing.max_file_mb in ragops.yaml to parse it)",
        )


def _strategy_for(file_type: FileType, pdf_strategy: PdfStrategy) -> str:
    """The unstructured ``strategy`` for this file: images always need OCR or a layout model."""
    if file_type.partitioner_shortname == "image":
        return "hi_res" if pdf_strategy == "hi_res" else "ocr_only"
    return pdf_strategy


def _partition(
    content: bytes,
    filename: str,
    file_type: FileType,
    *,
    encoding: str | None,
    strategy: str,
    fast_classification: bool,
    ocr_languages: list[str],
) -> list[UnstructuredElement]:
    """Run unstructured's partitioner; turn its exceptions into ParseError."""
    from unstructured.partition.auto import partition

    token = FAST_CLASSIFICATION.set(fast_classification and install_fast_classifier())
    try:
        return partition(
            file=io.BytesIO(content),
            metadata_filename=filename,
            content_type=file_type.mime_type,
            encoding=encoding,
            strategy=strategy,
            # -- OCR languages. Elsewhere unstructured uses `languages` only for element
            # -- metadata (which ragops drops); a fixed value skips langdetect, a quarter of the
            # -- time on markdown ([""] would too, but partition() turns it back into "auto"). --
            languages=ocr_languages,
        )
    except Exception as exc:  # noqa: BLE001 - any parser failure quarantines this file only
        raise parse_error(filename, _reason_for(exc, file_type, filename), exc) from exc
    finally:
        FAST_CLASSIFICATION.reset(token)


def _reason_for(exc: Exception, file_type: FileType, filename: str) -> str:
    """A short, actionable reason for a partitioner exception."""
    name = type(exc).__name__
    ext = extension(filename) or file_type.name.lower()
    message = str(exc)
    if name in ("PDFPasswordIncorrect", "PDFEncryptionError"):
        return "PDF is password-protected or uses unsupported encryption"
    if name in ("PDFSyntaxError", "PSEOF", "PSSyntaxError", "PDFNoValidXRef"):
        return "PDF is damaged or truncated"
    if name == "UnprocessableEntityError" or isinstance(exc, UnicodeDecodeError):
        return "not valid UTF-8/UTF-16 text (the encoding could not be detected; save as UTF-8)"
    if isinstance(exc, FileNotFoundError) and "soffice" in message:
        return f"file type {ext} needs LibreOffice (`soffice`) which is not installed"
    damaged_zip = isinstance(exc, zipfile.BadZipFile | KeyError) or name == "PackageNotFoundError"
    if damaged_zip and file_type.name in ZIP_FILE_TYPES:
        return not_a_valid(ext)
    if name == "XMLSyntaxError":
        return f"malformed {ext} (XML syntax error)"
    if name in ("LocalEntryNotFoundError", "OfflineModeIsEnabled"):
        return (
            "the hi_res layout model is not in the local Hugging Face cache (downloads are "
            "off): set parsing.pdf_strategy: fast (or ocr_only) in ragops.yaml"
        )
    if isinstance(exc, ImportError):
        return f"a parser dependency is missing: {shorten(message)}"
    return f"the {file_type.name.lower()} parser failed: {shorten(message) or name}"


def _no_text_reason(content: bytes, file_type: FileType, strategy: str) -> str:
    """Why a document that parsed without error produced no text."""
    if file_type.name == "PDF":
        if b"%%EOF" not in content[-2048:]:
            return "PDF looks truncated (no %%EOF marker) and no text could be extracted"
        if strategy != "fast":
            return f"no text could be extracted from the PDF, even with strategy {strategy!r}"
        if not ocr_available():
            return (
                "no text could be extracted (scanned PDF or image; OCR is not installed: "
                "install tesseract and set parsing.pdf_strategy: ocr_only in ragops.yaml)"
            )
        return (
            "no text could be extracted (scanned PDF or image? set parsing.pdf_strategy: "
            "ocr_only in ragops.yaml)"
        )
    if file_type.partitioner_shortname == "image":
        return "no text could be extracted from the image by OCR"
    return "no text could be extracted (the document has no text content)"


def _parser_label(file_type: FileType, strategy: str) -> str:
    label = f"unstructured {_unstructured_version()} partition_{file_type.partitioner_shortname}"
    if file_type.name == "PDF" or file_type.partitioner_shortname == "image":
        label += f" strategy={strategy}"
    return label


def _convert(raw: UnstructuredElement) -> Element:
    """An unstructured element as a ragops :class:`Element` with the kept metadata."""
    metadata = raw.metadata.to_dict()
    kept = {key: metadata[key] for key in KEPT_METADATA if metadata.get(key) is not None}
    kept["element_id"] = raw.id
    return Element(kind=raw.category, text=str(raw.text or ""), metadata=kept)
