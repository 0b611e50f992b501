"""The contract file's own JSON Schema (format 1): what ``build_contract`` writes and the drift
check reads. ``load_contract`` validates every contract against it, so that a hand-edited or
foreign file is refused with one line naming the first wrong entry, not a ``TypeError`` deep in
the diff."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from mock_apis.contracts.snapshot import CONTRACT_FORMAT, CONTRACT_NAME


def _map_of(value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": value}


_STRINGS = {"type": "array", "items": {"type": "string"}}
_TOOL = {
    "type": "object",
    "required": ["version", "writes", "parameters", "returns"],
    "properties": {"version": {"type": "string"}, "writes": {"type": "boolean"},
                   "parameters": {"type": "object"}, "returns": {"type": "object"}},
}
_SAMPLE = {
    "type": "object",
    "required": ["arguments", "ok", "shape", "values"],
    "properties": {"arguments": {"type": "object"}, "ok": {"type": "boolean"},
                   "shape": _map_of(_STRINGS), "values": _map_of({"type": "string"})},
}
_COLUMN = {
    "type": "object",
    "required": ["type", "notnull", "pk", "values"],
    "properties": {"type": {"type": "string"}, "notnull": {"type": "boolean"},
                   "pk": {"type": "integer", "minimum": 0}, "values": {"type": "string"}},
}
_TABLE = {
    "type": "object",
    "required": ["columns", "primary_key", "foreign_keys"],
    "properties": {
        "columns": _map_of(_COLUMN),
        "primary_key": _STRINGS,
        "foreign_keys": {"type": "array", "items": {
            "type": "object", "required": ["columns", "references", "to"],
            "properties": {"columns": _STRINGS, "references": {"type": "string"}, "to": _STRINGS}}},
    },
}

CONTRACT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "advisorgym tool and replica contract",
    "type": "object",
    "required": ["contract", "format", "tools", "samples", "database", "replica"],
    "properties": {
        "contract": {"const": CONTRACT_NAME},
        "format": {"const": CONTRACT_FORMAT},
        "tools": _map_of(_TOOL),
        "tool_versions": {"type": "object", "propertyNames": {"pattern": "@"}, "additionalProperties": _TOOL},
        "samples": _map_of(_SAMPLE),
        "version_samples": {"type": "object", "propertyNames": {"pattern": "@"}, "additionalProperties": _SAMPLE},
        "database": _map_of(_TABLE),
        "replica": _map_of({"type": "string"}),
    },
}

_VALIDATOR = Draft202012Validator(CONTRACT_SCHEMA)


def contract_problem(contract: Any) -> str | None:
    """The first way ``contract`` breaks ``CONTRACT_SCHEMA``, as ``where: what`` (``where`` the
    entry's path, e.g. ``tools/add_advisor_note``), or None when it is a valid contract."""
    error = best_match(_VALIDATOR.iter_errors(contract))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    what = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    return f"{where}: {what}"
