"""A retriever over HTTP: the same ``search``, ``search_many`` and ``as_llama_index`` as the
embedded :class:`~ragops.Retriever`, against a running ``ragops serve``::

    from ragops import Retriever

    retriever = Retriever.connect("http://127.0.0.1:8080", "docs", api_key=os.environ["RAGOPS_KEY"])
    hits = retriever.search("how do I roll back?", k=5)

Each search is one request and reads one consistent version (the server resolves the
environment once per request). Errors come back as the same ragops exceptions the embedded
retriever raises (IndexNotFoundError, AuthenticationError, …), with the server's message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ragops import errors
from ragops.hits import Hit

if TYPE_CHECKING:  # pragma: no cover
    import httpx
    from llama_index.core.retrievers import BaseRetriever

__all__ = ["RemoteRetriever", "error_from_body"]


class RemoteRetriever:
    """Searches one index of a ragops server at an environment or a pinned version."""

    def __init__(
        self,
        url: str,
        index: str,
        *,
        api_key: str | None = None,
        env: str = "production",
        version: int | None = None,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.index = index
        self.env = env
        self.pinned_version = version
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, trust_env=False
        )
        self._owns_client = client is None
        #: The version the last search read.
        self.last_version: int | None = None

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
        *,
        group_by: str | None = None,
        group_size: int = 1,
        mode: str | None = None,
    ) -> list[Hit]:
        """The ``k`` chunks closest to ``query``, best first (see ``Retriever.search``)."""
        body = {"query": query, **self._options(k, filters, group_by, group_size, mode)}
        answer = self._post(f"/v1/indexes/{self.index}/search", body)
        self.last_version = answer["version"]
        return [Hit(**hit) for hit in answer["hits"]]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
        *,
        group_by: str | None = None,
        group_size: int = 1,
        mode: str | None = None,
    ) -> list[list[Hit]]:
        """Search several queries at once, in order: one request per
        :data:`~ragops.serve.schemas.MAX_QUERIES` queries, each reading one version and
        embedding its queries in one batch."""
        from ragops.serve.schemas import MAX_QUERIES

        options = self._options(k, filters, group_by, group_size, mode)
        results: list[list[Hit]] = []
        for start in range(0, len(queries), MAX_QUERIES):
            body = {"queries": list(queries[start : start + MAX_QUERIES]), **options}
            answer = self._post(f"/v1/indexes/{self.index}/search_many", body)
            self.last_version = answer["version"]
            results.extend([Hit(**hit) for hit in hits] for hits in answer["results"])
        return results

    def _options(
        self,
        k: int,
        filters: Mapping[str, Any] | None,
        group_by: str | None,
        group_size: int,
        mode: str | None = None,
    ) -> dict[str, Any]:
        """The request fields every search sends besides its queries."""
        options: dict[str, Any] = {"k": k, "env": self.env}
        if mode is not None:
            options["mode"] = mode
        if group_by is not None:
            options.update(group_by=group_by, group_size=group_size)
        if filters:
            options["filters"] = dict(filters)
        if self.pinned_version is not None:
            options["version"] = self.pinned_version
        return options

    def as_llama_index(self, k: int = 5, filters: Mapping[str, Any] | None = None) -> BaseRetriever:
        """This retriever as a LlamaIndex ``BaseRetriever``."""
        from ragops.integrations.llama_index import RagopsLlamaRetriever

        return RagopsLlamaRetriever(self, k=k, filters=filters)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RemoteRetriever:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        try:
            response = self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise errors.StoreError(
                f"ragops server at {self.url} did not answer ({exc.__class__.__name__}: {exc}); "
                "is `ragops serve` running there?"
            ) from exc
        if response.status_code >= 400:
            raise _error_of(response)
        result: dict[str, Any] = response.json()
        return result


def _error_of(response: httpx.Response) -> errors.RagopsError:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        error = {"message": f"HTTP {response.status_code}: {response.text[:300]}"}
    return error_from_body(error)


def error_from_body(error: Mapping[str, Any]) -> errors.RagopsError:
    """A server's ``{"type", "message"[, "gates"]}`` error as the ragops exception it names
    (a refused promotion keeps every gate's evidence)."""
    kind = str(error.get("type", "RagopsError"))
    message = str(error.get("message", "the server answered with an error"))
    cls = getattr(errors, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.RagopsError)):
        return errors.RagopsError(f"{kind}: {message}")
    if cls is errors.PromotionError:
        from ragops.environments.gates import GateResult

        gates = [GateResult(**gate) for gate in error.get("gates") or []]
        return errors.PromotionError(message, gates=gates)
    return cls(message)
