"""The contract snapshot: tools' schemas and versions, the result shapes really returned on a
replica, and the replica's database schema, as one deterministic JSON-able dict.

``tools`` and ``samples`` hold each tool's default version, by name; ``tool_versions`` and
``version_samples`` every other version served beside it, by ``name@version`` (sampled with
its tool's arguments). A contract without the latter two has no other versions.

Sample arguments are chosen from the replica itself by the domain (``Domain.sample_arguments``:
finance takes the first row, by key, that makes each tool succeed), so that a snapshot of any replica samples every tool; the contract keeps them,
so that a service whose replica cannot be read is sampled with the same arguments.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from mock_apis.catalogue import ToolSpec, parse_ref, probe_tool
from mock_apis.contracts.shapes import FINGERPRINT_HEX, observe
from mock_apis.domain import Domain, get_domain
from mock_apis.replica_cache import default_replica
from mock_apis.sandbox import Sandbox

#: The contract file format; bump it when its layout changes (not when the tools do).
CONTRACT_FORMAT = 1
CONTRACT_NAME = "advisorgym-contract"
#: Rows per table whose values are fingerprinted, to tell a renamed column by its values.
FINGERPRINT_ROWS = 5
#: The replica metadata the contract names (the replica it was sampled on).
META_KEYS = ("as_of", "generator_version", "scale", "schema_version", "seed")

def sample_arguments(replica_path: str | Path, domain: str | Domain | None = None) -> dict[str, dict[str, Any]]:
    """Arguments that make each tool of ``domain`` (default: the default domain) succeed on
    ``replica_path``, keyed by tool name (``Domain.sample_arguments``); a tool whose rows the
    replica lacks (or whose columns it renamed) is left out."""
    return get_domain(domain).sample_arguments(replica_path)


def sample_record(arguments: dict[str, Any], ok: bool, payload: Any) -> dict[str, Any]:
    """What the contract keeps of one sampled call: its arguments, whether it succeeded, and
    the result's shape and value fingerprints."""
    shape, values = observe(payload)
    return {"arguments": arguments, "ok": ok, "shape": shape, "values": values}


def sample_tools(replica_path: str | Path, arguments: dict[str, dict[str, Any]],
                 domain: str | Domain | None = None) -> dict[str, dict[str, Any]]:
    """Run each tool of ``domain`` (a name, or ``name@version``) with its sample arguments on a
    sandbox of ``replica_path`` (writes are rolled back) and record what came back."""
    found = get_domain(domain)
    out: dict[str, dict[str, Any]] = {}
    with Sandbox(replica_path, found.schema) as sandbox:
        for name in sorted(arguments):
            outcome = probe_tool(sandbox, parse_ref(name), arguments[name], found.tools)
            out[name] = sample_record(arguments[name], outcome.ok, outcome.payload)
    return out


def _column_fingerprints(con: sqlite3.Connection, table: str, columns: list[str], key: list[str]) -> list[str]:
    order = ", ".join(f'"{c}"' for c in key or columns)
    rows = con.execute(f'SELECT * FROM "{table}" ORDER BY {order} LIMIT {FINGERPRINT_ROWS}').fetchall()
    return [hashlib.sha256(orjson.dumps([row[i] for row in rows])).hexdigest()[:FINGERPRINT_HEX]
            for i in range(len(columns))]


def db_schema(replica_path: str | Path) -> dict[str, Any]:
    """The replica's tables: each column's declared type, NOT NULL flag, primary-key position and
    a fingerprint of its first values; each table's primary and foreign keys."""
    con = sqlite3.connect(f"file:{Path(replica_path).resolve()}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        tables: dict[str, Any] = {}
        for table in names:
            info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
            columns = [r[1] for r in info]
            key = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
            prints = _column_fingerprints(con, table, columns, key)
            foreign: dict[int, dict[str, Any]] = {}
            for fk in con.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
                entry = foreign.setdefault(fk[0], {"columns": [], "references": fk[2], "to": []})
                entry["columns"].append(fk[3])
                entry["to"].append(fk[4])
            tables[table] = {
                "columns": {r[1]: {"type": r[2], "notnull": bool(r[3]), "pk": r[5], "values": p}
                            for r, p in zip(info, prints)},
                "primary_key": key,
                "foreign_keys": sorted(foreign.values(), key=lambda f: (f["columns"], f["references"])),
            }
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
    finally:
        con.close()
    return {"tables": tables, "replica": {k: meta[k] for k in META_KEYS if k in meta}}


def tool_contract(spec: ToolSpec) -> dict[str, Any]:
    """The parts of a tool's published description that callers depend on."""
    return {"version": spec.version, "writes": spec.writes, "parameters": spec.parameters, "returns": spec.returns}


def version_arguments(arguments: dict[str, dict[str, Any]], refs: Any) -> dict[str, dict[str, Any]]:
    """Sample arguments for each ``name@version`` of ``refs``: its tool's (by name), where there are some."""
    return {ref: arguments[name] for ref in refs if (name := ref.partition("@")[0]) in arguments}


def build_contract(replica_path: str | Path | None = None, domain: str | Domain | None = None) -> dict[str, Any]:
    """The contract of ``domain``'s shipped code (default: the default domain) on
    ``replica_path`` (default: the domain's default replica)."""
    found = get_domain(domain)
    if replica_path is None:  # the replica the frozen suite is written for
        replica_path = default_replica(domain=found)
    database = db_schema(replica_path)
    tools, versions = found.tools.tools, found.tools.versioned()
    arguments = found.sample_arguments(replica_path)
    return {
        "contract": CONTRACT_NAME,
        "format": CONTRACT_FORMAT,
        "tools": {name: tool_contract(spec) for name, spec in sorted(tools.items())},
        "tool_versions": {ref: tool_contract(spec) for ref, spec in sorted(versions.items())},
        "samples": sample_tools(replica_path, arguments, found),
        "version_samples": sample_tools(replica_path, version_arguments(arguments, versions), found),
        "database": database["tables"],
        "replica": database["replica"],
    }


def dumps(contract: dict[str, Any]) -> bytes:
    """The contract's canonical file bytes: sorted keys, two-space indents, a final newline."""
    return orjson.dumps(contract, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
