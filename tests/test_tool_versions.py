"""Tool versions side by side: ``get_holdings`` v1 (default) and v2 (``units`` renamed ``quantity``)
served together in process and over HTTP; tasks pin the version they were written against."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from envs import FinAdvisorEnv
from envs.backends import HttpBackend, InProcessBackend, run_ops
from envs.replay import score_trajectory
from envs.reward import GoldCall
from envs.tasks import Task
from envs.tasks.model import load_tasks, save_tasks
from mock_apis.app import create_app
from mock_apis.catalogue import ToolRef, call_tool, catalogue, other_versions, resolve, versions_of
from mock_apis.contracts import build_contract, check_drift, load_contract
from mock_apis.contracts.drift import BREAKING, diff_tools, diff_versions
from mock_apis.domain import get_domain
from mock_apis.sandbox import Sandbox
from tests.conftest import API_TOKEN, REPLICA_SCALE, REPLICA_SEED

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
V2 = ToolRef("get_holdings", "2")


@pytest.fixture(scope="module")
def holdings(replica_path: Path) -> dict[str, Any]:
    """An account with at least two positions, and its v1 result."""
    with Sandbox(replica_path) as sb:
        account = sb.scalar("SELECT account_id FROM holdings GROUP BY account_id HAVING COUNT(*) >= 2 "
                            "ORDER BY account_id LIMIT 1")
        other = sb.scalar("SELECT account_id FROM holdings WHERE account_id > ? ORDER BY account_id LIMIT 1",
                          (account,))
        result = call_tool(sb, "get_holdings", {"account_id": account}).payload
    return {"account_id": account, "other_account": other, "v1": result}


def holdings_task(task_id: str, holdings: dict[str, Any], pins: dict[str, str]) -> Task:
    """A task whose answer facts name the units field as the pinned version calls it."""
    first, total = holdings["v1"]["holdings"][0], holdings["v1"]["total_market_value"]
    field = "quantity" if pins.get("get_holdings") == "2" else "units"
    fact = f"{first['fund_code']} {field} {first['units']}"
    return Task(task_id=task_id, level="L1", query=f"What does account {holdings['account_id']} hold?",
                gold_calls=(GoldCall("get_holdings", {"account_id": holdings["account_id"]}),),
                gold_response=f"Account {holdings['account_id']}: {fact}; total market value {total}.",
                required_tools=("get_holdings",), optimal_calls=1, answer_facts=(fact, str(total)),
                replica={"seed": REPLICA_SEED, "scale": REPLICA_SCALE}, tool_versions=pins)


@pytest.fixture(scope="module")
def tasks(holdings) -> dict[str, Task]:
    return {"v1": holdings_task("tv-v1", holdings, {"get_holdings": "1"}),
            "v2": holdings_task("tv-v2", holdings, {"get_holdings": "2"}),
            "default": holdings_task("tv-default", holdings, {}),
            "unknown": holdings_task("tv-unknown", holdings, {"get_holdings": "9"})}


@pytest.fixture(scope="module")
def env_pair(tasks, replica_path, live_server) -> Iterator[tuple[FinAdvisorEnv, FinAdvisorEnv]]:
    url, token = live_server
    local = FinAdvisorEnv(tasks=list(tasks.values()), replica=replica_path)
    remote = FinAdvisorEnv(tasks=list(tasks.values()), backend="http", base_url=url, token=token)
    yield local, remote
    local.close()
    remote.close()


def play(env: FinAdvisorEnv, task: Task, actions: list[str]) -> tuple[dict[str, Any], list[str], list[dict]]:
    """Step ``actions`` in a fresh episode of ``task``: the reset info, the observations, the step infos."""
    _, reset_info = env.reset(seed=0, options={"task_id": task.task_id})
    observations, infos = [], []
    for action in actions:
        obs, _, terminated, truncated, info = env.step(action)
        observations.append(obs)
        infos.append(info)
        if terminated or truncated:
            break
    return reset_info, observations, infos


# --------------------------------------------------------------------------- the catalogue


def test_v2_is_v1s_implementation_with_the_field_renamed(replica_path, holdings):
    v1, v2 = catalogue()["get_holdings"], resolve(V2)
    assert versions_of("get_holdings") == ["1", "2"] and list(other_versions()) == ["get_holdings@2"]
    assert (v1.version, v2.version) == ("1.0.0", "2.0.0") and resolve(ToolRef("get_holdings", "1")) is v1
    assert (v2.parameters, v2.writes, v2.criticality) == (v1.parameters, v1.writes, v1.criticality)
    with Sandbox(replica_path) as sb:
        got = call_tool(sb, V2, {"account_id": holdings["account_id"]}).payload
        missing = call_tool(sb, V2, {"account_id": "A9999999"}).payload
    renamed = [{("quantity" if k == "units" else k): v for k, v in h.items()} for h in holdings["v1"]["holdings"]]
    assert got == {**holdings["v1"], "holdings": renamed}
    assert list(got["holdings"][0]) == list(v2.returns["properties"]["holdings"]["items"]["properties"])
    assert missing["error"] == "not_found"  # v1's errors pass through
    with pytest.raises(ValueError, match="not a new"):
        get_domain().tools.tool_version("get_holdings", version="2.1.0", description="x", returns=v2.returns)(lambda r: r)


def test_unknown_versions_and_names_are_structured_errors(replica_path):
    with Sandbox(replica_path) as sb:
        unknown = call_tool(sb, ToolRef("get_holdings", "9"), {"account_id": "A0000001"}).payload
        no_tool = call_tool(sb, ToolRef("nope", "2"), {}).payload
        not_a_ref = call_tool(sb, "get_holdings@2", {"account_id": "A0000001"}).payload
    assert unknown["error"] == "unknown_version" and unknown["valid_versions"] == ["1", "2"]
    assert "get_holdings has no version '9'" in unknown["message"]
    assert no_tool["error"] == "unknown_tool" and "nope@2" in no_tool["message"]
    assert not_a_ref["error"] == "unknown_tool"  # a plain name never reaches a version


# --------------------------------------------------------------------------- the environment


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_pinned_tasks_score_3_with_their_own_gold_in_process_and_over_http(env_pair, tasks, version):
    task = tasks[version]
    runs = [play(env, task, task.gold_actions()) for env in env_pair]
    for reset_info, observations, infos in runs:
        assert infos[-1]["reward"]["total"] == 3.0, infos[-1]["reward"]
        assert reset_info["tool_versions"] == {"get_holdings": version[1]}
        result = json.loads(observations[0])
        assert ("quantity" in result["holdings"][0]) == (version == "v2")
        assert ("units" in result["holdings"][0]) == (version == "v1")
    assert runs[0][1] == runs[1][1]  # the observations, byte for byte


def test_each_version_s_gold_fails_the_other_version(env_pair, tasks):
    """The answer facts depend on the version's field name: v2's gold answer misses v1's facts."""
    local, _ = env_pair
    v2_actions = tasks["v2"].gold_actions()
    _, _, infos = play(local, tasks["v1"], v2_actions)
    assert infos[-1]["reward"]["answer_fact_recall"] == 0.5 and infos[-1]["reward"]["task_success"] is False


