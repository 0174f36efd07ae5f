"""Embedding backends besides PyTorch: which encoder ``embedding.backend`` names, made from the
model's local weights (exported once, offline, cached under ``<data_dir>/cache/models/``, keyed
by the weights' sha256).

* ``onnx``: ONNX Runtime (:mod:`ragops.vectors.onnx_backend`), int8 by default (dynamic
  quantization, per-channel weights).
* ``openvino``: OpenVINO compiling the same (unquantized) ONNX export, in bfloat16 on CPUs with
  AMX or AVX512-BF16 and float32 elsewhere; the package is the ``ragops[openvino]`` extra, and
  without it this backend fails at once, naming the extra.

Measured by ``benchmarks/bench_embed_backends.py`` (docs/retrieval.md has the table).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragops.errors import EmbeddingError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.config import EmbeddingConfig
    from ragops.vectors.models import ModelInfo

__all__ = ["exported_encoder", "export_folder"]


def export_folder(cache_dir: Path | None, info: ModelInfo, model_dir: Path) -> Path:
    """Where the model's exports live: beside the project's caches, or (no cache folder: a
    model opened outside a project) in the model's own folder."""
    base = cache_dir / "models" if cache_dir is not None else model_dir / ".ragops-exports"
    return base / info.weights_sha256[:16] / "onnx"


def exported_encoder(
    config: EmbeddingConfig, model_dir: Path, cache_dir: Path | None, info: ModelInfo
) -> Any:
    """The encoder of ``config.backend`` (not torch), exporting the model first if needed."""
    from ragops.vectors.onnx_backend import OnnxEncoder, export_onnx

    if config.backend == "openvino":
        try:
            import openvino  # noqa: F401
        except ImportError:
            raise EmbeddingError(
                "embedding.backend: openvino needs the openvino package, which ragops does not "
                "install by default; install the extra: pip install 'ragops[openvino]' (or use "
                "backend: onnx, which needs nothing more)"
            ) from None
    folder = export_folder(cache_dir, info, model_dir)
    try:
        onnx_path = export_onnx(model_dir, folder, config.quantized)
    except EmbeddingError:
        raise
    except Exception as exc:
        raise EmbeddingError(
            f"exporting {model_dir} to ONNX for embedding.backend: {config.backend} failed: "
            f"{exc.__class__.__name__}: {exc}; use backend: torch for this model"
        ) from exc
    if config.backend == "openvino":
        precision = "bf16" if info.backend == "openvino-bf16" else "f32"
        session = _OpenVinoSession(onnx_path, precision)
        return OnnxEncoder(
            session, session.inputs, model_dir, info.max_seq_length, config.batch_size
        )
    return OnnxEncoder.from_file(onnx_path, model_dir, info.max_seq_length, config.batch_size)


class _OpenVinoSession:
    """The ONNX export compiled by OpenVINO for the CPU, answering ``run`` as ONNX Runtime's
    session does (the encoder around it tokenizes, batches and pools)."""

    def __init__(self, onnx_path: Path, precision: str) -> None:
        import openvino as ov

        core = ov.Core()
        model = core.read_model(str(onnx_path))
        self.inputs = {port.get_any_name() for port in model.inputs}
        settings = {
            "INFERENCE_NUM_THREADS": os.cpu_count() or 1,
            "INFERENCE_PRECISION_HINT": precision,  # what the fingerprint says, not a guess
        }
        self.compiled = core.compile_model(model, "CPU", settings)
        self.request = self.compiled.create_infer_request()

    def run(self, outputs: list[str], feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        result = self.request.infer(feed)
        return [np.asarray(result[self.compiled.output(name)]) for name in outputs]
