"""Tool-result messages for an agent's history, built from a turn and the env's observation.

A turn with several calls gets one observation, a JSON list of ``{"name", "result"}`` in call
order; chat APIs want one tool message per call, answered to its id. ``tool_messages`` does
that mapping for the three API shapes:

- ``"chat"`` (OpenAI Chat Completions, and every chat template that takes ``role: tool``):
  ``{"role": "tool", "tool_call_id": ..., "content": "<result JSON>"}``;
- ``"responses"`` (OpenAI Responses input items): ``{"type": "function_call_output",
  "call_id": ..., "output": "<result JSON>"}``;
- ``"anthropic"`` (one user message of ``tool_result`` blocks): ``{"role": "user", "content":
  [{"type": "tool_result", "tool_use_id": ..., "content": "<result JSON>"}, ...]}``.

The ids are the ones the turn gave its calls (``tool_calls[i].id``, ``call_id``, ``tool_use``
``id``, Kimi's ``functions.name:0``, Command R7B's ``tool_call_id``); a call written without one
(most text dialects) gets ``call_<n>``, its position in the turn, which is also what to put in
the assistant message's ``tool_calls`` when the history is rebuilt in the chat shape.
"""

from __future__ import annotations

from typing import Any

import orjson

from envs.actions import parse_action

__all__ = ["SHAPES", "tool_messages"]

SHAPES = ("chat", "responses", "anthropic")


def tool_messages(action: Any, observation: str, shape: str = "chat") -> list[dict[str, Any]]:
    """The tool-result messages for ``observation``, the env's answer to the turn ``action``
    (anything ``env.step`` takes), one per call, each answered to its call's id.

    Raises ``ValueError`` when ``action`` is not a tool-call turn, when the observation does
    not answer as many calls as the turn made, or for an unknown ``shape``.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    parsed = parse_action(action)
    if parsed.kind != "tool_call":
        raise ValueError(f"the action is not a tool-call turn (it parses as {parsed.kind})")
    value = orjson.loads(observation)
    if len(parsed.calls) == 1:
        results = [value]
    elif isinstance(value, list) and len(value) == len(parsed.calls) and all(
            isinstance(item, dict) and "result" in item for item in value):
        results = [item["result"] for item in value]
    else:
        raise ValueError(f"the observation does not answer the turn's {len(parsed.calls)} calls")
    ids = [call.call_id if call.call_id else f"call_{n}" for n, call in enumerate(parsed.calls)]
    texts = [orjson.dumps(result).decode() for result in results]
    if shape == "chat":
        return [{"role": "tool", "tool_call_id": i, "content": t} for i, t in zip(ids, texts, strict=True)]
    if shape == "responses":
        return [{"type": "function_call_output", "call_id": i, "output": t} for i, t in zip(ids, texts, strict=True)]
    return [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": i, "content": t}
                                         for i, t in zip(ids, texts, strict=True)]}]
