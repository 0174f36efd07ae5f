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

import codecs
import contextvars
import functools
import importlib.util
import io
import logging
import os
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Final, Literal

from ragops.errors import ParseError, ParserSetupError

if TYPE_CHECKING:
    from unstructured.documents.elements import Element as UnstructuredElement
    from unstructured.file_utils.model import FileType

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PDF_STRATEGIES",
    "Element",
    "ParsedDocument",
    "ParserSetupError",
    "PdfStrategy",
    "TextClassification",
    "configure_offline",
    "ocr_available",
    "parse_document",
    "parser_id",
    "render_markdown",
]

logger = logging.getLogger(__name__)

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

#: Bumped whenever :func:`render_markdown` output changes, so index fingerprints change too.
RENDER_VERSION: Final[int] = 1

SPACY_MODEL: Final[str] = "en_core_web_sm"
SPACY_MODEL_FIX: Final[str] = (
    "run `make setup`, or `scripts/install_spacy_model.sh` inside the virtualenv"
)

#: Environment that keeps unstructured and its dependencies off the network. A variable the
#: user already set to a non-blank value is left alone.
OFFLINE_ENV: Final[Mapping[str, str]] = {
    "DO_NOT_TRACK": "true",  # unstructured: no telemetry ping at import and per partition call
    "SCARF_NO_ANALYTICS": "true",  # same switch, the name unstructured documents
    "UNSTRUCTURED_DISABLE_NOTICE": "1",  # no "try our commercial offering" banner
    "HF_HUB_OFFLINE": "1",  # hi_res layout models: fail fast instead of downloading
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
}

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

#: Element kinds kept in :attr:`ParsedDocument.elements` but left out of the rendered text.
_NOT_RENDERED: Final[frozenset[str]] = frozenset({"PageBreak", "PageNumber", "Image"})

_TEXT_FILE_TYPES: Final[frozenset[str]] = frozenset(
    {"TXT", "MD", "RST", "ORG", "CSV", "TSV", "JSON", "NDJSON", "XML", "HTML", "EML"}
)
_ZIP_FILE_TYPES: Final[frozenset[str]] = frozenset({"DOCX", "PPTX", "XLSX", "EPUB", "ODT"})
_NEEDS_LIBREOFFICE: Final[Mapping[str, str]] = {"DOC": ".docx", "PPT": ".pptx"}
_CONTROL_BYTES: Final[frozenset[int]] = frozenset(range(32)) - {9, 10, 12, 13, 27}
_BOMS: Final[tuple[tuple[bytes, str], ...]] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


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


# ------------------------------------------------------------------------------------------
# Offline setup
# ------------------------------------------------------------------------------------------

_setup_lock = threading.Lock()
_setup_done = False


def configure_offline() -> None:
    """Keep unstructured and its dependencies off the network; check the spaCy model.

    Idempotent and cheap after the first call. Sets :data:`OFFLINE_ENV` (variables the user
    already set are kept) and raises :class:`ParserSetupError` naming the fix when
    ``en_core_web_sm`` is not installed (unstructured would try to download it otherwise).

    Call it before anything imports ``unstructured`` or ``huggingface_hub``: unstructured sends
    its telemetry ping at import time and huggingface_hub reads ``HF_HUB_OFFLINE`` at import.
    """
    global _setup_done
    if _setup_done:
        return
    with _setup_lock:
        if _setup_done:
            return
        for name, value in OFFLINE_ENV.items():
            if not os.environ.get(name, "").strip():
                os.environ[name] = value
        _check_spacy_model()
        _setup_done = True


def _check_spacy_model() -> None:
    """Raise :class:`ParserSetupError` unless the spaCy model package can be imported."""
    if importlib.util.find_spec(SPACY_MODEL) is None:
        raise ParserSetupError(
            f"the spaCy model {SPACY_MODEL!r} is not installed; unstructured needs it to "
            f"classify text and would try to download it, which fails offline. "
            f"Fix: {SPACY_MODEL_FIX}."
        )


def ocr_available() -> bool:
    """True when the ``tesseract`` OCR binary is on ``PATH``."""
    return shutil.which("tesseract") is not None


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
    file_type = _detect_file_type(content, filename, mime_type)
    content, encoding = _preflight(content, filename, file_type)
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
        raise _error(filename, _no_text_reason(content, file_type, strategy))
    if "\x00" in text:
        raise _not_text(filename, "it decoded to NUL characters")
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
            "pdf_strategy 'ocr_only' needs the tesseract OCR binary, which is not installed: "
            "install tesseract (e.g. `apt-get install tesseract-ocr`) or use pdf_strategy 'fast'"
        )


def _check_size(content: bytes, filename: str, max_bytes: int | None) -> None:
    if not content:
        raise _error(filename, "file is empty")
    if max_bytes is not None and len(content) > max_bytes:
        raise _error(
            filename,
            f"file is {len(content) / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB "
            "limit (raise the maximum file size to parse it)",
        )


