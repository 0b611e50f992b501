"""The environment as a SkyRL-Gym text env (extra ``skyrl``), id ``advisorgym``.

Importing this module registers ``AdvisorTextEnv`` in skyrl-gym's own registry, so SkyRL's
generator builds one per trajectory as it builds its own envs::

    skyrl_gym.make("advisorgym", env_config=..., extras=row)

where ``row`` is a dataset row without its ``prompt`` and ``env_class`` (``skyrl_rows`` writes
them from a task suite: the env's system prompt and the advisor's query as ``prompt``,
``env_class="advisorgym"``, and the task in ``extra_info``). ``env_config`` (SkyRL's
per-env-class config) holds keyword arguments of ``FinAdvisorEnv``: e.g. the SQLite
``replica`` (default: the tasks' own, generated on first use), or ``backend="http"`` with
``base_url`` and ``token`` for a remote ``advisorgym serve``.

Each model reply is one agent turn of an ``Episode`` (the env parses it, runs the calls in the
trajectory's own sandbox, scores the answer); the observation comes back as the next user
turn. The reward is the env's ``total`` (out of 3), given on the turn that ends the episode
(0 before), and the components (``R_fmt``, ``R_corr``, ``R_eff``, ``R_comp``), ``total`` and
``infra_error`` are the env's metrics (``get_metrics``), which SkyRL averages per env class.
A trajectory SkyRL stops at its own ``max_turns`` ends where it stands, as the env's step
budget would end it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import skyrl_gym
from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput

from envs.env import FinAdvisorEnv
from envs.integrations.episode import Episode
from envs.tasks import DEFAULT_SUITE, load_tasks

ENV_ID = "advisorgym"
COMPONENTS = ("R_fmt", "R_corr", "R_eff", "R_comp")


class AdvisorTextEnv(BaseTextEnv):
    """One trajectory's episode, for SkyRL (see the module doc)."""

    def __init__(self, env_config: Mapping[str, Any] | None = None, extras: Mapping[str, Any] | None = None):
        super().__init__()
        extras = dict(extras or {})
        task = dict(extras.get("extra_info") or {})
        if "task_id" not in task:
            raise ValueError("an advisorgym row needs extra_info.task_id (write the rows with skyrl_rows)")
        self.task_id, self.seed = str(task["task_id"]), int(task.get("seed", 0))
        self.max_turns = int(extras.get("max_turns") or 12)
        env = FinAdvisorEnv(tasks=task.get("tasks"), max_steps=self.max_turns, **dict(env_config or {}))
        self.episode = Episode(env)
        self.breakdown: dict[str, Any] | None = None

    def init(self, prompt: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Start the row's task; the prompt (the row's own) goes to the model unchanged."""
        started = self.episode.start(self.task_id, self.seed)
        return prompt, {"task_id": started["task_id"], "level": started["level"]}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        self.turns += 1
        observation, breakdown = self.episode.turn(action)
        if breakdown is None and self.turns >= self.max_turns:
            breakdown = self.episode.end()
        if breakdown is None:
            return BaseTextEnvStepOutput(observations=[{"role": "user", "content": observation}], reward=0.0,
                                         done=False, metadata={})
        self.breakdown = breakdown
        return BaseTextEnvStepOutput(observations=[], reward=float(breakdown["total"]), done=True,
                                     metadata={"reward": breakdown})

    def get_metrics(self) -> dict[str, Any]:
        """The episode's reward components as the env computed them (empty before it ends)."""
        if self.breakdown is None:
            return {}
        return {"total": float(self.breakdown["total"]),
                **{name: float(self.breakdown[name]) for name in COMPONENTS},
                "infra_error": bool(self.breakdown.get("infra_error"))}

    def close(self) -> None:
        self.episode.close()


def skyrl_rows(tasks: str | Path | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """SkyRL dataset rows for a task suite (default: the frozen suite): per task, the env's
    system prompt and the advisor's query as ``prompt``, ``env_class`` ``advisorgym`` and the
    task (``task_id``, ``seed``, ``tasks``) in ``extra_info``. Task *i* gets seed ``seed + i``,
    as in ``advisorgym eval``. Save them as SkyRL reads its data, e.g.
    ``datasets.Dataset.from_list(rows).to_parquet(path)``."""
    suite = Path(tasks) if tasks is not None else DEFAULT_SUITE
    episode = Episode(FinAdvisorEnv(tasks=suite))
    try:
        rows = []
        for i, task in enumerate(load_tasks(suite)):
            started = episode.start(task.task_id, seed + i)
            rows.append({"data_source": f"advisorgym/{suite.stem}", "env_class": ENV_ID,
                         "prompt": [{"role": "system", "content": started["system_with_tools"]},
                                    {"role": "user", "content": started["user"]}],
                         "extra_info": {"task_id": task.task_id, "level": task.level, "seed": seed + i,
                                        "tasks": str(suite)}})
        return rows
    finally:
        episode.close()


if ENV_ID not in skyrl_gym.registry:
    skyrl_gym.register(id=ENV_ID, entry_point=f"{__name__}:AdvisorTextEnv")
