"""Asset events: what ragops did, recorded on the project's Dagster instance whichever face did
it (the CLI, the Python API, later the server), so the Dagster UI's history of every index's
``index_version``, ``eval`` and ``production`` assets is complete.

A step describes what it did as :class:`AssetEvent` values (:mod:`ragops.events.describe`, the
same metadata the Dagster assets report) and hands them to ``project.events``. Where they go is
an :class:`EventSink`: :class:`~ragops.events.dagster.DagsterSink` writes runless
materializations and observations to a Dagster instance (``dagster.home`` in ragops.yaml,
``$DAGSTER_HOME``, or ``<data_dir>/dagster`` once ``ragops ui`` created it). With no instance,
nothing is built and nothing is imported: it costs nothing. Inside a Dagster run the assets
report for themselves, so the code location opens projects with no sink.
"""

from __future__ import annotations

from ragops.events.dagster import default_sink
from ragops.events.records import AssetEvent, EventRecorder, EventSink, Markdown

__all__ = ["AssetEvent", "EventRecorder", "EventSink", "Markdown", "default_sink"]
