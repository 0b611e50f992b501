"""Per-turn credit (TRM-style): signals from real env steps, the token-to-turn map, and the
guard against the hack the TRM abstract names (minimising tool calls to avoid penalties)."""

from __future__ import annotations

import json

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from envs import FinAdvisorEnv
from envs.replay import score_trajectory
from envs.tasks import HANDWRITTEN, load_tasks
from trainer.credit import token_turns, turn_advantages, turn_signals

TASK = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == "hw-L1-01")


def _call(name: str, arguments: dict) -> str:
    return json.dumps({"thought": "t", "action": {"name": name, "arguments": arguments}})


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_signals_come_from_the_envs_steps():
    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    gold = TASK.gold_calls[0]
    turns = [_call("get_risk_profile_v2", {"client_id": "C000002"}),       # unknown tool
             _call(gold.name, {}),                                           # invalid arguments
             _call("get_market_index", {"index": "SPX", "date": "2025-01-03"}),  # runs, not needed
             _call(gold.name, dict(gold.arguments)),                         # the gold call
             "{not json",                                                    # malformed
             json.dumps({"thought": "t", "response": TASK.gold_response})]
    scored = score_trajectory(env, TASK, turns)
    assert turn_signals(scored.step_infos) == [-1.0, -1.0, 0.0, 1.0, -1.0, 0.0]


def test_token_turns_follow_trls_tool_mask():
    assert token_turns([1, 1, 0, 0, 1, 0, 1, 1]) == [0, 0, -1, -1, 1, -1, 2, 2]
    assert token_turns([1, 1, 1]) == [0, 0, 0]


def _episode(turn_lengths: list[int], result_length: int = 3) -> list[int]:
    mask: list[int] = []
    for i, n in enumerate(turn_lengths):
        if i:
            mask += [0] * result_length
        mask += [1] * n
    return mask


def _credit(rollout: dict, guard: bool, alpha: float = 1.0) -> float:
    values = turn_advantages(rollout["advantage"], rollout["signals"], token_turns(rollout["mask"]),
                             alpha=alpha, guard=guard)
    return _mean([v for v, keep in zip(values, rollout["mask"]) if keep])  # what the loss averages


def test_without_the_guard_skipping_tools_pays_and_with_it_it_does_not():
    # A group where the outcome does not separate two rollouts (same outcome advantage): one
    # answers at once, one tries the tools, fails once, then makes a needless call. Naive
    # per-turn credit ranks the skipper first (the TRM abstract's hack); the guard does not.
    skipper = {"advantage": 0.0, "signals": [0.0], "mask": _episode([40])}
    user = {"advantage": 0.0, "signals": [-1.0, 0.0, 0.0], "mask": _episode([30, 20, 20])}
    assert _credit(skipper, guard=False) > _credit(user, guard=False)
    assert _credit(skipper, guard=True) == pytest.approx(0.0, abs=1e-12)
    assert _credit(user, guard=True) == pytest.approx(0.0, abs=1e-12)


def test_the_guard_keeps_the_outcome_order_and_moves_credit_inside_the_episode():
    # The tool user makes two failed calls, recovers with the right one and answers well: its
    # outcome is better (GRPO advantages +0.707 / -0.707). Long failed turns and a large alpha
    # let naive credit flip the order; guarded credit is exactly the outcome advantage.
    skipper = {"advantage": -0.707, "signals": [0.0], "mask": _episode([40])}
    user = {"advantage": 0.707, "signals": [-1.0, -1.0, 1.0, 0.0], "mask": _episode([40, 40, 10, 10])}
    assert _credit(skipper, guard=False, alpha=2.5) > _credit(user, guard=False, alpha=2.5)
    assert _credit(user, guard=True, alpha=2.5) > _credit(skipper, guard=True, alpha=2.5)
    assert abs(_credit(user, guard=True, alpha=2.5) - 0.707) < 1e-9
    assert _credit(skipper, guard=True, alpha=2.5) == pytest.approx(-0.707)
    guarded = turn_advantages(0.707, user["signals"], token_turns(user["mask"]), alpha=1.0)
    turns = token_turns(user["mask"])
    assert guarded[turns.index(2)] > 0.707 > guarded[turns.index(0)]


@settings(max_examples=200, deadline=None)
@given(st.floats(-3, 3), st.lists(st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0]), min_size=1, max_size=6),
       st.lists(st.integers(1, 20), min_size=1, max_size=6), st.floats(0, 2))
def test_guarded_credit_always_averages_to_the_outcome_advantage(advantage, signals, lengths, alpha):
    mask = _episode(lengths)
    values = turn_advantages(advantage, signals, token_turns(mask), alpha)
    kept = [v for v, keep in zip(values, mask) if keep]
    assert abs(_mean(kept) - advantage) < 1e-9
    assert all(v == advantage for v, keep in zip(values, mask) if not keep)  # tool results: untouched


def test_padding_and_turns_the_env_never_saw_get_no_turn_credit():
    mask = _episode([2, 2])
    values = turn_advantages(0.5, [1.0], token_turns(mask), alpha=1.0, guard=False, valid=[1] * len(mask))
    assert values[:2] == [1.5, 1.5] and values[-2:] == [0.5, 0.5]
    values = turn_advantages(0.5, [1.0, -1.0], token_turns(mask), alpha=1.0, valid=[1, 1, 1, 1, 1, 1, 0])
    assert values[-1] == 0.5
