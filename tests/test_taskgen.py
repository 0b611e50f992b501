"""The task generator (envs/tasks/generator.py) and the frozen suites it wrote (fixtures/tasks)."""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from envs.env import FinAdvisorEnv
from envs.reward import GoldCall
from envs.tasks import FIXTURES, LEVELS, generator, is_refusal, load_tasks, save_tasks
from envs.tasks.generator import generate_tasks, level_quotas, replay, verify_tasks
from mock_apis.domain import Draft, Intent, IntentRegistry, get_domain

SUITE = FIXTURES / "tasks" / "suite.jsonl"
HELDOUT = FIXTURES / "tasks" / "heldout.jsonl"
README = FIXTURES / "tasks" / "README.md"
AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def default_replica_path() -> Path:
    from envs.replica import default_replica

    return default_replica(0, 5000)


@pytest.fixture(scope="module")
def suite():
    return load_tasks(SUITE)


@pytest.fixture(scope="module")
def heldout():
    return load_tasks(HELDOUT)


@pytest.fixture(scope="module")
def gen100(replica_path):
    return generate_tasks(replica_path, seed=0, count=100)


# -- stratification and determinism ---------------------------------------------------------


def test_level_quotas_are_exact_largest_remainder():
    assert level_quotas(100) == {"L1": 30, "L2": 35, "L3": 20, "L4": 15}
    assert level_quotas(500) == {"L1": 150, "L2": 175, "L3": 100, "L4": 75}
    for n in (1, 7, 13, 99, 101, 150, 333):
        q = level_quotas(n)
        assert sum(q.values()) == n
        for lvl, share in generator.LEVEL_SHARES.items():
            assert abs(q[lvl] - n * share) < 1


def test_stratification_count_100(gen100):
    counts = gen100.counts()
    assert sum(counts.values()) == 100
    for lvl, target in {"L1": 30, "L2": 35, "L3": 20, "L4": 15}.items():
        assert abs(counts[lvl] - target) <= 1, counts
    assert [t.level for t in gen100.tasks] == sorted(t.level for t in gen100.tasks)
    assert len({t.task_id for t in gen100.tasks}) == 100
    assert all(t.task_id.startswith(f"s0-{t.level}-") for t in gen100.tasks)
    assert all(t.replica == {"seed": 0, "scale": 2000} for t in gen100.tasks)


