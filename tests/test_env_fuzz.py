"""Property-based: nothing an agent sends can make ``step`` raise or break the episode."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envs import FinAdvisorEnv
from envs.tasks import HANDWRITTEN, load_tasks

TASK = load_tasks(HANDWRITTEN)[0]


@pytest.fixture(scope="module")
def http_env():
    from envs.replica import default_replica
    from mock_apis.app import create_app, serve_in_thread

    with serve_in_thread(create_app(default_replica(), "tok")) as url:
        env = FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=url, token="tok")
        yield env
        env.close()
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


# --- the worst inputs a policy in training emits: odd names, deep nesting, huge answers -----

def nested(depth: int, leaf=None, as_list: bool = False):
    value = leaf
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


HOSTILE_TURNS = {
    "name_object": {"thought": "t", "action": {"name": {"x": 1}, "arguments": {}}},
    "name_array": {"thought": "t", "action": {"name": [1, [2]], "arguments": {}}},
    "name_number": {"thought": "t", "action": {"name": 2**80, "arguments": {}}},
    "name_null": {"thought": "t", "action": {"name": None, "arguments": {}}},
    "name_nested_1000": {"thought": "t", "action": {"name": nested(1000), "arguments": {}}},
    "args_nested_1000": {"thought": "t", "action": {"name": "get_client_profile", "arguments": nested(1000)}},
    "value_nested_10000": {"thought": "t", "action": {"name": "get_holdings",
                                                      "arguments": {"account_id": nested(10_000, as_list=True)}}},
    "write_nested_1000": {"thought": "t", "action": {"name": "place_order", "arguments": {
        "account_id": nested(1000), "fund": "EQ001", "side": "buy", "amount": 1}}},
    "huge_int": {"thought": "t", "action": {"name": "search_funds", "arguments": {"limit": 2**64}}},
    "json_text_nested_5000": '{"thought": "t", "action": {"name": "a", "arguments": ' + "[" * 5000 + "]" * 5000 + "}}",
}


def _hostile_episode(env, turn):
    env.reset(seed=0, options={"task_id": TASK.task_id})
    obs, reward, terminated, truncated, info = env.step(turn)
    _assert_usable(obs, reward, terminated, truncated, info)
    assert len(obs) < 20_000  # errors echo a bounded part of the input
    for action in TASK.gold_actions():  # the episode goes on and still scores as played
        result = env.step(action)
        _assert_usable(*result)
    r = result[4]["reward"]
    # A bad name is a slip (recovered by the gold calls, so R_fmt < 1), bad arguments an invalid call.
    assert result[2] and (0.0 < r["R_fmt"] < 1.0 or r["invalid_calls"] >= 1)
    assert r["total"] < 3.0
    json.dumps(result[4])  # the terminal info (evidence, labels) is JSON-serialisable


@pytest.mark.parametrize("name", sorted(HOSTILE_TURNS))
def test_hostile_names_and_nesting_never_raise_in_process(name):
    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    _hostile_episode(env, HOSTILE_TURNS[name])
    env.close()


@pytest.mark.parametrize("name", sorted(HOSTILE_TURNS))
def test_hostile_names_and_nesting_never_raise_over_http(name, http_env):
    _hostile_episode(http_env, HOSTILE_TURNS[name])


HUGE_ANSWERS = {
    "buy_repeated": "Buy " * 50_000,
    "buy_stock_repeated": "Buy Tesla stock now. " * 10_000,
    "capitalised_run": "Alpha Beta Gamma Delta " * 9_000,
    "guarantee_repeated": "guaranteed returns " * 10_500,
    "figures_repeated": "1,234.5 and 8% " * 13_000,
    "one_word": "x" * 200_000,
    "tagged_huge": "<think>" + "t" * 100_000 + "</think>" + "The client holds 3 funds. " * 4_000,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(HUGE_ANSWERS))
def test_200kb_answers_end_the_episode_and_are_checked(name):
    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    env.reset(seed=0, options={"task_id": TASK.task_id})
    for action in TASK.gold_actions()[:-1]:
        env.step(action)
    text = HUGE_ANSWERS[name]
    assert len(text) >= 190_000
    obs, reward, terminated, truncated, info = env.step(text if name == "tagged_huge" else
                                                        json.dumps({"thought": "t", "response": text}))
    _assert_usable(obs, reward, terminated, truncated, info)
    assert terminated and info["reward"]["answered"]
    if name in ("buy_stock_repeated", "guarantee_repeated"):
        assert info["reward"]["violated"], name  # the checker still reads the whole answer's start
    env.close()
