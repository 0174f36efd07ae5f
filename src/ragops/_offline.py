"""Offline and no-telemetry defaults for the processes ragops starts (``ragops ui`` starts
``dagster dev``, its webserver, daemon and run workers).

Nothing here touches the current process: :func:`offline_environment` returns the variables
to give a child, with any value the user set kept. Where ragops itself loads a model or a
parser, it passes the equivalent options directly (see ragops.vectors, ragops.documents).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path

__all__ = ["OFFLINE_DEFAULTS", "offline_environment"]

OFFLINE_DEFAULTS = {
    # Hugging Face: load models from disk only (a hub name would otherwise retry for ~70 s)
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # telemetry of ragas, unstructured (scarf), dagster and friends
    "DO_NOT_TRACK": "1",
    "RAGAS_DO_NOT_TRACK": "true",
    "SCARF_NO_ANALYTICS": "true",
    "ANONYMIZED_TELEMETRY": "false",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def offline_environment(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` (e.g. ``os.environ``) plus the offline defaults it does not set."""
    env = {**OFFLINE_DEFAULTS, **base}
    cache = _tiktoken_cache()
    if cache is not None:
        # ragas calls tiktoken, which downloads encodings unless they are cached; LlamaIndex
        # ships the cache files.
        env.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    return env


def _tiktoken_cache() -> Path | None:
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
    return path if path.is_dir() else None
