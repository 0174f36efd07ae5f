"""Tests for ragops.documents: good documents become markdown-ish text, bad ones a clear ParseError.

Every fixture is generated here; the ``shared`` test reads real files from ../shared/data when
that folder exists beside the checkout.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from ragops.documents import (
    Element,
    ParsedDocument,
    ocr_available,
    parse_document,
    parser_id,
    render_markdown,
)
from ragops.documents import offline as documents_offline
from ragops.errors import ParseError, ParserSetupError

SHARED_DOCS = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXAMPLE_DOCS = SHARED_DOCS / "unstructured-example-docs"

MARKDOWN = """\
# Install guide

ragops turns documents into versioned retrieval indexes that teams can promote.

## Requirements

- Python 3.11
- Two CPU cores

## Usage

```bash
# this comment is code, not a heading
ragops sync
```
"""


# ------------------------------------------------------------------------------------------
# fixture builders
# ------------------------------------------------------------------------------------------


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica, with a correct xref table."""
    shown = " ".join(f"({line}) Tj T*" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td 16 TL {shown} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PDF_LINES = [
    "Quarterly report for the retrieval team.",
    "The index served every query within the latency budget.",
]


@pytest.fixture(scope="module")
def text_pdf() -> bytes:
    return make_pdf(PDF_LINES)


def make_docx(path: Path) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly Report", level=1)
    document.add_paragraph("Revenue grew in every region during the quarter.")
    document.add_paragraph("Hire two engineers", style="List Bullet")
    document.add_paragraph("Ship the retrieval service", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Region", "Revenue"), ("EMEA", "42")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.save(str(path))
    return path.read_bytes()


def parse_file(tmp_path: Path, name: str, content: bytes, **kwargs: object) -> ParsedDocument:
    """Write the fixture to tmp_path (what a connector would read) and parse it."""
    path = tmp_path / name
    path.write_bytes(content)
    return parse_document(path.read_bytes(), name, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# documents that parse
# ------------------------------------------------------------------------------------------


def test_markdown_keeps_headings_lists_and_fenced_code(tmp_path: Path) -> None:
    doc = parse_file(tmp_path, "guide.md", MARKDOWN.encode())

    assert doc.text.startswith("# Install guide\n\n")
    assert "## Requirements\n\n- Python 3.11\n- Two CPU cores" in doc.text
    assert "```\n# this comment is code, not a heading\nragops sync\n```" in doc.text
    kinds = [element.kind for element in doc.elements]
    assert kinds.count("Title") == 3 and kinds.count("ListItem") == 2
    assert "CodeSnippet" in kinds
    assert doc.elements[0].metadata["category_depth"] == 0
    assert doc.parser.startswith("unstructured ") and "partition_md" in doc.parser
    assert doc.mime_type == "text/markdown"


def test_markdown_that_libmagic_calls_javascript_is_still_markdown(tmp_path: Path) -> None:
    page = (
        "# Build an app\n\nWe use `import` here.\n\n"
        "```javascript\nimport express from 'express';\nconst app = express();\n"
        "app.listen(3000);\n```\n"
    )
    doc = parse_file(tmp_path, "app.md", page.encode())

    assert doc.text.startswith("# Build an app\n")
    assert "partition_md" in doc.parser


def test_fast_and_nlp_classification_render_the_same_markdown(tmp_path: Path) -> None:
    fast = parse_file(tmp_path, "guide.md", MARKDOWN.encode(), text_classification="fast")
    nlp = parse_file(tmp_path, "guide.md", MARKDOWN.encode(), text_classification="nlp")

    assert fast.text == nlp.text
    structural = {"Title", "ListItem", "CodeSnippet", "Table"}
    assert [e.kind for e in fast.elements if e.kind in structural] == [
        e.kind for e in nlp.elements if e.kind in structural
    ]


def test_rendered_text_feeds_a_markdown_header_splitter(tmp_path: Path) -> None:
    from llama_index.core import Document
    from llama_index.core.node_parser import MarkdownNodeParser

    doc = parse_file(tmp_path, "guide.md", MARKDOWN.encode())
    nodes = MarkdownNodeParser().get_nodes_from_documents([Document(text=doc.text)])

    assert [node.get_content().splitlines()[0] for node in nodes] == [
        "# Install guide",
        "## Requirements",
        "## Usage",
    ]


def test_html_drops_scripts_and_keeps_structure(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Docs</title><script>var secret = 1;</script></head><body>"
        "<h1>Main topic</h1><p>Retrieval indexes are versioned and promoted.</p>"
        "<ul><li>first point</li><li>second point</li></ul>"
        "<h2>Details</h2><p>Rollback moves a pointer.</p></body></html>"
    )
    doc = parse_file(tmp_path, "page.html", html.encode())

    assert "# Main topic" in doc.text
    assert "- first point\n- second point" in doc.text
    assert "## Details" in doc.text
    assert "secret" not in doc.text


def test_plain_text(tmp_path: Path) -> None:
    text = "Release notes\n\nThe sync command now resumes after a crash.\n\n- faster\n- safer\n"
    doc = parse_file(tmp_path, "notes.txt", text.encode())

    assert "The sync command now resumes after a crash." in doc.text
    assert "- faster\n- safer" in doc.text
    assert "partition_text" in doc.parser


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_text_with_and_without_bom(tmp_path: Path, encoding: str) -> None:
    text = "Überblick\n\nDie Suche liefert Ergebnisse in Millisekunden, sagt das Team.\n"
    doc = parse_file(tmp_path, "notes.txt", text.encode(encoding))

    assert "Die Suche liefert Ergebnisse in Millisekunden" in doc.text
    assert "Überblick" in doc.text
    assert "\x00" not in doc.text


def test_docx_heading_paragraph_list_and_table(tmp_path: Path) -> None:
    doc = parse_file(tmp_path, "report.docx", make_docx(tmp_path / "source.docx"))

    assert "# Quarterly Report" in doc.text
    assert "Revenue grew in every region during the quarter." in doc.text
    assert "- Hire two engineers\n- Ship the retrieval service" in doc.text
    tables = [element for element in doc.elements if element.kind == "Table"]
    assert len(tables) == 1 and "EMEA" in tables[0].text
    assert "text_as_html" in tables[0].metadata


def test_text_pdf(tmp_path: Path, text_pdf: bytes) -> None:
    doc = parse_file(tmp_path, "report.pdf", text_pdf)

    for line in PDF_LINES:
        assert line in doc.text
    assert all(element.metadata.get("page_number") == 1 for element in doc.elements)
    assert doc.parser.endswith("partition_pdf strategy=fast")


def test_mime_type_overrides_a_useless_extension(tmp_path: Path) -> None:
    doc = parse_file(tmp_path, "download.bin", MARKDOWN.encode(), mime_type="text/markdown")

    assert doc.text.startswith("# Install guide")


# ------------------------------------------------------------------------------------------
# documents that are quarantined, with a reason
# ------------------------------------------------------------------------------------------


def test_password_protected_pdf(tmp_path: Path, text_pdf: bytes) -> None:
    import pikepdf

    encrypted = io.BytesIO()
    with pikepdf.open(io.BytesIO(text_pdf)) as pdf:
        pdf.save(encrypted, encryption=pikepdf.Encryption(user="secret", owner="owner"))

    with pytest.raises(ParseError, match="PDF is password-protected") as caught:
        parse_file(tmp_path, "locked.pdf", encrypted.getvalue())
    assert "locked.pdf" in str(caught.value)
    assert "PasswordError" in str(caught.value)


def test_truncated_pdf(tmp_path: Path, text_pdf: bytes) -> None:
    with pytest.raises(ParseError, match=r"PDF (looks truncated|is damaged)"):
        parse_file(tmp_path, "cut.pdf", text_pdf[: len(text_pdf) // 2])


def test_garbage_pdf(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="PDF is damaged or not a PDF"):
        parse_file(tmp_path, "junk.pdf", b"%PDF-1.4\nthis is not really a pdf\n")


def test_pdf_without_text_layer_names_the_ocr_fix(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no text could be extracted") as caught:
        parse_file(tmp_path, "scan.pdf", make_pdf([]))
    assert "ocr_only" in str(caught.value)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="file is empty"):
        parse_file(tmp_path, "empty.txt", b"")


def test_whitespace_only_file_has_no_text(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no text could be extracted"):
        parse_file(tmp_path, "blank.md", b"  \n\n\t\n")


def test_binary_garbage_named_txt(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 8 + os.urandom(2048)
    with pytest.raises(ParseError, match="not valid UTF-8/UTF-16 text"):
        parse_file(tmp_path, "notes.txt", garbage)


def test_nul_bytes_named_txt(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="not valid UTF-8/UTF-16 text"):
        parse_file(tmp_path, "zeros.txt", b"\x00" * 512)


def test_garbage_named_docx(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"not a valid \.docx file.*not a ZIP archive"):
        parse_file(tmp_path, "report.docx", os.urandom(4096))


def test_damaged_docx(tmp_path: Path) -> None:
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ParseError, match=r"not a valid \.docx file"):
        parse_file(tmp_path, "report.docx", damaged.getvalue())


@pytest.mark.skipif(shutil.which("soffice") is not None, reason="LibreOffice is installed")
def test_legacy_powerpoint_needs_libreoffice(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"\.ppt needs LibreOffice \(`soffice`\)"):
        parse_file(tmp_path, "slides.ppt", os.urandom(1024))


@pytest.mark.skipif(ocr_available(), reason="tesseract is installed")
def test_image_needs_ocr(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(256)
    with pytest.raises(ParseError, match="image files need OCR"):
        parse_file(tmp_path, "scan.png", png)


def test_unsupported_type(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="is not supported"):
        parse_file(tmp_path, "archive.bin", os.urandom(1024))


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"limit \(raise parsing.max_file_mb in ragops.yaml"):
        parse_file(tmp_path, "big.md", MARKDOWN.encode(), max_bytes=100)


# ------------------------------------------------------------------------------------------
# settings and setup
# ------------------------------------------------------------------------------------------


@pytest.mark.skipif(ocr_available(), reason="tesseract is installed")
def test_ocr_strategy_without_tesseract_is_a_setup_error(text_pdf: bytes) -> None:
    with pytest.raises(ParserSetupError, match="tesseract"):
        parse_document(text_pdf, "report.pdf", pdf_strategy="ocr_only")


def test_unknown_strategy_is_rejected(text_pdf: bytes) -> None:
    with pytest.raises(ValueError, match="pdf_strategy 'turbo'"):
        parse_document(text_pdf, "report.pdf", pdf_strategy="turbo")  # type: ignore[arg-type]


def test_parsing_turns_telemetry_off_and_importing_does_not() -> None:
    """In a clean process: importing ragops.documents changes no variable; the first parse
    sets the offline defaults before unstructured is imported, keeping a user's own value."""
    import subprocess
    import sys

    code = (
        "import os, json\n"
        "names = ['DO_NOT_TRACK', 'SCARF_NO_ANALYTICS', 'HF_HUB_OFFLINE', "
        "'UNSTRUCTURED_DISABLE_NOTICE', 'TRANSFORMERS_OFFLINE']\n"
        "import ragops.documents as d\n"
        "before = {n: os.environ.get(n) for n in names}\n"
        "d.parse_document(b'# Title\\n\\nSome text here.\\n', 'a.md')\n"
        "after = {n: os.environ.get(n) for n in names}\n"
        "print(json.dumps([before, after]))\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in documents_offline.OFFLINE_ENV}
    clean["HF_HUB_OFFLINE"] = "0"  # a user's explicit choice is kept
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean, check=True
    )
    import json

    before, after = json.loads(result.stdout.strip().splitlines()[-1])
    assert before == {
        "DO_NOT_TRACK": None,
        "SCARF_NO_ANALYTICS": None,
        "HF_HUB_OFFLINE": "0",
        "UNSTRUCTURED_DISABLE_NOTICE": None,
        "TRANSFORMERS_OFFLINE": None,
    }
    assert after == {
        "DO_NOT_TRACK": "true",
        "SCARF_NO_ANALYTICS": "true",
        "HF_HUB_OFFLINE": "0",
        "UNSTRUCTURED_DISABLE_NOTICE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


def test_parsing_attempts_no_network_call(
    tmp_path: Path, text_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """unstructured swallows failed telemetry calls, so a blocked socket alone proves nothing."""
    import urllib.request

    import requests

    calls: list[str] = []

    def record(*args: object, **kwargs: object) -> None:
        calls.append(repr(args[:3]))
        raise OSError("network call during parsing")

    monkeypatch.setattr(requests.sessions.Session, "request", record)
    monkeypatch.setattr(urllib.request, "urlopen", record)

    parse_file(tmp_path, "guide.md", MARKDOWN.encode())
    parse_file(tmp_path, "report.pdf", text_pdf)
    parse_file(tmp_path, "report.docx", make_docx(tmp_path / "source.docx"))
    parse_file(tmp_path, "notes.txt", b"Plain text that goes through the NLP classifier.")

    assert calls == []


def test_missing_spacy_model_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents_offline, "SPACY_MODEL", "en_core_web_missing")

    with pytest.raises(ParserSetupError, match="install_spacy_model.sh"):
        documents_offline._check_spacy_model()


def test_parser_id_changes_with_settings() -> None:
    assert parser_id() != parser_id(pdf_strategy="ocr_only")
    assert parser_id() != parser_id(text_classification="nlp")
    assert "unstructured==" in parser_id()


def test_render_markdown_escapes_text_that_looks_like_structure() -> None:
    text = render_markdown(
        [
            Element("Title", "Overview", {"category_depth": 1}),
            Element("NarrativeText", "#hashtag is not a heading"),
            Element("ListItem", "one"),
            Element("ListItem", "two"),
            Element("PageBreak", ""),
            Element("Table", "a b 1 2"),
        ]
    )

    assert text == "## Overview\n\n\\#hashtag is not a heading\n\n- one\n- two\n\na b 1 2\n"


# ------------------------------------------------------------------------------------------
# real documents (../shared/data)
# ------------------------------------------------------------------------------------------

SHARED_GOOD = {
    "README.md": "# Example Docs",
    "fake-text-utf-16.txt": "Hamburgers are delicious",
    "eml/fake-email-utf-16-le.eml": "This is a test email",
    "handbook-1p.docx": "US Trustee Handbook",
    "fake-power-point.pptx": "Adding a Bullet Slide",
    "stanley-cups.xlsx": "Maple Leafs",
    "fake-doc.rtf": "# My First Heading",
    "pdf/fake-memo.pdf": "20,000 bottles",
}
SHARED_BAD = {
    "pdf/password.pdf": "password-protected",
    "pdf/single_table.pdf": "no text could be extracted",
}


@pytest.mark.shared
@pytest.mark.skipif(not EXAMPLE_DOCS.is_dir(), reason="../shared/data is not beside the checkout")
def test_real_example_documents() -> None:
    for name, expected in SHARED_GOOD.items():
        doc = parse_document((EXAMPLE_DOCS / name).read_bytes(), name)
        assert expected in doc.text, name
    for name, reason in SHARED_BAD.items():
        with pytest.raises(ParseError, match=reason):
            parse_document((EXAMPLE_DOCS / name).read_bytes(), name)
