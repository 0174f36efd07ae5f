"""An example connector: plain-text notes in a folder. Copy it to write your own.

Declare a source with it in ragops.yaml:

    sources:
      notes:
        connector: example_notes
        folder: notes
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ragops import SourceDocument, connector


@connector("example_notes")
def example_notes(
    folder: str, suffix: str = ".txt", project_dir: str | None = None
) -> Iterator[SourceDocument]:
    """Yield every ``*<suffix>`` file in ``folder`` (relative to ragops.yaml)."""
    base = Path(project_dir or ".") / folder
    for path in sorted(base.glob(f"*{suffix}")):
        stat = path.stat()
        yield SourceDocument(
            doc_id=path.name,  # stable id within the source
            version=f"{stat.st_mtime_ns}:{stat.st_size}",  # cheap change marker
            filename=path.name,
            load=path.read_bytes,  # read only when the marker changed
            metadata={"folder": folder},
        )