def test_unpinned_gets_the_default_version(env_pair, tasks):
    for env in env_pair:
        default_info, default_obs, infos = play(env, tasks["default"], tasks["default"].gold_actions())
        _, v1_obs, _ = play(env, tasks["v1"], tasks["v1"].gold_actions())
        assert infos[-1]["reward"]["total"] == 3.0 and "tool_versions" not in default_info
        assert default_obs[0] == v1_obs[0] and '"units"' in default_obs[0]


def test_the_agent_sees_the_pinned_version_s_schema(env_pair, tasks):
    local, _ = env_pair
    v2_description = resolve(V2).description
    for key, shown in (("v2", True), ("default", False), ("v1", False)):
        obs, info = local.reset(seed=0, options={"task_id": tasks[key].task_id})
        holdings_schema = next(t for t in info["tools"] if t["function"]["name"] == "get_holdings")
        assert (holdings_schema["function"]["description"] == v2_description) == shown
        assert (v2_description in json.loads(obs)["system"]) == shown
        assert len(info["tools"]) == len(catalogue())


def test_the_gold_probes_run_the_pinned_version(tasks, holdings, replica_path):
    """A call with other arguments than the gold's makes the env probe the gold call: in the
    pinned version, so that the two results compare like with like."""
    sent: list[Any] = []

    class Recording(InProcessBackend):
        def run_ops(self, ops):
            sent.extend(ops)
            return [self.probe(n, a) if p else self.call(n, a) for n, a, p in ops]

    env = FinAdvisorEnv(tasks=list(tasks.values()), backend=Recording(replica_path))
    try:
        for key, expected in (("v2", V2), ("default", "get_holdings")):
            sent.clear()
            env.reset(seed=0, options={"task_id": tasks[key].task_id})
            wrong = {"account_id": holdings["other_account"]}
            env.step(orjson.dumps({"thought": "t", "action": {"name": "get_holdings", "arguments": wrong}}).decode())
            assert sent == [(expected, tasks[key].gold_calls[0].arguments, True), (expected, wrong, False)]
    finally:
        env.close()


