"""The tool catalogue: one declaration and one implementation per tool.

``call_tool`` is the only way any caller (the in-process back-end, the FastAPI routes, the
reward's sandbox re-execution, the tests) runs a tool: it resolves the name, validates the
arguments against the tool's JSON Schema and turns every failure into a structured error
object with a stable ``error`` code. It never raises for bad input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from mock_apis.sandbox import Sandbox

ERROR_CODES = (
    "unknown_tool",
    "invalid_arguments",
    "not_found",
    "rule_violation",
    "insufficient_funds",
    "conflict",
    "internal_error",
    "unauthorized",
    "service_unavailable",
    "timeout",
    "empty_result",
)

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "enum": list(ERROR_CODES)},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
        "valid_tools": {"type": "array", "items": {"type": "string"}},
    },
}


class ToolError(Exception):
    """A structured, expected failure of a tool call (bad id, broken domain rule, ...)."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]] | None = None):
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]
    returns: dict[str, Any]
    impl: Callable[..., dict[str, Any]]
    version: str = "1.0.0"
    criticality: float = 1.0
    composite: bool = False
    writes: bool = False
    validate: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "validate", fastjsonschema.compile(self.parameters))

    def openai_schema(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}

    def describe(self) -> dict[str, Any]:
        """Everything a caller may know about the tool: its full contract."""
        return {"name": self.name, "description": self.description, "version": self.version,
                "criticality": self.criticality, "composite": self.composite, "writes": self.writes,
                "parameters": self.parameters, "returns": self.returns}


REGISTRY: dict[str, ToolSpec] = {}


def tool(*, name: str, description: str, parameters: dict[str, Any], returns: dict[str, Any],
         version: str = "1.0.0", criticality: float = 1.0, composite: bool = False,
         writes: bool = False) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register the decorated function ``impl(sandbox, **arguments) -> result`` as a tool."""

    def register(impl: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        if name in REGISTRY:
            raise ValueError(f"tool {name!r} declared twice")
        REGISTRY[name] = ToolSpec(name=name, description=description, parameters=parameters, returns=returns,
                                  impl=impl, version=version, criticality=criticality, composite=composite,
                                  writes=writes)
        return impl

    return register


def catalogue() -> dict[str, ToolSpec]:
    """All tools, keyed by name, in declaration order."""
    import mock_apis.tools  # noqa: F401  (registers every tool)

    return REGISTRY


@dataclass(frozen=True)
class ToolOutcome:
    ok: bool
    payload: dict[str, Any]

    @property
    def error(self) -> str | None:
        return None if self.ok else self.payload["error"]


def argument_errors(spec: ToolSpec, arguments: Any) -> list[dict[str, Any]]:
    """Every schema violation of ``arguments``, as ``{"path", "message"}`` records.

    An ``anyOf``/``oneOf`` failure also lists its alternatives' own errors, so that e.g. a
    search with no criterion names the fields that would satisfy it.
    """
    validator = Draft202012Validator(spec.parameters)
    out = []
    for err in sorted(validator.iter_errors(arguments), key=lambda e: list(map(str, e.absolute_path))):
        out.append({"path": "/".join(str(p) for p in err.absolute_path) or "$", "message": err.message})
        out.extend({"path": "/".join(str(p) for p in sub.absolute_path) or "$", "message": sub.message}
                   for sub in err.context or ())
    return out


def _unrepresentable(arguments: dict[str, Any]) -> list[dict[str, str]]:
    """Values JSON or SQLite cannot carry, though Python callers can pass them: NaN and
    infinities, and strings with lone surrogates (not encodable as UTF-8)."""
    bad = []
    for key, value in arguments.items():
        if isinstance(value, float) and not math.isfinite(value):
            bad.append({"path": key, "message": "not a finite number"})
        elif isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                bad.append({"path": key, "message": "not valid Unicode text (lone surrogate)"})
    return bad


def call_tool(sandbox: Sandbox, name: Any, arguments: Any) -> ToolOutcome:
    tools = catalogue()
    spec = tools.get(name) if isinstance(name, str) else None
    if spec is None:
        return ToolOutcome(False, {"error": "unknown_tool", "message": f"no tool named {name!r}",
                                   "valid_tools": list(tools)})
    try:
        spec.validate(arguments)
    except fastjsonschema.JsonSchemaException:
        return ToolOutcome(False, {"error": "invalid_arguments",
                                   "message": f"arguments do not match the schema of {name}",
                                   "details": argument_errors(spec, arguments)})
    if bad := _unrepresentable(arguments):
        return ToolOutcome(False, {"error": "invalid_arguments", "message": "arguments hold values that are not valid JSON",
                                   "details": bad})
    try:
        with sandbox.lock:
            return ToolOutcome(True, spec.impl(sandbox, **arguments))
    except ToolError as err:
        return ToolOutcome(False, err.to_dict())
    except Exception as err:  # a tool bug must not take the episode or the service down
        return ToolOutcome(False, {"error": "internal_error", "message": f"{name} failed: {type(err).__name__}"})


def probe_tool(sandbox: Sandbox, name: Any, arguments: Any) -> ToolOutcome:
    """Run a tool in the sandbox's current state, then undo its writes (a savepoint rolled back).

    The reward uses this to execute a gold call in exactly the state the agent's call meets.
    """
    with sandbox.lock:
        sandbox.con.execute("SAVEPOINT probe")
        try:
            return call_tool(sandbox, name, arguments)
        finally:
            sandbox.con.execute("ROLLBACK TO probe")
            sandbox.con.execute("RELEASE probe")
