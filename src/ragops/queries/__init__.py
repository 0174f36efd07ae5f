"""The query log: every search and ask, one row each, in Parquet partitioned by day.

Rows go to ``<data_dir>/queries/day=YYYY-MM-DD/*.parquet``: time, face (library, cli,
server), index, environment, version, who asked (an API key and its first principal, or the
local user), the query text (or its sha256, or nothing: ``queries.text``), k, filters, the
doc and chunk ids returned with their scores, the latency split into embed / search /
generate, tokens, cost and the prompt version of an ask. :func:`read_queries` (and
``ragops queries``) reads them back; any Parquet reader can too.
"""

from __future__ import annotations

from ragops.queries.log import QueryLog, QueryRecord, reader_of
from ragops.queries.read import QueryLogSummary, read_queries, summarize_queries

__all__ = [
    "QueryLog",
    "QueryLogSummary",
    "QueryRecord",
    "read_queries",
    "reader_of",
    "summarize_queries",
]