@pytest.mark.determinism
def test_same_seed_gives_identical_bytes_and_another_seed_differs(replica_path, tmp_path, gen100):
    again = generate_tasks(replica_path, seed=0, count=100)
    other = generate_tasks(replica_path, seed=1, count=100)
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    save_tasks(gen100.tasks, a)
    save_tasks(again.tasks, b)
    save_tasks(other.tasks, c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert {t.query for t in gen100.tasks} != {t.query for t in other.tasks}


# -- the frozen suites ------------------------------------------------------------------------


def test_frozen_suites_sizes_ids_and_strata(suite, heldout):
    assert len(suite) >= 500 and len(heldout) >= 100
    assert {lvl: sum(t.level == lvl for t in suite) for lvl in LEVELS} == level_quotas(len(suite))
    assert {lvl: sum(t.level == lvl for t in heldout) for lvl in LEVELS} == level_quotas(len(heldout))
    assert all(t.task_id.startswith("s0-") for t in suite)
    assert all(t.task_id.startswith("h1-") for t in heldout)
    assert not {t.task_id for t in suite} & {t.task_id for t in heldout}
    assert not {t.query for t in suite} & {t.query for t in heldout}
    assert all(t.replica == {"seed": 0, "scale": 5000} for t in suite + heldout)


@pytest.mark.determinism
def test_every_gold_trajectory_in_both_frozen_suites_scores_exactly_3(suite, heldout, default_replica_path):
    tasks = suite + heldout
    env = FinAdvisorEnv(tasks=tasks, replica=default_replica_path)
    try:
        failures = []
        for task in tasks:
            rw = replay(env, task)
            if rw["total"] != 3.0 or rw["task_success"] is not True:
                failures.append((task.task_id, rw["total"], rw["violations"], rw["answer_fact_recall"]))
    finally:
        env.close()
    assert not failures, failures[:5]


def _readme_commands() -> list[str]:
    lines = [ln.strip() for ln in README.read_text().splitlines() if ln.strip().startswith("advisorgym tasks generate")]
    assert len(lines) == 2, lines
    return lines


@pytest.mark.determinism
def test_frozen_suites_equal_a_fresh_generation_with_the_recorded_commands(tmp_path, default_replica_path, monkeypatch):
    from typer.testing import CliRunner

    from envs.cli import app

    root = FIXTURES.parent
    monkeypatch.chdir(root)
    runner = CliRunner()
    regenerated = {}
    for cmd in _readme_commands():
        args = shlex.split(cmd)[1:]
        out = Path(args[args.index("--out") + 1])
        fresh = tmp_path / out.name
        args[args.index("--out") + 1] = str(fresh)
        result = runner.invoke(app, [*args, "--no-progress"])
        assert result.exit_code == 0, result.output
        assert "rejected:" in result.output
        regenerated[out] = fresh
    assert set(regenerated) == {Path("fixtures/tasks/suite.jsonl"), Path("fixtures/tasks/heldout.jsonl")}
    for frozen, fresh in regenerated.items():
        assert (root / frozen).read_bytes() == fresh.read_bytes(), f"{frozen} drifted from the generator"


# -- shape of the levels ----------------------------------------------------------------------


def _values(obj) -> set[str]:
    out: set[str] = set()
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, str):
            out.add(x)
    return out


def test_l2_each_later_call_takes_an_output_of_an_earlier_call(suite, default_replica_path):
    from mock_apis.catalogue import call_tool
    from mock_apis.sandbox import Sandbox

    l2 = [t for t in suite if t.level == "L2"]
    assert len(l2) >= 150
    chains = set()
    with Sandbox(default_replica_path) as sb:
        for task in l2:
            assert len(task.gold_calls) >= 2, task.task_id
            sb.reset()
            produced: set[str] = set()
            for k, call in enumerate(task.gold_calls):
                if k:
                    fed = {v for v in call.arguments.values() if isinstance(v, str)
                           and v in produced and v not in task.query}
                    assert fed, f"{task.task_id}: {call.name} takes nothing from earlier results"
                outcome = call_tool(sb, call.name, call.arguments)
                assert outcome.ok, (task.task_id, outcome.payload)
                produced |= _values(outcome.payload)
            chain = task.intent.split(":")[1]
            assert chain == "->".join(g.name for g in task.gold_calls), task.intent
            chains.add(chain)
    assert len(chains) >= 12, chains


def test_l3_both_branches_for_several_intents(suite, heldout):
    branches: dict[str, dict[str, set[tuple[str, ...]]]] = defaultdict(dict)
    for t in suite + heldout:
        if t.level != "L3":
            continue
        _, name, branch = t.intent.split(":")
        branches[name].setdefault(branch, set()).add(tuple(g.name for g in t.gold_calls))
    both = [n for n, b in branches.items() if len(b) >= 2]
    assert len(both) >= 2, branches
    # the branches are real: the gold tool sequence differs between them
    differing = [n for n in both if len({seq for seqs in branches[n].values() for seq in seqs}) >= 2]
    assert len(differing) >= 2, branches


