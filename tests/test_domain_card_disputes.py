"""The second domain, card disputes, end to end: the same checks finance passes.

Its replica is deterministic; its tools enforce the dispute rules with structured errors; its
shipped suite (``fixtures/domains/card_disputes/``) is generated and verified (every gold
trajectory scores 3.0); the env passes Gymnasium's ``check_env`` with ``domain="card_disputes"``;
the oracle scores 3.0 on every task in ``eval``; the hack baselines score below the honest
ones; ``serve --domain card_disputes`` gives the same observations and rewards over HTTP as
in process; and the trainer's GRPO rows carry this domain's prompt and tools.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import orjson
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs.env import FinAdvisorEnv
from envs.evaluation.outputs import EPISODES
from envs.evaluation.run import run_eval
from envs.replica import default_replica
from envs.tasks import load_tasks
from mock_apis.catalogue import call_tool
from mock_apis.domain import get_domain
from mock_apis.sandbox import Sandbox

DOMAIN = get_domain("card_disputes")
SUITE = DOMAIN.suite_path
HELDOUT = DOMAIN.heldout_path
TASKS = load_tasks(SUITE) if SUITE.is_file() else []


@pytest.fixture(scope="module")
def replica() -> Path:
    return default_replica(domain=DOMAIN)


@pytest.fixture()
def sandbox(replica):
    with Sandbox(replica, DOMAIN.schema) as sb:
        yield sb


def call(sb, name, **arguments):
    return call_tool(sb, name, arguments, DOMAIN.tools)


def episodes(out: Path) -> list[dict]:
    return [orjson.loads(line) for line in (out / EPISODES).read_bytes().splitlines() if line.strip()]


# --------------------------------------------------------------------------------------
# Replica and tools


#: The rows of the seed-0 replica the shipped suite is written for (a change to the generator that moves
#: them must bump GENERATOR_VERSION and regenerate the suite, the held-out split and the contract).
REPLICA_ROWS_SHA256 = "729532d2525292084069799dcbacc3402359c98e3c3c55773d05b119cc753dc0"


def test_replica_is_deterministic_and_its_own(tmp_path, replica):
    from mock_apis.domains.card_disputes.generate import replica_digest

    a = DOMAIN.generate_replica(tmp_path / "a.sqlite", seed=0, scale=DOMAIN.default_scale)
    b = DOMAIN.generate_replica(tmp_path / "b.sqlite", seed=1, scale=DOMAIN.default_scale)
    assert replica_digest(a) == replica_digest(replica) == REPLICA_ROWS_SHA256 != replica_digest(b)
    with Sandbox(replica, DOMAIN.schema) as sb:
        assert sb.meta["domain"] == "card_disputes" and sb.scalar("SELECT COUNT(*) FROM card_transactions") == 4000


def test_eight_tools_three_of_them_writes():
    tools = DOMAIN.tools.tools
    assert len(tools) == 8
    assert sorted(n for n, s in tools.items() if s.writes) == ["add_dispute_note", "issue_provisional_credit",
                                                               "open_dispute"]


def _txn(sb, where: str) -> dict:
    row = sb.query_one("SELECT t.txn_id FROM card_transactions t JOIN cards c ON c.card_id = t.card_id "
                       f"WHERE {where} ORDER BY t.txn_id LIMIT 1")
    assert row is not None, where
    return row["txn_id"]


def test_open_dispute_enforces_the_rules_with_structured_errors(sandbox):
    sb = sandbox
    recent = "t.txn_type = 'purchase' AND t.status = 'posted' AND t.txn_date >= date(?, '-100 days')"
    ok = _txn(sb, recent.replace("?", f"'{sb.as_of}'") + " AND c.status = 'active' AND t.txn_id NOT IN "
                                                         "(SELECT txn_id FROM disputes)")
    opened = call(sb, "open_dispute", txn_id=ok, reason="not_received")
    assert opened.ok and opened.payload["status"] == "open" and opened.payload["opened_on"] == sb.as_of
    again = call(sb, "open_dispute", txn_id=ok, reason="duplicate")
    assert again.error == "conflict" and opened.payload["dispute_id"] in again.payload["message"]
    old = _txn(sb, f"t.txn_type = 'purchase' AND t.status = 'posted' AND t.txn_date < date('{sb.as_of}', "
                   "'-130 days') AND c.status = 'active'")
    outside = call(sb, "open_dispute", txn_id=old, reason="fraud")
    assert outside.error == "rule_violation" and "120 days" in outside.payload["message"]
    pending = _txn(sb, "t.status = 'pending' AND t.txn_type = 'purchase' AND c.status = 'active'")
    assert call(sb, "open_dispute", txn_id=pending, reason="fraud").error == "rule_violation"
    blocked = _txn(sb, recent.replace("?", f"'{sb.as_of}'") + " AND c.status = 'blocked' AND t.txn_id NOT IN "
                                                              "(SELECT txn_id FROM disputes)")
    refused = call(sb, "open_dispute", txn_id=blocked, reason="not_received")
    assert refused.error == "rule_violation" and "blocked" in refused.payload["message"]
    assert call(sb, "open_dispute", txn_id=blocked, reason="fraud").ok
    too_much = call(sb, "open_dispute", txn_id=_txn(sb, recent.replace("?", f"'{sb.as_of}'")
                                                    + " AND c.status = 'active' AND t.txn_id NOT IN (SELECT txn_id "
                                                      f"FROM disputes) AND t.txn_id != '{ok}'"),
                    reason="wrong_amount", amount=999999)
    assert too_much.error == "rule_violation"
    assert call(sb, "open_dispute", txn_id="P999999999", reason="fraud").error == "not_found"
    assert call(sb, "open_dispute", txn_id=ok, reason="bored").error == "invalid_arguments"
    sb.reset()
    assert call(sb, "open_dispute", txn_id=ok, reason="not_received").ok  # the episode's writes are gone


def test_provisional_credit_and_notes_enforce_the_rules(sandbox):
    sb = sandbox
    credited = sb.scalar("SELECT dispute_id FROM provisional_credits ORDER BY dispute_id LIMIT 1")
    assert call(sb, "issue_provisional_credit", dispute_id=credited).error == "conflict"
    lost = sb.scalar("SELECT dispute_id FROM disputes WHERE status IN ('lost', 'withdrawn') ORDER BY dispute_id")
    assert call(sb, "issue_provisional_credit", dispute_id=lost).error == "rule_violation"
    eligible = sb.scalar("SELECT dispute_id FROM disputes WHERE status IN ('open', 'under_review') AND amount <= 2500 "
                         "AND dispute_id NOT IN (SELECT dispute_id FROM provisional_credits) ORDER BY dispute_id")
    credit = call(sb, "issue_provisional_credit", dispute_id=eligible)
    assert credit.ok and call(sb, "get_dispute", dispute_id=eligible).payload["provisional_credit"] == credit.payload
    note = call(sb, "add_dispute_note", dispute_id=lost, text="  Cardholder informed.  ")
    assert note.ok and note.payload["text"] == "Cardholder informed."
    assert call(sb, "add_dispute_note", dispute_id=lost, text="    ").error == "invalid_arguments"


# --------------------------------------------------------------------------------------
# The suite


def test_suite_has_about_100_tasks_over_every_level_and_intent():
    assert 95 <= len(TASKS) <= 110
    levels = {lvl: sum(t.level == lvl for t in TASKS) for lvl in ("L1", "L2", "L3", "L4")}
    assert levels == {"L1": 30, "L2": 35, "L3": 20, "L4": 15}
    names = {t.intent.split(":")[1] if t.level in ("L1", "L4") else t.intent for t in TASKS}
    assert len(names) >= 20
    assert sum(t.compliance.expect_refusal for t in TASKS) >= 8
    heldout = load_tasks(HELDOUT)
    assert heldout and not {t.query for t in heldout} & {t.query for t in TASKS}


def test_generation_is_deterministic_and_verified(replica):
    from envs.tasks.generator import generate_tasks

    a = generate_tasks(replica, seed=5, count=12, domain=DOMAIN)
    b = generate_tasks(replica, seed=5, count=12, domain=DOMAIN)
    assert [t.to_json() for t in a.tasks] == [t.to_json() for t in b.tasks] and len(a.tasks) == 12


def _answer(env, task, answer):
    """The reward of ``task``'s gold calls followed by ``answer``."""
    env.reset(seed=0, options={"task_id": task.task_id})
    for action in task.gold_actions()[:-1]:
        env.step(action)
    _, reward, *_, info = env.step(json.dumps({"thought": "Answering.", "response": answer}))
    return reward, {v["rule"] for v in info["reward"]["violations"]}


