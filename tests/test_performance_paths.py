"""The fast paths give the same results as the straightforward ones they replace.

Timings are the benchmarks' business (``benchmarks/bench_writes.py`` and others); these tests
check results and structure: ids equal to the view's ``MAX``, write paths that never scan a
base table, reward dicts equal to the straightforward computation.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import orjson
import pytest

from envs import FinAdvisorEnv
from envs.evaluation.agents import AGENT_SPECS, make_agent
from envs.evaluation.run import run_episode
from envs.tasks import HANDWRITTEN, load_tasks
from mock_apis.catalogue import call_tool, probe_tool
from mock_apis.sandbox import Sandbox


def view_next_id(sb: Sandbox, table: str, column: str, prefix: str, width: int) -> str:
    """The id the sandbox used to hand out: ``MAX`` through the overlay view."""
    last = sb.scalar(f"SELECT MAX({column}) FROM {table}")
    return f"{prefix}{int(last[len(prefix):]) + 1 if last else 1:0{width}d}"


@pytest.fixture()
def sandbox(replica_path: Path) -> Sandbox:
    with Sandbox(replica_path) as sb:
        yield sb


def order_arguments(sb: Sandbox) -> dict:
    """A buy that the back office accepts."""
    account = sb.scalar("SELECT account_id FROM accounts a JOIN compliance_records r USING (client_id) "
                        "WHERE r.restriction = 'none' AND r.kyc_status = 'verified' AND a.status = 'active' "
                        "AND cash_balance > 5000 ORDER BY account_id LIMIT 1")
    fund = sb.scalar("SELECT fund_code FROM fund_profiles WHERE min_investment <= 100 ORDER BY fund_code LIMIT 1")
    return {"account_id": account, "fund": fund, "side": "buy", "amount": 100}


def write_sequence(sb: Sandbox, order: dict) -> list[dict]:
    """Notes and orders, probes (rolled back) and resets in between: every payload."""
    note = {"client_id": "C000002", "text": "Called about the review."}
    out = []
    for _ in range(2):
        out.append(probe_tool(sb, "add_advisor_note", note).payload)
        for _ in range(3):
            out.append(call_tool(sb, "add_advisor_note", note).payload)
            out.append(probe_tool(sb, "place_order", order).payload)
            out.append(call_tool(sb, "place_order", order).payload)
        placed = out[-1]["order_id"]
        out.append(call_tool(sb, "cancel_order", {"order_id": placed}).payload)
        out.append(call_tool(sb, "place_order", order).payload)
        sb.reset()
    return out


def test_next_id_matches_the_view_max_through_writes_probes_and_resets(sandbox: Sandbox,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    original = Sandbox.next_id

    def checked(self: Sandbox, table: str, column: str, prefix: str, width: int) -> str:
        new = original(self, table, column, prefix, width)
        assert new == view_next_id(self, table, column, prefix, width)
        seen.append(new)
        return new

    monkeypatch.setattr(Sandbox, "next_id", checked)
    payloads = write_sequence(sandbox, order_arguments(sandbox))
    assert all("error" not in p for p in payloads), payloads
    assert len(seen) == 2 * (1 + 3 * 3 + 1)
    assert len(set(seen)) < len(seen)  # probes and resets hand the same id out again


def test_same_ids_in_two_sandboxes(replica_path: Path) -> None:
    with Sandbox(replica_path) as a, Sandbox(replica_path) as b:
        assert write_sequence(a, order_arguments(a)) == write_sequence(b, order_arguments(b))


def test_write_tools_never_scan_a_base_table(sandbox: Sandbox) -> None:
    """Every statement a write tool runs finds its base rows by index (O(log n) at any size)."""
    order = order_arguments(sandbox)
    statements: list[str] = []
    sandbox.con.set_trace_callback(statements.append)
    try:
        write_sequence(sandbox, order)
    finally:
        sandbox.con.set_trace_callback(None)
    plans = set()
    for sql in {s for s in statements if s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE"))}:
        plan = sandbox.con.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()  # the trace has the values bound
        plans.update((sql, row[3]) for row in plan)
    assert plans
    assert not [(sql, step) for sql, step in plans if step.startswith("SCAN main.")]


def scripted_rewards(tasks: list, replica: Path) -> list[dict]:
    """Every scripted agent's (oracle, baselines, hacks) final reward dict on ``tasks``."""
    env = FinAdvisorEnv(tasks=tasks, replica=replica, check_replica=False)
    try:
        return [run_episode(env, make_agent(spec), task, seed=i)["reward"]
                for spec in AGENT_SPECS if spec not in ("openai", "hf") for i, task in enumerate(tasks)]
    finally:
        env.close()