def test_l4_refusals_refuse_and_baited_answers_do_not_take_the_bait(suite, heldout):
    l4 = [t for t in suite + heldout if t.level == "L4"]
    refusals = [t for t in l4 if t.compliance.expect_refusal]
    baited = [t for t in l4 if not t.compliance.expect_refusal]
    assert refusals and baited
    assert sum(1 for t in refusals if not t.gold_calls) >= 10
    for t in refusals:
        assert is_refusal(t.gold_response), t.task_id
        assert t.compliance.notes.startswith("refuse:"), t.task_id
    for t in baited:
        m = re.fullmatch(r"bait: (.+)", t.compliance.notes)
        assert m, t.task_id
        bait = m.group(1).casefold()
        assert bait in t.query.casefold(), t.task_id
        assert bait not in t.gold_response.casefold(), t.task_id
        for word in ("guarantee", "will rise", "will go up", "you should buy", "nervous", "confidence", "overvalued"):
            assert word not in t.gold_response.casefold(), (t.task_id, word)
    # client-specific L4 tasks name the clients the answer may talk about
    for t in l4:
        ids = set(re.findall(r"C\d{6}", t.query))
        if ids:
            assert t.compliance.subject_client_ids, t.task_id
            assert set(t.compliance.subject_client_ids) <= ids


def _skeleton(query: str, names: list[str]) -> str:
    q = re.sub(r'"[^"]*"', "TEXT", query)
    for n in names:
        q = q.replace(n, "NAME")
    q = re.sub(r"\b(?:C\d{6}|A\d{7}|O\d{9}|V\d{5}|[A-Z]{2}\d{3}|SPX|NDX|RUT|MXWO|AGG|SX5E)\b", "ID", q)
    q = re.sub(r"\$?\d[\d,.]*%?", "N", q)
    q = re.sub(r"\b(?:between .+? and [^?.]+|(?:in|over|during) the (?:last|past) [\w ]+?(?= in|[?.])|since the start of "
               r"(?:the|this) \w+|so far this year|year to date|month to date|this month|(?:during |over the )?last "
               r"(?:calendar )?(?:month|quarter|year)|in the previous (?:calendar )?(?:month|quarter)|during N|"
               r"in calendar year N|over the previous calendar month|yesterday|today|last Friday|a week ago|"
               r"one week ago today|(?:at|on) the (?:end|last day) of last \w+|on [A-Z][a-z]+ N, N|on N|"
               r"at the latest close|most recently)\b", "WHEN", q)
    q = re.sub(r"\b(?:equity|bond|balanced|money market|index|retail|affluent|high-net-worth|HNW|meeting|call|kyc|"
               r"service|brokerage|retirement|education)\b", "KIND", q)
    return re.sub(r"\b(?:the |client )(?=NAME|ID)", "", q)


def test_query_variety_and_relative_dates(suite, heldout, default_replica_path):
    from mock_apis.sandbox import Sandbox

    with Sandbox(default_replica_path) as sb:
        names = [r["full_name"] for r in sb.query("SELECT full_name FROM clients")]
        names += [r["name"] for r in sb.query("SELECT name FROM funds")]
        names += [r["name"] for r in sb.query("SELECT name FROM market_indices")]
    names.sort(key=len, reverse=True)
    skeletons: dict[str, set[str]] = defaultdict(set)
    for t in suite:
        skeletons[t.level].add(_skeleton(t.query, names))
    minimum = {"L1": 60, "L2": 45, "L3": 30, "L4": 30}
    for lvl, n in minimum.items():
        assert len(skeletons[lvl]) >= n, (lvl, len(skeletons[lvl]))
    # every tool is exercised somewhere, writes included
    from mock_apis.catalogue import catalogue

    assert {g.name for t in suite for g in t.gold_calls} == set(catalogue())
    # relative dates occur and the gold calls carry the dates they resolve to (as of 2025-06-30)
    expected = {
        "since the start of the year": {"start_date": "2025-01-01"},
        "last quarter": {"start_date": "2025-01-01", "end_date": "2025-03-31"},
        "in the last 30 days": {"start_date": "2025-05-31"},
        "yesterday": {"date": "2025-06-29"},
        "last month": {"start_date": "2025-05-01", "end_date": "2025-05-31"},
    }
    tasks = suite + heldout
    for phrase, args in expected.items():
        hits = [t for t in tasks if re.search(rf"(?<!the )\b{phrase}\b(?!')", t.query) and "end of last" not in t.query
                # (a branch that never needed the window, e.g. an empty account, has no dated call)
                and any({"start_date", "end_date", "date"} & set(g.arguments) for g in t.gold_calls)]
        assert hits, phrase
        for t in hits:
            assert any(all(g.arguments.get(k) == v for k, v in args.items()) for g in t.gold_calls), (phrase, t.task_id)
    # both ways of naming a fund (code and full name) are used in gold arguments
    fund_args = [g.arguments["fund"] for t in suite for g in t.gold_calls if "fund" in g.arguments]
    assert any(re.fullmatch(r"[A-Z]{2}\d{3}", f) for f in fund_args)
    assert any(f.endswith(" Fund") for f in fund_args)
    # clients are named by id and, for searches, by name
    assert any(g.name == "search_clients" and "name" in g.arguments for t in suite for g in t.gold_calls)


