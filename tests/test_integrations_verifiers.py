"""The verifiers taskset and env (envs.integrations.verifiers) with the real ``verifiers`` package.

verifiers' model harnesses run their chat program through ``uv`` (which fetches its packages),
so the policy here is a scripted one that replies with the gold turns; everything else is
verifiers' own: the taskset resolved by its id, the env's ``run`` over an ``Interaction``-shaped
exchange, and ``Task.score`` (verifiers' scoring path) recording the reward on a ``vf.Trace``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

vf = pytest.importorskip("verifiers.v1", reason="the verifiers extra is not installed (pip install -e '.[verifiers]')")

from envs.integrations.verifiers import AdvisorEnv, AdvisorTask, load_environment  # noqa: E402 - after the importorskip
from envs.tasks import HANDWRITTEN, HELDOUT, load_tasks  # noqa: E402 - likewise

pytestmark = pytest.mark.verifiers


class ScriptedAgent:
    """A policy replying with fixed turns, exchanged as verifiers' ``Segment``s on a real
    ``vf.Trace``; leaving the interaction scores the trace with ``Task.score``, as a rollout does."""

    def __init__(self, replies: list[str]):
        self.replies, self.seen = list(replies), []

    @contextlib.asynccontextmanager
    async def interaction(self, task: AdvisorTask) -> AsyncIterator[Any]:
        trace = vf.Trace(task=vf.TraceTask(type=type(task).__name__, data=task.data),
                         agent=vf.AgentInfo(config=vf.AgentConfig()))
        agent = self

        class Exchange:
            def __init__(self) -> None:
                self.trace = trace

            async def turn(self, message: str | None = None) -> Any:
                agent.seen.append(message)
                if not agent.replies:
                    return vf.Segment(messages=[], terminated=True)
                return vf.Segment(messages=[vf.AssistantMessage(content=agent.replies.pop(0))])

        yield Exchange()
        await task.score(trace)
        self.trace = trace


class Agents:
    def __init__(self, agent: ScriptedAgent):
        self.agent = agent


def play(env: AdvisorEnv, task: AdvisorTask, replies: list[str]) -> ScriptedAgent:
    agent = ScriptedAgent(replies)
    anyio.run(env.run, task, Agents(agent))
    return agent


@pytest.mark.parametrize("suite", [HANDWRITTEN, HELDOUT], ids=["handwritten", "heldout"])
def test_every_gold_trajectory_scores_3_through_verifiers_scoring(suite):
    env = load_environment(suite)
    assert isinstance(env, AdvisorEnv)
    gold = {task.task_id: task.gold_actions() for task in load_tasks(suite)}
    tasks = list(env.taskset)
    assert [t.data.task_id for t in tasks] == list(gold)
    for task in tasks:
        agent = play(env, task, gold[task.data.task_id])
        assert agent.trace.reward == 3.0, (task.data.task_id, agent.trace.rewards, agent.trace.metrics)
        assert sum(agent.trace.metrics.values()) == 3.0  # the components, as the env computed them
        # the policy saw the query first, then each call's observation
        assert agent.seen[0] is None and len(agent.seen) == len(gold[task.data.task_id])


def test_a_wrong_answer_scores_below_3_and_the_components_are_metrics():
    env = load_environment(HANDWRITTEN)
    task = next(iter(env.taskset))
    agent = play(env, task, ["I cannot tell."])
    assert agent.trace.reward < 3.0
    assert set(agent.trace.metrics) == {"R_fmt", "R_corr", "R_eff", "R_comp"}
    assert agent.trace.metrics["R_corr"] < 1.0


def test_the_taskset_resolves_by_its_id_and_carries_the_prompts():
    env = vf.load_environment(type(load_environment(HANDWRITTEN).config).model_validate(
        {"taskset": {"id": "advisorgym-verifiers", "tasks": str(HANDWRITTEN)}}))
    assert isinstance(env, AdvisorEnv)
    task, first = next(iter(env.taskset)), load_tasks(HANDWRITTEN)[0]
    assert task.data.prompt == first.query and "Tools" in task.data.system_prompt
