"""Field paths and JSON types: of a value (what a tool really returned) and of a JSON Schema
(what it promises).

A path names a field from the result's root: ``holdings[].fund_code`` is the ``fund_code``
of every item of the ``holdings`` array. The root itself has no path. Types are JSON
Schema's (``object``, ``array``, ``string``, ``integer``, ``number``, ``boolean``, ``null``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

#: A shape: each field path with the sorted JSON types seen (or allowed) there.
Shape = dict[str, list[str]]

#: Fingerprints are this many hex digits of a value's SHA-256: enough to tell values apart,
#: too few to matter as a copy of the data.
FINGERPRINT_HEX = 16


#: JSON Schema's name for each decoded JSON type, ``bool`` before ``int`` (it is one).
_JSON_TYPES = ((type(None), "null"), (bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"))


def json_type(value: Any) -> str:
    """The JSON Schema type of a decoded JSON value."""
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "object")


def fingerprint(value: Any) -> str:
    """A short digest of a scalar value, for telling a renamed field by its values."""
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:FINGERPRINT_HEX]


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def observe(value: Any) -> tuple[Shape, dict[str, str]]:
    """The shape of ``value`` (every path it holds, with the types met there, over all array
    items) and the fingerprint of the first scalar met at each path."""
    types: dict[str, set[str]] = {}
    values: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if path:
            types.setdefault(path, set()).add(json_type(node))
        if isinstance(node, dict):
            stack.extend((_join(path, key), child) for key, child in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((f"{path}[]", child) for child in reversed(node))
        elif path and path not in values:
            values[path] = fingerprint(node)
    return {p: sorted(t) for p, t in sorted(types.items())}, dict(sorted(values.items()))


def _schema_types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        if "properties" in schema:
            return {"object"}
        if "items" in schema:
            return {"array"}
        return set()
    return {declared} if isinstance(declared, str) else set(declared)


def declared(schema: dict[str, Any]) -> tuple[Shape, set[str]]:
    """The paths a JSON Schema declares, with their allowed types, and which of them are
    required (their parent object requires them; an array item is required where its array is)."""
    types: Shape = {}
    required: set[str] = set()
    stack: list[tuple[str, dict[str, Any], bool]] = [("", schema, True)]
    while stack:
        path, node, needed = stack.pop()
        if path:
            types[path] = sorted(_schema_types(node))
            if needed:
                required.add(path)
        must = set(node.get("required", ()))
        for key, child in node.get("properties", {}).items():
            stack.append((_join(path, key), child, key in must))
        if isinstance(node.get("items"), dict):
            stack.append((f"{path}[]", node["items"], False))
    return dict(sorted(types.items())), required


def parent_of(path: str) -> str:
    """The path of the object that holds ``path``'s field (``""`` for the root)."""
    head, _, _ = path.rpartition(".")
    return head


def compatible_types(old: list[str], new: list[str]) -> bool:
    """Whether every type in ``new`` was already allowed by ``old`` (an integer is a number)."""
    allowed = set(old) | ({"integer"} if "number" in old else set())
    return set(new) <= allowed
