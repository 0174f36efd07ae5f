"""Reading, parsing and chunking the candidates of a sync, in a background thread.

Each candidate is loaded once and hashed: identical content (and payload fields) is
"touched" (nothing to write), a parse failure is "quarantined" with its reason, everything
else is "indexed" with its chunks. The main thread embeds while this thread parses, so the
two overlap; a :class:`~ragops.errors.ParserSetupError` (the parser cannot run at all) stops
the sync instead of quarantining every document.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragops.catalog import DocumentState
from ragops.chunks import Chunk, Chunker
from ragops.config import ParsingConfig
from ragops.errors import ParseError, ParserSetupError
from ragops.versions.plan import ListedDocument

__all__ = ["DocumentOutcome", "Preparer"]


@dataclass
class DocumentOutcome:
    """What happened to one candidate: ``indexed``, ``touched`` or ``quarantined``."""

    listed: ListedDocument
    status: str
    content_sha256: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    reason: str | None = None


class Preparer:
    """Turns candidates into outcomes, in order, from a background thread."""

    def __init__(self, chunker: Chunker, parsing: ParsingConfig, timings: dict[str, float]):
        self.chunker = chunker
        self.parsing = parsing
        self.timings = timings
        #: Outcomes waiting for the main thread (None while nothing runs).
        self.ready: queue.Queue[Any] | None = None

    def is_behind(self) -> bool:
        """True when no parsed document is waiting (the embedder should not wait for one)."""
        return self.ready is not None and self.ready.empty()

    def in_background(
        self, candidates: Sequence[ListedDocument], known: Mapping[tuple[str, str], DocumentState]
    ) -> Iterator[DocumentOutcome]:
        outcomes: queue.Queue[DocumentOutcome | BaseException | None] = queue.Queue(maxsize=64)
        self.ready = outcomes
        stop = threading.Event()

        def work() -> None:
            try:
                for item in candidates:
                    if stop.is_set():
                        return
                    outcomes.put(self.prepare(item, known.get(item.key)))
                outcomes.put(None)
            except BaseException as exc:  # handed to the main thread, raised there
                outcomes.put(exc)

        worker = threading.Thread(target=work, name="ragops-parse", daemon=True)
        worker.start()
        try:
            while True:
                item = outcomes.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while worker.is_alive():
                try:
                    outcomes.get_nowait()
                except queue.Empty:
                    worker.join(timeout=0.05)
            self.ready = None

    def prepare(self, item: ListedDocument, previous: DocumentState | None) -> DocumentOutcome:
        from ragops.documents import parse_document

        document = item.document
        started = time.perf_counter()
        try:
            content = document.load()
        except Exception as exc:
            return DocumentOutcome(
                item, "quarantined", reason=f"unreadable: {exc.__class__.__name__}: {exc}"
            )
        digest = hashlib.sha256(content).hexdigest()
        if (
            previous is not None
            and previous.content_sha256 == digest
            and previous.metadata_sha256 in (None, item.metadata_sha256)
        ):
            return DocumentOutcome(item, "touched", content_sha256=digest)
        try:
            parsed = parse_document(
                content,
                document.filename,
                document.mime_type,
                pdf_strategy=self.parsing.pdf_strategy,
                text_classification=self.parsing.text_classification,
                max_bytes=self.parsing.max_bytes,
            )
        except ParserSetupError:
            raise  # concerns every document: stop the sync and show the fix
        except ParseError as exc:
            return DocumentOutcome(item, "quarantined", content_sha256=digest, reason=str(exc))
        except Exception as exc:  # a parser bug must not end the run: quarantine with the cause
            return DocumentOutcome(
                item,
                "quarantined",
                content_sha256=digest,
                reason=f"parser failed: {exc.__class__.__name__}: {exc}",
            )
        metadata = {**dict(document.metadata), "filename": document.filename}
        chunks = self.chunker.split(item.source, document.doc_id, parsed.text, metadata)
        self.timings["parse"] += time.perf_counter() - started
        if not chunks:
            return DocumentOutcome(
                item,
                "quarantined",
                content_sha256=digest,
                reason="no text left after parsing (empty document)",
            )
        return DocumentOutcome(item, "indexed", content_sha256=digest, chunks=chunks)
