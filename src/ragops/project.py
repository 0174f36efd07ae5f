"""A ragops project: its configuration and the components built from it, created lazily.

This is the library's one assembly point. The CLI, the :class:`~ragops.Retriever` and the
Dagster code location all go through it, so they agree on where the catalog, the vector
store and the models are.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragops import _offline
from ragops.config import ProjectConfig, load_config
from ragops.connectors import Connector, get_connector
from ragops.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import Catalog
    from ragops.chunk import Chunker
    from ragops.chunk_store import ChunkStore
    from ragops.embed import Embedder
    from ragops.embed_cache import EmbeddingCache
    from ragops.spec import IndexSpec
    from ragops.store import VectorStore
    from ragops.sync import SyncProgress, SyncResult

__all__ = ["Project"]


class Project:
    """Everything ragops needs to work on one ``ragops.yaml``.

    Use :meth:`open`; close it (or use ``with``) to release the embedded store's lock.
    """

    def __init__(self, config: ProjectConfig) -> None:
        _offline.configure()
        self.config = config
        self._catalog: Catalog | None = None
        self._store: VectorStore | None = None
        self._embedders: dict[str, Embedder] = {}
        self._embedding_caches: dict[str, EmbeddingCache] = {}
        self._lock = threading.RLock()

    @classmethod
    def open(cls, config: str | Path | ProjectConfig | None = None) -> Project:
        """Load ``config`` (a path, a loaded config, or None to search) and check it fully.

        Every source's options are checked against its connector now, so a bad configuration
        fails before any work with a message naming the key, the value and the fix.
        """
        loaded = config if isinstance(config, ProjectConfig) else load_config(config)
        project = cls(loaded)
        project.validate()
        return project

    @property
    def root(self) -> Path:
        return self.config.root

    def validate(self) -> None:
        for source_name in self.config.sources:
            self.connector_for(source_name)
        prompts = self.config.prompts_path
        for index_name, index in self.config.indexes.items():
            if index.prompt is not None:
                from ragops.prompts import PROMPT_SUFFIXES, prompt_files

                if index.prompt not in prompt_files(prompts):
                    files = " or ".join(f"{index.prompt}{suffix}" for suffix in PROMPT_SUFFIXES)
                    raise ConfigError(
                        f"indexes.{index_name}.prompt = {index.prompt!r}: no file {files} in "
                        f"{prompts}; add the template or fix the name"
                    )
            for eval_set in index.evals:
                path = self.config.eval_path(eval_set)
                if not path.is_file():
                    raise ConfigError(
                        f"indexes.{index_name}.evals.{eval_set.name}.path = "
                        f"{str(eval_set.path)!r}: "
                        f"no file at {path}; fix the path (relative to the folder of ragops.yaml)"
                    )

    # -- components --------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        with self._lock:
            if self._catalog is None:
                from ragops.catalog import Catalog

                self._catalog = Catalog(self.config.catalog_url())
            return self._catalog

    @property
    def store(self) -> VectorStore:
        with self._lock:
            if self._store is None:
                from ragops.store import open_store

                self._store = open_store(
                    url=self.config.store.url,
                    path=self.config.store_path(),
                    api_key=self.config.store_api_key(),
                )
            return self._store

    def embedder(self, index_name: str) -> Embedder:
        """The embedder of an index (shared between indexes with the same model settings)."""
        from ragops.embed import Embedder

        settings = self.config.embedding_for(index_name)
        key = settings.model_dump_json()
        with self._lock:
            if key not in self._embedders:
                self._embedders[key] = Embedder(
                    settings, base=self.root, cache_dir=self.config.data_path / "cache"
                )
            return self._embedders[key]

    @property
    def chunk_store(self) -> ChunkStore:
        """Parquet deltas of every point written (rebuilds collections without re-embedding)."""
        from ragops.chunk_store import ChunkStore

        return ChunkStore(self.config.data_path / "chunks")

    def embedding_cache(self, index_name: str) -> EmbeddingCache:
        """The vectors the index's model already made, by text hash (shared across indexes)."""
        from ragops.embed_cache import EmbeddingCache

        info = self.embedder(index_name).info
        with self._lock:
            if info.fingerprint not in self._embedding_caches:
                self._embedding_caches[info.fingerprint] = EmbeddingCache(
                    self.config.data_path / "cache" / "embeddings", info.fingerprint, info.dimension
                )
            return self._embedding_caches[info.fingerprint]

    def chunker(self, index_name: str) -> Chunker:
        from ragops.chunk import Chunker

        embedder = self.embedder(index_name)
        return Chunker(
            self.config.index(index_name).chunker, embedder.tokenize, embedder.max_content_tokens
        )

    def index_spec(self, index_name: str) -> IndexSpec:
        from ragops.parse import parser_id
        from ragops.spec import IndexSpec

        index = self.config.index(index_name)
        embedder = self.embedder(index_name)
        return IndexSpec(
            index_name=index_name,
            parser={"id": parser_id()},
            chunker=self.chunker(index_name).settings(),
            embedding={"model": embedder.info.name, **embedder.info.fingerprint_fields()},
            distance=index.distance,
            stamp=index.stamp,
        )

    def connector_for(self, source_name: str) -> tuple[Connector, dict[str, Any]]:
        """The connector of a source and its validated options."""
        source = self.config.sources[source_name]
        connector = get_connector(source.connector, self.root)
        return connector, connector.validate_options(source_name, source.options)

    # -- work --------------------------------------------------------------------------------

    def sync(
        self, index_name: str | None = None, progress: SyncProgress | None = None
    ) -> list[SyncResult]:
        """Sync one index (or all, in configuration order) and return what each sync did."""
        from ragops.janitor import collect_garbage
        from ragops.sync import sync_index

        names = [index_name] if index_name else list(self.config.indexes)
        for name in names:
            self.config.index(name)
        results = []
        for name in names:
            result = sync_index(self, name, progress)
            keep = self.config.index(name).retention.keep_versions
            live = [v for v in self.catalog.versions(name) if v.pruned_at is None]
            if result.created_version and len(live) > keep:
                result.pruned_versions = collect_garbage(self, name).pruned
            results.append(result)
        return results

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None
            for cache in self._embedding_caches.values():
                cache.close()
            self._embedding_caches.clear()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
