"""Property-based: nothing an agent sends can make ``step`` raise or break the episode."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envs import FinAdvisorEnv
from envs.tasks import HANDWRITTEN, load_tasks

TASK = load_tasks(HANDWRITTEN)[0]
ENV = FinAdvisorEnv(tasks=HANDWRITTEN, max_steps=10_000)
ENV.reset(seed=0, options={"task_id": TASK.task_id})

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
tool_names = st.sampled_from(["get_holdings", "place_order", "search_clients", "get_market_index", "nope", ""])
react_like = st.builds(
    lambda thought, name, args: json.dumps({"thought": thought, "action": {"name": name, "arguments": args}}),
    st.text(max_size=20), tool_names | json_values, json_values)
tagged_like = st.builds(lambda body, tail: f"<think>x</think><tool_call>{body}</tool_call>{tail}",
                        st.text(max_size=40) | json_values.map(json.dumps), st.sampled_from(["", "<response>", "</tool_call>"]))
actions = (st.text(max_size=200) | json_values.map(json.dumps) | react_like | tagged_like)


def _assert_usable(obs, reward, terminated, truncated, info):
    assert isinstance(obs, str)
    json.loads(obs)
    assert isinstance(reward, float) and isinstance(info, dict)


@settings(max_examples=2500, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(actions)
def test_step_never_raises_on_arbitrary_input(action):
    result = ENV.step(action)
    _assert_usable(*result)
    if result[2] or result[3]:
        ENV.reset(seed=0, options={"task_id": TASK.task_id})


def test_env_still_scores_gold_after_the_fuzzing():
    ENV.reset(seed=0, options={"task_id": TASK.task_id})
    for action in TASK.gold_actions():
        obs, reward, terminated, truncated, info = ENV.step(action)
    assert terminated and reward == 3.0
