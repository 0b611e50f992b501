"""The project's error codes, in one table, and the one base of its exceptions.

Every structured error the tools, the service, the env and the episode routes answer
(``{"error": CODE, "message": ...}``), and every client reads, is a row of ``ERRORS``: who
answers it, the HTTP status the service answers it with, and whether it is an infrastructure
failure (the back end's fault, never billed to the agent by the reward). The tuples and maps
the rest of the code uses (``TOOL_ERROR_CODES``, ``SERVICE_ERROR_CODES``, ``INFRA_ERROR_CODES``,
``HTTP_STATUS``...) are views of it.

Every exception the project raises on purpose derives from ``AdvisorGymError`` (and keeps its
standard base, ``ValueError``, ``RuntimeError``..., so existing ``except`` clauses still hold):
``except AdvisorGymError`` catches any of them and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

#: Who answers a code: a tool call, the service's own limits, the env (an observation), or the
#: episode routes (OpenEnv, MCP).
Source = Literal["tool", "service", "env", "episode"]


@dataclass(frozen=True)
class ErrorCode:
    """One error code: ``code`` (the ``"error"`` field of the body), ``source`` (who answers
    it), ``http_status`` (what the service answers it with; the env's codes are observations
    and have none), ``infra`` (a back-end failure, not the agent's) and what it means."""

    code: str
    source: Source
    http_status: int | None
    infra: bool
    meaning: str


ERRORS: Mapping[str, ErrorCode] = MappingProxyType({e.code: e for e in (
    # A tool call's errors: the catalogue's ToolError, in every tool's published error schema.
    ErrorCode("unknown_tool", "tool", 404, False, "no tool of that name; valid_tools lists them"),
    ErrorCode("invalid_arguments", "tool", 422, False, "the arguments do not match the tool's schema"),
    ErrorCode("not_found", "tool", 404, False, "no record with that id"),
    ErrorCode("rule_violation", "tool", 409, False, "a business rule refuses the call"),
    ErrorCode("insufficient_funds", "tool", 409, False, "not enough cash or units for the write"),
    ErrorCode("conflict", "tool", 409, False, "the write conflicts with the record's state"),
    ErrorCode("internal_error", "tool", 500, True, "the back end failed"),
    ErrorCode("unauthorized", "tool", 401, True, "a missing or wrong bearer token"),
    ErrorCode("service_unavailable", "tool", 503, True, "the back end cannot be reached"),
    ErrorCode("timeout", "tool", 504, True, "the back end did not answer in time"),
    ErrorCode("empty_result", "tool", 503, False, "the upstream service returned an empty body; retry"),
    ErrorCode("too_many_calls", "tool", 429, False, "past the env's cap of tool calls per turn"),
    ErrorCode("unknown_version", "tool", 404, True, "the pinned tool version is not served"),
    # The service's own limits (not tool errors): SERVICE_ERROR_SCHEMA.
    ErrorCode("session_capacity", "service", 429, False, "as many sessions are live as the service allows"),
    ErrorCode("session_write_limit", "service", 429, False, "the session made all the writes it may"),
    # The env's observations: the agent's turn could not be taken.
    ErrorCode("malformed_action", "env", None, False, "the turn is neither a tool call nor an answer the "
                                                      "env can read; expected_forms lists what it reads"),
    ErrorCode("episode_done", "env", None, False, "the episode has ended; call reset()"),
    # The episode routes (OpenEnv at /reset, /step, /ws; MCP start_task, submit_answer).
    ErrorCode("unknown_task", "episode", 404, False, "no task of that id in the suite"),
    ErrorCode("no_episode", "episode", 409, False, "no task started in this session"),
)})


def codes_of(source: Source) -> tuple[str, ...]:
    """The codes ``source`` answers, in the table's order."""
    return tuple(code for code, row in ERRORS.items() if row.source == source)


#: A tool's error codes (the enum of every tool's error schema, in this order).
TOOL_ERROR_CODES = codes_of("tool")
#: The service's own limits (not tool errors, so not in a tool's error schema).
SERVICE_ERROR_CODES = codes_of("service")
#: The env's own error observations.
ENV_ERROR_CODES = codes_of("env")
#: The episode routes' own codes (they answer ``invalid_arguments``, ``not_found``,
#: ``internal_error`` and ``session_capacity`` too).
EPISODE_ERROR_CODES = codes_of("episode")
#: Back-end failures: not the agent's, so never billed to it.
INFRA_ERROR_CODES = frozenset(code for code, row in ERRORS.items() if row.infra)
#: The HTTP status of each code the service answers.
HTTP_STATUS: Mapping[str, int] = MappingProxyType({code: row.http_status for code, row in ERRORS.items()
                                                   if row.http_status is not None})


class AdvisorGymError(Exception):
    """The base of every exception advisorgym raises on purpose: a bad input, a refused
    request, a failed back end. ``code``: its row of ``ERRORS`` where it has one (``None``
    otherwise)."""

    code: str | None = None
