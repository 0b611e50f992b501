"""``check_drift``: a service (or this process) and a replica against a contract file."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from mock_apis.contracts.drift import (BREAKING, DATA_ERRORS, DriftReport, Finding, diff_database, diff_sample,
                                       diff_tools, diff_versions)
from mock_apis.contracts.snapshot import CONTRACT_FORMAT, CONTRACT_NAME, db_schema, version_arguments
from mock_apis.contracts.schema import contract_problem
from mock_apis.contracts.views import DriftCheckError, InProcessView, InvalidContract, ServiceView, ToolView
from mock_apis.domain import Domain, get_domain
from mock_apis.replica_cache import default_replica

#: The shipped contract's file name, under the fixtures' ``contracts/``.
CONTRACT_FILE = "contract-v1.json"


def default_contract_path(domain: str | Domain | None = None) -> Path:
    """A domain's shipped contract (default: the default domain's): ``contracts/contract-v1.json``
    under its fixtures (finance: ``fixtures/contracts/contract-v1.json``, or the installed copy)."""
    return get_domain(domain).contracts_dir / CONTRACT_FILE


def contract_sha256(path: str | Path | None = None, domain: str | Domain | None = None) -> str:
    """The SHA-256 of a contract file's bytes (default: the domain's shipped one)."""
    return hashlib.sha256(Path(path or default_contract_path(domain)).read_bytes()).hexdigest()


def load_contract(path: str | Path | None = None, domain: str | Domain | None = None) -> dict[str, Any]:
    """A contract file, validated against the contract schema (default: the domain's shipped one);
    ``InvalidContract``, one line naming the file and its first wrong entry, otherwise."""
    path = Path(path or default_contract_path(domain))
    try:
        contract = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as err:
        raise InvalidContract(f"cannot read the contract {path}: {err}") from None
    if not isinstance(contract, dict) or contract.get("contract") != CONTRACT_NAME:
        raise InvalidContract(f"{path} is not an advisorgym contract")
    if contract.get("format") != CONTRACT_FORMAT:
        raise InvalidContract(f"{path} has contract format {contract.get('format')!r}; this code reads "
                              f"format {CONTRACT_FORMAT}")
    problem = contract_problem(contract)
    if problem is not None:
        raise InvalidContract(f"{path} is not a valid contract: {problem}")
    return contract


def all_samples(contract: dict[str, Any]) -> dict[str, Any]:
    """The contract's samples of every tool version, keyed by tool name or ``name@version``."""
    return {**contract["samples"], **contract.get("version_samples", {})}


def _arguments(contract: dict[str, Any], replica: Path | None,
               domain: Domain) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Sample arguments (by tool name and by ``name@version``), and which tools got theirs from
    ``replica``: its own rows where it has them, else the contract's."""
    samples = all_samples(contract)
    stored = {name: sample["arguments"] for name, sample in samples.items()}
    own = domain.sample_arguments(replica) if replica is not None else {}
    own.update(version_arguments(own, contract.get("version_samples", {})))
    return {**stored, **own}, set(own)


def _check_tools(contract: dict[str, Any], view: ToolView, arguments: dict[str, dict[str, Any]],
                 own: set[str], report: DriftReport) -> None:
    """Published schemas against the contract's (defaults, then the other versions), then one
    real call per tool version against its sample; a data error (a row missing) on arguments not
    drawn from the replica run is only a note."""
    published = view.published()
    live_tools = {name: tool for name, tool in published.items() if "@" not in name}
    versions = contract.get("tool_versions", {})
    for findings, renames in (diff_tools(contract["tools"], live_tools),
                              diff_versions(contract["tools"], versions, published)):
        report.findings += findings
        report.renames += renames
    declared = {**contract["tools"], **versions}
    sampled = 0
    for name, sample in sorted(all_samples(contract).items()):
        if name not in published or name not in declared:
            continue
        ok, payload = view.run(name, arguments[name], bool(declared[name]["writes"]))
        if ok and sample["ok"]:
            sampled += 1
            findings, renames = diff_sample(name, sample, declared[name]["returns"], payload)
            report.findings += findings
            report.renames += renames
        elif not ok and sample["ok"]:
            code = payload.get("error") if isinstance(payload, dict) else None
            message = str(payload.get("message", ""))[:200] if isinstance(payload, dict) else ""
            if code in DATA_ERRORS and name not in own:
                report.notes.append(f"{name} not sampled: its sample's rows are not in this data ({code})")
            else:
                report.findings.append(Finding(BREAKING, "sample_failed", f"tool {name} result (sampled)", name,
                                               f"{code}: {message}"))
    report.checked.append(f"{view.label} ({len(published)} tools, {sampled} sampled)")


def check_drift(contract: str | Path | dict[str, Any] | None = None, *, service: str | None = None,
                token: str | None = None, in_process: bool = False,
                replica: str | Path | None = None, domain: str | Domain | None = None) -> DriftReport:
    """Compare a service (``service`` URL and ``token``) or this process's catalogue
    (``in_process``) and/or a replica's database with ``contract`` (default: the shipped one of
    ``domain``, itself by default the default domain).

    In process, the tools run on ``replica`` (default: the domain's default replica), whose
    database is checked too. Raises ``DriftCheckError`` when the check cannot run.
    """
    found = get_domain(domain)
    if service and in_process:
        raise ValueError("check a service or the in-process catalogue, not both")
    if isinstance(contract, dict):
        if (problem := contract_problem(contract)) is not None:
            raise InvalidContract(f"the contract given in memory is not a valid contract: {problem}")
        loaded, label = contract, "(in memory)"
    else:
        path = Path(contract or default_contract_path(found))
        loaded, label = load_contract(path), f"{path} (sha256 {contract_sha256(path)[:12]})"
    report = DriftReport(contract=label)
    replica_path = Path(replica) if replica is not None else None
    if in_process and replica_path is None:
        replica_path = default_replica(domain=found)
    if replica_path is not None:
        if not replica_path.is_file():
            raise DriftCheckError(f"replica not found: {replica_path}")
        try:
            live_db = db_schema(replica_path)
        except sqlite3.Error as err:
            raise DriftCheckError(f"cannot read the replica {replica_path}: {err}") from None
        findings, renames = diff_database(loaded["database"], live_db["tables"])
        report.findings += findings
        report.renames += renames
        report.checked.append(f"replica {replica_path} ({len(live_db['tables'])} tables)")
    if service or in_process:
        view: ToolView = (ServiceView(service, token) if service
                          else InProcessView(replica_path, found))  # type: ignore[arg-type]
        try:
            arguments, own = _arguments(loaded, replica_path if in_process else None, found)
            _check_tools(loaded, view, arguments, own, report)
        finally:
            view.close()
    if not report.checked:
        raise ValueError("nothing to check: pass service=URL, in_process=True or replica=PATH")
    return report
