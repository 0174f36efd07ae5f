"""Keep every dependency offline and quiet: no hub downloads, no telemetry.

Called once, before any model or parser is loaded. Values a user set explicitly are kept.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["configure"]

_DEFAULTS = {
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

_configured = False


def configure() -> None:
    """Set offline and no-telemetry environment defaults (idempotent)."""
    global _configured
    if _configured:
        return
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    cache = _tiktoken_cache()
    if cache is not None:
        # ragas calls tiktoken, which downloads encodings unless they are cached; LlamaIndex
        # ships the cache files.
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    _configured = True


def _tiktoken_cache() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
    return path if path.is_dir() else None
