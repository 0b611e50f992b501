"""The audit trail: a hash-chained JSONL log whose every edited byte, removed, swapped or
inserted line is caught by `verify`, which names the first bad record."""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mock_apis.audit
from mock_apis.audit import GENESIS, AuditLog, canonical, result_hash, run_versions, verify
from mock_apis.contracts import contract_sha256

RUNNER = CliRunner()
VERSIONS = {"environment": "advisorgym test", "contract": "c" * 64, "reward_config": {"version": "toolrla-1.1.0"},
            "task_suite": "s" * 64, "replica_manifest": {"seed": "0"}}


def cli(*args: str):
    from envs.cli import app

    return RUNNER.invoke(app, list(args), env={"COLUMNS": "80"})


def write_log(path: Path, calls: int = 5) -> list[str]:
    """A log of ``calls`` tool calls and one episode end; each record's hash."""
    with AuditLog(path) as log:
        hashes = [log.record_call("get_holdings", {"account_id": f"A000000{i}"}, result_hash({"i": i}), ok=True,
                                  task_id="hw-L1-01", step=i + 1) for i in range(calls)]
        hashes.append(log.record_episode_end("hw-L1-01", {"total": 3.0, "R_corr": 1.0}, VERSIONS))
    return hashes


def test_a_written_log_verifies_and_chains(tmp_path):
    path = tmp_path / "audit.jsonl"
    hashes = write_log(path)
    assert verify(path) == (True, None, f"6 records, head {hashes[-1]}")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["seq"] for r in records] == list(range(6))
    assert records[0]["prev"] == GENESIS and [r["prev"] for r in records[1:]] == hashes[:-1]
    assert records[-1]["kind"] == "episode_end" and records[-1]["payload"]["versions"] == VERSIONS
    assert records[0]["payload"]["result_sha256"] == result_hash({"i": 0})


def _edit_byte(lines: list[bytes]) -> list[bytes]:
    lines[3] = lines[3].replace(b"A0000003", b"A0000004")
    return lines


def _edit_hash(lines: list[bytes]) -> list[bytes]:
    at = lines[2].rindex(b'"}') - 1
    lines[2] = lines[2][:at] + (b"0" if lines[2][at:at + 1] != b"0" else b"1") + lines[2][at + 1:]
    return lines


def _delete(lines: list[bytes]) -> list[bytes]:
    return lines[:2] + lines[3:]


def _swap(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[2], lines[1], *lines[3:]]


def _insert_copy(lines: list[bytes]) -> list[bytes]:
    return [*lines[:4], lines[1], *lines[4:]]


def _insert_forged(lines: list[bytes]) -> list[bytes]:
    """A record forged to fit where it goes (right seq and prev, its own hash recomputed)."""
    previous = json.loads(lines[3])
    body = canonical({"kind": "call", "payload": {"name": "place_order"}, "prev": previous["hash"], "seq": 4})
    line = body[:-1] + b',"hash":"' + hashlib.sha256(body).hexdigest().encode() + b'"}\n'
    return [*lines[:4], line, *lines[4:]]


@pytest.mark.parametrize(("tamper", "bad_seq", "reason"), [
    (_edit_byte, 3, "edited"),
    (_edit_hash, 2, "edited"),
    (_delete, 2, "removed, reordered or inserted"),
    (_swap, 1, "removed, reordered or inserted"),
    (_insert_copy, 4, "removed, reordered or inserted"),
    (_insert_forged, 5, "removed, reordered or inserted"),
])
def test_verify_names_the_first_tampered_record(tmp_path, tamper, bad_seq, reason):
    path = tmp_path / "audit.jsonl"
    write_log(path)
    path.write_bytes(b"".join(tamper(path.read_bytes().splitlines(keepends=True))))
    ok, seq, why = verify(path)
    assert (ok, seq) == (False, bad_seq) and reason in why, why
    res = cli("audit", "verify", str(path))
    assert res.exit_code == 1 and f"record {bad_seq}: " in res.output, res.output


def test_a_cut_off_tail_is_caught_with_the_recorded_head(tmp_path):
    path = tmp_path / "audit.jsonl"
    hashes = write_log(path)
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))
    assert verify(path)[0]  # the chain alone is whole
    ok, seq, why = verify(path, expect_head=hashes[-1])
    assert (ok, seq) == (False, 5) and "expected head" in why
    assert cli("audit", "verify", str(path), "--head", hashes[-1]).exit_code == 1


def test_a_torn_last_line_is_named_and_refused_for_appending(tmp_path):
    path = tmp_path / "audit.jsonl"
    write_log(path)
    path.write_bytes(path.read_bytes()[:-20])
    assert verify(path) == (False, 5, "torn record (no newline)")
    with pytest.raises(ValueError, match="does not end with a valid record"):
        AuditLog(path)


def test_reopening_continues_the_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    first = write_log(path, calls=2)
    with AuditLog(path) as log:
        assert (log.seq, log.head) == (3, first[-1])
        log.record_call("list_accounts", {"client_id": "C000001"}, result_hash([]), ok=True)
    assert verify(path)[:2] == (True, None)


