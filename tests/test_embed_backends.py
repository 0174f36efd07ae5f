"""Embedding backends besides PyTorch: the model exported once, offline, from its local weights
into the project's cache; vectors that agree with PyTorch's; the backend in the fingerprint (a
new generation); and clear errors for what cannot run."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest

import ragops
from ragops.config import EmbeddingConfig
from ragops.errors import ConfigError, EmbeddingError
from ragops.project import Project
from ragops.retriever import Retriever
from ragops.vectors import Embedder
from tests.conftest import write_project

TEXTS = [
    "The Moon causes the tides.",
    "Bread needs yeast, flour, water and salt, and rises for an hour before it is baked.",
    "ragops promotes an index version to production once its gates pass " * 8,
    "é ü ß 東京 — unicode survives the tokenizer",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the onnx exports (made once for this module)."""
    cache = tmp_path_factory.mktemp("cache")
    Embedder(EmbeddingConfig(backend="onnx"), cache_dir=cache).embed_documents(["warm"])
    return cache


@pytest.mark.parametrize(
    ("backend", "quantization", "agreement"),
    [("onnx", "none", 0.9999), ("onnx", "int8", 0.985), ("openvino", "auto", 0.999)],
)
def test_exported_vectors_agree_with_torch(
    exported: Path, backend: str, quantization: str, agreement: float
) -> None:
    """Cosine to PyTorch float32 per text: float32 is the same model; bfloat16 (openvino on
    AMX) loses ~1e-4; int8 loses ~0.01 on long texts (SQuAD nDCG@10 moves by 0.004, see
    docs/retrieval.md)."""
    torch_vectors = Embedder(EmbeddingConfig(dtype="float32")).embed_documents(TEXTS)
    embedder = Embedder(
        EmbeddingConfig(backend=backend, quantization=quantization), cache_dir=exported
    )
    vectors = embedder.embed_documents(TEXTS)
    assert vectors.shape == torch_vectors.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * torch_vectors, axis=1)
    assert cosines.min() >= agreement, cosines
    # one text alone gets the vector it gets in a batch: padding is masked out (int8 quantizes
    # activations per batch, so its vectors move a little with their batch mates)
    alone = embedder.embed_documents([TEXTS[1]])[0]
    assert float(alone @ vectors[1]) > (0.99 if quantization == "int8" else 0.9995)


def test_the_export_is_made_once_offline_and_reused(tmp_path: Path, monkeypatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the export tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    embedder = Embedder(EmbeddingConfig(backend="onnx"), cache_dir=tmp_path)
    embedder.embed_documents(["first"])
    [int8] = list((tmp_path / "models").glob("*/onnx/model.int8.onnx"))
    assert int8.parent.parent.name == embedder.info.weights_sha256[:16]
    made = int8.stat().st_mtime_ns
    again = Embedder(EmbeddingConfig(backend="onnx"), cache_dir=tmp_path)
    again.embed_documents(["second"])
    assert int8.stat().st_mtime_ns == made  # reused, not exported again
    assert not list(tmp_path.rglob("*.tmp"))


def test_the_backend_is_part_of_the_model_identity() -> None:
    torch_info = Embedder(EmbeddingConfig()).info
    onnx_info = Embedder(EmbeddingConfig(backend="onnx")).info
    assert "backend" not in torch_info.fingerprint_fields()  # older generations keep theirs
    assert onnx_info.fingerprint_fields()["backend"] == "onnx-int8"
    assert onnx_info.fingerprint != torch_info.fingerprint


def test_a_missing_openvino_package_names_the_extra(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if it were not installed
    embedder = Embedder(EmbeddingConfig(backend="openvino"), cache_dir=tmp_path)
    with pytest.raises(EmbeddingError, match=r"pip install 'ragops\[openvino\]'"):
        embedder.embed_documents(["anything"])


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"quantization": "int8"}, "quantization: int8 needs backend"),
        ({"backend": "onnx", "device": "cuda"}, "runs on the CPU"),
        ({"backend": "tensorrt"}, "backend"),
    ],
)
def test_bad_backend_settings_fail_at_load(tmp_path: Path, fields: dict, key: str) -> None:
    settings = ", ".join(f"{k}: {v}" for k, v in fields.items())
    config = write_project(tmp_path / "project", public=True)
    config.write_text(
        config.read_text(encoding="utf-8") + f"embedding: {{{settings}}}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=key):
        Project.open(config)


def test_switching_the_backend_builds_a_new_generation_that_searches(tmp_path: Path) -> None:
    config = write_project(tmp_path / "project", public=True)
    with Project.open(config) as project:
        [torch_built] = ragops.sync(project)
    config.write_text(
        config.read_text(encoding="utf-8") + "embedding: {backend: onnx}\n", encoding="utf-8"
    )
    with Project.open(config) as project:
        [onnx_built] = ragops.sync(project)
        assert onnx_built.generation != torch_built.generation
        assert onnx_built.embedded == torch_built.embedded  # a new model: every chunk again
        hits = Retriever(project, "docs", version=onnx_built.version).search(
            "how do I return production to the previous version?", k=1, mode="dense"
        )
        assert hits[0].doc_id == "rollback.md"
        assert list((project.config.data_path / "cache" / "models").glob("*/onnx/*.onnx"))
        # each version is searched with queries embedded as its chunks were
        torch_gen, onnx_gen = project.catalog.generations.of_index("docs")
        assert project.generation_embedder("docs", torch_gen).info.backend == "torch"
        assert project.generation_embedder("docs", onnx_gen).info.backend == "onnx-int8"
    # back to torch, in float32 as the export computes: only the backend tells them apart
    config.write_text(
        config.read_text(encoding="utf-8").replace("{backend: onnx}", "{dtype: float32}")
    )
    with Project.open(config) as project:  # version 2 still reads as onnx
        [_, onnx_gen] = project.catalog.generations.of_index("docs")
        assert project.generation_embedder("docs", onnx_gen).info.backend == "onnx-int8"
        [hit] = Retriever(project, "docs", version=onnx_built.version).search(
            "how do I return production to the previous version?", k=1, mode="dense"
        )
        assert hit.doc_id == "rollback.md"
