"""Promotion gates and the metric names they may use.

A gate reads ``[<eval set>:] [<mode>] <metric> <op> <bound>``, the bound being a number or
``production [+|- delta]``::

    recall@5 >= 0.8                     every eval set of the index
    docs-questions: ndcg@10 >= production - 0.01
                                        only the eval set named docs-questions
    sparse recall@5 >= 0.7              measured in sparse (BM25) mode

Without a mode a gate reads the evidence of the index's own ``retrieval.mode`` (what
production serves); ``dense``, ``sparse`` or ``hybrid`` names another (``ragops eval --modes``).

This module is the vocabulary of metric names (the eval runner reports exactly these), so a
misspelled gate fails when ``ragops.yaml`` loads, not at the first promotion.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_CUTOFFS",
    "GATE_SYNTAX",
    "JUDGED_METRICS",
    "RAGAS_METRICS",
    "RANK_FAMILIES",
    "Gate",
    "GateOp",
    "check_metric_name",
    "metric_names",
]

#: Cutoffs every eval reports; an eval set's own ``k`` is added to them.
DEFAULT_CUTOFFS: tuple[int, ...] = (1, 5, 10)

#: Rank metrics, reported as ``<family>@<k>`` for every cutoff.
RANK_FAMILIES: tuple[str, ...] = ("recall", "precision", "hit_rate", "ndcg")

#: ragas' non-LLM retrieval metrics (see ragops.evals.ragas_metrics).
RAGAS_METRICS: tuple[str, ...] = (
    "id_context_precision",
    "id_context_recall",
    "nonllm_context_recall",
    "nonllm_context_precision",
)

#: Metrics that need generated answers and a judge LLM (see ragops.evals.judge).
JUDGED_METRICS: tuple[str, ...] = ("faithfulness", "answer_relevancy", "llm_context_precision")

GATE_SYNTAX = (
    "write '[<eval set>:] [<mode>] <metric> <op> <number>' or '[<eval set>:] [<mode>] <metric> "
    "<op> production - <delta>', e.g. 'recall@5 >= 0.8', 'sparse recall@5 >= 0.7' or "
    "'docs-questions: ndcg@10 >= production - 0.01'"
)

GateOp = Literal[">=", "<=", ">", "<"]

_GATE = re.compile(
    r"^\s*(?:(?P<set>[a-z][a-z0-9_-]{0,47})\s*:\s*)?"
    r"(?:(?P<mode>dense|sparse|hybrid)\s+)?"
    r"(?P<metric>[a-z_]+(@\d+)?)\s*(?P<op>>=|<=|>|<)\s*"
    r"(?:(?P<number>-?\d+(\.\d+)?)"
    r"|production\s*(?P<sign>[-+])\s*(?P<delta>\d+(\.\d+)?)"
    r"|(?P<prod>production))\s*$"
)


def metric_names(cutoffs: Iterable[int]) -> list[str]:
    """Every metric an eval with these cutoffs reports, in display order."""
    ks = sorted(set(cutoffs))
    names = [f"{family}@{k}" for family in RANK_FAMILIES for k in ks]
    return [*names, "mrr", *RAGAS_METRICS, *JUDGED_METRICS]


def check_metric_name(metric: str, cutoffs: Iterable[int]) -> str | None:
    """None when an eval with ``cutoffs`` reports ``metric``; else what is wrong and the fix."""
    known = metric_names(cutoffs)
    if metric in known:
        return None
    family, _, k = metric.partition("@")
    if family in RANK_FAMILIES and k.isdigit():
        shown = ", ".join(str(c) for c in sorted(set(cutoffs)))
        return (
            f"no eval set reports {metric!r}: rank metrics are measured at k = {shown}; "
            f"use one of those, or give an eval set k: {k}"
        )
    close = difflib.get_close_matches(metric, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown metric {metric!r}{hint}; metrics: {', '.join(known)}"


class Gate(BaseModel):
    """One parsed gate: ``recall@5 >= 0.8`` or ``ndcg@10 >= production - 0.01``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    op: GateOp
    threshold: float | None = None
    production_delta: float | None = None
    #: The eval set this gate applies to; None means every eval set of the index.
    eval_set: str | None = None
    #: The retrieval mode whose evidence it reads; None: the index's ``retrieval.mode``.
    mode: str | None = None

    @classmethod
    def parse(cls, text: str) -> Gate:
        match = _GATE.match(text)
        if not match:
            raise ValueError(f"cannot read gate {text!r}: {GATE_SYNTAX}")
        op = cast(GateOp, match["op"])
        metric, eval_set, mode = match["metric"], match["set"], match["mode"]
        if match["number"] is not None:
            return cls(
                metric=metric, op=op, eval_set=eval_set, mode=mode,
                threshold=float(match["number"]),
            )  # fmt: skip
        delta = 0.0
        if match["delta"] is not None:
            delta = float(match["delta"]) * (-1 if match["sign"] == "-" else 1)
        return cls(metric=metric, op=op, eval_set=eval_set, mode=mode, production_delta=delta)

    @property
    def relative(self) -> bool:
        """True for a gate whose bound is production's own score."""
        return self.threshold is None

    @property
    def judged(self) -> bool:
        """True for a metric scored by the judge LLM (its evidence must name the same judge)."""
        return self.metric in JUDGED_METRICS

    def passes(self, value: float, bound: float) -> bool:
        return {">=": value >= bound, "<=": value <= bound, ">": value > bound, "<": value < bound}[
            self.op
        ]

    def __str__(self) -> str:
        scope = (f"{self.eval_set}: " if self.eval_set else "") + (
            f"{self.mode} " if self.mode else ""
        )
        if self.threshold is not None:
            return f"{scope}{self.metric} {self.op} {self.threshold:g}"
        delta = self.production_delta or 0.0
        sign = "-" if delta < 0 else "+"
        return f"{scope}{self.metric} {self.op} production {sign} {abs(delta):g}"