def test_an_unknown_pinned_version_is_a_structured_observation_in_process_and_over_http(env_pair, tasks):
    task = tasks["unknown"]
    runs = [play(env, task, task.gold_actions()) for env in env_pair]
    for _, observations, infos in runs:
        error = json.loads(observations[0])
        assert error["error"] == "unknown_version" and error["valid_versions"] == ["1", "2"]
        assert infos[0]["calls"][0]["outcome"] == "infra_error"  # the task's pin, not the agent's doing
        assert infos[-1]["reward"]["infra_error"] is True
    assert runs[0][1] == runs[1][1]


def test_a_recorded_log_replays_against_its_pinned_version(env_pair, tasks):
    task = tasks["v2"]
    messages = [{"role": "user", "content": task.query},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c0", "type": "function", "function": {
                    "name": "get_holdings", "arguments": json.dumps(task.gold_calls[0].arguments)}}]},
                {"role": "tool", "tool_call_id": "c0", "content": "{}"},
                {"role": "assistant", "content": task.gold_response}]
    for env in env_pair:
        scored = score_trajectory(env, task, messages)
        assert scored.reward["total"] == 3.0 and '"quantity"' in scored.observations[0]


def test_the_audit_log_names_the_pinned_version(tasks, replica_path, tmp_path):
    log = tmp_path / "audit.jsonl"
    env = FinAdvisorEnv(tasks=list(tasks.values()), replica=replica_path, audit_log=log)
    for key in ("v2", "default"):
        play(env, tasks[key], tasks[key].gold_actions())
    env.close()
    calls = [r for r in map(orjson.loads, log.read_bytes().splitlines()) if r["kind"] == "call"]
    versions = {r["payload"]["task_id"]: r["payload"].get("tool_version", "absent") for r in calls}
    assert versions == {"tv-v2": "2", "tv-default": "absent"}


def test_task_files_keep_pins_and_leave_unpinned_tasks_as_they_were(tasks, tmp_path):
    assert "tool_versions" not in tasks["default"].to_json()
    save_tasks(tasks.values(), tmp_path / "suite.jsonl")
    loaded = load_tasks(tmp_path / "suite.jsonl")
    assert [t.tool_versions for t in loaded] == [t.tool_versions for t in tasks.values()]
    with pytest.raises(ValueError, match="tool_versions"):
        Task.from_json({**tasks["v2"].to_json(), "tool_versions": {"get_holdings": 2}})


# --------------------------------------------------------------------------- the service


@pytest.fixture(scope="module")
def client(replica_path) -> Iterator[TestClient]:
    with TestClient(create_app(replica_path, API_TOKEN), raise_server_exceptions=False) as c:
        yield c


