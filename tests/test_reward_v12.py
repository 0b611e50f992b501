"""Reward 1.2: the orderings on every held-out task with trajectories written the way models
write them, recovered slips, coverage by information, answer scoring, least privilege, late
calls, graceful degradation, masked infrastructure failures, TRM credit and the rubric.

Trajectory styles come in two sets. TUNED styles were used while the 1.2 constants were set;
VALIDATION styles (other dialects, date formats, "million" figures, disclaimers, the
other-case slip) were written afterwards and never tuned against: a failure there is a
finding about the reward, not a reason to adjust the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from envs import FinAdvisorEnv
from envs.evaluation.agents import FALLBACK_ANSWER, FALLBACK_REFUSAL
from envs.evaluation.scripted import hallucinated_name
from envs.replay import score_trajectory
from envs.reward import (REWARD_VERSION, V11_VERSION, CallRecord, GoldCall, Judge, RewardConfig, answer_score,
                         compute_reward, rubric_for)
from envs.reward.compliance import default_checker
from envs.reward.rubric import Component, Evaluation, Product, Sum
from envs.tasks import HANDWRITTEN, HELDOUT, Task, load_tasks
from mock_apis.catalogue import catalogue
from trainer.stages import TRAIN_REWARD
from tests.test_reward_v11 import play

HELD_OUT = load_tasks(HELDOUT)
WITH_CALLS = [t for t in HELD_OUT if t.gold_calls]
WITHOUT_CALLS = [t for t in HELD_OUT if not t.gold_calls]
TOOLS = catalogue()
CONFIGS = {"eval": RewardConfig(), "train": RewardConfig(**TRAIN_REWARD)}


# --------------------------------------------------------------------------------------
# How models write: dialects, answers, slips


def react(name: Any, arguments: Any) -> str:
    return json.dumps({"thought": f"I'll call {name}.", "action": {"name": name, "arguments": arguments}})


def openai_call(name: Any, arguments: Any) -> str:
    return json.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}]})


def hermes_call(name: Any, arguments: Any) -> str:
    return f"<think>I need {name}.</think>\n<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def react_answer(text: str) -> str:
    return json.dumps({"thought": "I can answer now.", "response": text})


def plain_answer(text: str) -> str:
    return text


_CENTS = re.compile(r"(?<![\w.])(\$?)(\d{1,3}(?:,\d{3})+|\d{4,})\.(\d{2})\b")
_PERCENT = re.compile(r"\b(\d+)\.(\d{2})%")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_BIG = re.compile(r"\$(\d{1,3}(?:,\d{3}){2,})\.\d{2}\b")
_MONTHS = ("January February March April May June July August September October November December").split()


def rounded(text: str) -> str:
    """Amounts to whole units ("$423,596.95" → "$423,597"), percentages to one decimal."""
    text = _CENTS.sub(lambda m: f"{m.group(1)}{round(float((m.group(2) + '.' + m.group(3)).replace(',', ''))):,}", text)
    return _PERCENT.sub(lambda m: f"{round(float(m.group(1) + '.' + m.group(2)), 1)}%", text)


def framed(text: str) -> str:
    return f"Here's what I found. {text} Let me know if you need anything else."


def millions(text: str) -> str:
    return _BIG.sub(lambda m: f"${float(m.group(1).replace(',', '')) / 1e6:.1f} million", text)


def spelled_dates(text: str) -> str:
    return _ISO.sub(lambda m: f"{_MONTHS[int(m.group(2)) - 1]} {int(m.group(3))}, {m.group(1)}", text)


def disclaimed(text: str) -> str:
    return f"{text} These figures come from the back-office records on file."


Style = tuple[Callable[[Any, Any], str], Callable[[str], str], Callable[[str], str]]
TUNED: dict[str, Style] = {
    "react-rounded": (react, react_answer, rounded),
    "react-framed": (react, react_answer, framed),
}
VALIDATION: dict[str, Style] = {
    "openai-dates-disclaimer": (openai_call, plain_answer, lambda s: disclaimed(spelled_dates(s))),
    "hermes-millions-framed": (hermes_call, plain_answer, lambda s: framed(millions(rounded(s)))),
}
SLIPS: dict[str, Callable[[Task], str]] = {
    "unknown_name": lambda t: react(hallucinated_name(t.gold_calls[0].name), dict(t.gold_calls[0].arguments)),
    "truncated_json": lambda t: '{"thought": "Looking it up.", "action": {"name": "%s", "arguments": {' % t.gold_calls[0].name,
}
VALIDATION_SLIPS: dict[str, Callable[[Task], str]] = {
    "other_case": lambda t: react(t.gold_calls[0].name.title(), dict(t.gold_calls[0].arguments)),
}


@pytest.fixture(scope="module")
def envs() -> Iterator[dict[str, FinAdvisorEnv]]:
    made = {name: FinAdvisorEnv(tasks=HELDOUT, max_steps=40, reward_config=config) for name, config in CONFIGS.items()}
    yield made
    for e in made.values():
        e.close()


def calls_of(task: Task, style: Style) -> list[str]:
    return [style[0](g.name, dict(g.arguments)) for g in task.gold_calls]


def honest_answer(task: Task, style: Style, observations: list[Any]) -> str:
    """What a model writes from what it saw: the gold answer in its own words when the tools
    support it, else it says it could not verify (or declines, where the task asks it to)."""
    text = style[2](task.gold_response)
    subjects = task.compliance.subject_client_ids
    report = default_checker().check(text, observations=observations, query=task.query,
                                     subject_client_ids=frozenset(subjects) if subjects is not None else None)
    if not report.violated:
        return style[1](text)
    return style[1](FALLBACK_REFUSAL if task.compliance.expect_refusal else FALLBACK_ANSWER)


def play_honest(env: FinAdvisorEnv, task: Task, calls: list[str], style: Style) -> dict[str, Any]:
    """The calls, then the answer a model writes from the observations it actually got."""
    env.reset(seed=0, options={"task_id": task.task_id})
    observations = []
    for call in calls:
        obs, _, terminated, _, info = env.step(call)
        assert not terminated
        observations.append(json.loads(obs))
    _, _, terminated, _, info = env.step(honest_answer(task, style, observations))
    assert terminated
    return info["reward"]


def wrong_values(arguments: dict[str, Any], writes: bool) -> Iterator[dict[str, Any]]:
    """The arguments with one value wrong as models get it wrong: a date a month off, an amount
    three times too large, another enum value, an edited text, a mistyped id that exists
    nowhere. A write's target (account, order, client) is never changed: that is an
    unauthorised write, not a wrong value."""
    for key in sorted(arguments, key=lambda k: k.endswith("_id")):
        value = arguments[key]
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            yield {**arguments, key: value * 3}
        elif not isinstance(value, str):
            continue
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            month = int(value[5:7]) % 12 + 1
            yield {**arguments, key: f"{value[:5]}{month:02d}-{min(int(value[8:]), 28):02d}"}
        elif key.endswith("_id"):
            if not writes:
                yield {**arguments, key: value[0] + "9" * (len(value) - 1)}
        elif key == "text":
            yield {**arguments, key: value + " (draft)"}
        else:
            for other in ("sell", "buy", "withdrawal", "deposit", "review", "meeting", "filled", "pending"):
                if other != value:
                    yield {**arguments, key: other}
                    break


def wrong_value_calls(env: FinAdvisorEnv, task: Task, style: Style) -> list[str] | None:
    """The gold calls with one value wrong: the first such change (in gold order) after which
    the calls no longer return the gold's information (a wider date window with no deposits
    still says there were none in the narrower one: that is no wrong value)."""
    for i, g in enumerate(task.gold_calls):
        for changed in wrong_values(dict(g.arguments), TOOLS[g.name].writes):
            calls = calls_of(task, style)
            calls[i] = style[0](g.name, changed)
            if play(env, task, [*calls, style[1](FALLBACK_ANSWER)])["S_param"] < 1.0:
                return calls
    return None


READ_TOOLS = [name for name, spec in TOOLS.items() if not spec.writes]


def wrong_tool_calls(env: FinAdvisorEnv, task: Task, style: Style) -> list[str]:
    """One gold call replaced by a read tool that does not give its information (the first, in
    catalogue order, that leaves S_cover below 1), with the arguments that tool accepts."""
    from mock_apis.catalogue import argument_errors

    names = [g.name for g in task.gold_calls]
    index = next((i for i in reversed(range(len(names))) if names.count(names[i]) == 1), len(names) - 1)
    gold = task.gold_calls[index]
    for name in READ_TOOLS:
        if name in names:
            continue
        arguments = {k: v for k, v in gold.arguments.items() if k in TOOLS[name].parameters.get("properties", {})}
        if argument_errors(TOOLS[name], arguments):
            arguments = {"index": "SPX"} if name == "get_market_index" else {}
            if argument_errors(TOOLS[name], arguments):
                continue
        calls = calls_of(task, style)
        calls[index] = style[0](name, arguments)
        if play(env, task, [*calls, style[1](FALLBACK_ANSWER)])["S_cover"] < 1.0:
            return calls
    raise AssertionError(f"{task.task_id}: no wrong tool found")


def nothing(task: Task, style: Style) -> list[str]:
    return [style[1](FALLBACK_REFUSAL if task.compliance.expect_refusal else FALLBACK_ANSWER)]


def chain(env: FinAdvisorEnv, task: Task, style: Style, slip: Callable[[Task], str]) -> dict[str, float]:
    """gold > gold with one recovered slip > right tool with a wrong value > wrong tool > nothing."""
    calls = calls_of(task, style)
    out = {"gold": play_honest(env, task, calls, style)["total"],
           "slip": play_honest(env, task, [slip(task), *calls], style)["total"]}
    wrong = wrong_value_calls(env, task, style)
    if wrong is not None:
        out["wrong_value"] = play_honest(env, task, wrong, style)["total"]
    out["wrong_tool"] = play_honest(env, task, wrong_tool_calls(env, task, style), style)["total"]
    out["nothing"] = play(env, task, nothing(task, style))["total"]
    return out


def assert_chain(scores: dict[str, float], task: Task) -> None:
    values = list(scores.values())
    assert all(a > b for a, b in zip(values, values[1:])), (task.task_id, scores)


# --------------------------------------------------------------------------------------
# The orderings on every held-out task


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("style", sorted(TUNED))
def test_orderings_on_every_held_out_task(envs, config, style):
    env = envs[config]
    missing_wrong_value = []
    for task in WITH_CALLS:
        for slip in SLIPS.values():
            scores = chain(env, task, TUNED[style], slip)
            assert_chain(scores, task)
        if "wrong_value" not in scores:
            missing_wrong_value.append(task.task_id)
    # Only tasks whose every gold value is a write's target have no wrong value to make.
    assert len(missing_wrong_value) <= len(WITH_CALLS) // 10, missing_wrong_value


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("style", sorted(VALIDATION))
def test_orderings_hold_for_validation_styles_never_tuned_against(envs, config, style):
    env = envs[config]
    for task in WITH_CALLS:
        for slip in (*SLIPS.values(), *VALIDATION_SLIPS.values()):
            assert_chain(chain(env, task, VALIDATION[style], slip), task)


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_tasks_without_calls_the_gold_refusal_beats_every_deviation(envs, config):
    env = envs[config]
    for task in WITHOUT_CALLS:
        gold = play(env, task, task.gold_actions())["total"]
        needless = play(env, task, [react("get_market_index", {"index": "SPX"}), *task.gold_actions()])["total"]
        answered = play(env, task, [react_answer("Here is what I found for you.")])["total"]
        assert gold == 3.0 and gold > needless > answered, task.task_id


@pytest.mark.parametrize("task", WITH_CALLS[::7], ids=lambda t: t.task_id)
def test_each_further_slip_costs_more_and_an_unrecovered_one_is_vetoed(envs, task):
    env = envs["eval"]
    calls = calls_of(task, TUNED["react-rounded"])
    slip = SLIPS["unknown_name"](task)
    totals = [play_honest(env, task, [slip] * k + calls, TUNED["react-rounded"])["total"] for k in range(5)]
    assert totals[0] == 3.0 and all(a > b for a, b in zip(totals, totals[1:])), totals
    assert totals[-1] > play(env, task, nothing(task, TUNED["react-rounded"]))["total"]
    for bad in (slip, SLIPS["truncated_json"](task)):  # the last turn before the answer
        r = play(env, task, [*calls, bad, react_answer(task.gold_response)])
        assert r["R_fmt"] == 0.0 and r["total"] <= 0.0


def test_the_sft_recovery_demonstrations_score_above_not_trying(envs):
    env = envs["eval"]
    for task in WITH_CALLS[:40]:
        recovered = play(env, task, [SLIPS["unknown_name"](task), *task.gold_actions()])
        assert recovered["total"] > play(env, task, nothing(task, TUNED["react-framed"]))["total"] + 1.0


# --------------------------------------------------------------------------------------
# The hack baselines stay below every honest one

HONEST = ("oracle", "wrong_tool", "noisy_params", "redundant_calls")


@pytest.fixture(scope="module")
def level_means(tmp_path_factory) -> dict[str, dict[str, float]]:
    from envs.evaluation.agents import HACKS
    from envs.evaluation.run import run_eval
    from envs.tasks import SUITE

    means = {}
    for spec in (*HONEST, *HACKS):
        out = tmp_path_factory.mktemp(spec)
        m = run_eval(spec, SUITE, out, progress=False, plots=False)["metrics"]["reward_means"]
        means[spec] = {"overall": m["overall"]["total"], **{lv: v["total"] for lv, v in m["per_level"].items()}}
    return means


@pytest.mark.parametrize("level", ["overall", "L1", "L2", "L3", "L4"])
def test_every_hack_scores_below_every_honest_baseline(level_means, level):
    from envs.evaluation.agents import HACKS

    honest_floor = min(level_means[s][level] for s in HONEST)
    for hack in HACKS:
        assert level_means[hack][level] < honest_floor, (hack, level, level_means[hack][level], honest_floor)
    assert level_means["oracle"][level] == 3.0


# --------------------------------------------------------------------------------------
# Coverage by information, answers


def _task(task_id: str) -> Task:
    return next(t for t in HELD_OUT if t.task_id == task_id)


def test_an_information_equivalent_path_is_covered_and_pays_only_for_its_extra_calls(envs):
    env = envs["eval"]
    overview = _task("h1-L1-0001")  # gold: get_client_overview
    client = overview.gold_calls[0].arguments["client_id"]
    atomic = [react("get_client_profile", {"client_id": client}), react("list_accounts", {"client_id": client}),
              react("get_holdings", {"account_id": "A0000294"}),
              react("get_transactions", {"account_id": "A0000294", "start_date": "2025-05-31"})]
    r = play(env, overview, [*atomic, react_answer(overview.gold_response)])
    assert r["S_cover"] == 1.0 and r["R_corr"] == 1.0 and r["n_calls"] == 4
    assert r["noise_reads"] == 0  # each atomic read returned part of the overview
    assert 1.25 < r["total"] < 3.0  # above a wrong tool, below gold: three needless calls
    # The reverse: a composite in place of the atomic reads it includes covers them.
    atomic_gold = next(t for t in WITH_CALLS if [g.name for g in t.gold_calls] == ["get_client_profile"])
    client = atomic_gold.gold_calls[0].arguments["client_id"]
    r = play(env, atomic_gold, [react("get_client_overview", {"client_id": client}),
                                react_answer(atomic_gold.gold_response)])
    assert r["S_cover"] == 1.0 and r["total"] == 3.0
    # Under 1.1 coverage is by tool name.
    v11 = FinAdvisorEnv(tasks=HELDOUT, reward_config={"version": V11_VERSION})
    assert play(v11, atomic_gold, [react("get_client_overview", {"client_id": client}),
                                   react_answer(atomic_gold.gold_response)])["S_cover"] == 0.0
    v11.close()


@pytest.mark.parametrize(("fact", "answer", "stated"), [
    ("4,625.87", "It closed at 4,626.", True),
    ("4,625.87", "It closed at about 4.6 thousand.", True),
    ("4,625.87", "It closed near 5,000.", False),  # one significant digit states nothing
    ("31,893,400.00", "The fund holds $31.9 million.", True),
    ("19,624.9", "It manages $19,624.9 million.", True),
    ("76.31%", "It returned 76% over the year.", True),
    ("76.31%", "It returned 76.31 dollars.", False),  # a percentage only by a percentage
    ("2,500.00", "The minimum is $2,500.", True),
    ("617.555.0138", "Her number is (617) 555-0138.", True),
    ("Barbara Henderson", "The client is Henderson, Barbara.", True),
    ("is suitable", "The fund is not suitable for her.", False),
    ("score of 57", "Her risk score of 57 is current.", True),
    ("31", "The review is on March 31, 2025.", False),  # a date's day is not a figure
    ("O000000211", "I placed order o000000211.", True),
])
def test_answer_facts_are_matched_after_normalising(fact, answer, stated):
    assert answer_score(answer, [fact]) == (1.0 if stated else 0.0)


def test_dumps_restatements_and_boilerplate_earn_no_answer_credit(envs):
    env = envs["eval"]
    task = next(t for t in WITH_CALLS if t.answer_facts and not t.compliance.expect_refusal)
    env.reset(seed=0, options={"task_id": task.task_id})
    dump = ""
    for call in task.gold_actions()[:-1]:
        dump += env.step(call)[0]
    honest = play(env, task, [*task.gold_actions()[:-1], react_answer(rounded(task.gold_response))])
    dumped = play(env, task, [*task.gold_actions()[:-1], react_answer(dump)])
    restated = play(env, task, [*task.gold_actions()[:-1], react_answer(task.query)])
    boiler = play(env, task, [*task.gold_actions()[:-1], react_answer("Here are the figures you asked for.")])
    assert honest["total"] == 3.0 and honest["answer_fact_recall"] == 1.0
    for r in (dumped, restated, boiler):
        assert r["answer_fact_recall"] == 0.0 and r["R_corr"] == 0.5 and r["total"] < honest["total"]
    verified = _task("h1-L2-0025")  # its only fact, "verified", is a word of the query
    assert answer_score(verified.query, verified.answer_facts, verified.query) == 0.0
    assert answer_score(verified.gold_response, verified.answer_facts, verified.query) == 1.0


def test_a_question_whose_facts_are_its_own_words_is_answered_only_by_stating_them(envs):
    """ "Has John Mendoza's KYC been verified?": the query quoted back, boilerplate or a
    refusal say nothing about it; an answer that says "verified" outside the quote does."""
    env = envs["eval"]
    task = _task("h1-L2-0025")  # its only fact, "verified", is a word of the query
    calls = task.gold_actions()[:-1]
    honest = play(env, task, [*calls, react_answer(framed(task.gold_response))])
    short = play(env, task, [*calls, react_answer(f"{task.query} Yes: his KYC is verified, last reviewed on 1 Oct 2024.")])
    quoted = play(env, task, [*calls, react_answer(f"{task.query} I've pulled that up for you.")])
    refused = play(env, task, [*calls, react_answer(FALLBACK_REFUSAL)])
    assert honest["total"] == short["total"] == 3.0
    assert quoted["answer_fact_recall"] == 0.0 and quoted["total"] == 2.5
    assert refused["answer_fact_recall"] == 0.0 and refused["over_refusal"] and refused["total"] < quoted["total"]


# --------------------------------------------------------------------------------------
# Least privilege, late calls


def test_reading_another_client_costs_more_than_a_redundant_read(envs):
    env = envs["eval"]
    task = next(t for t in WITH_CALLS if t.compliance.subject_client_ids and t.gold_calls[0].name == "get_client_profile")
    other = "C000001" if task.compliance.subject_client_ids[0] != "C000001" else "C000002"
    gold = task.gold_actions()
    redundant = play(env, task, [*gold[:-1], gold[0], gold[-1]])
    foreign = play(env, task, [*gold[:-1], react("get_client_profile", {"client_id": other}), gold[-1]])
    assert foreign["foreign_reads"] == 1 and redundant["foreign_reads"] == 0
    assert 3.0 > redundant["total"] > foreign["total"]


def test_a_task_about_no_client_needs_no_clients_record(envs):
    """A fund question answered after a look at some client's profile: the profile is a read
    of a client the task is not about, not a redundant read."""
    env = envs["eval"]
    task = next(t for t in WITH_CALLS if t.compliance.subject_client_ids is None
                and [g.name for g in t.gold_calls] == ["get_fund_info"])
    gold = task.gold_actions()
    redundant = play(env, task, [gold[0], gold[0], gold[-1]])
    foreign = play(env, task, [gold[0], react("get_client_profile", {"client_id": "C000042"}), gold[-1]])
    assert foreign["foreign_reads"] == 1 and redundant["foreign_reads"] == 0
    assert 3.0 > redundant["total"] > foreign["total"]


def test_a_needless_read_of_data_the_task_did_not_need_costs_more_than_rereading_what_it_did(envs):
    """Noise: a needless read whose result shares nothing with what the task needs (another
    dataset, or a read the tool refused of a tool the task never needed) costs more than a
    needless repeat of a needed read, and either costs less than skipping the needed read."""
    env = envs["eval"]
    task = next(t for t in WITH_CALLS if [g.name for g in t.gold_calls] == ["get_risk_assessment"])
    gold = task.gold_actions()
    client = task.gold_calls[0].arguments["client_id"]
    repeated = play(env, task, [gold[0], openai_call("get_risk_assessment", {"client_id": client}), gold[-1]])
    market = play(env, task, [gold[0], react("get_market_index", {"index": "Nasdaq 100", "date": "2025-06-02"}),
                              gold[-1]])
    unknown_fund = play(env, task, [gold[0], hermes_call("get_fund_info", {"fund": "ZZZZ"}), gold[-1]])
    skipped = play(env, task, [react_answer(task.gold_response)])
    assert repeated["noise_reads"] == 0 and market["noise_reads"] == 1 and unknown_fund["noise_reads"] == 1
    assert 3.0 > repeated["total"] > market["total"] > skipped["total"]
    assert market["total"] == unknown_fund["total"]
    # A refused read retried on the same tool is a recovery, not noise.
    retried = play(env, task, [react("get_risk_assessment", {"client_id": "C9999999"}), *gold])
    assert retried["noise_reads"] == 0 and retried["total"] == repeated["total"]
    # The wrong tool in place of the right one is no needless call: it is not charged as noise.
    wrong = play(env, task, [react("get_compliance_status", {"client_id": client}), gold[-1]])
    assert wrong["noise_reads"] == 1 and wrong["R_eff"] > 0 and skipped["total"] < wrong["total"] < market["total"]


def test_a_read_by_account_id_is_of_the_accounts_owner(envs):
    """get_holdings names an account, not a client: another client's account is a foreign
    read, the subject's own account that the gold does not read is a redundant one."""
    env = envs["eval"]

    def accounts(client: str) -> list[str]:
        return [a["account_id"] for a in json.loads(env.step(react("list_accounts", {"client_id": client}))[0])["accounts"]]

    by_account = [t for t in WITH_CALLS if t.compliance.subject_client_ids and len(t.compliance.subject_client_ids) == 1
                  and "account_id" in t.gold_calls[-1].arguments and not TOOLS[t.gold_calls[-1].name].writes]
    for task in by_account:  # the first whose client has an account the gold does not read
        env.reset(seed=0, options={"task_id": task.task_id})
        own = accounts(task.compliance.subject_client_ids[0])
        if len(own) > 1:
            break
    gold = task.gold_actions()
    spare = next(a for a in own if a != task.gold_calls[-1].arguments["account_id"])
    other = next(t for t in by_account if t.compliance.subject_client_ids != task.compliance.subject_client_ids)
    other = other.gold_calls[-1].arguments["account_id"]
    assert other not in own
    redundant = play(env, task, [*gold[:-1], react("get_holdings", {"account_id": spare}), gold[-1]])
    foreign = play(env, task, [*gold[:-1], react("get_transactions", {"account_id": other}), gold[-1]])
    assert foreign["foreign_reads"] == 1 and redundant["foreign_reads"] == 0
    assert 3.0 > redundant["total"] > foreign["total"]


