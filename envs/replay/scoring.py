"""Offline scoring of a finished trajectory, through the environment itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from envs.actions import as_plain
from envs.tasks import Task
from mock_apis.errors import AdvisorGymError

_MESSAGE_FIELDS = ("role", "content", "tool_calls", "reasoning_content", "reasoning", "refusal")
_ANTHROPIC_FIELDS = ("type", "role", "content", "stop_reason")


@dataclass(frozen=True)
class ScoredTrajectory:
    """The terminal reward info (as ``info["reward"]``), and how the replay went.

    ``turns_used``: the assistant turns the episode consumed; ``unused_turns``: turns after
    the episode ended (an answer, or the step budget), which a live env would never have
    received (under reward 1.2 the tool calls of those after an answer are run and scored:
    ``FinAdvisorEnv.score_late_turns``); ``ended_by``: ``"response"``, ``"step_budget"`` or
    ``"end_of_log"`` (the turns ran out before an answer: scored as an episode without one). ``observations``: what the
    env answered each turn, recomputed in the sandbox (a log's own tool results are not
    trusted).
    """

    reward: dict[str, Any]
    turns_used: int
    unused_turns: int
    ended_by: str
    observations: list[str] = field(default_factory=list)
    step_infos: list[dict[str, Any]] = field(default_factory=list)


class HistoryError(AdvisorGymError, ValueError):
    """A message of a history that the scorer cannot read (never skipped silently)."""


#: Roles of the env's side of a conversation: skipped when the agent's turns are taken out.
ENV_ROLES = frozenset({"system", "developer", "user", "tool", "function", "ipython", "environment"})
#: Responses input items of the env's side (tool results).
_ENV_ITEMS = frozenset({"function_call_output", "custom_tool_call_output", "computer_call_output"})
_RESPONSES_ITEMS = frozenset({"reasoning", "function_call", "message"})


def _responses_item(message: Mapping[str, Any]) -> bool:
    """An OpenAI Responses output item (reasoning, function_call, or an assistant message
    with output_text/refusal parts): consecutive ones are one agent turn."""
    kind = message.get("type")
    if kind not in _RESPONSES_ITEMS or message.get("role", "assistant") != "assistant":
        return False
    if kind != "message":
        return True
    content = message.get("content")
    return isinstance(content, list) and any(isinstance(p, Mapping) and p.get("type") in ("output_text", "refusal")
                                             for p in content)


def assistant_turns(messages: Sequence[Any]) -> list[str]:
    """The agent's turns, as the env's ``step`` takes them, from a message list or raw turns.

    A string is a raw turn (the model's text as generated). SDK objects (anything with
    ``model_dump()``: OpenAI ``ChatCompletionMessage``, Responses output items, Anthropic
    ``Message`` or content blocks in a message's ``content``) are read as their dicts. An
    assistant message with ``tool_calls`` goes as the OpenAI message JSON; one with Anthropic
    ``tool_use``/``thinking`` blocks as the message JSON; one with only a structured ``refusal``
    as the message JSON (the refusal is the answer); one without is its ``content`` (text or
    content parts) as written. Consecutive Responses output items (reasoning, message,
    function_call) are one turn. System, user, developer and tool messages and Responses
    ``function_call_output`` items are the env's side: skipped. Anything else raises
    ``HistoryError`` naming the message: a history is never scored with turns left out.
    """
    turns: list[str] = []
    group: list[Any] = []
    for n, raw in enumerate(messages):
        if isinstance(raw, str):
            _flush(group, turns)
            turns.append(raw)
            continue
        try:
            message = as_plain(raw)
        except Exception as exc:  # reported with the message's index
            raise HistoryError(f"message {n}: cannot read a {type(raw).__name__} ({exc})") from exc
        if not isinstance(message, Mapping):
            raise HistoryError(f"message {n}: cannot read a {type(raw).__name__}; expected a message dict, an SDK "
                               "message object (with model_dump()) or a raw turn string")
        if _responses_item(message):
            group.append(dict(message))
            continue
        _flush(group, turns)
        role = message.get("role", "assistant")
        if message.get("type") in _ENV_ITEMS or role in ENV_ROLES:
            continue
        if role != "assistant":
            raise HistoryError(f"message {n}: unknown role {str(role)[:60]!r}; expected assistant, or one of "
                               f"{sorted(ENV_ROLES)} (skipped)")
        turns.append(_assistant_turn(message))
    _flush(group, turns)
    return turns


def _flush(group: list[Any], turns: list[str]) -> None:
    if group:
        turns.append(orjson.dumps(group).decode())
        group.clear()


def _assistant_turn(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if message.get("tool_calls"):
        return orjson.dumps({k: message[k] for k in _MESSAGE_FIELDS if k in message}).decode()
    if message.get("type") == "message" or _anthropic_blocks(content):
        return orjson.dumps({k: message[k] for k in _ANTHROPIC_FIELDS if k in message}).decode()
    if isinstance(message.get("refusal"), str) and (content is None or (isinstance(content, str) and not content.strip())):
        return orjson.dumps({k: message[k] for k in _MESSAGE_FIELDS if k in message}).decode()
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    return content if isinstance(content, str) else orjson.dumps(dict(message)).decode()


def _anthropic_blocks(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(b, Mapping) and b.get("type") in ("tool_use", "thinking", "redacted_thinking") for b in content)


def score_trajectory(env: Any, task: Task | str, messages: Sequence[Any], seed: int = 0) -> ScoredTrajectory:
    """Score a finished trajectory of ``task`` by replaying its assistant turns in ``env``
    (a ``FinAdvisorEnv`` whose suite holds the task): the same breakdown as stepping it live.
    """
    task_id = task.task_id if isinstance(task, Task) else task
    env.reset(seed=seed, options={"task_id": task_id})
    turns = assistant_turns(messages)
    observations, infos = [], []
    for n, turn in enumerate(turns, 1):
        obs, _, terminated, truncated, info = env.step(turn)
        observations.append(obs)
        infos.append(info)
        if terminated or truncated:
            reward = env.score_late_turns(turns[n:]) if terminated and n < len(turns) else info["reward"]
            return ScoredTrajectory(reward, n, len(turns) - n, "response" if terminated else "step_budget",
                                    observations, infos)
    return ScoredTrajectory(env.end_episode(), len(turns), 0, "end_of_log", observations, infos)
