"""The schema contract and drift checks: the shipped contract is the shipped code's; a renamed
result field (even behind an unchanged published schema), a new optional parameter and a
renamed or dropped replica column are each caught and classified."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mock_apis.app as service_module
from mock_apis.catalogue import ToolOutcome, catalogue
from mock_apis.contracts import build_contract, check_drift, default_contract_path, dumps, load_contract
from mock_apis.contracts.drift import BREAKING, COMPATIBLE, diff_database, diff_parameters, diff_sample, diff_tools
from tests.test_cli import test_help_fits_80_columns_and_is_never_cut as check_help

TOKEN = "drift-test-token"
RUNNER = CliRunner()


def cli(*args: str):
    from envs.cli import app

    return RUNNER.invoke(app, list(args), env={"COLUMNS": "80"})


@pytest.fixture(scope="module")
def default_replica_path() -> Path:
    from envs.replica import default_replica

    return default_replica()


@pytest.fixture(scope="module")
def contract() -> dict:
    return load_contract()


@pytest.mark.determinism
def test_the_shipped_contract_is_a_fresh_snapshot_of_the_shipped_code(default_replica_path):
    fresh = build_contract(default_replica_path)
    assert dumps(fresh) == default_contract_path().read_bytes(), \
        "fixtures/contracts/contract-v1.json is stale: run `advisorgym contract snapshot` and review the diff"
    assert set(fresh["samples"]) == set(catalogue()) and all(s["ok"] for s in fresh["samples"].values())
    assert {"clients", "accounts", "holdings", "orders"} <= set(fresh["database"])
    assert fresh["database"]["holdings"]["primary_key"] == ["account_id", "fund_code"]
    assert dumps(build_contract(default_replica_path)) == dumps(fresh)  # deterministic


def test_the_shipped_code_has_no_drift_in_process_nor_on_another_replica(replica_path):
    report = check_drift(in_process=True)
    assert report.ok and not report.findings and not report.renames, report.lines()
    other = check_drift(in_process=True, replica=replica_path)  # a smaller replica: other rows, same shapes
    assert other.ok and not other.findings, other.lines()


def _rename_market_value(original):
    def patched(sandbox, name, arguments, tools=None):
        outcome = original(sandbox, name, arguments, tools)
        if name != "get_holdings" or not outcome.ok:
            return outcome
        holdings = [{("value" if k == "market_value" else k): v for k, v in h.items()}
                    for h in outcome.payload["holdings"]]
        return ToolOutcome(True, {**outcome.payload, "holdings": holdings})

    return patched


def test_a_renamed_result_field_behind_an_unchanged_schema_is_breaking_and_named(monkeypatch, default_replica_path):
    from mock_apis.app import create_app, serve_in_thread

    monkeypatch.setattr(service_module, "call_tool", _rename_market_value(service_module.call_tool))
    with serve_in_thread(create_app(default_replica_path, TOKEN)) as url:
        res = cli("drift", "check", "--service", url, "--token", TOKEN)
        as_json = cli("drift", "check", "--service", url, "--token", TOKEN, "--json")
        report = check_drift(service=url, token=TOKEN)
    assert res.exit_code == 1, res.output
    assert "removed field holdings[].market_value (likely renamed to holdings[].value)" in res.output
    assert "holdings[].market_value -> holdings[].value (same type and values)" in res.output
    assert "result: breaking drift" in res.output
    assert as_json.exit_code == 1
    parsed = json.loads(as_json.output)
    assert parsed["ok"] is False
    assert parsed["renames"] == [{"where": "tool get_holdings result (sampled)", "old": "holdings[].market_value",
                                  "new": "holdings[].value", "evidence": "same type and values"}]
    assert [(f.kind, f.path) for f in report.breaking] == [("removed_field", "holdings[].market_value")]
    assert not [f for f in report.findings if "schema" in f.where]  # the published schema did not change


def test_a_new_optional_parameter_is_compatible(monkeypatch, default_replica_path):
    from mock_apis.app import create_app, serve_in_thread

    spec = catalogue()["get_holdings"]
    parameters = {**spec.parameters, "properties": {**spec.parameters["properties"], "include_closed": {"type": "boolean"}}}
    monkeypatch.setitem(catalogue(), "get_holdings", dataclasses.replace(spec, parameters=parameters))
    with serve_in_thread(create_app(default_replica_path, TOKEN)) as url:
        res = cli("drift", "check", "--service", url, "--token", TOKEN)
    assert res.exit_code == 0, res.output
    assert "compatible (1):" in res.output
    assert "tool get_holdings parameters: new optional parameter include_closed" in res.output
    assert "BREAKING" not in res.output and "result: no breaking drift" in res.output


def _altered_copy(source: Path, tmp_path: Path, sql: str) -> Path:
    copy = tmp_path / "altered.sqlite"
    shutil.copyfile(source, copy)
    con = sqlite3.connect(copy)
    con.execute(sql)
    con.commit()
    con.close()
    return copy


def test_a_renamed_replica_column_is_breaking_and_named(tmp_path, default_replica_path):
    copy = _altered_copy(default_replica_path, tmp_path, "ALTER TABLE accounts RENAME COLUMN currency TO currency_code")
    res = cli("drift", "check", "--replica", str(copy))
    assert res.exit_code == 1, res.output
    assert "table accounts: removed column currency (likely renamed to currency_code)" in res.output
    assert "table accounts: currency -> currency_code (same type and values)" in res.output
    in_process = check_drift(in_process=True, replica=copy)  # the tools that read the column now fail
    assert {f.path for f in in_process.breaking if f.kind == "sample_failed"} >= {"list_accounts"}


def test_a_dropped_replica_column_is_breaking_and_named(tmp_path, replica_path):
    copy = _altered_copy(replica_path, tmp_path, "ALTER TABLE clients DROP COLUMN segment")
    res = cli("drift", "check", "--replica", str(copy), "--json")
    assert res.exit_code == 1, res.output
    parsed = json.loads(res.output)
    assert [(f["where"], f["kind"], f["path"]) for f in parsed["breaking"]] == [("table clients", "removed_column", "segment")]
    assert parsed["renames"] == []


def test_parameter_changes_are_classified():
    old = catalogue()["list_orders"].parameters
    required = {**old, "properties": {**old["properties"], "since": {"type": "string"}},
                "required": [*old["required"], "since"]}
    findings, _ = diff_parameters("list_orders", old, required)
    assert [(f.severity, f.kind, f.path) for f in findings] == [(BREAKING, "new_required_parameter", "since")]
    narrowed = json.loads(json.dumps(old))
    narrowed["properties"]["status"]["enum"] = ["pending", "executed", "settled"]
    narrowed["required"] = ["account_id", "status"]
    kinds = {(f.severity, f.kind) for f in diff_parameters("list_orders", old, narrowed)[0]}
    assert kinds == {(BREAKING, "parameter_now_required"), (BREAKING, "parameter_values_removed"),
                     (COMPATIBLE, "parameter_values_added")}
    renamed = {**old, "properties": {"acct_id" if k == "account_id" else k: v for k, v in old["properties"].items()},
               "required": ["acct_id"]}
    findings, renames = diff_parameters("list_orders", old, renamed)
    assert (BREAKING, "removed_parameter", "account_id") in {(f.severity, f.kind, f.path) for f in findings}
    assert [(r.old, r.new) for r in renames] == [("account_id", "acct_id")]


def test_tool_and_result_schema_changes_are_classified(contract):
    live = json.loads(json.dumps(contract["tools"]))
    del live["cancel_order"]
    live["get_fx_rate"] = live["get_market_index"]
    returns = live["get_holdings"]["returns"]["properties"]
    returns["total_market_value"] = {"type": "string"}
    returns["holdings"]["items"]["required"].remove("nav")
    findings, _ = diff_tools(contract["tools"], live)
    got = {(f.severity, f.kind, f.path) for f in findings}
    assert got == {(BREAKING, "removed_tool", "cancel_order"), (COMPATIBLE, "new_tool", "get_fx_rate"),
                   (BREAKING, "type_change", "total_market_value"), (BREAKING, "field_now_optional", "holdings[].nav")}


def test_sampled_values_outside_the_schema_are_breaking(contract):
    sample = contract["samples"]["list_accounts"]
    payload = {"client_id": "C000001", "accounts": [{"account_id": "A0000001", "account_type": "ira", "currency": "USD",
                                                     "opened_on": "01/02/2020", "status": "ACTIVE", "cash_balance": 1}]}
    findings, _ = diff_sample("list_accounts", sample, contract["tools"]["list_accounts"]["returns"], payload)
    violations = {(f.kind, f.path) for f in findings}
    assert ("schema_violation", "accounts[].status") in violations
    assert ("schema_violation", "accounts[].opened_on") in violations
    assert all(f.kind != "type_change" for f in findings)  # an integer where a number is declared is fine


def test_database_type_and_key_changes_are_classified(contract):
    live = json.loads(json.dumps(contract["database"]))
    live["orders"]["columns"]["amount"]["type"] = "TEXT"
    live["orders"]["foreign_keys"] = []
    live["audit_events"] = {"columns": {}, "primary_key": [], "foreign_keys": []}
    del live["advisor_notes"]
    got = {(f.severity, f.kind, f.where) for f in diff_database(contract["database"], live)[0]}
    assert (BREAKING, "column_type_change", "table orders") in got
    assert (BREAKING, "removed_foreign_key", "table orders") in got
    assert (COMPATIBLE, "new_table", "table audit_events") in got
    assert (BREAKING, "removed_table", "table advisor_notes") in got


@pytest.mark.parametrize(("args", "fragment"), [
    (["drift", "check"], "nothing to check"),
    (["drift", "check", "--service", "http://127.0.0.1:9", "--in-process"], "not both"),
    (["drift", "check", "--replica", "no/such.sqlite"], "replica not found"),
    (["drift", "check", "--in-process", "--contract", "no/such.json"], "contract not found"),
    (["drift", "check", "--service", "http://127.0.0.1:9"], "cannot reach"),
    (["contract", "snapshot", "--replica", "no/such.sqlite"], "replica not found"),
])
def test_usage_errors_are_one_line_with_exit_code_2(tmp_path, args, fragment):
    res = cli(*[str(tmp_path / a) if a.startswith("no/") else a for a in args])
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], res.output


def test_snapshot_writes_the_contract(tmp_path, replica_path):
    out = tmp_path / "c.json"
    res = cli("contract", "snapshot", "--replica", str(replica_path), "--out", str(out))
    assert res.exit_code == 0, res.output
    assert f"wrote {out} (20 tools, " in res.output and "15 tables)" in res.output
    assert json.loads(out.read_bytes())["replica"]["scale"] == "2000"
    assert cli("drift", "check", "--in-process", "--contract", str(out)).exit_code == 0


@pytest.mark.parametrize("command", [["contract"], ["contract", "snapshot"], ["drift"], ["drift", "check"],
                                     ["audit"], ["audit", "verify"]])
def test_help_fits_80_columns_and_is_never_cut(command):
    check_help(command)


def test_an_env_refuses_a_drifted_service_unless_told_and_then_says_so(monkeypatch, default_replica_path, tmp_path):
    from envs import FinAdvisorEnv
    from envs.contract_check import ContractDrift
    from envs.evaluation.run import run_eval
    from envs.tasks import HANDWRITTEN
    from mock_apis.app import create_app, serve_in_thread

    monkeypatch.setattr(service_module, "call_tool", _rename_market_value(service_module.call_tool))
    with serve_in_thread(create_app(default_replica_path, TOKEN)) as url:
        with pytest.raises(ContractDrift, match=r"holdings\[\]\.market_value"):
            FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=url, token=TOKEN)
        env = FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=url, token=TOKEN, allow_drift=True)
        _, info = env.reset(seed=0, options={"task_id": "hw-L1-01"})
        assert info["contract"]["allow_drift"] and not info["contract"]["ok"]
        assert "holdings[].market_value -> holdings[].value" in info["contract"]["renames"]
        env.close()
        result = run_eval("oracle", HANDWRITTEN, tmp_path, backend="http", url=url, token=TOKEN, progress=False,
                          plots=False, env_kwargs={"allow_drift": True})
    assert result["metrics"]["contract"]["allow_drift"] is True
    assert "breaking drift, run with --allow-drift" in (tmp_path / "report.md").read_text()


def test_an_env_on_the_shipped_back_end_starts_and_records_a_clean_check(tmp_path):
    from envs import FinAdvisorEnv
    from envs.tasks import HANDWRITTEN

    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    _, info = env.reset(seed=0)
    assert info["contract"]["checked"] and info["contract"]["ok"] and not info["contract"]["allow_drift"]
    env.close()


def test_an_env_on_a_replica_with_a_renamed_column_refuses_to_start(tmp_path, default_replica_path):
    from envs import FinAdvisorEnv
    from envs.contract_check import ContractDrift
    from envs.tasks import HANDWRITTEN
    from mock_apis.sandbox import ReplicaError

    copy = _altered_copy(default_replica_path, tmp_path, "ALTER TABLE accounts RENAME COLUMN currency TO currency_code")
    # the in-process back-end's start-up check of the replica's schema names the column first;
    # `drift check` classifies the same change (test_a_renamed_replica_column_is_breaking_and_named)
    with pytest.raises((ContractDrift, ReplicaError), match="currency"):
        FinAdvisorEnv(tasks=HANDWRITTEN, replica=copy, check_replica=False)


def _broken_contracts(contract: dict) -> list[tuple[str, dict, str]]:
    """A copy of the shipped contract with one entry of the wrong kind, and where it is."""
    cases = []
    for where, path, value in (("tools/add_advisor_note", ["tools", "add_advisor_note"], "add_advisor_note"),
                               ("tools/get_fund_info/writes", ["tools", "get_fund_info", "writes"], "no"),
                               ("samples/get_fund_info", ["samples", "get_fund_info"], [1]),
                               ("database/accounts/columns", ["database", "accounts", "columns"], "account_id"),
                               ("tool_versions/get_holdings@2/returns",
                                ["tool_versions", "get_holdings@2", "returns"], None)):
        broken = json.loads(json.dumps(contract))
        node = broken
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        cases.append((where, broken, where))
    missing = json.loads(json.dumps(contract))
    del missing["database"]
    cases.append(("no database", missing, "(top level): 'database' is a required property"))
    return cases


def test_a_contract_against_its_own_schema_is_refused_with_one_line_naming_the_entry(tmp_path, contract):
    from envs import FinAdvisorEnv
    from envs.tasks import HANDWRITTEN
    from mock_apis.contracts import InvalidContract
    from mock_apis.contracts.schema import contract_problem

    assert contract_problem(contract) is None  # the shipped contract is valid
    for label, broken, where in _broken_contracts(contract):
        path = tmp_path / f"{label.replace('/', '_')}.json"
        path.write_bytes(dumps(broken))
        with pytest.raises(InvalidContract, match=re.escape(f"{path} is not a valid contract: {where}")):
            load_contract(path)
        with pytest.raises(InvalidContract, match=re.escape(where)):
            check_drift(broken, in_process=True)
        res = cli("drift", "check", "--in-process", "--contract", str(path))
        lines = [line for line in res.output.splitlines() if line.strip()]
        assert res.exit_code == 2 and len(lines) == 1, res.output
        assert lines[0].startswith(f"error: {path} is not a valid contract: {where}"), res.output
        # the env refuses it at start-up as bad input, even when told to run on drift
        with pytest.raises(ValueError, match=re.escape(where)):
            FinAdvisorEnv(tasks=HANDWRITTEN, contract=path, allow_drift=True)
