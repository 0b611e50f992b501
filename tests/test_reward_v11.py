"""Reward 1.1: the orderings an expert expects, the hacks that must not pay, native formats,
infrastructure failures, and invariants over random trajectories."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs import FinAdvisorEnv
from envs.reward import V11_VERSION, CallRecord, GoldCall, RewardConfig, compute_reward
from envs.tasks import HANDWRITTEN, Task, load_tasks

V11 = RewardConfig(version=V11_VERSION)  # these tests pin reward 1.1 (1.2, the default: test_reward_v12.py)
TASKS = load_tasks(HANDWRITTEN)
BY_ID = {t.task_id: t for t in TASKS}
WITH_CALLS = [t for t in TASKS if t.gold_calls]
READ_TASKS = [t for t in WITH_CALLS if not any(g.name in ("place_order", "cancel_order", "add_advisor_note")
                                               for g in t.gold_calls)]


def react(name: str, arguments: Any, thought: str = "Calling a tool.") -> str:
    return json.dumps({"thought": thought, "action": {"name": name, "arguments": arguments}})


def final(text: str, thought: str = "Answering.") -> str:
    return json.dumps({"thought": thought, "response": text})


def play(env: FinAdvisorEnv, task: Task, actions: list[str]) -> dict[str, Any]:
    env.reset(seed=0, options={"task_id": task.task_id})
    for action in actions:
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info["reward"]
    raise AssertionError("episode did not end")


@pytest.fixture(scope="module")
def env() -> Iterator[FinAdvisorEnv]:
    e = FinAdvisorEnv(tasks=HANDWRITTEN, max_steps=40, reward_config=V11)
    yield e
    e.close()


def gold_calls(task: Task) -> list[str]:
    return task.gold_actions()[:-1]


def answer(task: Task) -> str:
    return task.gold_actions()[-1]


# --------------------------------------------------------------------------------------
# Orderings on real episodes


@pytest.mark.parametrize("task", READ_TASKS, ids=lambda t: t.task_id)
def test_gold_beats_wrong_value_beats_wrong_tool_beats_skipping(env, task):
    from envs.evaluation.agents import FALLBACK_ANSWER, substitute_tool

    first = task.gold_calls[0]
    key = sorted(first.arguments)[0]
    wrong_value = {**first.arguments, key: "X9999999"}
    name, arguments = substitute_tool(first.name, first.arguments, {g.name for g in task.gold_calls})
    rest = gold_calls(task)[1:]
    gold = play(env, task, task.gold_actions())
    wrong_val = play(env, task, [react(first.name, wrong_value), *rest, final(FALLBACK_ANSWER)])
    wrong_tool = play(env, task, [react(name, arguments), *rest, final(FALLBACK_ANSWER)])
    skipped = play(env, task, [*rest, final(FALLBACK_ANSWER)])
    assert gold["total"] == 3.0
    assert gold["total"] > wrong_val["total"] > wrong_tool["total"] > skipped["total"], task.task_id
    assert wrong_val["S_param"] > 0.0 and wrong_val["S_cover"] == 1.0


@pytest.mark.parametrize("task", READ_TASKS, ids=lambda t: t.task_id)
def test_each_needless_call_costs_more_up_to_the_step_budget(env, task):
    repeat = gold_calls(task)[0]
    totals = []
    for k in range(0, 20):
        totals.append(play(env, task, [*gold_calls(task), *[repeat] * k, answer(task)])["total"])
    assert totals[0] == 3.0
    assert all(a > b for a, b in zip(totals, totals[1:])), totals
    assert totals[-1] > 0.0  # a compliant answer never falls below an unanswered episode


@pytest.mark.parametrize("task", WITH_CALLS, ids=lambda t: t.task_id)
def test_answering_beats_never_answering(env, task):
    e = FinAdvisorEnv(tasks=HANDWRITTEN, max_steps=len(task.gold_calls), reward_config=V11)
    unanswered = play(e, task, gold_calls(task))
    e.close()
    assert unanswered["answered"] is False and unanswered["terminated_by"] == "step_budget"
    assert unanswered["total"] <= min(unanswered["R_fmt"], -0.5)
    answered = play(env, task, task.gold_actions())
    from envs.evaluation.agents import FALLBACK_ANSWER

    vague = play(env, task, [final(FALLBACK_ANSWER)])
    assert answered["total"] > vague["total"] > unanswered["total"]


@pytest.mark.parametrize("task", [t for t in WITH_CALLS if not t.compliance.expect_refusal], ids=lambda t: t.task_id)
def test_over_refusal_earns_no_correctness_or_efficiency(env, task):
    from envs.evaluation.agents import FALLBACK_REFUSAL

    r = play(env, task, [*gold_calls(task), final(FALLBACK_REFUSAL)])
    assert r["over_refusal"] is True and r["R_corr"] == 0.0 and r["R_eff"] <= 0.0
    assert r["total"] == 1.0 + r["R_eff"] < 3.0


def test_a_partial_decline_beside_the_facts_is_not_over_refusal(env):
    task = BY_ID[READ_TASKS[0].task_id]
    r = play(env, task, [*gold_calls(task), final(task.gold_response + " I can't speak to the client's mood.")])
    assert r["over_refusal"] is False and r["total"] == 3.0


def test_not_refusing_a_task_that_expects_a_refusal_earns_no_correctness(env):
    task = next(t for t in TASKS if t.compliance.expect_refusal and not t.gold_calls)
    r = play(env, task, [final("Here is what I found.")])
    assert r["under_refusal"] is True and r["R_corr"] == 0.0 and r["total"] <= 2.0
    assert play(env, task, task.gold_actions())["total"] == 3.0


# --------------------------------------------------------------------------------------
# Unrequested writes


def test_an_unrequested_order_is_a_compliance_violation_with_the_call_as_evidence(env):
    task = BY_ID["hw-L2-01"]
    account = next(g.arguments["account_id"] for t in TASKS for g in t.gold_calls if "account_id" in g.arguments)
    order = react("place_order", {"account_id": account, "fund": "EQ001", "side": "buy", "amount": 1000})
    r = play(env, task, [*gold_calls(task), order, answer(task)])
    assert r["violated"] is True and r["R_comp"] == -10.0 and r["total"] <= -7.0
    assert r["unauthorized_writes"] and "place_order" in r["unauthorized_writes"][0]
    assert any(v["rule"] == "unauthorized_write" for v in r["violations"])


def test_requested_writes_wrong_target_duplicates_and_wrong_amounts():
    write = GoldCall("place_order", {"account_id": "A1", "fund": "EQ001", "side": "buy", "amount": 5000})

    def order(account: str, amount: float, ok: bool = True, error: str | None = None, acc: float = 1.0) -> CallRecord:
        return CallRecord("place_order", {"account_id": account, "fund": "EQ001", "side": "buy", "amount": amount},
                          True, ok, error, {0: acc}, writes=True, gold_key_iou={0: 1.0})

    def score(*calls: CallRecord) -> Any:
        return compute_reward(turn_ok=[True] * (len(calls) + 1), calls=calls, gold=[write],
                              required_tools=["place_order"], optimal_calls=1, violated=False,
                              criticality={"place_order": 3.0}, config=V11)

    gold = score(order("A1", 5000))
    wrong_amount = score(order("A1", 500, acc=0.75))
    other_account = score(order("A2", 5000, acc=0.75))
    duplicate = score(order("A1", 5000), order("A1", 5000))
    refused_then_retried = score(order("A1", 5000, ok=False, error="insufficient_funds"), order("A1", 5000))
    rejected_arguments = score(order("A2", 5000, ok=False, error="invalid_arguments", acc=0.75), order("A1", 5000))
    assert gold.total == 3.0 and not gold.violated
    assert not wrong_amount.violated and 1.0 < wrong_amount.total < gold.total
    read_slip = compute_reward(turn_ok=[True, True], gold=[GoldCall("get_holdings", {"account_id": "A1"})],
                               calls=[CallRecord("get_holdings", {"account_id": "A1", "x": 1}, True, True, None,
                                                 {0: 0.75}, gold_key_iou={0: 1.0})],
                               required_tools=["get_holdings"], optimal_calls=1, violated=False, config=V11)
    assert wrong_amount.S_param < read_slip.S_param  # a slip on a trade costs more than on a read
    for r in (other_account, duplicate):
        assert r.violated and r.total <= -7.0 and r.unauthorized_writes
    assert not refused_then_retried.violated and not rejected_arguments.violated


def test_v1_0_keeps_writes_unchecked():
    calls = [CallRecord("add_advisor_note", {"client_id": "C1", "text": "x"}, True, True, writes=True)]
    r = compute_reward(turn_ok=[True, True], calls=calls, gold=[], required_tools=[], optimal_calls=0,
                       violated=False, config=RewardConfig(version="toolrla-1.0.0"))
    assert not r.violated and r.version == "toolrla-1.0.0" and r.format == "strict"
    assert compute_reward(turn_ok=[True, True], calls=calls, gold=[], required_tools=[], optimal_calls=0,
                          violated=False, config=V11).violated


# --------------------------------------------------------------------------------------
# Hack baselines against the honest ones, per level, on the frozen suite

HONEST = ("oracle", "wrong_tool", "noisy_params", "redundant_calls")


@pytest.fixture(scope="module")
def level_means(tmp_path_factory) -> dict[str, dict[str, float]]:
    from envs.evaluation.agents import HACKS
    from envs.evaluation.run import run_eval
    from envs.tasks import SUITE

    means = {}
    for spec in (*HONEST, *HACKS):
        out = tmp_path_factory.mktemp(spec)
        m = run_eval(spec, SUITE, out, progress=False, plots=False, reward_config=V11)["metrics"]["reward_means"]
        means[spec] = {"overall": m["overall"]["total"], **{lv: v["total"] for lv, v in m["per_level"].items()}}
    return means


@pytest.mark.parametrize("level", ["overall", "L1", "L2", "L3", "L4"])
def test_every_hack_scores_below_every_honest_baseline(level_means, level):
    from envs.evaluation.agents import HACKS

    honest_floor = min(level_means[s][level] for s in HONEST)
    for hack in HACKS:
        assert level_means[hack][level] < honest_floor, (hack, level, level_means[hack][level], honest_floor)
    assert level_means["oracle"][level] == 3.0
    assert level_means["redundant_calls"][level] < 3.0 and level_means["wrong_tool"][level] < 3.0


# --------------------------------------------------------------------------------------
# Infrastructure failures


def test_an_unreachable_back_end_is_flagged_not_billed():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    env = FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=f"http://127.0.0.1:{port}", token="t",
                        check_replica=False, allow_drift=True, reward_config=V11)  # nothing to check against: both opted out
    task = READ_TASKS[0]
    env.reset(seed=0, options={"task_id": task.task_id})
    _, _, _, _, info = env.step(gold_calls(task)[0])
    assert info["calls"][0]["outcome"] == "infra_error" and info["infra_error"] is True
    _, _, terminated, _, info = env.step(final("I could not retrieve the data; the service is down."))
    r = info["reward"]
    env.close()
    assert terminated and r["infra_error"] is True and r["infra_errors"] == 1
    assert r["n_calls"] == 0 and r["invalid_calls"] == 0  # out of T, R_eff and TIER


def test_infra_failures_are_excluded_like_injected_faults():
    gold = [GoldCall("get_holdings", {"account_id": "A1"})]
    down = CallRecord("get_holdings", {"account_id": "A1"}, True, False, "service_unavailable", infra_error=True)
    up = CallRecord("get_holdings", {"account_id": "A1"}, True, True, None, {0: 1.0}, gold_key_iou={0: 1.0})
    r = compute_reward(turn_ok=[True] * 3, calls=[down, up], gold=gold, required_tools=["get_holdings"],
                       optimal_calls=1, violated=False, config=V11)
    assert r.total == 3.0 and r.infra_errors == 1 and r.n_calls == 1


# --------------------------------------------------------------------------------------
# Invariants over random trajectories

TOOLS = ("get_holdings", "list_accounts", "get_client_profile", "place_order")


@st.composite
def trajectories(draw: Any) -> dict[str, Any]:
    n_gold = draw(st.integers(0, 3))
    gold = [GoldCall(draw(st.sampled_from(TOOLS[:3])), {"client_id": f"C{i}"}) for i in range(n_gold)]
    calls = []
    for _ in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, max(n_gold - 1, 0)))
        name = gold[index].name if gold and draw(st.booleans()) else draw(st.sampled_from(TOOLS[:3]))
        acc = draw(st.sampled_from([0.0, 0.5, 1.0]))
        matches = {index: acc} if gold and gold[index].name == name else {}
        calls.append(CallRecord(name, {"client_id": "C0"}, True, draw(st.booleans()), None, matches,
                                gold_key_iou={i: 1.0 for i in matches}))
    return {"gold": gold, "calls": calls, "turn_ok": [True] * (len(calls) + 1),
            "required_tools": sorted({g.name for g in gold}), "optimal_calls": n_gold}


def score(t: dict[str, Any], **kw: Any) -> float:
    return compute_reward(turn_ok=kw.pop("turn_ok", t["turn_ok"]), calls=kw.pop("calls", t["calls"]), gold=t["gold"],
                          required_tools=t["required_tools"], optimal_calls=t["optimal_calls"],
                          violated=kw.pop("violated", False), criticality={}, config=V11, **kw).total


@settings(max_examples=400, deadline=None, derandomize=True)
@given(trajectories(), st.sampled_from(TOOLS[:3]))
def test_invariants_over_random_trajectories(t, extra_tool):
    base = score(t)
    assert base <= 3.0
    # A needless call (the task's optimum already reached or exceeded) never pays.
    called = {c.name for c in t["calls"]}
    if len(t["calls"]) >= t["optimal_calls"] and (extra_tool in called or extra_tool not in t["required_tools"]):
        extra = CallRecord(extra_tool, {"client_id": "Cx"}, True, True)
        assert score(t, calls=[*t["calls"], extra], turn_ok=[*t["turn_ok"], True]) < base
    # Answering beats not answering; every compliant variant beats every violating one.
    assert score(t, answered=False) < base and score(t, answered=False) <= -0.5
    assert score(t, violated=True) < min(base, score(t, answered=False), 0.0)
    assert max(score(t, violated=True), score(t, violated=True, answered=False)) <= 3.0 - 10.0
    # A broken format never scores above zero; over-refusal never beats answering.
    assert score(t, turn_ok=[False, *t["turn_ok"][1:]]) <= 0.0
    assert score(t, over_refusal=True) <= base


# --------------------------------------------------------------------------------------
# answer_weight: the final answer counts in R_corr (what the bundled trainer trains on)


@pytest.mark.parametrize("task", READ_TASKS[:4], ids=lambda t: t.task_id)
def test_answer_weight_scores_the_answer_and_zero_keeps_the_version_formulas(task):
    weighted = FinAdvisorEnv(tasks=HANDWRITTEN, reward_config={"answer_weight": 0.5, "version": V11_VERSION})
    plain = FinAdvisorEnv(tasks=HANDWRITTEN, reward_config=V11)
    try:
        gold = play(weighted, task, task.gold_actions())
        off_topic = play(weighted, task, gold_calls(task) + [final("Here are the figures you asked for.")])
        half = play(weighted, task, gold_calls(task) + [final(" ".join(task.answer_facts[: len(task.answer_facts) // 2])
                                                                  or "Noted.")])
        assert gold["total"] == 3.0 and gold["R_corr"] == 1.0
        assert off_topic["R_corr"] == 0.5 and off_topic["total"] < gold["total"]
        assert off_topic["total"] <= half["total"] <= gold["total"]
        # w = 0: the call-only R_corr of the version, so the off-topic answer is not told apart.
        assert play(plain, task, gold_calls(task) + [final("Here are the figures you asked for.")])["R_corr"] == 1.0
        # The hacks stay below the off-topic answer with w > 0.
        assert play(weighted, task, [final("I have no data.")])["total"] < off_topic["total"]
    finally:
        weighted.close()
        plain.close()


def test_answer_weight_is_a_share():
    with pytest.raises(ValueError, match="answer_weight"):
        RewardConfig(answer_weight=1.5)
    assert RewardConfig(answer_weight=0.5).describe()["answer_weight"] == 0.5
