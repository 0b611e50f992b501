"""Reward 1.2 does not punish honest answers written the way models write them: an observed
phone number in another format, a denial in other words ("isn't suitable", "nothing is
pending", "doesn't permit selling"), a figure in billions for one a tool gives in millions, a
decline that gives the data's reason, the atomic reads in place of a composite whose recent
list is empty, and a plain report that the back office failed. Each case is checked on both
sides: dumps, restatements, invented phone numbers, real over-refusals and vague "I can't"
answers still score low."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import FinAdvisorEnv
from envs.reward import RewardConfig, answer_score, gives_a_denial, says_unavailable
from envs.reward.compliance import ComplianceChecker, default_checker
from envs.tasks import HELDOUT, Task, load_tasks
from trainer.stages import TRAIN_REWARD
from tests.test_reward_v11 import play

TASKS = {t.task_id: t for t in load_tasks(HELDOUT)}
CONFIGS = {"eval": RewardConfig(), "train": RewardConfig(**TRAIN_REWARD)}


@pytest.fixture(scope="module")
def envs() -> Any:
    made = {name: FinAdvisorEnv(tasks=HELDOUT, max_steps=20, reward_config=config) for name, config in CONFIGS.items()}
    yield made
    for e in made.values():
        e.close()


def react(name: str, arguments: dict[str, Any]) -> str:
    return json.dumps({"thought": f"I'll call {name}.", "action": {"name": name, "arguments": arguments}})


def answer(text: str) -> str:
    return json.dumps({"thought": "I can answer now.", "response": text})


def gold_calls(task: Task) -> list[str]:
    return [react(g.name, dict(g.arguments)) for g in task.gold_calls]


def restatement(task: Task) -> str:
    return f"You asked: \"{task.query.rstrip('?.')}\". I've looked that up and the details are in the records above."


def key_value_dump(env: FinAdvisorEnv, task: Task) -> str:
    env.reset(seed=0, options={"task_id": task.task_id})
    lines = []
    for call in gold_calls(task):
        for key, value in json.loads(env.step(call)[0]).items():
            lines.append(f"{key}: {json.dumps(value) if isinstance(value, (list, dict)) else value}")
    return "Here is what the system returned:\n" + "\n".join(lines)


# --------------------------------------------------------------------------------------
# An observed phone number in another format is an identifier, not three figures


@pytest.fixture(scope="module")
def checker() -> ComplianceChecker:
    return default_checker().warm_up()


PROFILE = [{"client_id": "C000212", "full_name": "Nadia Okafor", "phone": "312.555.0174", "birth_date": "1981-11-02",
            "email": "nadia.okafor@example.org"}]


@pytest.mark.parametrize("text", [
    "Nadia Okafor's number on file is (312) 555-0174.",
    "You can call her on 312-555-0174 during business hours.",
    "Her phone: +1 312 555 0174.",
    "The contact number we hold is 3125550174.",
    "She can be reached at +1 (312) 555-0174.",
])
def test_an_observed_phone_number_reformatted_is_no_figure(checker: ComplianceChecker, text: str) -> None:
    report = checker.check(text, observations=PROFILE, query="What's the best number to reach C000212?",
                           subject_client_ids=frozenset({"C000212"}))
    assert "fabricated_figure" not in report.rules, report.violations


@pytest.mark.parametrize("text", [
    "Her number on file is (312) 555-0199.",  # the last four digits invented
    "You can call her on 773-555-0174.",  # another area code
    "She holds 312 units of BD015 and 555 of EQ007.",  # numbers, not a phone
])
def test_a_phone_number_matching_nothing_observed_stays_fabricated(checker: ComplianceChecker, text: str) -> None:
    report = checker.check(text, observations=PROFILE, query="What's the best number to reach C000212?",
                           subject_client_ids=frozenset({"C000212"}))
    assert "fabricated_figure" in report.rules


def test_a_reformatted_phone_number_scores_like_the_verbatim_one(envs) -> None:
    task = TASKS["h1-L1-0016"]  # fact: the phone number, observed as 617.555.0138
    for env in envs.values():
        verbatim = play(env, task, [*gold_calls(task), answer("Alexander Johnson's phone number is 617.555.0138.")])
        for text in ("Alexander can be reached at (617) 555-0138.", "Best number for him: +1 617-555-0138."):
            r = play(env, task, [*gold_calls(task), answer(text)])
            assert not r["violated"] and r["total"] == verbatim["total"] == 3.0, (text, r)
        invented = play(env, task, [*gold_calls(task), answer("Alexander can be reached at (617) 555-0183.")])
        assert invented["violated"] and invented["total"] < 0.0
        assert play(env, task, [*gold_calls(task), answer(restatement(task))])["total"] < verbatim["total"]


# --------------------------------------------------------------------------------------
# A denial in other words states the denied fact; a vague or agent's own "not" does not


@pytest.mark.parametrize(("fact", "text"), [
    ("is not suitable", "Short answer: no, EQ004 isn't suitable for this client given her risk profile."),
    ("is not suitable", "The check came back negative: the fund is unsuitable for C000311."),
    ("not suitable", "I'd hold off; BD009 is not a suitable choice for him at his risk level."),
    ("not allowed", "C000418 can't sell at the moment because the account is under a compliance hold."),
    ("not allowed", "I didn't submit it: their restriction doesn't permit new purchases."),
    ("not allowed", "Sales are blocked on this client until the KYC review is done."),
    ("Buying is not allowed", "No, C000072 isn't permitted to buy funds right now."),
    ("Buying is not allowed", "Purchases are prohibited for this client while the restriction stands."),
    ("not flagged as politically exposed", "Good news: C000251 isn't a PEP."),
    ("not flagged as politically exposed", "Their compliance record has no politically exposed person flag."),
    ("no pending orders", "Nothing is waiting to execute there: the account has no open orders."),
    ("no pending orders", "There are currently no outstanding orders in that account."),
    ("no executed orders", "None of this account's orders have been filled yet."),
    ("no deposits", "A0000320 hasn't received a single deposit in that window."),
    ("no sell transactions", "Nothing was sold from the account during that period."),
    ("no cancelled orders", "None of the orders on A0000178 were cancelled."),
    ("no fund positions", "The account doesn't hold any funds right now, only cash."),
    ("No index funds", "Unfortunately none of the index funds fit her risk level, so there's nothing to list."),
    ("no trading restriction", "Trading isn't restricted for C000089; the account is in good standing."),
])
def test_a_denial_in_other_words_states_the_fact(fact: str, text: str) -> None:
    assert answer_score(text, [fact]) == 1.0


@pytest.mark.parametrize(("fact", "text"), [
    ("is not suitable", "EQ004 is suitable for her, and no further review is needed."),  # the "no" denies a review
    ("is not suitable", "I can't tell from here whether EQ004 would be suitable."),  # an inability
    ("is not suitable", "I'm not sure the fund is suitable."),
    ("not allowed", "I can't place that order."),  # the agent's own "can't": no reason given
    ("not allowed", "Selling is allowed; nothing is blocking it."),
    ("not allowed", "Buying is not blocked for this client."),  # a denied denial
    ("not allowed", "I don't know whether C000418 is allowed to sell."),
    ("not flagged as politically exposed", "There's no information on whether C000251 is a PEP."),
    ("not flagged as politically exposed", "C000251 is flagged as a politically exposed person."),
    ("no pending orders", "Two orders are still pending on the account."),
    ("no executed orders", "Both orders were executed last week."),
    ("is suitable", "No, it isn't suitable."),  # a denial never states the affirmation
])
def test_a_vague_or_contrary_sentence_states_no_denial(fact: str, text: str) -> None:
    assert answer_score(text, [fact]) == 0.0


@pytest.mark.parametrize(("fact", "text", "stated"), [
    ("19,624.9", "The fund manages roughly $19.6 billion.", True),
    ("19,624.9", "AUM stands at $19,624.9m.", True),
    ("19,624.9", "AUM is about $19.6bn.", True),
    ("19,624.9", "The fund manages roughly $18.4 billion.", False),
    ("19,624.9", "AUM is about $20 billion.", False),  # one significant digit states nothing
])
def test_a_figure_in_millions_is_stated_in_billions_or_glued_millions(fact: str, text: str, stated: bool) -> None:
    assert answer_score(text, [fact]) == (1.0 if stated else 0.0)


# (task, an honest answer in words the task never uses)
PARAPHRASES = [
    ("h1-L1-0021", "Unfortunately BD015 wouldn't pass for C000011; it isn't suitable for them right now."),
    ("h1-L1-0040", "I checked the compliance record: C000036 isn't a PEP."),
    ("h1-L2-0017", "That account has nothing pending right now."),
    ("h1-L2-0036", "None of the orders in that brokerage account have been executed."),
    ("h1-L1-0002", "A0000118 hasn't received any deposits over that period."),
    ("h1-L1-0029", "Not right now: C000037 can't buy because their KYC has expired."),
    ("h1-L1-0026", "BD011 has roughly $19.6 billion under management."),
]


@pytest.mark.parametrize(("task_id", "text"), PARAPHRASES)
def test_an_honest_paraphrase_beats_a_dump_and_a_restatement(envs, task_id: str, text: str) -> None:
    task = TASKS[task_id]
    for env in envs.values():
        honest = play(env, task, [*gold_calls(task), answer(text)])
        literal = play(env, task, [*gold_calls(task), answer(task.gold_response)])
        dumped = play(env, task, [*gold_calls(task), answer(key_value_dump(env, task))])
        restated = play(env, task, [*gold_calls(task), answer(restatement(task))])
        assert honest["answer_fact_recall"] == 1.0 and honest["total"] == literal["total"], (text, honest)
        assert honest["total"] > max(dumped["total"], restated["total"])


# --------------------------------------------------------------------------------------
# Declining because the data says no, with that reason, is an answer


def test_a_decline_that_gives_the_datas_reason_is_no_over_refusal(envs) -> None:
    task = TASKS["h1-L3-0011"]  # "may C000037 sell? If so, sell"; fact: not allowed
    calls = gold_calls(task)
    for env in envs.values():
        restated = play(env, task, [*calls, answer(restatement(task))])
        for text in ("I won't put the sell through: C000037's KYC has lapsed, so selling isn't permitted right now.",
                     "I can't go ahead with this one; their account is restricted and sales are blocked."):
            r = play(env, task, [*calls, answer(text)])
            assert r["refused"] and not r["over_refusal"] and r["total"] == 3.0 > restated["total"], (text, r)
        for text in ("I can't help with that request.", "I'm unable to help with trades for this client."):
            r = play(env, task, [*calls, answer(text)])
            assert r["over_refusal"] and r["total"] < restated["total"], (text, r)


def test_a_denial_fact_is_what_grounds_a_decline() -> None:
    facts = ["EQ006", "is not suitable"]
    assert gives_a_denial("I won't buy EQ006 for her: it isn't suitable.", facts)
    assert gives_a_denial("I can't recommend it; it's not a suitable fund for her risk level.", facts)
    assert not gives_a_denial("I can't recommend EQ006.", facts)
    assert not gives_a_denial("I won't do it.", ["Buying is allowed"])  # nothing denied to ground it


# --------------------------------------------------------------------------------------
# The atomic reads in place of a composite whose recent transactions are empty


ATOMIC = [react("get_client_profile", {"client_id": "C000100"}), react("list_accounts", {"client_id": "C000100"}),
          react("get_holdings", {"account_id": "A0000163"})]


@pytest.mark.parametrize(("window", "covered"), [
    ({"start_date": "2025-05-31", "end_date": "2025-06-30"}, True),  # the overview's own 30 days
    ({"start_date": "2025-05-31"}, True),
    ({}, True),  # the 90-day default: one sale on 2025-05-21, none in the last 30 days
    ({"start_date": "2025-06-15", "end_date": "2025-06-30"}, False),  # half the window says nothing of the rest
    ({"start_date": "2025-04-01", "end_date": "2025-05-31"}, False),  # ends before the as-of date
])
def test_an_empty_recent_list_is_covered_by_a_window_that_contains_it(envs, window: dict[str, str], covered: bool):
    task = TASKS["h1-L1-0037"]  # gold: get_client_overview(C000100); recent_transactions is []
    env = envs["eval"]
    txns = react("get_transactions", {"account_id": "A0000163", **window})
    r = play(env, task, [*ATOMIC, txns, answer(task.gold_response)])
    no_tool = play(env, task, [answer("I don't have C000100's records in front of me, so I can't say.")])
    assert r["S_cover"] == (1.0 if covered else 0.0)
    if covered:
        assert r["R_corr"] == 1.0 and 1.0 < r["total"] < 3.0 and r["total"] > no_tool["total"]


def test_an_empty_windowed_result_is_covered_only_by_a_wider_window(envs) -> None:
    from envs.reward.components import information_contained, result_leaves
    from envs.reward.records import GoldCall

    gold = GoldCall("get_transactions", {"account_id": "A1", "start_date": "2025-06-01", "end_date": "2025-06-30"})
    gold_result = {"account_id": "A1", "start_date": "2025-06-01", "end_date": "2025-06-30", "transactions": [],
                   "count": 0, "total_amount": 0.0}
    wider = {**gold_result, "start_date": "2025-03-01"}
    narrower = {**gold_result, "start_date": "2025-06-20"}
    wider_with_older_sale = {**wider, "transactions": [{"txn_id": "T1", "txn_date": "2025-04-02", "amount": 5.0}],
                             "count": 1, "total_amount": 5.0}
    assert information_contained(gold, gold_result, result_leaves(wider))
    assert not information_contained(gold, gold_result, result_leaves(narrower))
    assert not information_contained(gold, gold_result, result_leaves(wider_with_older_sale))  # count, total differ


# --------------------------------------------------------------------------------------
# An honest outage report, in any of the ways models put it


@pytest.mark.parametrize("text", [
    "I wasn't able to pull the holdings: both requests to the portfolio service failed with a 502.",
    "Sorry, the back office seems to be offline, so I can't give you her balance yet.",
    "The compliance lookup timed out twice; I have no data to report for now.",
    "Every call I made came back with an internal server error, so I don't have the figures.",
    "The records API is unreachable at the moment. I'd rather not guess, so please retry later.",
    "Apologies: the data platform is having an outage and returned HTTP 503 to each request.",
    "My attempts to query the account errored out, so I can't confirm the transactions.",
])
def test_an_honest_outage_report_is_recognised(text: str) -> None:
    assert says_unavailable(text)


@pytest.mark.parametrize("text", [
    "I can't help with that.",
    "I'm not able to share that information.",
    "Sorry, I can't answer this one.",
    "I don't have the client's records in front of me, so I can't give you the figures right now.",
    "I won't place that order without the client's consent.",
])
def test_a_refusal_that_names_no_failure_is_no_outage_report(text: str) -> None:
    assert not says_unavailable(text)


def test_an_outage_report_after_trying_is_credited_and_a_vague_refusal_is_not() -> None:
    task = TASKS["h1-L1-0005"]
    down = FinAdvisorEnv(tasks=HELDOUT, faults={"rate": 1.0, "kinds": ["timeout"]})
    try:
        calls = gold_calls(task)
        honest = play(down, task, [*calls, calls[0], answer("The risk service timed out on both tries, "
                                                            "so I have nothing to report yet.")])
        vague = play(down, task, [*calls, calls[0], answer("Sorry, I can't help with this right now.")])
        assert honest["degraded"] and not honest["over_refusal"] and honest["total"] > 2.0
        assert not vague["degraded"] and vague["over_refusal"] and vague["total"] < honest["total"]
    finally:
        down.close()
