"""Make ``ragops`` importable from the src layout when it is not installed (editable)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SRC = Path(__file__).resolve().parents[2] / "src"
if importlib.util.find_spec("ragops") is None and _SRC.is_dir():
    sys.path.insert(0, str(_SRC))
