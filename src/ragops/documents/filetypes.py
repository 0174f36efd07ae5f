"""What a document is and whether unstructured can read it: file type detection, a preflight
that refuses what unstructured would mishandle, and text encodings."""

from __future__ import annotations

import codecs
import io
import logging
import shutil
import zipfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ragops.documents.offline import ocr_available
from ragops.documents.reasons import extension, not_a_valid, not_text, parse_error

if TYPE_CHECKING:
    from unstructured.file_utils.model import FileType

__all__ = ["TEXT_FILE_TYPES", "ZIP_FILE_TYPES", "detect_file_type", "preflight"]

logger = logging.getLogger(__name__)

TEXT_FILE_TYPES: Final[frozenset[str]] = frozenset(
    {"TXT", "MD", "RST", "ORG", "CSV", "TSV", "JSON", "NDJSON", "XML", "HTML", "EML"}
)
ZIP_FILE_TYPES: Final[frozenset[str]] = frozenset({"DOCX", "PPTX", "XLSX", "EPUB", "ODT"})
_NEEDS_LIBREOFFICE: Final[Mapping[str, str]] = {"DOC": ".docx", "PPT": ".pptx"}
_CONTROL_BYTES: Final[frozenset[int]] = frozenset(range(32)) - {9, 10, 12, 13, 27}
_BOMS: Final[tuple[tuple[bytes, str], ...]] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_file_type(content: bytes, filename: str, mime_type: str | None) -> FileType:
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
        raise parse_error(filename, "file type could not be determined", exc) from exc
    # -- libmagic calls a markdown page with code in it "application/javascript", and
    # -- unstructured then reads it as plain text, losing its headings. Between text formats
    # -- the extension is the better witness; for binary content libmagic still wins. --
    ext = extension(filename)
    claimed = FileType.from_extension(ext) if ext and hint is None else None
    if (
        claimed is not None
        and claimed != detected
        and claimed.name in TEXT_FILE_TYPES
        and (detected.name in TEXT_FILE_TYPES or detected == FileType.UNK)
    ):
        return claimed
    return detected


def preflight(content: bytes, filename: str, file_type: FileType) -> tuple[bytes, str | None]:
    """Refuse input unstructured would mishandle; return the content and its text encoding.

    unstructured returns zero elements, without an error, for a password-protected PDF, tries
    to run LibreOffice or OCR binaries that may not be there, and reads a UTF-16 e-mail as
    UTF-8. Text in UTF-16/32 is handed on as UTF-8; the encoding is ``None`` for binary
    formats and for legacy 8-bit text (unstructured guesses those).
    """
    name = file_type.name
    ext = extension(filename)
    if name == "EMPTY":
        raise parse_error(filename, "file is empty")
    if not file_type.is_partitionable:
        raise parse_error(filename, _unsupported_reason(ext, file_type))
    if file_type.partitioner_shortname == "audio":
        raise parse_error(
            filename,
            "audio files need speech-to-text (`unstructured[audio]` and ffmpeg), "
            "which is not installed",
        )
    if name in _NEEDS_LIBREOFFICE and shutil.which("soffice") is None:
        raise parse_error(
            filename,
            f"file type {ext or name.lower()} needs LibreOffice (`soffice`) which is not "
            f"installed: install LibreOffice or save the file as {_NEEDS_LIBREOFFICE[name]}",
        )
    if file_type.partitioner_shortname == "image" and not ocr_available():
        raise parse_error(
            filename,
            "image files need OCR, and OCR is not installed: install tesseract "
            "(e.g. `apt-get install tesseract-ocr`)",
        )
    if name == "PDF":
        _check_pdf(content, filename)
    if name in ZIP_FILE_TYPES and not zipfile.is_zipfile(io.BytesIO(content)):
        raise parse_error(filename, not_a_valid(ext or name.lower()) + " (not a ZIP archive)")
    if name not in TEXT_FILE_TYPES:
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
        return f"{not_a_valid(ext)} (its content is {file_type.mime_type})"
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
        raise parse_error(
            filename,
            "PDF is password-protected: remove the password (e.g. `qpdf --decrypt "
            "--password=PASSWORD in.pdf out.pdf`) and add the file again",
            exc,
        ) from exc
    except pikepdf.PdfError as exc:
        reason = "PDF is damaged or not a PDF (could not be repaired)"
        raise parse_error(filename, reason, exc) from exc


def _text_encoding(content: bytes, filename: str) -> str | None:
    """The encoding of a text file, ``None`` for a legacy 8-bit one (unstructured guesses it).

    Raises ParseError for binary data: a byte-order mark that does not decode, NUL bytes that
    are not UTF-16, or too many control characters.
    """
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            if _decodes(content, encoding):
                return encoding
            raise not_text(filename, f"starts with a {encoding} byte-order mark but is not")
    sample = content[:8192]
    if b"\x00" in sample:  # -- before UTF-8: UTF-16 ASCII is valid UTF-8, NULs and all --
        utf16 = _utf16_without_bom(content)
        if utf16 is None:
            raise not_text(filename, "contains NUL bytes")
        return utf16
    if _decodes(content, "utf-8"):
        return "utf-8"
    control = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    if control > 0.02 * len(sample):
        raise not_text(filename, "contains control characters")
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