def _detect_file_type(content: bytes, filename: str, mime_type: str | None) -> FileType:
    """The unstructured file type, from the caller's MIME type, libmagic and the extension."""
    from unstructured.file_utils.filetype import detect_filetype
    from unstructured.file_utils.model import FileType

    hint = mime_type.split(";")[0].strip().lower() if mime_type else None
    if hint is not None and FileType.from_mime_type(hint) in (None, FileType.UNK):
        hint = None
    try:
        detected = detect_filetype(
            file=io.BytesIO(content), content_type=hint, metadata_file_path=filename
        )
    except Exception as exc:  # noqa: BLE001 - libmagic/zip probing of hostile input
        raise _error(filename, "file type could not be determined", exc) from exc
    # -- libmagic calls a markdown page with code in it "application/javascript", and
    # -- unstructured then reads it as plain text, losing its headings. Between text formats
    # -- the extension is the better witness; for binary content libmagic still wins. --
    ext = _extension(filename)
    claimed = FileType.from_extension(ext) if ext and hint is None else None
    if (
        claimed is not None
        and claimed != detected
        and claimed.name in _TEXT_FILE_TYPES
        and (detected.name in _TEXT_FILE_TYPES or detected == FileType.UNK)
    ):
        return claimed
    return detected


def _preflight(content: bytes, filename: str, file_type: FileType) -> tuple[bytes, str | None]:
    """Refuse input unstructured would mishandle; return the content and its text encoding.

    unstructured returns zero elements, without an error, for a password-protected PDF, tries
    to run LibreOffice or OCR binaries that may not be there, and reads a UTF-16 e-mail as
    UTF-8. Text in UTF-16/32 is handed on as UTF-8; the encoding is ``None`` for binary
    formats and for legacy 8-bit text (unstructured guesses those).
    """
    name = file_type.name
    ext = _extension(filename)
    if name == "EMPTY":
        raise _error(filename, "file is empty")
    if not file_type.is_partitionable:
        raise _error(filename, _unsupported_reason(ext, file_type))
    if file_type.partitioner_shortname == "audio":
        raise _error(
            filename,
            "audio files need speech-to-text (`unstructured[audio]` and ffmpeg), "
            "which is not installed",
        )
    if name in _NEEDS_LIBREOFFICE and shutil.which("soffice") is None:
        raise _error(
            filename,
            f"file type {ext or name.lower()} needs LibreOffice (`soffice`) which is not "
            f"installed: install LibreOffice or save the file as {_NEEDS_LIBREOFFICE[name]}",
        )
    if file_type.partitioner_shortname == "image" and not ocr_available():
        raise _error(
            filename,
            "image files need OCR, and OCR is not installed: install tesseract "
            "(e.g. `apt-get install tesseract-ocr`)",
        )
    if name == "PDF":
        _check_pdf(content, filename)
    if name in _ZIP_FILE_TYPES and not zipfile.is_zipfile(io.BytesIO(content)):
        raise _error(filename, _not_a_valid(ext or name.lower()) + " (not a ZIP archive)")
    if name not in _TEXT_FILE_TYPES:
        return content, None
    encoding = _text_encoding(content, filename)
    if encoding is not None and encoding.startswith(("utf-16", "utf-32")):
        return content.decode(encoding).encode("utf-8"), "utf-8"
    return content, encoding


def _unsupported_reason(ext: str, file_type: FileType) -> str:
    """Why a file whose detected type unstructured cannot partition is refused."""
    from unstructured.file_utils.model import FileType

    claimed = FileType.from_extension(ext) if ext else None
    if claimed is not None and claimed.is_partitionable:
        return f"{_not_a_valid(ext)} (its content is {file_type.mime_type})"
    return f"file type {ext or '(no extension)'} is not supported ({file_type.mime_type})"


def _check_pdf(content: bytes, filename: str) -> None:
    """Raise for an encrypted or unreadable PDF (pikepdf repairs what it can)."""
    try:
        import pikepdf
    except ImportError:  # pragma: no cover - installed with unstructured[pdf]
        logger.warning("pikepdf is not installed: cannot check PDFs for passwords")
        return
    try:
        with pikepdf.open(io.BytesIO(content)):
            pass
    except pikepdf.PasswordError as exc:
        raise _error(
            filename,
            "PDF is password-protected: remove the password (e.g. `qpdf --decrypt "
            "--password=PASSWORD in.pdf out.pdf`) and add the file again",
            exc,
        ) from exc
    except pikepdf.PdfError as exc:
        raise _error(filename, "PDF is damaged or not a PDF (could not be repaired)", exc) from exc