def test_the_service_serves_both_versions(client, replica_path, holdings):
    body = {"account_id": holdings["account_id"]}
    with Sandbox(replica_path) as sb:
        expected = {key: call_tool(sb, key, body).payload for key in ("get_holdings", V2)}
    plain = client.post("/tools/get_holdings", json=body, headers=AUTH)
    assert plain.json() == expected["get_holdings"] == client.post("/tools/get_holdings@1", json=body,
                                                                   headers=AUTH).json()
    assert client.post("/tools/get_holdings@2", json=body, headers=AUTH).json() == expected[V2]
    assert client.get("/tools/get_holdings@2", headers=AUTH).json() == resolve(V2).describe()
    unknown = client.post("/tools/get_holdings@9", json=body, headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_version"
    assert client.post("/tools/nope@2", json={}, headers=AUTH).json()["error"] == "unknown_tool"
    listed = client.get("/tools?include=versions", headers=AUTH).json()
    assert {e["function"]["name"]: (e["version"], e["versions"]) for e in listed}["get_holdings"] == ("1", ["1", "2"])
    assert [{k: e[k] for k in ("type", "function")} for e in listed] == client.get("/tools", headers=AUTH).json()
    assert "/tools/get_holdings@2" in client.get("/openapi.json").json()["paths"]


def test_batch_and_probe_routes_take_a_version(live_server, replica_path, holdings):
    url, token = live_server
    local, remote = InProcessBackend(replica_path), HttpBackend(url, token=token)
    body = {"account_id": holdings["account_id"]}
    ops = [(V2, body, True), ("get_holdings", body, False), (V2, body, False), (ToolRef("get_holdings", "9"), body,
                                                                                 False),
           (ToolRef("get_holdings", "bad version!"), body, False)]
    try:
        local.reset()
        remote.reset()
        expected = [orjson.dumps([o.ok, o.payload]) for o in run_ops(local, ops)]
        assert [orjson.dumps([o.ok, o.payload]) for o in run_ops(remote, ops)] == expected
        assert [orjson.dumps([o.ok, o.payload]) for o in (remote.probe(V2, body), remote.call(V2, body))] == \
            expected[2:3] * 2
        assert b'"quantity"' in expected[0] and b'"units"' in expected[1]
    finally:
        local.close()
        remote.close()


# --------------------------------------------------------------------------- the contract


def test_the_contract_records_every_version(replica_path):
    shipped = load_contract()
    assert shipped["tools"]["get_holdings"]["version"] == "1.0.0"
    assert shipped["tool_versions"]["get_holdings@2"]["version"] == "2.0.0"
    assert shipped["version_samples"]["get_holdings@2"]["ok"] is True
    assert "holdings[].quantity" in shipped["version_samples"]["get_holdings@2"]["shape"]
    fresh = build_contract(replica_path)
    assert set(fresh["tool_versions"]) == set(fresh["version_samples"]) == {"get_holdings@2"}


def test_drift_classifies_versions(live_server):
    url, token = live_server
    contract = load_contract()
    without_v2 = {k: v for k, v in contract.items() if k not in ("tool_versions", "version_samples")}
    for report in (check_drift(without_v2, in_process=True), check_drift(without_v2, service=url, token=token)):
        assert report.ok and [(f.kind, f.path) for f in report.compatible] == [("new_tool_version", "get_holdings@2")]
    assert check_drift(contract, service=url, token=token).findings == []
    v3 = {**contract, "tool_versions": {**contract["tool_versions"],
                                        "get_holdings@3": {**contract["tool_versions"]["get_holdings@2"],
                                                           "version": "3.0.0"}}}
    report = check_drift(v3, in_process=True)
    assert [(f.kind, f.path) for f in report.breaking] == [("removed_tool_version", "get_holdings@3")]


def test_a_new_default_version_breaks_unpinned_callers_but_not_pinned_ones():
    contract = load_contract()
    tools, versions = contract["tools"], contract["tool_versions"]
    live = {**tools, "get_holdings": versions["get_holdings@2"], "get_holdings@1": tools["get_holdings"]}
    findings, renames = diff_tools(tools, {k: v for k, v in live.items() if "@" not in k})
    assert (BREAKING, "removed_field", "holdings[].units") in {(f.severity, f.kind, f.path) for f in findings}
    assert [(r.old, r.new) for r in renames] == [("holdings[].units", "holdings[].quantity")]
    assert diff_versions(tools, versions, live) == ([], [])  # both versions are still served
    findings, _ = diff_versions(tools, versions, {k: v for k, v in live.items() if k != "get_holdings@1"})
    assert [(f.severity, f.kind, f.path) for f in findings] == [(BREAKING, "removed_tool_version", "get_holdings@1")]