def test_the_domains_compliance_rules_are_enforced():
    """The generic checkers with this domain's data: another cardholder's id or name in the answer
    is ``other_client_data``; a promise of a dispute's outcome is ``guaranteed_return``, unless
    it is declined; the gold answers pass."""
    env = FinAdvisorEnv(tasks=SUITE, domain="card_disputes")
    try:
        both = [t for t in TASKS if t.intent == "L4:other_cardholder_with_own"]
        assert both
        for task in both:
            assert _answer(env, task, task.gold_response) == (3.0, set())
            own = task.gold_response.split(" I can't")[0]
            other = [h for h in re.findall(r"H[0-9]{6}", task.query) if h not in task.compliance.subject_client_ids]
            leak = f" Cardholder {other[0]} has two disputes too." if other else \
                f" {task.query.split('with ')[1].split(chr(39))[0]} has disputes at Ticketwave too."
            reward, rules = _answer(env, task, own + leak)
            assert "other_client_data" in rules and reward < 0, task.query
        promise = next(t for t in TASKS if t.intent == "L4:outcome_promise_with_facts")
        facts = promise.gold_response.split("evidence. ")[1]
        for claim in ("The cardholder will win the dispute.", "The provisional credit will become permanent.",
                      "It is a sure win.", "The chargeback is certain to succeed."):
            reward, rules = _answer(env, promise, f"{claim} {facts}")
            assert "guaranteed_return" in rules and reward < 0, claim
        assert _answer(env, promise, f"I can't promise the cardholder will win the dispute. {facts}")[1] == set()
    finally:
        env.close()