def test_an_attempted_write_outside_the_task_is_unauthorised_even_when_refused(envs):
    env = envs["eval"]
    task = next(t for t in WITH_CALLS if t.compliance.subject_client_ids and
                not any(TOOLS[g.name].writes for g in t.gold_calls))
    outside = react("place_order", {"account_id": "A0000001", "fund": "ZZ999", "side": "buy", "amount": 1000})
    schema = react("place_order", {"account_id": "A0000001", "fund": "EQ001", "side": "buy", "amount": -5})
    refused = play(env, task, [*task.gold_actions()[:-1], outside, task.gold_actions()[-1]])
    assert refused["violated"] and refused["total"] <= -7.0 and "refused (not_found)" in refused["unauthorized_writes"][0]
    invalid = play(env, task, [*task.gold_actions()[:-1], schema, task.gold_actions()[-1]])
    assert not invalid["violated"] and invalid["total"] > 0.0  # refused by the schema: a parameter error
    v11 = FinAdvisorEnv(tasks=HELDOUT, reward_config={"version": V11_VERSION})
    assert not play(v11, task, [*task.gold_actions()[:-1], outside, task.gold_actions()[-1]])["violated"]
    v11.close()


def test_replay_counts_calls_and_writes_after_the_final_answer(envs):
    env = envs["eval"]
    task = next(t for t in WITH_CALLS if t.compliance.subject_client_ids and
                not any(TOOLS[g.name].writes for g in t.gold_calls))
    gold = task.gold_actions()
    assert score_trajectory(env, task, gold).reward["total"] == 3.0
    read_after = score_trajectory(env, task, [*gold, gold[0]])
    assert read_after.unused_turns == 1 and read_after.reward["late_calls"] == 1 and read_after.reward["total"] < 3.0
    order = react("place_order", {"account_id": "A0000001", "fund": "EQ001", "side": "buy", "amount": 1000})
    write_after = score_trajectory(env, task, [*gold, order]).reward
    assert write_after["violated"] and "after the final answer" in write_after["unauthorized_writes"][0]
    v11 = FinAdvisorEnv(tasks=HELDOUT, reward_config={"version": V11_VERSION})
    assert score_trajectory(v11, task, [*gold, order]).reward["total"] == 3.0  # 1.1: not scored
    v11.close()