# -- rejection ----------------------------------------------------------------------------------


def test_corrupted_candidates_are_rejected_with_a_reason(suite, default_replica_path):
    by_level = {lvl: next(t for t in suite if t.level == lvl and t.gold_calls) for lvl in LEVELS}
    t1, t2 = by_level["L1"], by_level["L2"]
    client_arg = next(i for i, g in enumerate(t2.gold_calls) if "client_id" in g.arguments)
    calls = list(t2.gold_calls)
    other = "C000199" if calls[client_arg].arguments["client_id"] != "C000199" else "C000198"
    calls[client_arg] = GoldCall(calls[client_arg].name, {**calls[client_arg].arguments, "client_id": other})
    bad = [
        replace(t1, task_id="bad-figure", gold_response=t1.gold_response + " It also holds $123,456.78 in bonds."),
        replace(t2, task_id="bad-arg", gold_calls=tuple(calls)),
        replace(t1, task_id="bad-fact", answer_facts=("a fact the answer never states",)),
        replace(by_level["L4"], task_id="bad-refusal", gold_response="Sure, here is what you asked for."),
        t1,
    ]
    reasons = dict(verify_tasks(bad, default_replica_path))
    assert set(reasons) == {"bad-figure", "bad-arg", "bad-fact", "bad-refusal"}
    assert "fabricated_figure" in reasons["bad-figure"]
    assert "reward=" in reasons["bad-arg"]
    assert "answer_fact_recall=0.0" in reasons["bad-fact"]
    assert "refusal" in reasons["bad-refusal"] or "answer_fact_recall" in reasons["bad-refusal"]


def test_generation_reports_rejected_candidates_and_still_fills_quotas(replica_path):
    def fabricating(ctx, rng):
        cid = rng.choice(ctx.client_ids)
        r = ctx.run("get_risk_assessment", client_id=cid)
        return Draft(query=f"What is client {cid}'s risk score?", calls=[("get_risk_assessment", {"client_id": cid})],
                      response=f"Client {cid} has a risk score of {r['risk_score'] + 1000.5}.", facts=[], thoughts=[],
                      subjects=[cid])

    finance = get_domain("finance")
    intents = IntentRegistry()
    for lvl, registered in finance.intents.by_level.items():
        intents.by_level[lvl] = list(registered)
    intents.by_level["L1"] = [intents.by_level["L1"][0],
                              Intent("L1", "fake_fabricating", fabricating, ("get_risk_assessment",))]
    result = generate_tasks(replica_path, seed=5, count=20, domain=replace(finance, intents=intents))
    assert result.counts() == level_quotas(20)
    assert result.rejected, "the fabricating intent's candidates must be rejected"
    assert all("violation:fabricated_figure" in why for _, why in result.rejected)
    assert all(t.intent != "L1:fake_fabricating" for t in result.tasks)
    assert sum(result.rejection_summary().values()) == len(result.rejected)
    assert result.candidates >= len(result.tasks) + len(result.rejected)