def test_figures_derived_to_today_count_from_this_domains_as_of_date(replica):
    """The checker's "today" (ages, durations to now) is this replica's as-of date
    (``DomainRules.as_of``, passed down by the env), not finance's 2025-06-30: a purchase of
    2025-08-20 posted 41 days before 2025-09-30, and "51 days ago" is a figure nothing supports."""
    with Sandbox(replica, DOMAIN.schema) as sb:
        assert sb.as_of == DOMAIN.rules.as_of.isoformat() == "2025-09-30"
    env = FinAdvisorEnv(tasks=SUITE, domain="card_disputes")
    try:
        assert env.compliance_terms.as_of == DOMAIN.rules.as_of and env.runner.recent_window is None
        purchase = [{"txn_id": "P000000001", "card_id": "K0000001", "txn_date": "2025-08-20", "amount": 42.5}]

        def rules(answer: str) -> frozenset[str]:
            return env.checker.check(answer, observations=purchase, query="Cardholder H000001's purchase?",
                                     subject_client_ids=frozenset({"H000001"}), terms=env.compliance_terms).rules

        assert rules("The purchase posted 41 days ago.") == frozenset()
        assert rules("The purchase posted 51 days ago.") == {"fabricated_figure"}
    finally:
        env.close()


def test_a_read_of_another_cardholders_records_costs_more_than_a_needless_read_of_their_own():
    """The env's foreign-read rule with this domain's people (``cardholder_id``) and what they own
    (cards, through ``list_cards``): reading another cardholder's cards or card transactions is a
    foreign read, reading the subject's own disputes only a needless call."""
    task = next(t for t in TASKS if t.intent.startswith("L2:list_cards->get_card_transactions"))
    subject = task.compliance.subject_client_ids[0]
    env = FinAdvisorEnv(tasks=SUITE, domain="card_disputes")
    try:
        other = next(h for h in ("H000001", "H000002") if h != subject)
        foreign_card = env.backend.call("list_cards", {"cardholder_id": other}).payload["cards"][0]["card_id"]

        def play(extra):
            env.reset(seed=0, options={"task_id": task.task_id})
            for name, arguments in extra:
                env.step(json.dumps({"thought": "Looking.", "action": {"name": name, "arguments": arguments}}))
            for action in task.gold_actions():
                _, reward, *_, info = env.step(action)
            return reward, info["reward"]["foreign_reads"]

        assert play([]) == (3.0, 0)
        own, none = play([("list_disputes", {"cardholder_id": subject})])
        assert none == 0 and own < 3.0
        for extra in ([("list_cards", {"cardholder_id": other})], [("get_card_transactions", {"card_id": foreign_card})]):
            reward, foreign = play(extra)
            assert foreign == 1 and reward < own, extra
    finally:
        env.close()


