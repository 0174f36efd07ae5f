"""The one resource the assets use: a ragops project, opened per step and always closed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["RagopsResource"]


class RagopsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Opens the ragops project of ``config_path`` for one step.

    The embedded Qdrant engine is single-process, so a step holds the project only while it
    works: :meth:`open` closes it (releasing the store's lock) even when the step fails. The
    project records no asset events of its own (:mod:`ragops.events`): the assets report what
    they did as their materializations.
    """

    config_path: str = Field(description="Path of the project's ragops.yaml")

    @contextlib.contextmanager
    def open(self) -> Iterator[Project]:
        from ragops.project import Project

        project = Project.open(self.config_path, events=None)
        try:
            yield project
        finally:
            project.close()
