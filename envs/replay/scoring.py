"""Offline scoring of a finished trajectory, through the environment itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from envs.tasks import Task

_MESSAGE_FIELDS = ("role", "content", "tool_calls", "reasoning_content", "reasoning")


@dataclass(frozen=True)
class ScoredTrajectory:
    """The terminal reward info (as ``info["reward"]``), and how the replay went.

    ``turns_used``: the assistant turns the episode consumed; ``unused_turns``: turns after
    the episode ended (an answer, or the step budget), which a live env would never have
    received; ``ended_by``: ``"response"``, ``"step_budget"`` or ``"end_of_log"`` (the turns
    ran out before an answer: scored as an episode without one). ``observations``: what the
    env answered each turn, recomputed in the sandbox (a log's own tool results are not
    trusted).
    """

    reward: dict[str, Any]
    turns_used: int
    unused_turns: int
    ended_by: str
    observations: list[str] = field(default_factory=list)
    step_infos: list[dict[str, Any]] = field(default_factory=list)


def assistant_turns(messages: Sequence[Any]) -> list[str]:
    """The agent's turns, as the env's ``step`` takes them, from a message list or raw turns.

    A string is a raw turn (the model's text as generated). An assistant message with
    ``tool_calls`` goes as the OpenAI message JSON; one without is its ``content`` (text or
    content parts) as written. System, user and tool messages are the env's side: skipped.
    """
    turns = []
    for message in messages:
        if isinstance(message, str):
            turns.append(message)
        elif isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
            if message.get("tool_calls"):
                turns.append(orjson.dumps({k: message[k] for k in _MESSAGE_FIELDS if k in message}).decode())
            else:
                content = message.get("content")
                if isinstance(content, list):
                    content = "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
                turns.append(content if isinstance(content, str) else orjson.dumps(dict(message)).decode())
    return turns


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
            return ScoredTrajectory(info["reward"], n, len(turns) - n, "response" if terminated else "step_budget",
                                    observations, infos)
    return ScoredTrajectory(env.end_episode(), len(turns), 0, "end_of_log", observations, infos)
