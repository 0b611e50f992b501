"""``import advisorgym`` registers ``advisorgym/FinAdvisor-v0`` for ``gymnasium.make``.

The project's own name for the ``envs`` package (which stays where it is, and keeps working
under its own name): every name ``envs`` exports is here too, loaded on first use.

    import gymnasium as gym
    import advisorgym

    env = gym.make("advisorgym/FinAdvisor-v0", max_episode_steps=8)  # the env's own horizon: 8 turns
"""

from __future__ import annotations

from typing import Any

import envs
from envs import ENV_ID as ENV_ID

__all__ = envs.__all__


def __getattr__(name: str) -> Any:
    return getattr(envs, name)
