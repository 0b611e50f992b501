"""The tool catalogue: one declaration and one implementation per tool.

``call_tool`` is the only way any caller (the in-process back-end, the FastAPI routes, the
reward's sandbox re-execution, the tests) runs a tool: it resolves the name, checks that the
arguments are sane at all (``sanity_errors``: at most 64 levels deep, 10,000 values and 1 Mi
characters; integers within the signed 64-bit range; finite numbers; text encodable as
UTF-8), validates them against the tool's JSON Schema and turns every failure into a
structured error object with a stable ``error`` code (``invalid_arguments`` for all of the
above). It never raises for bad input, whatever its depth, size or type, and its error
messages are bounded: echoed values, paths and messages are cut to about 200 characters,
and at most 20 details are listed.

**Versions.** A tool may be served in several versions side by side. Its schema is its
contract, so a breaking change (a renamed result field) is a new *version*, named by the
major number of its semantic version (``ToolSpec.version`` ``"2.0.0"`` is version ``"2"``).
Each domain keeps its tools in a ``ToolRegistry``, keyed by name and version:
``registry.tools[name]`` (``catalogue(registry)[name]``) is each tool's default version (what
a plain name calls), ``registry.other_versions[name][version]`` the others, declared with
``@registry.tool_version`` as a thin adapter of the default's result (one implementation;
same parameters, writes and criticality). Callers address a version with a
``ToolRef(name, version)`` in place of the name (written ``name@version``, its HTTP route
``/tools/name@version``); agent-sent names are plain JSON values, so they only ever reach
defaults. An unknown version is ``unknown_version``, with the ``valid_versions``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import reprlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import fastjsonschema
from jsonschema import Draft202012Validator

from mock_apis.domain_table import DEFAULT_DOMAIN, lookup
from mock_apis.errors import TOOL_ERROR_CODES, AdvisorGymError

if TYPE_CHECKING:
    from mock_apis.sandbox import Sandbox

#: A tool's error codes: the tool rows of ``mock_apis.errors.ERRORS``, in the table's order.
ERROR_CODES = TOOL_ERROR_CODES

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "enum": list(ERROR_CODES)},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
        "valid_tools": {"type": "array", "items": {"type": "string"}},
        "valid_versions": {"type": "array", "items": {"type": "string"}},
    },
}


class ToolError(AdvisorGymError):
    """A structured, expected failure of a tool call (bad id, broken domain rule, ...); ``code``
    is one of ``ERROR_CODES``."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]] | None = None):
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


#: The API shapes a tool list is offered in (``ToolSpec.schema``).
TOOL_SHAPES = ("chat", "responses", "anthropic")


@dataclass(frozen=True)
class ToolSpec:
    """One tool of the catalogue: its name, description, parameter and result JSON Schemas, its
    implementation, version, criticality (weight in the reward), and whether it is a composite of
    other reads or writes. ``validate`` checks arguments against ``parameters``.
    """
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

    @property
    def major(self) -> str:
        """The version callers pin and route by: the major number of ``version``."""
        return self.version.partition(".")[0]

    def openai_schema(self) -> dict[str, Any]:
        """The tool in the OpenAI Chat Completions ``tools`` shape (what chat templates take)."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}

    def responses_schema(self) -> dict[str, Any]:
        """The tool in the OpenAI Responses ``tools`` shape (flat; ``strict`` off, as the
        schemas are not written for strict mode: the env validates the arguments itself)."""
        return {"type": "function", "name": self.name, "description": self.description,
                "parameters": self.parameters, "strict": False}

    def anthropic_schema(self) -> dict[str, Any]:
        """The tool in the Anthropic Messages ``tools`` shape."""
        return {"name": self.name, "description": self.description, "input_schema": self.parameters}

    def schema(self, shape: str = "chat") -> dict[str, Any]:
        """The tool in one of ``TOOL_SHAPES``: ``chat``, ``responses`` or ``anthropic``."""
        if shape == "chat":
            return self.openai_schema()
        if shape == "responses":
            return self.responses_schema()
        if shape == "anthropic":
            return self.anthropic_schema()
        raise ValueError(f"tool shape must be one of {TOOL_SHAPES}, got {shape!r}")

    def describe(self) -> dict[str, Any]:
        """Everything a caller may know about the tool: its full contract."""
        return {"name": self.name, "description": self.description, "version": self.version,
                "criticality": self.criticality, "composite": self.composite, "writes": self.writes,
                "parameters": self.parameters, "returns": self.returns}


class ToolRef(NamedTuple):
    """One version of a tool, e.g. ``ToolRef("get_holdings", "2")``, written ``get_holdings@2``."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


