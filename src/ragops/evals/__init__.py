"""Retrieval evals: eval sets, rank metrics, ragas' non-LLM metrics and the eval runner.

Importing this package does not import ragas; ragas (about 2 s to import) loads on the
first ragas metric computed.
"""

from __future__ import annotations

from ragops.evals.metrics import hit_rate_at_k, mrr, ndcg_at_k, precision_at_k, recall_at_k
from ragops.evals.ragas_metrics import (
    RAGAS_METRIC_NAMES,
    RagasInput,
    RagasScores,
    configure_ragas_env,
    id_context_precision,
    id_context_recall,
    nonllm_context_precision,
    nonllm_context_recall,
    score_batch,
)
from ragops.evals.runner import (
    LLM_METRICS,
    NO_JUDGE_REASON,
    EvalReport,
    RetrievedContext,
    SampleResult,
    SearchFn,
    run_retrieval_eval,
)
from ragops.evals.sets import EvalSample, eval_set_sha256, load_eval_set, load_squad

__all__ = [
    "LLM_METRICS",
    "NO_JUDGE_REASON",
    "RAGAS_METRIC_NAMES",
    "EvalReport",
    "EvalSample",
    "RagasInput",
    "RagasScores",
    "RetrievedContext",
    "SampleResult",
    "SearchFn",
    "configure_ragas_env",
    "eval_set_sha256",
    "hit_rate_at_k",
    "id_context_precision",
    "id_context_recall",
    "load_eval_set",
    "load_squad",
    "mrr",
    "ndcg_at_k",
    "nonllm_context_precision",
    "nonllm_context_recall",
    "precision_at_k",
    "recall_at_k",
    "run_retrieval_eval",
    "score_batch",
]