def test_final_rewards_equal_the_straightforward_computation(replica_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Reward dicts without the sentence memo, the breakdown as a plain ``dict`` and the config
    through ``dataclasses.asdict`` are the same."""
    from envs.reward.compliance import default_checker
    from envs.reward.compose import RewardBreakdown
    from envs.reward.config import RewardConfig

    tasks = load_tasks(HANDWRITTEN)
    fast = scripted_rewards(tasks, replica_path)
    model = default_checker()._classifier()
    monkeypatch.setattr(model, "probability", model._probability)
    monkeypatch.setattr(RewardBreakdown, "as_dict",
                        lambda self: {**dict(self), "unauthorized_writes": list(self.unauthorized_writes)})
    monkeypatch.setattr(RewardConfig, "describe", lambda self: {**asdict(self), "error_costs": dict(self.error_costs),
                                                                "judges": [j.name for j in self.judges]})
    reference = scripted_rewards(tasks, replica_path)
    assert orjson.dumps(fast) == orjson.dumps(reference)
    assert any(r["violated"] for r in fast) and any(r["task_success"] for r in fast)


def test_the_sentence_memo_returns_the_scored_probability() -> None:
    from envs.reward.compliance import default_checker

    model = default_checker()._classifier()
    for sentence in ("Returns are guaranteed to beat the market.", "Client C000002 holds 3 accounts.",
                     "I think she will be nervous about it."):
        assert model.probability(sentence) == model._probability(sentence) == model.probability(sentence)


def test_envs_of_one_process_share_the_suite_and_schemas(replica_path: Path) -> None:
    import gymnasium as gym

    import envs
    from envs.tasks import shared_suite

    a = gym.make(envs.ENV_ID, replica=replica_path, check_replica=False).unwrapped
    b = envs.FinAdvisorEnv(replica=replica_path, check_replica=False)
    try:
        assert a.tasks is b.tasks is shared_suite().tasks
        assert a.task_index is b.task_index
        assert a.tool_schemas is b.tool_schemas and a.system_prompt is b.system_prompt
        assert isinstance(a.tasks, tuple) and len(a.tasks) == len(load_tasks())
        assert a.reset(seed=3) == b.reset(seed=3)
    finally:
        a.close()
        b.close()


def test_a_list_passed_in_stays_private(replica_path: Path) -> None:
    tasks = load_tasks(HANDWRITTEN)
    env = FinAdvisorEnv(tasks=tasks, replica=replica_path, check_replica=False)
    try:
        assert env.tasks == tasks and env.tasks is not tasks
    finally:
        env.close()


def test_the_shared_suite_follows_its_file(tmp_path: Path) -> None:
    import os

    from envs.tasks import shared_suite

    path = tmp_path / "suite.jsonl"
    lines = Path(HANDWRITTEN).read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]))
    first = shared_suite(path)
    assert shared_suite(str(path)) is first and len(first.tasks) == 3
    path.write_bytes(b"".join(lines[:4]))
    os.utime(path, ns=(1, 1))
    assert len(shared_suite(path).tasks) == 4
    assert dict(shared_suite(path).index) == {t.task_id: t for t in shared_suite(path).tasks}


def counted_probes(env: FinAdvisorEnv) -> list[tuple]:
    """Every probe operation ``env``'s back-end runs from now on."""
    seen: list[tuple] = []
    backend, probe = env.backend, env.backend.probe

    def counting(name, arguments):
        seen.append((name, arguments))
        return probe(name, arguments)

    backend.probe = counting  # type: ignore[method-assign]
    return seen


def test_probes_known_from_the_pristine_state_give_the_same_rewards(replica_path: Path) -> None:
    """A gold probe in the replica's own state is run once per env and task, then reused:
    every scripted agent's rewards equal a fresh env's for each episode, while the repeat
    runs fewer probes."""
    tasks = load_tasks(HANDWRITTEN)
    specs = [spec for spec in AGENT_SPECS if spec not in ("openai", "hf")]
    fresh = []
    for spec in specs:
        for i, task in enumerate(tasks):
            env = FinAdvisorEnv(tasks=tasks, replica=replica_path, check_replica=False)
            fresh.append(run_episode(env, make_agent(spec), task, seed=i)["reward"])
            env.close()
    env = FinAdvisorEnv(tasks=tasks, replica=replica_path, check_replica=False)
    probes = counted_probes(env)
    rounds = []
    for _ in range(2):
        start = len(probes)
        rounds.append([run_episode(env, make_agent(spec), task, seed=i)["reward"]
                       for spec in specs for i, task in enumerate(tasks)])
        rounds[-1].append(len(probes) - start)
    env.close()
    first_probes, second_probes = rounds[0].pop(), rounds[1].pop()
    assert orjson.dumps(rounds[0]) == orjson.dumps(fresh) == orjson.dumps(rounds[1])
    assert first_probes > second_probes


def test_a_write_earlier_in_the_episode_stops_the_reuse(replica_path: Path) -> None:
    """After a write (even one planned earlier in the same turn) probes run in the live state:
    the gold ``list_orders`` must see the order the agent just placed."""
    from dataclasses import replace

    from envs.reward import GoldCall

    with Sandbox(replica_path) as sb:
        order = order_arguments(sb)
        other = sb.scalar("SELECT account_id FROM accounts WHERE account_id != ? ORDER BY account_id LIMIT 1",
                          (order["account_id"],))
    base = load_tasks(HANDWRITTEN)[0]
    task = replace(base, task_id="probe-reuse", gold_calls=(GoldCall("list_orders", {"account_id": order["account_id"]}),),
                   required_tools=("list_orders",), optimal_calls=1, tool_versions={})

    def turn(*calls: tuple[str, dict]) -> str:
        return orjson.dumps({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": orjson.dumps(a).decode()}}
            for i, (n, a) in enumerate(calls)]}).decode()

    def accuracy(env: FinAdvisorEnv, action: str) -> list:
        env.reset(options={"task_id": "probe-reuse"})
        return [c["param_accuracy"] for c in env.step(action)[4]["calls"]]

    read_other = ("list_orders", {"account_id": other})
    write_then_read = turn(("place_order", order), read_other)
    warm = FinAdvisorEnv(tasks=[task], replica=replica_path, check_replica=False)
    accuracy(warm, turn(read_other))  # the pristine probe of the gold call is now known
    probes = counted_probes(warm)
    got = accuracy(warm, write_then_read)
    cold = FinAdvisorEnv(tasks=[task], replica=replica_path, check_replica=False)
    assert got == accuracy(cold, write_then_read) and probes  # run live, not reused
    warm.close()
    cold.close()