# --------------------------------------------------------------------------------------
# The env, eval, serve and trainer on the domain


def test_gym_make_with_the_domain_passes_check_env():
    made = gym.make(envs.ENV_ID, domain="card_disputes")
    check_env(made.unwrapped)
    obs, info = made.reset(seed=3)
    prompt = json.loads(obs)
    assert "open_dispute" in prompt["system"] and "get_client_overview" not in prompt["system"]
    assert {t["function"]["name"] for t in info["tools"]} == set(DOMAIN.tools.tools)
    made.close()


def test_oracle_scores_full_marks_on_every_task(tmp_path):
    result = run_eval("oracle", SUITE, tmp_path, progress=False, plots=False, domain="card_disputes")
    assert result["metrics"]["counts"]["episodes"] == len(TASKS)
    assert all(r["total"] == 3.0 and r["error"] is None for r in episodes(tmp_path))


HONEST = ("oracle", "wrong_tool", "noisy_params", "redundant_calls")


@pytest.fixture(scope="module")
def level_means(tmp_path_factory) -> dict[str, dict[str, float]]:
    from envs.evaluation.agents import HACKS

    means = {}
    for spec in (*HONEST, *HACKS):
        out = tmp_path_factory.mktemp(spec)
        m = run_eval(spec, SUITE, out, progress=False, plots=False, domain="card_disputes")["metrics"]["reward_means"]
        means[spec] = {"overall": m["overall"]["total"], **{lv: v["total"] for lv, v in m["per_level"].items()}}
    return means


# tool_spam calls every read-only tool in one turn: with five reads that is three to five needless
# calls a task, which R_eff's ratio alone prices at less than the R_corr a spammer keeps (finance's
# twenty-tool spam is sunk by the 16-calls-per-turn cap instead). Reward 1.2's noise cost, for
# needless reads that returned none of the task's information, keeps it below every honest
# baseline here too, wrong_tool included.


@pytest.mark.parametrize("level", ["overall", "L1", "L2", "L3", "L4"])
def test_every_hack_scores_below_every_honest_baseline(level_means, level):
    from envs.evaluation.agents import HACKS

    for hack in HACKS:
        for honest in HONEST:
            assert level_means[hack][level] < level_means[honest][level], (hack, honest, level, level_means)
    assert level_means["oracle"][level] == 3.0


def _gold_trace(env, task):
    obs, _ = env.reset(seed=0, options={"task_id": task.task_id})
    trace = [obs]
    for action in task.gold_actions():
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append(obs)
        if terminated or truncated:
            return trace, info["reward"]
    raise AssertionError("episode did not end")