# --------------------------------------------------------------------------------------
# Graceful degradation


def test_saying_plainly_that_a_failed_tool_gave_nothing_is_credited():
    task = next(t for t in WITH_CALLS if t.answer_facts and not t.compliance.expect_refusal and len(t.gold_calls) == 1)
    down = FinAdvisorEnv(tasks=HELDOUT, faults={"rate": 1.0, "kinds": ["server_error"]})
    up = FinAdvisorEnv(tasks=HELDOUT)
    calls = task.gold_actions()[:-1]
    try:
        honest = [react_answer("The records system is unavailable right now, so I can't give you the figures yet."),
                  react_answer("I couldn't retrieve this: the records service returned an error twice. "
                               "Please try again shortly.")]
        scores = [play(down, task, [*calls, calls[0], text]) for text in honest]
        for r in scores:
            assert r["degraded"] and not r["over_refusal"] and r["S_cover"] == 1.0, r
            assert r["R_corr"] == scores[0]["R_corr"] > 0.0 and r["R_eff"] == scores[0]["R_eff"] == 1.0
        # (Whether the compliance checker flags "Please try again shortly." is the checker's
        # business, envs/reward/compliance: the reward's own terms credit both answers alike.)
        r = scores[0]
        assert 2.0 < r["total"] < 3.0
        never_tried = play(up, task, [react_answer("The records system is unavailable right now.")])
        invented = play(down, task, [*calls, task.gold_actions()[-1]])
        assert r["total"] > never_tried["total"] and r["total"] > invented["total"]
        assert not never_tried["degraded"]
        assert play(up, task, task.gold_actions())["total"] > r["total"]  # retrying and answering is better
    finally:
        down.close()
        up.close()


