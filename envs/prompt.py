"""What the agent is shown: the system prompt (``system_prompt``) and the tools' schemas
(``tool_schemas``) in a task's pinned versions, with the domain's role and rules
(``DomainRules``), each built once per process and shared by every env."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from envs.config import PROMPT_MODES
from mock_apis.catalogue import ToolRef, ToolSpec
from mock_apis.domain import Domain, get_domain

#: A task's tool pins as a cache key: sorted ``(tool, version)`` pairs (empty: the defaults).
Pins = tuple[tuple[str, str], ...]


def pinned_specs(pins: Pins = (), domain: str | Domain | None = None) -> list[ToolSpec]:
    """Every tool's spec of ``domain`` (default: the default domain) in the version ``pins``
    names (its default where unpinned, or where this process does not know the pinned version:
    the back-end then answers ``unknown_version``)."""
    tools = get_domain(domain).tools
    chosen = dict(pins)
    return [tools.resolve(ToolRef(name, chosen[name])) or spec if name in chosen else spec
            for name, spec in tools.tools.items()]


@lru_cache(maxsize=64)
def tool_schemas(pins: Pins = (), shape: str = "chat", domain: str | Domain | None = None) -> list[dict[str, Any]]:
    """The tools' schemas in the pinned versions, built once per ``(pins, shape, domain)`` and
    shared by every env of the process: read them, never mutate them. ``shape``: ``"chat"``
    (OpenAI Chat Completions, ``info["tools"]``), ``"responses"`` (OpenAI Responses) or
    ``"anthropic"``."""
    return [spec.schema(shape) for spec in pinned_specs(pins, domain)]


@lru_cache(maxsize=64)
def system_prompt(as_of: str, mode: str = "full", pins: Pins = (), domain: str | Domain | None = None) -> str:
    """The system prompt. ``full``: the tools' schemas and the action formats are in the text
    (for agents that see nothing else). ``tools_via_template``: neither, for agents and trainers
    that pass the tools through the chat template (``tools=``), which also sets the call format:
    the schemas would otherwise appear twice, with conflicting format instructions. ``pins``:
    the task's tool versions, whose schemas the ``full`` prompt shows. The role and the rules
    are ``domain``'s (``DomainRules``; default: the default domain). Built once per
    ``(as_of, mode, pins, domain)`` and shared by every env of the process.
    """
    rules = get_domain(domain).rules
    intro = f"{rules.role} Today is {as_of}."
    if mode == "tools_via_template":
        return (f"{intro}\n\nCall the tools you need, then give the {rules.user_role} your final answer in plain "
                f"text.\n\n{rules.prompt_rules}")
    if mode != "full":
        raise ValueError(f"prompt mode must be one of {PROMPT_MODES}, got {mode!r}")
    tools = "\n".join(orjson.dumps(spec.openai_schema()["function"]).decode() for spec in pinned_specs(pins, domain))
    return (
        f"{intro}\n\nTools (JSON Schema of each tool's parameters):\n{tools}\n\n"
        "Each turn, reply with exactly one JSON object, either a tool call\n"
        '{"thought": "<your reasoning>", "action": {"name": "<tool>", "arguments": {...}}}\n'
        "or, when you are done, the final answer\n"
        f'{{"thought": "<your reasoning>", "response": "<answer to the {rules.user_role}>"}}\n'
        "(OpenAI tool_calls messages, <tool_call> tags and plain-text answers are accepted too).\n\n"
        f"{rules.prompt_rules}"
    )
