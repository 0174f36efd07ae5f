"""Environments: named pointers to index versions (and prompt versions), moved by promotion
and rollback after eval gates. See :mod:`ragops.environments.promotion`."""

from __future__ import annotations

from ragops.environments.gates import PRODUCTION, GateResult, check_gates
from ragops.environments.holds import hold, release
from ragops.environments.promotion import Promotion, promote, rollback

__all__ = [
    "PRODUCTION",
    "GateResult",
    "Promotion",
    "check_gates",
    "hold",
    "promote",
    "release",
    "rollback",
]