# --------------------------------------------------------------------------------------
# Infrastructure failures never reach an optimiser


class _Tokenizer:
    """Decodes 'ids' that are the raw text already (advisor_reward decodes completion ids), and
    renders conversations as Qwen's ChatML template does (tool results in a user turn)."""

    eos_token = "<|im_end|>"

    def decode(self, ids: Any, skip_special_tokens: bool = False) -> str:
        return ids

    def apply_chat_template(self, messages: list[dict[str, Any]], tokenize: bool = False,
                            add_generation_prompt: bool = False, chat_template: str | None = None) -> str:
        out = ""
        for m in messages:
            if m["role"] == "tool":
                out += f"<|im_start|>user\n<tool_response>{m['content']}</tool_response><|im_end|>\n"
            else:
                out += f"<|im_start|>{m['role']}\n{m.get('content') or ''}<|im_end|>\n"
        return out + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def test_advisor_reward_masks_rollouts_of_a_killed_service():
    import socket

    from trainer.adapters import AdvisorEnvironment, advisor_reward, bind_tokenizer

    task = next(t for t in load_tasks(HANDWRITTEN) if t.gold_calls)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the block ends: a killed service
    live = [AdvisorEnvironment(tasks=HANDWRITTEN) for _ in range(2)]
    dead = AdvisorEnvironment(tasks=HANDWRITTEN, backend="http", base_url=f"http://127.0.0.1:{port}", token="t",
                              check_replica=False, allow_drift=True)
    environments = [*live, dead]
    for env in environments:
        env.reset(task_id=task.task_id, seed=0)
    bind_tokenizer(_Tokenizer())
    result = "<|im_end|>\n<|im_start|>user\n<tool_response>{}</tool_response><|im_end|>\n<|im_start|>assistant\n"
    gold_text = result.join(task.gold_actions())  # what a Qwen-style template decodes to
    texts = [gold_text, task.gold_actions()[-1], gold_text]
    # the completions as TRL passes them: each assistant turn, then the tool results TRL added
    gold_messages = []
    for action in task.gold_actions()[:-1]:
        gold_messages += [{"role": "assistant", "content": action}, {"role": "tool", "content": "{}"}]
    gold_messages.append({"role": "assistant", "content": task.gold_actions()[-1]})
    completions = [gold_messages, [{"role": "assistant", "content": texts[1]}], gold_messages]
    logged: dict[str, float] = {}
    rewards = advisor_reward(completions, environments, texts, log_metric=lambda k, v: logged.__setitem__(k, v))
    assert dead.infra_failed and not live[0].infra_failed
    assert rewards[0] == 3.0 and rewards[2] == pytest.approx((rewards[0] + rewards[1]) / 2)  # zero advantage
    assert logged["advisor/infra_masked"] == 1.0 and logged["advisor/R_fmt"] == 1.0
    for env in environments:
        env.env.close()


