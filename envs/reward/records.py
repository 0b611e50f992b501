"""What the reward sees of a trajectory: the agent's tool calls and the task's gold calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Error codes that mean the back-end failed, not the agent: unreachable, timed out, 5xx, the
# service refusing our own credentials, or not serving the tool version the task pins
# (``unknown_version``). Such calls are the infrastructure's doing.
INFRA_ERROR_CODES = frozenset({"service_unavailable", "timeout", "internal_error", "unauthorized", "unknown_version"})
# Domain errors of a write tool that mean the transaction was submitted and then refused by
# the back office's controls (as opposed to arguments that never made a transaction).
SUBMITTED_WRITE_ERRORS = frozenset({"rule_violation", "insufficient_funds", "conflict"})
# Errors of a call refused before it reached the back office's own checks: its arguments failed
# the schema, or the turn had too many calls. Under 1.2 every other refused write was attempted.
SCHEMA_ERRORS = frozenset({"invalid_arguments", "too_many_calls"})

_LABEL_CHARS = 120


@dataclass(frozen=True)
class CallRecord:
    """One tool call the agent made, as the reward sees it.

    ``gold_accuracy`` maps a gold call's index to the v1.0 accuracy of this call against it
    (1.0 when the results or arguments are equal, else the share of argument keys whose
    values agree); ``gold_key_iou`` to the IoU of the two argument-name sets.
    ``injected_fault``: the env's fault injection replaced the call. ``infra_error``: the
    back-end failed (``INFRA_ERROR_CODES``). Neither is billed to the agent. ``turn``: the
    agent turn (0-based) that made the call. ``after_answer``: made after the final answer
    (a replayed log's later turns). ``foreign_client``: a read of a client the task is not
    about (by its arguments or its result).
    """

    name: Any
    arguments: Any
    known_tool: bool
    ok: bool
    error: str | None = None
    gold_accuracy: Mapping[int, float] = field(default_factory=dict)
    injected_fault: bool = False
    infra_error: bool = False
    writes: bool = False
    gold_key_iou: Mapping[int, float] = field(default_factory=dict)
    turn: int = 0
    after_answer: bool = False
    foreign_client: bool = False

    @property
    def counted(self) -> bool:
        """Whether the agent is accountable for this call (not the sandbox's or the back-end's doing)."""
        return not (self.injected_fault or self.infra_error)

    @property
    def label(self) -> str:
        return tool_label(self.name)


@dataclass(frozen=True)
class GoldCall:
    """One expected tool call: the tool's name and its arguments."""
    name: str
    arguments: dict[str, Any]


def tool_label(name: Any) -> str:
    """A short, printable, JSON-safe label for whatever the agent sent as a tool name.

    Never recurses into the value (an agent may send a name nested 10,000 levels deep).
    """
    if isinstance(name, str):
        return name if len(name) <= _LABEL_CHARS else f"{name[:_LABEL_CHARS]}… ({len(name)} chars)"
    kind = {dict: "object", list: "array", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(name), type(name).__name__[:40])
    return f"<{kind}>"