def _text_encoding(content: bytes, filename: str) -> str | None:
    """The encoding of a text file, ``None`` for a legacy 8-bit one (unstructured guesses it).

    Raises ParseError for binary data: a byte-order mark that does not decode, NUL bytes that
    are not UTF-16, or too many control characters.
    """
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            if _decodes(content, encoding):
                return encoding
            raise _not_text(filename, f"starts with a {encoding} byte-order mark but is not")
    sample = content[:8192]
    if b"\x00" in sample:  # -- before UTF-8: UTF-16 ASCII is valid UTF-8, NULs and all --
        utf16 = _utf16_without_bom(content)
        if utf16 is None:
            raise _not_text(filename, "contains NUL bytes")
        return utf16
    if _decodes(content, "utf-8"):
        return "utf-8"
    control = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    if control > 0.02 * len(sample):
        raise _not_text(filename, "contains control characters")
    return None


def _decodes(content: bytes, encoding: str) -> bool:
    try:
        content.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(content: bytes) -> str | None:
    """``utf-16-le``/``-be`` when NUL bytes sit in alternate positions (mostly-ASCII text)."""
    sample = content[:8192]
    half = max(len(sample) // 2, 1)
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    for encoding, nuls, other in (
        ("utf-16-le", odd_nuls, even_nuls),
        ("utf-16-be", even_nuls, odd_nuls),
    ):
        if nuls > 0.3 * half and other < 0.02 * half and _decodes(content, encoding):
            return encoding
    return None


def _not_text(filename: str, detail: str) -> ParseError:
    return _error(
        filename,
        f"not valid UTF-8/UTF-16 text ({detail}): binary data, or the wrong file extension?",
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

    token = _FAST_CLASSIFICATION.set(fast_classification and _install_fast_classifier())
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
        raise _error(filename, _reason_for(exc, file_type, filename), exc) from exc
    finally:
        _FAST_CLASSIFICATION.reset(token)


def _reason_for(exc: Exception, file_type: FileType, filename: str) -> str:
    """A short, actionable reason for a partitioner exception."""
    name = type(exc).__name__
    ext = _extension(filename) or file_type.name.lower()
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
    if damaged_zip and file_type.name in _ZIP_FILE_TYPES:
        return _not_a_valid(ext)
    if name == "XMLSyntaxError":
        return f"malformed {ext} (XML syntax error)"
    if name in ("LocalEntryNotFoundError", "OfflineModeIsEnabled"):
        return (
            "the hi_res layout model is not in the local Hugging Face cache (downloads are "
            "off): use pdf_strategy 'fast' or 'ocr_only'"
        )
    if isinstance(exc, ImportError):
        return f"a parser dependency is missing: {_shorten(message)}"
    return f"the {file_type.name.lower()} parser failed: {_shorten(message) or name}"


def _not_a_valid(ext: str) -> str:
    return f"not a valid {ext} file: damaged, or not the format its name says"


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
                "install tesseract and set pdf_strategy: ocr_only)"
            )
        return "no text could be extracted (scanned PDF or image? set pdf_strategy: ocr_only)"
    if file_type.partitioner_shortname == "image":
        return "no text could be extracted from the image by OCR"
    return "no text could be extracted (the document has no text content)"


def _parser_label(file_type: FileType, strategy: str) -> str:
    label = f"unstructured {_unstructured_version()} partition_{file_type.partitioner_shortname}"
    if file_type.name == "PDF" or file_type.partitioner_shortname == "image":
        label += f" strategy={strategy}"
    return label


def _error(filename: str, reason: str, exc: BaseException | None = None) -> ParseError:
    """``ParseError("<filename>: <reason> (<exception type>)")``."""
    suffix = f" ({_qualified_name(exc)})" if exc is not None else ""
    return ParseError(f"{filename}: {reason}{suffix}")


def _qualified_name(exc: BaseException) -> str:
    module = type(exc).__module__.split(".")[0]
    return type(exc).__name__ if module == "builtins" else f"{module}.{type(exc).__name__}"


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _extension(filename: str) -> str:
    return PurePath(filename).suffix.lower()


def _convert(raw: UnstructuredElement) -> Element:
    """An unstructured element as a ragops :class:`Element` with the kept metadata."""
    metadata = raw.metadata.to_dict()
    kept = {key: metadata[key] for key in KEPT_METADATA if metadata.get(key) is not None}
    kept["element_id"] = raw.id
    return Element(kind=raw.category, text=str(raw.text or ""), metadata=kept)


# ------------------------------------------------------------------------------------------
# Fast classification of HTML/markdown paragraphs
# ------------------------------------------------------------------------------------------

_FAST_CLASSIFICATION: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "ragops_fast_classification", default=False
)
_HOOK_MARKER: Final[str] = "__ragops_fast_classification__"


def _install_fast_classifier() -> bool:
    """Route unstructured's HTML paragraph classifier through a switch; True when in place.

    unstructured's HTML parser (also used for markdown and e-mail bodies) calls
    ``is_possible_narrative_text`` on every paragraph, which runs the spaCy pipeline; the
    answer only picks ``NarrativeText`` over ``UncategorizedText``. The hook calls the cheap
    :func:`_looks_like_prose` while :data:`_FAST_CLASSIFICATION` is set in the current context
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
        if _FAST_CLASSIFICATION.get():
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


# ------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------


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