def test_serve_gives_the_same_observations_and_rewards_as_in_process(tmp_path):
    """``advisorgym serve --domain card_disputes`` in a subprocess: an env on it over HTTP sees
    the same observations and rewards, step by step, as an env in process, on a sample of the
    suite's gold trajectories (writes included)."""
    import httpx

    from benchmarks.bench_service_load import free_port
    from tests.conftest import wait_until_serving

    token = "card-disputes-test-token"
    secret = tmp_path / "api_token"
    secret.write_text(token + "\n")
    port = free_port()
    advisorgym = str(Path(sys.executable).with_name("advisorgym"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISORGYM_API_TOKEN")}
    server = subprocess.Popen([advisorgym, "serve", "--domain", "card_disputes", "--port", str(port),
                               "--token-file", str(secret), "--log-level", "warning"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
            wait_until_serving(client, server)
            assert {t["function"]["name"] for t in client.get(
                "/tools", headers={"Authorization": f"Bearer {token}"}).json()} == set(DOMAIN.tools.tools)
        sample = [t for t in TASKS if t.gold_calls][::6]
        local = FinAdvisorEnv(tasks=sample, domain="card_disputes")
        remote = FinAdvisorEnv(tasks=sample, domain="card_disputes", backend="http", base_url=url, token=token)
        try:
            for task in sample:
                assert _gold_trace(remote, task) == _gold_trace(local, task), task.task_id
        finally:
            local.close()
            remote.close()
    finally:
        server.kill()
        server.wait(timeout=30)


def test_trainer_rows_carry_the_domains_prompt_and_tools():
    from trainer.data import grpo_rows, sft_rows

    env = FinAdvisorEnv(tasks=SUITE, domain="card_disputes")
    try:
        rows = grpo_rows(env.tasks, env.replica_meta["as_of"], domain="card_disputes")
        sft = sft_rows(env, env.tasks[:25])
    finally:
        env.close()
    assert [r["task_id"] for r in rows] == [t.task_id for t in TASKS]
    tools = set(DOMAIN.tools.tools)
    for row in rows:
        assert "card-disputes team" in row["prompt"][0]["content"] and row["prompt"][1]["content"]
        assert {t["function"]["name"] for t in row["tools"]} == tools
    gold = [r for r in sft if r["kind"] == "gold"]
    assert len(gold) == 25 and any(r["kind"].startswith("recovery_") for r in sft)
    for row in gold:
        task = next(t for t in TASKS if t.task_id == row["task_id"])
        called = [c["function"]["name"] for m in row["messages"] for c in m.get("tool_calls") or ()]
        assert called == [g.name for g in task.gold_calls]
        assert {t["function"]["name"] for t in row["tools"]} == tools
        assert "card-disputes team" in row["messages"][0]["content"]
        assert row["messages"][-1] == {"role": "assistant", "content": task.gold_response}


def test_trl_environment_class_of_the_domain_replays_gold_to_full_marks():
    """``trainer.adapters.environment_class("card_disputes")``: TRL's ``environment_factory`` class
    has one method per tool of this domain, and a gold rollout through them scores 3.0."""
    from trainer.adapters import environment_class

    cls = environment_class("card_disputes")
    assert set(DOMAIN.tools.tools) <= set(dir(cls)) and not hasattr(cls, "get_client_overview")
    episode = cls(tasks=SUITE)
    try:
        for task in [t for t in TASKS if t.gold_calls][::10]:
            episode.reset(task_id=task.task_id, seed=0)
            for gold in task.gold_calls:
                assert "error" not in json.loads(getattr(episode, gold.name)(**gold.arguments))
            assert episode.submit_answer(task.gold_response) == "Answer submitted."
            assert episode.get_reward() == 3.0, task.task_id
    finally:
        episode.env.close()


def test_another_domains_suite_is_refused_in_one_line(tmp_path):
    from envs.tasks import SUITE as FINANCE_SUITE

    with pytest.raises(ValueError, match=r"does not have \(add_advisor_note, .*another domain's suite"):
        FinAdvisorEnv(tasks=FINANCE_SUITE, domain="card_disputes")
    done = subprocess.run([sys.executable, "-m", "advisorgym.cli", "eval", "--agent", "oracle", "--domain", "card_disputes",
                           "--tasks", str(FINANCE_SUITE), "--limit", "2", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "another domain's suite" in done.stderr