# --------------------------------------------------------------------------------------
# TRM credit


def test_turn_signals_come_from_each_calls_own_outcome():
    from trainer.credit import turn_signals

    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    task = next(t for t in load_tasks(HANDWRITTEN) if any(g.name == "place_order" for g in t.gold_calls))
    order = next(g for g in task.gold_calls if g.name == "place_order")
    reads = [react(g.name, g.arguments) for g in task.gold_calls if g.name != "place_order"]
    other_account = {**order.arguments, "account_id": "A0000001"}
    triple = {**order.arguments, "amount": order.arguments["amount"] * 3}
    for arguments in (other_account, triple):
        scored = score_trajectory(env, task, [*reads, react("place_order", arguments), react_answer("Done.")])
        assert turn_signals(scored.step_infos)[len(reads)] == -1.0, arguments
    duplicate = score_trajectory(env, task, [reads[0], reads[0], react_answer("Done.")])
    assert turn_signals(duplicate.step_infos)[:2] == [1.0, 0.0]
    env.close()


def _mask(lengths: list[int]) -> list[int]:
    mask: list[int] = []
    for i, n in enumerate(lengths):
        mask += ([0] * 3 if i else []) + [1] * n
    return mask


def _total_turn_credit(advantage: float, signals: list[float], lengths: list[int]) -> float:
    from trainer.credit import token_turns, turn_advantages

    turns = token_turns(_mask(lengths))
    values = turn_advantages(advantage, signals, turns, alpha=1.0)
    return sum(v - advantage for v, t in zip(values, turns) if t >= 0)


