"""Eval results: one row per run of one eval set on one version, with what it depends on."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from ragops.catalog.database import Database, aware, now
from ragops.catalog.records import EvalRecord
from ragops.catalog.schema import evals

__all__ = ["Evals"]


class Evals:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self,
        index_name: str,
        version: int,
        dataset: str,
        k: int,
        metrics: dict[str, Any],
        report: dict[str, Any],
        seconds: float,
        *,
        dataset_sha256: str | None = None,
        prompt_sha256: str | None = None,
        judge: str | None = None,
        results_path: str | None = None,
        usage: dict[str, Any] | None = None,
        retrieval: str = "dense",
    ) -> int:
        """Store one eval's summary (``report``: counts, skipped metrics, timings); its id."""
        with self.database.transaction() as connection:
            result = connection.execute(
                evals.insert().values(
                    index_name=index_name,
                    version=version,
                    dataset=dataset,
                    dataset_sha256=dataset_sha256,
                    k=k,
                    metrics_json=json.dumps(metrics, sort_keys=True),
                    report_json=json.dumps(report),
                    seconds=seconds,
                    created_at=now(),
                    prompt_sha256=prompt_sha256,
                    judge=judge,
                    results_path=results_path,
                    usage_json=json.dumps(usage) if usage is not None else None,
                    retrieval=retrieval,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def of_version(self, index_name: str, version: int | None = None) -> list[EvalRecord]:
        """Eval rows of the index (of one version if given), oldest first."""
        query = evals.select().where(evals.c.index_name == index_name)
        if version is not None:
            query = query.where(evals.c.version == version)
        with self.database.read() as connection:
            rows = connection.execute(query.order_by(evals.c.id)).mappings().all()
        return [_record(row) for row in rows]

    def matching(
        self,
        index_name: str,
        version: int,
        dataset: str,
        dataset_sha256: str,
        prompt_sha256: str | None,
        judge: str | None = None,
        *,
        same_judge: bool = False,
        retrieval: str = "dense",
    ) -> EvalRecord | None:
        """The newest eval of exactly this evidence: version, eval set content, prompt
        version and retrieval (and the judge model, with ``same_judge``, for judged metrics).
        Rows from before retrievals were recorded count as ``dense``."""
        query = evals.select().where(
            evals.c.index_name == index_name,
            evals.c.version == version,
            evals.c.dataset == dataset,
            evals.c.dataset_sha256 == dataset_sha256,
            evals.c.prompt_sha256.is_(None)
            if prompt_sha256 is None
            else evals.c.prompt_sha256 == prompt_sha256,
            evals.c.retrieval == retrieval
            if retrieval != "dense"
            else sa.or_(evals.c.retrieval == "dense", evals.c.retrieval.is_(None)),
        )
        if same_judge:
            query = query.where(
                evals.c.judge.is_(None) if judge is None else evals.c.judge == judge
            )
        with self.database.read() as connection:
            row = connection.execute(query.order_by(evals.c.id.desc()).limit(1)).mappings().first()
        return _record(row) if row else None


def _record(row: Any) -> EvalRecord:
    return EvalRecord(
        id=row["id"],
        index=row["index_name"],
        version=row["version"],
        dataset=row["dataset"],
        dataset_sha256=row["dataset_sha256"],
        k=row["k"],
        metrics=json.loads(row["metrics_json"]),
        report=json.loads(row["report_json"]),
        seconds=row["seconds"],
        created_at=aware(row["created_at"]),
        prompt_sha256=row["prompt_sha256"],
        judge=row["judge"],
        results_path=row["results_path"],
        usage=json.loads(row["usage_json"]) if row["usage_json"] else None,
        retrieval=row["retrieval"] or "dense",
    )
