"""The environment as a verifiers (v1) taskset and env (extra ``verifiers``).

verifiers finds a taskset by id as an installed top-level module; this one's id is
``advisorgym-verifiers`` (the module ``advisorgym_verifiers`` re-exports the classes below),
so ``vf-eval advisorgym-verifiers`` and ``load_environment()`` resolve to the same env.

- ``AdvisorTaskset`` yields one ``AdvisorTask`` per task of the suite (``tasks``, default the
  frozen suite): the advisor's query as the prompt and the env's system prompt, whose tool
  list tells the model how to write a call as text.
- ``AdvisorEnv`` plays the back office, as verifiers' own OpenEnv integration plays its
  server: each model reply is one agent turn of an ``Episode`` (the env parses it, runs the
  calls in the episode's own sandbox and scores the answer); the observation comes back as
  the next user turn until the episode ends. The reward breakdown rides on the trace
  (``trace.info["advisorgym"]``).
- ``AdvisorTask`` scores through verifiers' own scoring path: its ``@vf.reward`` is the env's
  ``total`` (out of 3) and its ``@vf.metric`` the components, as computed by the env.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import verifiers.v1 as vf

from envs.env import FinAdvisorEnv
from envs.integrations.episode import Episode
from envs.tasks import DEFAULT_SUITE, load_tasks

TASKSET_ID = "advisorgym-verifiers"
BREAKDOWN_KEY = "advisorgym"
COMPONENTS = ("R_fmt", "R_corr", "R_eff", "R_comp")


class AdvisorData(vf.TaskData):
    """A verifiers task's data: the advisorgym task id and level, with the prompt and system prompt."""
    task_id: str
    level: str


class AdvisorTasksetConfig(vf.TasksetConfig):
    """The taskset's options: which task suite and which replica."""
    tasks: str | None = None
    """Task suite (JSONL); default: the frozen suite."""
    replica: str | None = None
    """SQLite replica; default: the tasks' replica, generated on first use."""


class AdvisorTask(vf.Task[AdvisorData]):
    """One advisorgym task as a verifiers task: its reward is the env's, its metrics the four components."""

    @vf.reward
    async def advisorgym(self, trace: vf.Trace) -> float:
        """The env's reward, out of 3 (0 when the episode never ended)."""
        return float(trace.info.get(BREAKDOWN_KEY, {}).get("total", 0.0))

    @vf.metric
    async def components(self, trace: vf.Trace) -> dict[str, float]:
        breakdown = trace.info.get(BREAKDOWN_KEY, {})
        return {name: float(breakdown.get(name, 0.0)) for name in COMPONENTS}


class AdvisorTaskset(vf.Taskset[AdvisorTask, AdvisorTasksetConfig]):
    """Every task of a suite as verifiers tasks, prompted as the env's reset prompts them."""

    def load(self) -> Iterator[AdvisorTask]:
        env = make_env(self.config)
        try:
            for task in load_tasks(self.config.tasks or DEFAULT_SUITE):
                started = Episode(env).start(task.task_id)
                yield AdvisorTask(AdvisorData(id=task.task_id, name=task.task_id, task_id=task.task_id,
                                              level=task.level, prompt=started["user"],
                                              system_prompt=started["system_with_tools"]), self.config.task)
        finally:
            env.close()


class AdvisorEnvConfig(vf.EnvConfig):
    """The verifiers env's options: the agent under evaluation or training."""
    agent: vf.AgentConfig = vf.AgentConfig()
    """The advisor's copilot: the policy under evaluation or training."""


class AdvisorEnv(vf.Env[AdvisorEnvConfig]):
    """A verifiers env that plays each task as one advisorgym episode, the agent's replies as its actions."""

    async def run(self, task: AdvisorTask, agents: vf.Agents) -> None:
        episode = Episode(await anyio.to_thread.run_sync(make_env, self.taskset.config))
        try:
            await anyio.to_thread.run_sync(episode.start, task.data.task_id)
            async with agents.agent.interaction(task) as interaction:
                segment = await interaction.turn()
                while not segment.terminated:
                    observation, breakdown = await anyio.to_thread.run_sync(episode.turn, segment.last_reply)
                    if breakdown is not None:
                        interaction.trace.info[BREAKDOWN_KEY] = breakdown
                        break
                    segment = await interaction.turn(observation)
        finally:
            episode.close()


def make_env(config: AdvisorTasksetConfig) -> FinAdvisorEnv:
    return FinAdvisorEnv(tasks=config.tasks, replica=config.replica)


def load_environment(tasks: str | Path | None = None, replica: str | Path | None = None, **env: Any) -> AdvisorEnv:
    """The verifiers env over the suite ``tasks`` (default: the frozen suite); ``env``: the rest
    of verifiers' env config (e.g. ``agent={"model": ...}``)."""
    taskset = AdvisorTasksetConfig(id=TASKSET_ID, tasks=None if tasks is None else str(tasks),
                                   replica=None if replica is None else str(replica))
    return vf.load_environment(AdvisorEnvConfig(taskset=taskset, **env))