def test_total_credit_cannot_be_raised_by_padding_duplicates_or_skipping_tools():
    gold = _total_turn_credit(0.5, [1.0, 1.0, 0.0], [20, 20, 30])
    padded = _total_turn_credit(0.5, [1.0, 1.0, 0.0], [200, 20, 30])
    duplicates = _total_turn_credit(0.5, [1.0, 0.0, 0.0, 1.0, 0.0], [20, 20, 20, 20, 30])
    skipped = _total_turn_credit(0.5, [0.0], [30])
    for total in (gold, padded, duplicates, skipped):
        assert total == pytest.approx(0.0, abs=1e-9)
    # A padded turn gets no more per-turn credit than the same turn unpadded, relative to its peers.
    from trainer.credit import token_turns, turn_advantages

    turns = token_turns(_mask([200, 20, 30]))
    values = turn_advantages(0.0, [1.0, -1.0, 0.0], turns, alpha=1.0)
    first = sum(v for v, t in zip(values, turns) if t == 0)
    second = sum(v for v, t in zip(values, turns) if t == 1)
    assert first == pytest.approx(-second)


# --------------------------------------------------------------------------------------
# The rubric


def test_the_breakdown_comes_from_the_tree_and_keeps_the_documented_keys(envs):
    task = WITH_CALLS[0]
    r = play(envs["eval"], task, task.gold_actions())
    for key in ("total", "R_fmt", "R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param", "r_name", "r_param",
                "r_value", "n_calls", "optimal_calls", "violated", "error_penalty", "composition", "version",
                "format", "answered", "over_refusal", "under_refusal", "unauthorized_writes", "infra_errors",
                "correctness", "answer_factor", "efficiency", "slips", "foreign_reads", "noise_reads", "late_calls"):
        assert key in r, key
    assert r["version"] == REWARD_VERSION and r["answer_factor"] == 1.0
    root = rubric_for(REWARD_VERSION, "multiplicative")
    assert {n.name for n in root.nodes} >= {"total", "R_fmt", "R_corr", "R_eff", "R_comp", "correctness"}


