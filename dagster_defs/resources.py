"""The one resource the assets use: a ragops project, opened per step and always closed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project
    from ragops.serve.client import ProjectServer

__all__ = ["RagopsResource"]


class RagopsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Opens the ragops project of ``config_path`` for one step.

    The embedded Qdrant engine is single-process, so a step holds the project only while it
    works: :meth:`open` closes it (releasing the store's lock) even when the step fails; and
    while the project's server runs, the steps that need the store go through it
    (:meth:`server`). The
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

    def server(self) -> ProjectServer | None:
        """The project's running ``ragops serve``, if any: it owns the embedded store, so the
        steps that need the store (build, evaluate) ask it to run them."""
        from ragops.serve.client import project_server

        return project_server(self.config_path)
