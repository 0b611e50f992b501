"""Action and observation of the OpenEnv lookup peer (shared by its server and client)."""

from __future__ import annotations

from typing import Any

from openenv.core.env_server.types import Action, Observation
from pydantic import Field


class LookupAction(Action):
    client_id: str = Field(..., description="client to look up")


class LookupObservation(Observation):
    row: dict[str, Any] = Field(default_factory=dict)
