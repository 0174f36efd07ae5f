"""What every model of ``ragops.yaml`` shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict"]


class Strict(BaseModel):
    """A settings block: unknown keys are errors (a typo fails at load), values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
