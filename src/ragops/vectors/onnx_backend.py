"""The ONNX Runtime backend: the model exported once to ONNX from its local weights, quantized
to int8 (dynamic: weights int8, activations quantized per batch), and run without PyTorch.

Export and quantization run offline, the first time an index asks for this backend, into
``<data_dir>/cache/models/<weights sha256[:16]>/onnx/`` (``model.onnx``, ``model.int8.onnx``);
a half-written export is never used (files are renamed into place). Texts are tokenized with
the model's own ``tokenizer.json``, sorted by length and batched so that little padding is
computed, then mean-pooled (or CLS-pooled, as the model's pooling config says) and normalized.

onnxruntime comes with ragops (unstructured's layout models need it); no other package is
involved. Measured in ``benchmarks/bench_embed_backends.py``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragops.errors import EmbeddingError

__all__ = ["OnnxEncoder", "export_onnx"]

#: The ONNX opset the export targets (onnxruntime 1.17+ runs it).
OPSET = 17


def export_onnx(model_dir: Path, target: Path, quantize: bool) -> Path:
    """The ONNX file of the model at ``model_dir`` in ``target``, exported (and with
    ``quantize`` made int8) when missing. Returns its path."""
    name = "model.int8.onnx" if quantize else "model.onnx"
    final = target / name
    if final.is_file():
        return final
    target.mkdir(parents=True, exist_ok=True)
    plain = target / "model.onnx"
    if not plain.is_file():
        _export(model_dir, plain)
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        partial = target / f".{name}.{os.getpid()}.tmp"
        quiet = logging.getLogger()  # quantize_dynamic logs a pre-processing hint at root
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            quantize_dynamic(
                str(plain), str(partial), weight_type=QuantType.QInt8, per_channel=True
            )
        finally:
            quiet.setLevel(level)
        os.replace(partial, final)
    return final


def _export(model_dir: Path, path: Path) -> None:
    import torch
    from transformers import AutoModel

    try:
        model = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
    except Exception as exc:
        raise EmbeddingError(
            f"cannot load the model at {model_dir} to export it to ONNX: "
            f"{exc.__class__.__name__}: {exc}"
        ) from exc
    model.eval()
    names = ["input_ids", "attention_mask"]
    if getattr(model.config, "type_vocab_size", 0):
        names.append("token_type_ids")

    class Encoder(torch.nn.Module):
        """The transformer with its inputs by name (its own forward takes many more)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    dynamic = {name: {0: "batch", 1: "tokens"} for name in names}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shapes fixed by the sample batch
        torch.onnx.export(
            Encoder(),
            sample,
            str(partial),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={**dynamic, "last_hidden_state": {0: "batch", 1: "tokens"}},
            opset_version=OPSET,
            dynamo=False,
        )
    os.replace(partial, path)


class OnnxEncoder:
    """Sentence embeddings from a runtime session of the exported model (``session.run``, as
    ONNX Runtime's), tokenized, batched and pooled as the sentence-transformers model says."""

    def __init__(
        self,
        session: Any,
        inputs: set[str],
        model_dir: Path,
        max_seq_length: int,
        batch_size: int,
    ) -> None:
        from tokenizers import Tokenizer

        path = model_dir / "tokenizer.json"
        if not path.is_file():
            raise EmbeddingError(
                f"{model_dir} has no tokenizer.json, which the onnx and openvino backends need; "
                "use embedding.backend: torch for this model"
            )
        self.session = session
        self.inputs = inputs
        self.tokenizer = Tokenizer.from_file(str(path))
        self.tokenizer.enable_truncation(max_seq_length)
        self.tokenizer.no_padding()
        self.batch_size = batch_size
        self.pooling = _pooling_mode(model_dir)
        self._lock = threading.Lock()

    @classmethod
    def from_file(
        cls, onnx_path: Path, model_dir: Path, max_seq_length: int, batch_size: int
    ) -> OnnxEncoder:
        """An encoder running ``onnx_path`` in ONNX Runtime on every core."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        inputs = {i.name for i in session.get_inputs()}
        return cls(session, inputs, model_dir, max_seq_length, batch_size)

    def encode(self, texts: Sequence[str], normalize: bool) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            vectors = self._run([encodings[i] for i in part])
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[part] = vectors
        assert out is not None
        if normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def _run(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        with self._lock:  # one run at a time: each already uses every thread
            [hidden] = self.session.run(["last_hidden_state"], feed)
        if self.pooling == "cls":
            return hidden[:, 0, :].astype(np.float32)
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _pooling_mode(model_dir: Path) -> str:
    """``mean`` or ``cls``, from the model's ``1_Pooling/config.json`` (mean when absent)."""
    path = model_dir / "1_Pooling" / "config.json"
    if not path.is_file():
        return "mean"
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("pooling_mode_cls_token"):
        return "cls"
    if config.get("pooling_mode_mean_tokens", True):
        return "mean"
    raise EmbeddingError(
        f"{path}: the ONNX backend pools by mean or CLS token only; use embedding.backend: "
        "torch for this model"
    )