def test_arguments_that_are_not_plain_json_are_recorded_and_verify(tmp_path):
    path = tmp_path / "audit.jsonl"
    with AuditLog(path) as log:
        log.record_call("get_holdings", {"account_id": 1 << 70, "x": float("nan"), "s": "\ud800"}, result_hash({}),
                        ok=False, error="invalid_arguments")
        log.record_call("get_holdings", {1: "non-string key"}, result_hash({}), ok=False, error="invalid_arguments")
    assert verify(path)[:2] == (True, None)


def test_run_versions_names_every_version_and_hash(tmp_path):
    versions = run_versions({"version": "toolrla-1.1.0", "composition": "multiplicative"}, "ab" * 32,
                            {"seed": "0", "scale": "5000"})
    assert set(versions) == {"environment", "contract", "reward_config", "task_suite", "replica_manifest"}
    assert versions["contract"] == contract_sha256()
    assert versions["reward_config"]["version"] == "toolrla-1.1.0" and len(versions["reward_config"]["sha256"]) == 64
    assert versions["replica_manifest"]["seed"] == "0" and len(versions["replica_manifest"]["sha256"]) == 64


def test_cli_verify_ok_and_missing_file(tmp_path):
    path = tmp_path / "audit.jsonl"
    write_log(path)
    res = cli("audit", "verify", str(path))
    assert res.exit_code == 0 and "ok: " in res.output and "6 records" in res.output
    missing = cli("audit", "verify", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and missing.output.startswith("error: audit log not found")


def test_an_eval_with_audit_log_records_every_call_and_episode_and_names_its_head(tmp_path):
    from envs.cli import app
    from envs.tasks import HANDWRITTEN, load_tasks

    log, out = tmp_path / "audit.jsonl", tmp_path / "report"
    res = CliRunner().invoke(app, ["eval", "--agent", "oracle", "--tasks", str(HANDWRITTEN), "--out", str(out),
                                   "--no-progress", "--audit-log", str(log)])
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    records = [json.loads(line) for line in log.read_text().splitlines()]
    tasks = load_tasks(HANDWRITTEN)
    assert sum(r["kind"] == "episode_end" for r in records) == len(tasks)
    assert sum(r["kind"] == "call" for r in records) == metrics["overall"]["tool_calls"]
    ends = [r["payload"] for r in records if r["kind"] == "episode_end"]
    assert all(e["reward"]["total"] == 3.0 and e["versions"]["task_suite"] ==
               hashlib.sha256(HANDWRITTEN.read_bytes()).hexdigest() for e in ends)
    assert metrics["audit"]["head"] == records[-1]["hash"]
    assert verify(log, expect_head=metrics["audit"]["head"])[0]
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-1]) + "\n")  # the last episode's end removed
    assert not verify(log, expect_head=metrics["audit"]["head"])[0]


def test_the_service_audits_the_agents_calls_not_the_rewards_probes(tmp_path, replica_path):
    from envs import FinAdvisorEnv
    from envs.tasks import HANDWRITTEN, load_tasks
    from mock_apis.app import create_app, serve_in_thread

    log = tmp_path / "service-audit.jsonl"
    task = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == "hw-L1-01")
    gold = task.gold_calls[0]
    with serve_in_thread(create_app(replica_path, "tok", audit_log=log)) as url:
        env = FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=url, token="tok", check_replica=False,
                            allow_drift=True)  # a smaller test replica than the suite's
        env.reset(seed=0, options={"task_id": task.task_id})
        other = {**gold.arguments, "client_id": "C000003"}  # not the gold arguments: the reward probes the gold
        env.step(json.dumps({"thought": "t", "action": {"name": gold.name, "arguments": other}}))
        env.close()
    assert verify(log)[0]
    calls = [json.loads(line)["payload"] for line in log.read_text().splitlines()]
    # Calls in a session are the episode's (the env's start-up contract check samples without one).
    agent_calls = [c for c in calls if c["name"] == gold.name and c["task_id"] is not None]
    assert [c["arguments"] for c in agent_calls] == [other]  # the probe with the gold arguments is not there
    assert any(c["task_id"] is None for c in calls)


def test_the_env_audits_the_contract_it_was_checked_against(tmp_path):
    """An env given its own contract file records that file's hash, not the shipped one's."""
    from envs import FinAdvisorEnv
    from envs.tasks import HANDWRITTEN, load_tasks
    from mock_apis.contracts.check import default_contract_path

    contract = tmp_path / "contract.json"
    contract.write_bytes(Path(default_contract_path()).read_bytes() + b"\n")  # the same contract, other bytes
    task = load_tasks(HANDWRITTEN)[0]
    log = tmp_path / "audit.jsonl"
    env = FinAdvisorEnv(tasks=[task], audit_log=log, contract=contract)
    env.reset(options={"task_id": task.task_id})
    for action in task.gold_actions():
        env.step(action)
    env.close()
    end = [json.loads(line) for line in log.read_text().splitlines()][-1]
    assert end["kind"] == "episode_end"
    assert end["payload"]["versions"]["contract"] == contract_sha256(contract) != contract_sha256()


def test_the_old_import_path_is_a_deprecation_alias(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "envs.audit", raising=False)
    with pytest.warns(DeprecationWarning, match="mock_apis.audit"):
        alias = importlib.import_module("envs.audit")
    assert alias.AuditLog is mock_apis.audit.AuditLog and alias.verify is mock_apis.audit.verify
