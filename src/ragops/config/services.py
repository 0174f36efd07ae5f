"""The blocks of ``ragops.yaml`` about where a project keeps its state and what it reports:
the vector store, the catalog, the query log, traces and the Dagster instance."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ragops.config.base import Strict as _Strict

__all__ = ["CatalogConfig", "DagsterConfig", "QueriesConfig", "StoreConfig", "TracingConfig"]


class StoreConfig(_Strict):
    """Where vectors live. No ``url``: the embedded Qdrant engine under ``data_dir``."""

    url: str | None = Field(
        default=None,
        description="Qdrant server URL (http://host:6333) or ':memory:'; empty = embedded engine",
    )
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the Qdrant API key"
    )
    path: Path | None = Field(
        default=None,
        description="Folder of the embedded engine (default: <data_dir>/qdrant)",
    )

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value == ":memory:" or re.match(r"^https?://", value):
            return value
        raise ValueError(
            "must be an http(s):// URL of a Qdrant server or ':memory:'; leave it out for the "
            "embedded engine"
        )


class CatalogConfig(_Strict):
    """The catalog database (SQLAlchemy URL). Default: SQLite file in ``data_dir``."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; empty = SQLite file",
    )
    lease_seconds: float = Field(
        default=60.0,
        ge=2,
        le=3600,
        description="An index lock whose holder stops renewing it expires after this long",
    )

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError(
                "must be a SQLAlchemy URL starting with sqlite:// or postgresql+psycopg://"
            )
        return value


class QueriesConfig(_Strict):
    """The query log: every search and ask, as Parquet partitioned by day."""

    log: bool = Field(default=True, description="Record searches and asks in the query log")
    text: Literal["full", "hash", "none"] = Field(
        default="full",
        description="How the query text is kept: full, its sha256 (hash), or not at all (none)",
    )


class TracingConfig(_Strict):
    """OpenTelemetry traces of searches, embeddings and LLM calls (off unless an endpoint is
    set, or the application installed its own tracer provider)."""

    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint, e.g. http://localhost:4318/v1/traces",
    )
    service_name: str = Field(default="ragops", min_length=1)


class DagsterConfig(_Strict):
    """The project's Dagster instance: where the CLI and the API record asset events."""

    home: Path | None = Field(
        default=None,
        description="DAGSTER_HOME of the instance; default: $DAGSTER_HOME, else <data_dir>/dagster",
    )
    record_events: bool = Field(
        default=True,
        description="Record syncs, evals and promotions made outside Dagster as asset events "
        "(only when the instance's folder exists: `ragops ui` creates it)",
    )