def parse_ref(text: str) -> str | ToolRef:
    """``"name@version"`` as a ``ToolRef``; a plain name (the default version) as itself."""
    name, at, version = text.partition("@")
    return ToolRef(name, version) if at else text


_SEMVER = re.compile(r"[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}")

#: A version's adapter: the default version's result in, this version's out.
Adapter = Callable[[dict[str, Any]], dict[str, Any]]


class ToolRegistry:
    """One domain's tools: ``tools``, each tool's default version by name (in declaration
    order), and ``other_versions``, name -> version -> spec. A domain declares its tools with
    ``@registry.tool(...)`` and their other versions with ``@registry.tool_version(...)``."""

    def __init__(self) -> None:
        self.tools: dict[str, ToolSpec] = {}
        self.other_versions: dict[str, dict[str, ToolSpec]] = {}

    def tool(self, *, name: str, description: str, parameters: dict[str, Any], returns: dict[str, Any],
             version: str = "1.0.0", criticality: float = 1.0, composite: bool = False,
             writes: bool = False) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
        """Register the decorated function ``impl(sandbox, **arguments) -> result`` as a tool."""

        def register(impl: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
            if name in self.tools:
                raise ValueError(f"tool {name!r} declared twice")
            if not _SEMVER.fullmatch(version):
                raise ValueError(f"tool {name!r}: version {version!r} is not MAJOR.MINOR.PATCH")
            self.tools[name] = ToolSpec(name=name, description=description, parameters=parameters, returns=returns,
                                        impl=impl, version=version, criticality=criticality, composite=composite,
                                        writes=writes)
            return impl

        return register

    def tool_version(self, name: str, *, version: str, description: str, returns: dict[str, Any]
                     ) -> Callable[[Adapter], Adapter]:
        """Register another version of the declared tool ``name``: the decorated ``adapt(result)``
        turns the default version's result into this version's (``returns``). It runs the default's
        implementation, with its parameters, writes and criticality; errors pass through unchanged."""

        def register(adapt: Adapter) -> Adapter:
            base = self.tools[name]
            spec = dataclasses.replace(base, description=description, returns=returns, version=version,
                                       impl=_adapted(base.impl, adapt))
            others = self.other_versions.setdefault(name, {})
            if not _SEMVER.fullmatch(version) or spec.major == base.major or spec.major in others:
                raise ValueError(f"tool {name!r}: version {version!r} is not a new MAJOR.MINOR.PATCH version")
            others[spec.major] = spec
            return adapt

        return register

    def versions_of(self, name: str) -> list[str]:
        """The versions of tool ``name`` that are served, its default first (none for no tool)."""
        spec = self.tools.get(name)
        return [spec.major, *self.other_versions.get(name, ())] if spec is not None else []

    def versioned(self) -> dict[str, ToolSpec]:
        """Every tool version that is not its tool's default, keyed ``name@version``."""
        return {str(ToolRef(name, version)): spec for name, others in self.other_versions.items()
                for version, spec in others.items()}

    def resolve(self, name: Any) -> ToolSpec | None:
        """The spec a call addresses: a plain name's default version, a ``ToolRef``'s version; None
        for anything else (a name of any other type, an unknown tool or version)."""
        try:
            if isinstance(name, str):
                return self.tools.get(name)
            if type(name) is ToolRef:
                default = self.tools.get(name.name)
                if default is not None and default.major == name.version:
                    return default
                return self.other_versions.get(name.name, {}).get(name.version)
        except Exception:  # a str subclass with a hostile __hash__ or __eq__
            return None
        return None

    def unknown_tool(self, name: Any) -> dict[str, Any]:
        """The error payload for a call ``resolve`` found nothing for: ``unknown_version`` for a
        ``ToolRef`` to a tool that exists, else ``unknown_tool``."""
        if type(name) is ToolRef and isinstance(name.name, str) and name.name in self.tools:
            served = self.versions_of(name.name)
            return {"error": "unknown_version",
                    "message": f"{name.name} has no version {echo(name.version)}; it is served in version(s) "
                               f"{', '.join(served)} (a version is the major number of the tool's semantic version)",
                    "valid_versions": served}
        label = str(name) if type(name) is ToolRef else name
        return {"error": "unknown_tool", "message": f"no tool named {echo(label)}", "valid_tools": list(self.tools)}


def _adapted(impl: Callable[..., dict[str, Any]], adapt: Adapter) -> Callable[..., dict[str, Any]]:
    def run(sandbox: Sandbox, **arguments: Any) -> dict[str, Any]:
        return adapt(impl(sandbox, **arguments))

    return run


def default_tools() -> ToolRegistry:
    """The default domain's tools (``mock_apis.domain.DEFAULT_DOMAIN``), what the module-level
    functions below use when no registry is passed."""
    tools: ToolRegistry = lookup(DEFAULT_DOMAIN).tools
    return tools


def catalogue(tools: ToolRegistry | None = None) -> dict[str, ToolSpec]:
    """All tools of ``tools`` (default: the default domain's), keyed by name, in declaration
    order: each tool's default version."""
    return (tools or default_tools()).tools


def versions_of(name: str, tools: ToolRegistry | None = None) -> list[str]:
    """The versions of tool ``name`` that are served, its default first (none for no tool)."""
    return (tools or default_tools()).versions_of(name)


def other_versions(tools: ToolRegistry | None = None) -> dict[str, ToolSpec]:
    """Every tool version that is not its tool's default, keyed ``name@version``."""
    return (tools or default_tools()).versioned()


def resolve(name: Any, tools: ToolRegistry | None = None) -> ToolSpec | None:
    """The spec a call addresses (``ToolRegistry.resolve``) in ``tools`` (default: the default domain's)."""
    return (tools or default_tools()).resolve(name)


def unknown_tool(name: Any, tools: ToolRegistry | None = None) -> dict[str, Any]:
    """The error payload for a call ``resolve`` found nothing for (``ToolRegistry.unknown_tool``)."""
    return (tools or default_tools()).unknown_tool(name)


@dataclass(frozen=True)
class ToolOutcome:
    """A tool call's outcome: ``ok`` and its payload (the result, or ``{"error": ...}``)."""
    ok: bool
    payload: dict[str, Any]

    @property
    def error(self) -> str | None:
        return None if self.ok else self.payload["error"]


#: Arguments nested deeper than this (the arguments object itself is level 1) are refused
#: before any validation: every tool takes flat scalars, and deep values would make the
#: recursive parts of validation and error reporting (``repr``) hit the recursion limit.
MAX_ARGUMENT_DEPTH = 64
#: At most this many values (containers, keys' values and items, scalars) in one arguments object.
MAX_ARGUMENT_VALUES = 10_000
#: At most this many characters of text (strings and dict keys) in one arguments object, the
#: service's body limit (1 MiB) in characters.
MAX_ARGUMENT_CHARS = 1 << 20
#: Integers must fit SQLite's signed 64-bit integers (binding a larger one raises OverflowError).
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
#: Echoed values, paths and messages in error details are cut to about this many characters;
#: at most ``MAX_ERROR_DETAILS`` details are listed.
MAX_ECHO_CHARS = 200
MAX_ERROR_DETAILS = 20

_ECHO = reprlib.Repr()
_ECHO.maxstring = _ECHO.maxother = _ECHO.maxlong = MAX_ECHO_CHARS
_ECHO.maxlevel = 3


def _clip(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, keeping its start and its end."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\u2026{text[-half:]}"


def echo(value: Any) -> str:
    """A short, never-raising ``repr`` of any value, for error messages."""
    try:
        return _clip(_ECHO.repr(value))
    except Exception:  # a hostile __repr__, an int beyond str()'s digit limit, ...
        return f"<{type(value).__name__}>"


def _path(parts: tuple[Any, ...]) -> str:
    if not parts:
        return "$"
    try:
        return _clip("/".join(p if isinstance(p, str) else str(p) for p in parts))
    except Exception:
        return "$"


def _detail(path: str, message: str) -> dict[str, str]:
    return {"path": _clip(path), "message": _clip(message, 2 * MAX_ECHO_CHARS)}


def sanity_errors(arguments: Any) -> tuple[str, list[dict[str, str]]] | None:
    """Why ``arguments`` cannot go to validation at all, as ``(message, details)``; None if it can.

    One iterative (never recursive) walk over any value: refuses nesting deeper than
    ``MAX_ARGUMENT_DEPTH``, more than ``MAX_ARGUMENT_VALUES`` values or ``MAX_ARGUMENT_CHARS``
    characters, integers outside the signed 64-bit range, NaN and infinities, and strings with
    lone surrogates (not encodable as UTF-8), at any depth.
    """
    if type(arguments) is dict and _flat_and_plain(arguments):
        return None  # the usual call: a few ASCII strings, small integers, finite floats
    try:
        return _sanity_walk(arguments)
    except Exception as err:  # a container subclass whose items() or len() misbehaves
        return ("arguments could not be read", [_detail("$", f"unreadable value ({type(err).__name__})")])


_BAD_JSON = "arguments hold values that are not valid JSON"


def _flat_and_plain(arguments: dict[Any, Any]) -> bool:
    """True when ``_sanity_walk`` would surely pass ``arguments`` (a fast path, not a check)."""
    if len(arguments) > 64:
        return False
    for key, value in arguments.items():
        kind = type(value)
        if type(key) is not str or not key.isascii() or len(key) > 1024:
            return False
        if kind is str:
            if not value.isascii() or len(value) > 1024:
                return False
        elif kind is int:
            if not INT64_MIN <= value <= INT64_MAX:
                return False
        elif kind is float:
            if not math.isfinite(value):
                return False
        elif kind is not bool and value is not None:
            return False
    return True


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (JSON and SQLite need UTF-8: no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _sanity_walk(arguments: Any) -> tuple[str, list[dict[str, str]]] | None:
    details: list[dict[str, str]] = []
    messages: list[str] = []

    def bad(message: str, parts: tuple[Any, ...], what: str) -> None:
        if not messages:
            messages.append(message)
        if len(details) < MAX_ERROR_DETAILS:
            details.append(_detail(_path(parts), what))

    values, chars = 1, 0
    stack: list[tuple[Any, tuple[Any, ...], int]] = [(arguments, (), 1)]
    while stack:
        value, parts, depth = stack.pop()
        if isinstance(value, str):
            chars += len(value)
            if not _encodable(value):
                bad(_BAD_JSON, parts, "not valid Unicode text (lone surrogate)")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                bad("arguments hold an integer outside the signed 64-bit range", parts,
                    f"integer out of range: must be between {INT64_MIN} and {INT64_MAX}")
        elif isinstance(value, float):
            if not math.isfinite(value):
                bad(_BAD_JSON, parts, "not a finite number")
        elif isinstance(value, (dict, list, tuple, set, frozenset)):
            if depth > MAX_ARGUMENT_DEPTH:
                bad(f"arguments are nested deeper than {MAX_ARGUMENT_DEPTH} levels", parts,
                    f"nested deeper than {MAX_ARGUMENT_DEPTH} levels")
                continue
            values += len(value)
            if values > MAX_ARGUMENT_VALUES:
                return (f"arguments hold more than {MAX_ARGUMENT_VALUES} values",
                        [_detail(_path(parts), f"more than {MAX_ARGUMENT_VALUES} values")])
            if isinstance(value, dict):
                children = list(value.items())
                for key, _ in children:
                    if isinstance(key, str):
                        chars += len(key)
                        if not _encodable(key):
                            bad(_BAD_JSON, parts, "a key is not valid Unicode text (lone surrogate)")
            else:
                children = list(enumerate(value))
            for key, child in reversed(children):  # popped in order
                stack.append((child, (*parts, key), depth + 1))
        if chars > MAX_ARGUMENT_CHARS:
            return (f"arguments hold more than {MAX_ARGUMENT_CHARS} characters of text",
                    [_detail(_path(parts), f"more than {MAX_ARGUMENT_CHARS} characters in all")])
    return (messages[0], details) if messages else None


def argument_errors(spec: ToolSpec, arguments: Any) -> list[dict[str, Any]]:
    """Every reason ``call_tool`` refuses ``arguments``, as ``{"path", "message"}`` records.

    The sanity check's findings (``sanity_errors``) if any; otherwise every schema violation.
    An ``anyOf``/``oneOf`` failure also lists its alternatives' own errors, so that e.g. a
    search with no criterion names the fields that would satisfy it. Paths and messages are
    cut to about ``MAX_ECHO_CHARS`` characters, and at most ``MAX_ERROR_DETAILS`` are listed.
    """
    if (bad := sanity_errors(arguments)) is not None:
        return bad[1]
    try:
        validator = Draft202012Validator(spec.parameters)
        out = []
        for err in sorted(validator.iter_errors(arguments), key=lambda e: list(map(str, e.absolute_path))):
            out.append(_detail(_path(tuple(err.absolute_path)), err.message))
            out.extend(_detail(_path(tuple(sub.absolute_path)), sub.message) for sub in err.context or ())
            if len(out) >= MAX_ERROR_DETAILS:
                break
        return out[:MAX_ERROR_DETAILS]
    except Exception as err:  # a value whose repr() fails while the message is written
        return [_detail("$", f"arguments do not match the schema ({type(err).__name__} while describing why)")]


def _invalid(message: str, details: list[dict[str, Any]]) -> ToolOutcome:
    return ToolOutcome(False, {"error": "invalid_arguments", "message": message, "details": details})


def call_tool(sandbox: Sandbox, name: Any, arguments: Any, tools: ToolRegistry | None = None) -> ToolOutcome:
    """Run tool ``name`` (a name: its default version; a ``ToolRef``: that version) on
    ``arguments``; every failure is a structured error, nothing raises.

    Order: the name (and version); the sanity check (``sanity_errors``: depth, size, 64-bit integers, finite
    numbers, encodable text); the tool's JSON Schema; then the tool itself. ``tools``: the
    domain's registry (default: the default domain's).
    """
    tools = tools or default_tools()
    spec = tools.resolve(name)  # never raises, whatever ``name`` is
    if spec is None:
        return ToolOutcome(False, tools.unknown_tool(name))
    if (bad := sanity_errors(arguments)) is not None:
        return _invalid(*bad)
    try:
        spec.validate(arguments)
    except fastjsonschema.JsonSchemaException:
        return _invalid(f"arguments do not match the schema of {name}", argument_errors(spec, arguments))
    except Exception as err:  # a mapping subclass that breaks while being validated
        return _invalid(f"arguments do not match the schema of {name}",
                        [_detail("$", f"unreadable value ({type(err).__name__})")])
    try:
        with sandbox.lock:
            return ToolOutcome(True, spec.impl(sandbox, **arguments))
    except ToolError as err:
        return ToolOutcome(False, err.to_dict())
    except Exception as err:  # a tool bug must not take the episode or the service down
        return ToolOutcome(False, {"error": "internal_error", "message": f"{name} failed: {type(err).__name__}"})


def probe_tool(sandbox: Sandbox, name: Any, arguments: Any, tools: ToolRegistry | None = None) -> ToolOutcome:
    """Run a tool in the sandbox's current state, then undo its writes (a savepoint rolled back).

    The reward uses this to execute a gold call in exactly the state the agent's call meets.
    A tool that does not write (``ToolSpec.writes`` false) has nothing to undo, so it runs
    without the savepoint (three statements fewer; ``tests/test_tools.py`` holds every such
    tool to leaving the database unchanged).
    """
    tools = tools or default_tools()
    spec = tools.resolve(name)
    if spec is not None and not spec.writes:
        return call_tool(sandbox, name, arguments, tools)
    with sandbox.lock:
        sandbox.con.execute("SAVEPOINT probe")
        try:
            return call_tool(sandbox, name, arguments, tools)
        finally:
            sandbox.con.execute("ROLLBACK TO probe")
            sandbox.con.execute("RELEASE probe")


_MOVED = {"REGISTRY": "tools", "OTHER_VERSIONS": "other_versions", "tool": "tool", "tool_version": "tool_version"}


def __getattr__(name: str) -> Any:
    """The default domain's ``REGISTRY``, ``OTHER_VERSIONS``, ``@tool`` and ``@tool_version``
    under their old module-level names (deprecated: a domain declares its tools on its own
    ``ToolRegistry``)."""
    if name in _MOVED:
        warnings.warn(f"mock_apis.catalogue.{name} is deprecated: use mock_apis.domain.get_domain(name)."
                      f"tools.{_MOVED[name]}", DeprecationWarning, stacklevel=2)
        return getattr(default_tools(), _MOVED[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
