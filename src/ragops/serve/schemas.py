"""What the ``/v1`` endpoints take and return (their OpenAPI schemas)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from ragops.access.principals import check_principals
from ragops.config.base import Strict as _Strict

__all__ = [
    "AskIn",
    "ErrorBody",
    "EvalIn",
    "HitOut",
    "JobOut",
    "PromoteIn",
    "RollbackIn",
    "RunIn",
    "SearchIn",
    "SearchManyIn",
    "SearchManyOut",
    "SearchOut",
    "SyncIn",
]

#: The longest query accepted (characters); a longer one is a 422, not a slow search.
MAX_QUERY_CHARS = 4096
MAX_K = 100
#: The most queries one ``search_many`` request takes.
MAX_QUERIES = 256


class _SearchOptions(_Strict):
    k: int = Field(default=5, ge=1, le=MAX_K, description="How many chunks to return")
    filters: dict[str, Any] | None = Field(
        default=None,
        description="Payload key → value or list of values (match any): doc_id, source, or a "
        "metadata key",
    )
    env: str = Field(default="production", description="Environment to read")
    version: int | None = Field(default=None, ge=1, description="Read this exact version")
    group_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="One hit per value of this field (`doc_id`: one per document); k counts "
        "the groups",
    )
    group_size: int = Field(default=1, ge=1, le=10, description="Hits per group, best first")
    mode: Literal["dense", "sparse", "hybrid"] | None = Field(
        default=None,
        description="dense, sparse (BM25) or hybrid (both, fused); default: the index's "
        "retrieval.mode",
    )
    principals: list[str] | None = Field(
        default=None,
        description="Search on behalf of these principals (admin keys only); default: the "
        "key's own",
    )

    @field_validator("principals")
    @classmethod
    def _principals(cls, value: list[str] | None) -> list[str] | None:
        check_principals(value)
        return value


class SearchIn(_SearchOptions):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for")


class SearchManyIn(_SearchOptions):
    queries: list[Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]] = Field(
        min_length=1, max_length=MAX_QUERIES, description="What to look for, one search each"
    )


class HitOut(BaseModel):
    text: str
    score: float
    doc_id: str
    chunk_id: str
    metadata: dict[str, Any]
    version: int
    source: str
    dense_score: float | None = Field(default=None, description="Cosine similarity (dense)")
    sparse_score: float | None = Field(
        default=None, description="BM25 score; null when the chunk has no term of the query"
    )
    rank: int = Field(default=0, description="1-based position in the hits")
    mode: str = Field(default="dense", description="The mode that ranked it")


class SearchOut(BaseModel):
    index: str
    env: str | None
    version: int
    hits: list[HitOut]
    took_ms: float


class SearchManyOut(BaseModel):
    index: str
    env: str | None
    version: int = Field(description="The one version every query read")
    results: list[list[HitOut]] = Field(description="The hits of each query, in order")
    took_ms: float


class AskIn(_Strict):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=5, ge=1, le=MAX_K, description="Chunks given to the LLM")
    filters: dict[str, Any] | None = None
    env: str = "production"
    version: int | None = Field(default=None, ge=1)
    prompt: str | None = Field(
        default=None, description="Prompt version: alias, v<N> or hash (default: production)"
    )


class EvalIn(_Strict):
    version: int | None = Field(default=None, ge=1, description="Default: the newest version")
    dataset: str | None = Field(default=None, description="One eval set (default: all)")
    prompt: str | None = Field(
        default=None, description="Prompt version for generated answers (default: production)"
    )
    modes: list[Literal["dense", "sparse", "hybrid"]] | None = Field(
        default=None,
        min_length=1,
        description="Score each of these retrieval modes, each stored as its own evidence "
        "(default: the index's retrieval.mode)",
    )
    candidate: bool = Field(
        default=False,
        description="Evaluate as the pipeline's evaluate step does (`ragops run`, Dagster's "
        "eval step): the candidate prompt version (the prompt file as it is now) on every eval "
        "set; the result also names the candidate. Leave dataset and prompt unset.",
    )


class SyncIn(_Strict):
    staged: bool = Field(
        default=False,
        description="Build from the changes the stage step left in the index's staging folder "
        "(Dagster's chunks step) instead of staging afresh",
    )
    allow_mass_delete: bool = Field(
        default=False,
        description="Let the listing delete more of a source than its max_delete_fraction",
    )
    full_listing: bool = Field(
        default=False,
        description="List every source in full, ignoring the cursors its connector saved "
        "(not with staged: the stage step listed already)",
    )


class RunIn(_Strict):
    envs: list[str] | None = Field(
        default=None,
        description="Environments to promote into (default: the index's auto_promote)",
    )
    query: str | None = Field(
        default=None, max_length=MAX_QUERY_CHARS, description="Sample search shown at the end"
    )


class PromoteIn(_Strict):
    version: int = Field(ge=1)
    env: str = "production"
    prompt: str | None = Field(default=None, description="Prompt version to move with it")
    force: bool = False
    reason: str | None = Field(default=None, max_length=1000)
    automatic: bool = Field(
        default=False,
        description="An automatic promotion (the pipeline's release step): an environment held "
        "against automation is left alone (action `held`); a manual one releases the hold",
    )


class RollbackIn(_Strict):
    env: str = "production"
    reason: str | None = Field(default=None, max_length=1000)
    hold: bool = True


class JobOut(BaseModel):
    id: str
    kind: Literal["stage", "sync", "run", "eval"]
    index: str | None
    state: Literal["queued", "running", "succeeded", "failed"]
    submitted_by: str
    submitted_at: str
    started_at: str | None = None
    finished_at: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None


class ErrorBody(BaseModel):
    error: dict[str, str]
