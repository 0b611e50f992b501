"""DPO pairs for compliance, scored by the env: the expert pairs in fixtures/dpo, helpful vs
over-cautious pairs, and pairs from sampled answers (a deterministic sampler stands in for
the policy here; tests/test_trainer_stages.py samples a real model)."""

from __future__ import annotations

import pytest

from envs import FinAdvisorEnv
from envs.tasks import SUITE, load_tasks
from tests.conftest import needs_train_extra
from trainer.dpo import (EXPERT_PAIRS, acceptable, answer_prompt, expert_pairs, load_expert_pairs,
                         over_caution_pairs, pair_from_answers, sampled_pairs, score_answer)

TASKS = load_tasks(SUITE)
BY_ID = {t.task_id: t for t in TASKS}


@pytest.fixture(scope="module")
def env():
    e = FinAdvisorEnv(tasks=TASKS, prompt_mode="tools_via_template", reward_config={"answer_weight": 0.5})
    yield e
    e.close()


def test_every_expert_pair_is_one_the_env_agrees_with(env):
    pairs = load_expert_pairs()
    assert len(pairs) >= 16 and {p["task_id"] for p in pairs} <= set(BY_ID)
    flaws = {p["flaw"] for p in pairs}
    assert {"guarantee", "forecast", "stock_recommendation", "other_client_data", "over_refusal"} <= flaws
    rows = expert_pairs(env, BY_ID)
    assert len(rows) == len(pairs)
    assert all(row["tools"] == list(env.tool_schemas) for row in rows)  # schema objects, not JSON text
    for pair, row in zip(pairs, rows):
        task = BY_ID[pair["task_id"]]
        prompt = row["prompt"]
        chosen = score_answer(env, task, prompt, pair["chosen"], 0)
        rejected = score_answer(env, task, prompt, pair["rejected"], 0)
        assert acceptable(chosen) and chosen["total"] > rejected["total"], pair
        if pair["flaw"] == "over_refusal":
            assert rejected["over_refusal"], pair
        elif pair["flaw"] != "unhelpful_refusal":
            assert rejected["R_comp"] < 0, pair  # the checker catches the violation


def test_the_prompt_is_the_gold_trajectory_with_the_envs_real_results(env):
    task = BY_ID["s0-L2-0129"]
    prompt = answer_prompt(env, task, 0)
    assert [m["role"] for m in prompt][:2] == ["system", "user"] and prompt[-1]["role"] == "tool"
    assert prompt[0]["content"] == env.system_prompt_for_tools_api
    assert sum(1 for m in prompt if m["role"] == "assistant") == len(task.gold_calls)


def test_over_caution_pairs_are_flagged_over_refusals(env):
    tasks = TASKS[:30]
    rows = over_caution_pairs(env, tasks)
    answerable = [t for t in tasks if not t.compliance.expect_refusal]
    assert len(rows) >= 0.8 * len(answerable)
    for row in rows:
        task = BY_ID[row["task_id"]]
        assert not task.compliance.expect_refusal and row["chosen"][0]["content"] == task.gold_response
        assert row["chosen_total"] > row["rejected_total"]
        assert score_answer(env, task, row["prompt"], row["rejected"][0]["content"], 0)["over_refusal"]


def test_sampled_pairs_choose_by_the_envs_score(env):
    task = BY_ID["s0-L4-0005"]  # expects a refusal of a guarantee
    prompt = answer_prompt(env, task, 0)
    samples = ["We guarantee BD014 cannot lose value; your capital is safe.", task.gold_response,
               "I'm not able to give that assurance; no return can be guaranteed."]
    row = pair_from_answers(env, task, prompt, samples, seed=0)
    assert row is not None and row["rejected"][0]["content"] == samples[0]
    assert row["chosen"][0]["content"] in samples[1:] and row["chosen_by"] == "policy"  # on-policy
    # No acceptable sample: the gold answer is the chosen one.
    row = pair_from_answers(env, task, prompt, [samples[0], "BD014 is guaranteed to rise."], seed=0)
    assert row["chosen"][0]["content"] == task.gold_response and row["chosen_by"] == "gold"
    # Nothing to reject (every sample as good as the chosen one): no pair.
    assert pair_from_answers(env, task, prompt, [task.gold_response], seed=0) is None
    calls = []

    def sample(messages, n):
        calls.append(len(messages))
        return samples[:n]

    rows = sampled_pairs(env, [task, BY_ID["s0-L1-0067"]], sample, samples_per_prompt=2)
    assert calls and len(rows) >= 1 and all(r["source"] == "sampled" for r in rows)


def test_the_expert_pairs_file_ships_with_the_package():
    assert EXPERT_PAIRS.is_file() and EXPERT_PAIRS.parent.name == "dpo"


@pytest.mark.train
def test_pairs_round_trip_through_datasets_with_their_features(env):
    """Without explicit features, ``datasets`` gives every tool schema every other tool's
    parameters as nulls; with ``dpo_features`` the rows load back exactly as written."""
    needs_train_extra()
    from datasets import Dataset

    from trainer.data import dpo_features

    rows = [{k: r[k] for k in ("prompt", "chosen", "rejected", "tools")} for r in expert_pairs(env, BY_ID)[:4]]
    assert [dict(r) for r in Dataset.from_list(rows, features=dpo_features())] == rows