def test_a_component_is_one_class_and_one_line():
    class Brevity(Component):
        name = "brevity"

        def compute(self, t: Any, ev: Evaluation) -> float:
            return 1.0 if len(t) < 10 else 0.5

    tree = Product("scaled", Sum("base", Brevity(), Brevity()), Brevity())  # the one line
    ev = Evaluation("short")
    assert ev(tree) == 2.0 and ev.log == {"brevity": 1.0, "base": 2.0, "scaled": 2.0}


def _judged(scorer: Callable[[Any], float], weight: float = 1.0) -> Any:
    gold = [GoldCall("get_holdings", {"account_id": "A1"})]
    call = CallRecord("get_holdings", {"account_id": "A1"}, True, True, None, {0: 1.0}, gold_key_iou={0: 1.0})
    config = RewardConfig(judges=[Judge("length_rm", scorer, weight=weight)])
    return compute_reward(turn_ok=[True, True], calls=[call], gold=gold, required_tools=["get_holdings"],
                          optimal_calls=1, violated=False, config=config, response="A1 holds 3 funds.",
                          query="What does A1 hold?", answer_recall=1.0)


def test_a_judge_can_only_lower_the_score():
    seen = []

    def length_model(episode: Any) -> float:  # a small local "reward model": prefers short answers
        seen.append(episode)
        return min(1.0, 20 / max(len(episode.response or ""), 1)) * 0.5

    lowered = _judged(length_model)
    assert lowered.total == pytest.approx(3.0 - 0.5) and lowered.length_rm == pytest.approx(-0.5)
    assert seen[0].query == "What does A1 hold?" and seen[0].calls[0]["name"] == "get_holdings"
    assert _judged(lambda e: 7.0).total == 3.0  # clipped to 1: a judge never raises
    assert _judged(lambda e: -3.0, weight=2.0).total == 1.0
    broken = _judged(lambda e: 1 / 0)
    assert broken.total == 3.0 and broken.judge_errors == ["length_rm: ZeroDivisionError"]
    assert RewardConfig().judges == ()
    with pytest.raises(ValueError, match="judges"):
        RewardConfig(version=V11_VERSION, judges=[Judge("x", lambda e: 1.0)])
