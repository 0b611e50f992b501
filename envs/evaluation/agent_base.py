"""The agent interface and the helpers every agent uses to write actions.

Every agent has the same small interface (:class:`Agent`)::

    agent.start(task, observation, info)   # once per episode, with reset()'s outputs
    action = agent.act(observation)        # once per turn; the string goes to env.step
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import orjson

from envs.tasks import Task

@runtime_checkable
class Agent(Protocol):
    """What ``run_eval`` drives: ``start`` once per episode with the reset observation and
    info, then ``act`` once per turn, returning the action text for ``env.step``.
    """
    name: str

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None: ...

    def act(self, observation: str) -> str: ...


def malformed_action(reason: str) -> str:
    """An action the environment always scores as malformed (R_fmt = 0), carrying ``reason``.

    A JSON object with none of the keys of an accepted form: ``parse_action`` rejects it.
    """
    return orjson.dumps({"agent_error": reason[:500]}).decode()


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError):
        return text


def _react(name: str, arguments: Any, thought: str) -> str:
    return orjson.dumps({"thought": thought, "action": {"name": name, "arguments": arguments}}).decode()


def _final(response: str, thought: str = "I have what I need to answer.") -> str:
    return orjson.dumps({"thought": thought, "response": response}).decode()
