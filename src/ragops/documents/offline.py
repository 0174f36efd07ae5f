"""Keeping unstructured and its dependencies off the network, and checking what parsing needs.

Called by :func:`ragops.documents.parse_document` before unstructured is imported (it sends a
telemetry ping at import time unless told not to): ragops applies these defaults where it
loads a parser, never when ``ragops`` itself is imported.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from collections.abc import Mapping
from typing import Final

from ragops.errors import ParserSetupError

__all__ = ["OFFLINE_ENV", "SPACY_MODEL", "configure_offline", "ocr_available"]

SPACY_MODEL: Final[str] = "en_core_web_sm"
SPACY_MODEL_FIX: Final[str] = (
    "run `make setup`, or `scripts/install_spacy_model.sh` inside the virtualenv"
)

#: Environment that keeps unstructured and its dependencies off the network. A variable the
#: user already set to a non-blank value is left alone.
OFFLINE_ENV: Final[Mapping[str, str]] = {
    "DO_NOT_TRACK": "true",  # unstructured: no telemetry ping at import and per partition call
    "SCARF_NO_ANALYTICS": "true",  # same switch, the name unstructured documents
    "UNSTRUCTURED_DISABLE_NOTICE": "1",  # no "try our commercial offering" banner
    "HF_HUB_OFFLINE": "1",  # hi_res layout models: fail fast instead of downloading
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
}

_setup_lock = threading.Lock()
_setup_done = False


def configure_offline() -> None:
    """Keep unstructured and its dependencies off the network; check the spaCy model.

    Idempotent and cheap after the first call. Sets :data:`OFFLINE_ENV` (variables the user
    already set are kept) and raises :class:`ParserSetupError` naming the fix when
    ``en_core_web_sm`` is not installed (unstructured would try to download it otherwise).

    Call it before anything imports ``unstructured`` or ``huggingface_hub``: unstructured sends
    its telemetry ping at import time and huggingface_hub reads ``HF_HUB_OFFLINE`` at import.
    """
    global _setup_done
    if _setup_done:
        return
    with _setup_lock:
        if _setup_done:
            return
        for name, value in OFFLINE_ENV.items():
            if not os.environ.get(name, "").strip():
                os.environ[name] = value
        _check_spacy_model()
        _setup_done = True


def _check_spacy_model() -> None:
    """Raise :class:`ParserSetupError` unless the spaCy model package can be imported."""
    if importlib.util.find_spec(SPACY_MODEL) is None:
        raise ParserSetupError(
            f"the spaCy model {SPACY_MODEL!r} is not installed; unstructured needs it to "
            f"classify text and would try to download it, which fails offline. "
            f"Fix: {SPACY_MODEL_FIX}."
        )


def ocr_available() -> bool:
    """True when the ``tesseract`` OCR binary is on ``PATH``."""
    return shutil.which("tesseract") is not None
