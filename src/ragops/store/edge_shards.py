"""The shards behind the embedded store's collections: one qdrant-edge shard per directory
``<path>/collections/<name>/``, opened on first use, created, dropped, renamed and listed here,
with qdrant-edge's exceptions turned into :class:`~ragops.errors.StoreError` naming what, where
and the fix. :class:`~ragops.store.edge.EdgeStore` works on points through it."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import qdrant_edge as qe

from ragops.errors import StoreError, StoreLockedError
from ragops.store.base import SPARSE_VECTOR
from ragops.store.common import INDEXED_FIELDS, check_name
from ragops.store.edge_files import LOCK_REMEDY, read_aliases, write_aliases
from ragops.store.edge_schema import INDEX_SCHEMAS

__all__ = ["COLLECTIONS_DIR", "DAMAGE_REMEDY", "SHARD_CONFIG_FILE", "EdgeShards"]

T = TypeVar("T")

COLLECTIONS_DIR = "collections"
SHARD_CONFIG_FILE = "edge_config.json"  # written by qdrant-edge; its presence marks a collection

DAMAGE_REMEDY = (
    "check that the disk is not full and the directory is writable; if the collection's files "
    "are damaged, drop the collection and rebuild it from the chunk store"
)


class EdgeShards:
    """The open shards of one embedded store folder. Thread-safe."""

    def __init__(self, path: Path, description: str) -> None:
        self.path = path
        self.description = description
        self.mutex = threading.RLock()
        self._open: dict[str, qe.EdgeShard] = {}
        self._params: dict[str, tuple[int, str]] = {}
        self._sparse: dict[str, bool] = {}

    def directory(self, name: str) -> Path:
        return self.path / COLLECTIONS_DIR / check_name(name)

    def call(self, action: str, name: str | None, fn: Callable[..., T], *args: Any) -> T:
        """Run a qdrant-edge call, turning its exceptions into StoreError with what/where/fix."""
        try:
            return fn(*args)
        except StoreError:
            raise
        except Exception as exc:  # qdrant-edge raises bare Exception/ValueError/TypeError
            where = f"collection {name!r} in {self.path}" if name else str(self.path)
            text = str(exc)
            if "WouldBlock" in text or "Can't init WAL" in text:
                raise StoreLockedError(
                    f"The embedded vector store at {self.path} ({where}) is in use by another "
                    f"process (qdrant-edge WAL lock). Fix: {LOCK_REMEDY}."
                ) from None
            raise StoreError(
                f"qdrant-edge could not {action} ({where}): {text}. Fix: {DAMAGE_REMEDY}."
            ) from exc

    def exists(self, name: str) -> bool:
        return (self.directory(name) / SHARD_CONFIG_FILE).is_file()

    def get(self, name: str) -> qe.EdgeShard:
        """The open shard of collection ``name`` (loaded on first use)."""
        with self.mutex:
            shard = self._open.get(name)
            if shard is None:
                if not self.exists(name):
                    raise StoreError(
                        f"Collection {name!r} does not exist in {self.description}. "
                        "Fix: create it first (a sync creates its collection), or check the "
                        "index name."
                    )
                directory = str(self.directory(name))
                shard = self.call("open the collection", name, qe.EdgeShard.load, directory)
                self._open[name] = shard
            return shard

    def params(self, name: str) -> tuple[int, str]:
        """(dimension, distance) of an existing collection, from qdrant-edge's config file."""
        cached = self._params.get(name)
        if cached is not None:
            return cached
        config = self._config(name)
        try:
            vectors = config["vectors"][""]
            params = (int(vectors["size"]), str(vectors["distance"]).lower())
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(
                f"Cannot read the vector settings of collection {name!r}: {exc}. "
                f"Fix: {DAMAGE_REMEDY}."
            ) from None
        self._params[name] = params
        self._sparse[name] = SPARSE_VECTOR in (config.get("sparse_vectors") or {})
        return params

    def has_sparse(self, name: str) -> bool:
        """True when the collection has the sparse vector (from qdrant-edge's config file)."""
        if name not in self._sparse:
            self.params(name)
        return self._sparse[name]

    def _config(self, name: str) -> dict[str, Any]:
        config_path = self.directory(name) / SHARD_CONFIG_FILE
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"Cannot read the vector settings of collection {name!r} from {config_path}: "
                f"{exc}. Fix: {DAMAGE_REMEDY}."
            ) from None
        if not isinstance(config, dict):
            raise StoreError(f"{config_path} is not a JSON object. Fix: {DAMAGE_REMEDY}.")
        return config

    def create(
        self, name: str, params: tuple[int, str], config: qe.EdgeConfig, sparse: bool = False
    ) -> None:
        """Create the collection's shard (payload indexes included), or check the existing one
        has these (dimension, distance) and, when ``sparse``, the sparse vector."""
        with self.mutex:
            directory = self.directory(name)
            if self.exists(name):
                have = self.params(name)
                if have != params:
                    raise StoreError(
                        f"Collection {name!r} in {self.description} exists with dimension "
                        f"{have[0]} and distance {have[1]}, not {params[0]} and {params[1]}. "
                        "Fix: use a new collection name for a different embedding model "
                        "(ragops derives it from the index spec fingerprint), or drop this one."
                    )
                if sparse and not self.has_sparse(name):
                    raise StoreError(
                        f"Collection {name!r} in {self.description} has no sparse vector "
                        f"{SPARSE_VECTOR!r}. Fix: use a new collection name (ragops derives it "
                        "from the index spec fingerprint, which includes the sparse settings)."
                    )
                self._ensure_indexes(name, self.get(name))
                return
            if directory.exists():  # left over by a create that died before qdrant-edge wrote
                shutil.rmtree(directory)
            shard = self.call(
                "create the collection", name, qe.EdgeShard.create, str(directory), config
            )
            self._open[name] = shard
            self._params.pop(name, None)  # read back from the config file qdrant-edge wrote
            self._ensure_indexes(name, shard)

    def drop(self, name: str) -> None:
        """Delete the collection, its files and the aliases pointing at it."""
        with self.mutex:
            directory = self.directory(name)
            self._close_one(name, flush=False)
            if directory.exists():
                try:
                    shutil.rmtree(directory)
                except OSError as exc:
                    raise StoreError(
                        f"Cannot delete collection {name!r} at {directory}: {exc}. "
                        "Fix: check the directory's permissions and delete it by hand."
                    ) from None
            self._repoint_aliases(name, None)

    def rename(self, old: str, new: str) -> None:
        """Move collection ``old`` to the name ``new`` (its folder is renamed; aliases follow)."""
        with self.mutex:
            source, target = self.directory(old), self.directory(new)
            if not self.exists(old):
                raise StoreError(
                    f"Cannot rename collection {old!r}: it does not exist in {self.description}."
                )
            if target.exists():
                raise StoreError(
                    f"Cannot rename collection {old!r} to {new!r}: {target} exists. Fix: drop "
                    "the collection of that name first."
                )
            self._close_one(old, flush=True)
            os.replace(source, target)
            self._repoint_aliases(old, new)

    def names(self) -> list[str]:
        root = self.path / COLLECTIONS_DIR
        return sorted(
            entry.name
            for entry in root.iterdir()
            if entry.is_dir() and (entry / SHARD_CONFIG_FILE).is_file()
        )

    def close_all(self) -> list[str]:
        """Flush and close every open shard; the errors met, per collection."""
        errors: list[str] = []
        with self.mutex:
            for name, shard in self._open.items():
                try:
                    shard.flush()
                    shard.close()
                except Exception as exc:  # keep closing the others, then report
                    errors.append(f"{name}: {exc}")
            self._open.clear()
        return errors

    def _close_one(self, name: str, *, flush: bool) -> None:
        shard = self._open.pop(name, None)
        self._params.pop(name, None)
        self._sparse.pop(name, None)
        if shard is not None:
            if flush:
                self.call("flush the collection", name, shard.flush)
            self.call("close the collection", name, shard.close)

    def _repoint_aliases(self, old: str, new: str | None) -> None:
        aliases = read_aliases(self.path)
        if new is None:
            changed = {a: c for a, c in aliases.items() if c != old}
        else:
            changed = {a: (new if c == old else c) for a, c in aliases.items()}
        if changed != aliases:
            write_aliases(self.path, changed)

    def _ensure_indexes(self, name: str, shard: qe.EdgeShard) -> None:
        existing = self.call("read the collection info", name, shard.info).payload_schema
        for field, kind in INDEXED_FIELDS.items():
            if field not in existing:
                op = qe.UpdateOperation.create_field_index(field, INDEX_SCHEMAS[kind])
                self.call(f"create the payload index on {field}", name, shard.update, op)
