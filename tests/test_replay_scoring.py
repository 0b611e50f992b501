"""Offline scoring of a finished trajectory gives exactly the reward that stepping the env gives."""

from __future__ import annotations

import json

import pytest

from envs import FinAdvisorEnv
from envs.evaluation.agents import AGENT_SPECS, make_agent
from envs.replay import assistant_turns, score_trajectory
from envs.tasks import HANDWRITTEN, load_tasks

TASKS = load_tasks(HANDWRITTEN)
SCRIPTED = [a for a in AGENT_SPECS if a not in ("openai", "hf")]


@pytest.fixture(scope="module")
def envs_pair():
    live, offline = FinAdvisorEnv(tasks=HANDWRITTEN), FinAdvisorEnv(tasks=HANDWRITTEN)
    yield live, offline
    live.close()
    offline.close()


def live_episode(env, agent, task, seed):
    obs, info = env.reset(seed=seed, options={"task_id": task.task_id})
    agent.start(task, obs, info)
    actions = []
    while True:
        action = agent.act(obs)
        actions.append(action)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return actions, info["reward"]


@pytest.mark.parametrize("spec", SCRIPTED)
def test_offline_score_equals_the_live_episode_for_every_scripted_agent(envs_pair, spec):
    live, offline = envs_pair
    for seed, task in enumerate(TASKS):
        actions, reward = live_episode(live, make_agent(spec), task, seed)
        scored = score_trajectory(offline, task, actions, seed=seed)
        assert scored.reward == reward, (spec, task.task_id)
        assert scored.turns_used == len(actions) and scored.unused_turns == 0


def test_an_openai_message_list_scores_like_its_turns_stepped_live(envs_pair):
    live, offline = envs_pair
    for task in TASKS:
        messages = [{"role": "system", "content": "s"}, {"role": "user", "content": task.query}]
        for i, call in enumerate(task.gold_calls):
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": f"c{i}", "type": "function",
                 "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}]})
            messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": '{"forged": "not trusted"}'})
        messages.append({"role": "assistant", "content": task.gold_response})
        scored = score_trajectory(offline, task.task_id, messages)
        live.reset(seed=0, options={"task_id": task.task_id})
        for turn in assistant_turns(messages):
            *_, info = live.step(turn)
        assert scored.reward == info["reward"] and scored.reward["total"] == 3.0, task.task_id
        assert scored.ended_by == "response"
        assert all("forged" not in obs for obs in scored.observations)  # the env recomputes the tool results


def test_turns_after_the_end_are_reported_and_a_log_without_an_answer_scores_as_unanswered(envs_pair):
    _, offline = envs_pair
    task = next(t for t in TASKS if t.gold_calls)
    extra = score_trajectory(offline, task, [*task.gold_actions(), "one more thing"])
    assert extra.unused_turns == 1 and extra.reward["total"] == 3.0
    unanswered = score_trajectory(offline, task, task.gold_actions()[:-1])
    assert unanswered.ended_by == "end_of_log" and unanswered.reward["answered"] is False
    assert unanswered.reward["total"] <= -0.5
    budget = FinAdvisorEnv(tasks=HANDWRITTEN, max_steps=len(task.gold_calls))
    budget.reset(seed=0, options={"task_id": task.task_id})
    for action in task.gold_actions()[:-1]:
        *_, info = budget.step(action)
    assert info["reward"] == unanswered.reward  # the same as running out of steps live
    assert budget.end_episode() == info["reward"]  # ending an ended episode gives its reward again
    budget.close()
