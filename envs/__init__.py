"""advisorgym environments: ``gymnasium.make("advisorgym/FinAdvisor-v0")`` after ``import advisorgym``
(or ``import envs``, the same registration).

``gymnasium.make(..., max_episode_steps=N)`` sets the env's own horizon (``max_steps``) to N:
its ``TimeLimit`` and the env end the episode on the same step, which carries the reward and
its breakdown (``envs.env.EpisodeHorizon``, applied by ``gymnasium.make``).

The environment's modules load on first use, so ``import envs`` (and the CLI) stay light.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium

ENV_ID = "advisorgym/FinAdvisor-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="envs.env:FinAdvisorEnv", additional_wrappers=(
        gymnasium.envs.registration.WrapperSpec("EpisodeHorizon", "envs.env:EpisodeHorizon", {}),))

_EXPORTS = {"FinAdvisorEnv": "envs.env", "EnvConfig": "envs.config", "FaultConfig": "envs.config", "RewardConfig": "envs.reward",
            "tool_messages": "envs.messages", "AdvisorGymError": "mock_apis.errors"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'envs' has no attribute {name!r}")


__all__ = ["ENV_ID", "AdvisorGymError", "EnvConfig", "FaultConfig", "FinAdvisorEnv", "RewardConfig", "tool_messages"]
