"""One episode as a tool-calling client drives it: start a task, call tools, submit an answer.

Every call goes through ``FinAdvisorEnv.step`` as one agent turn: a tool call is sent as the
OpenAI ``tool_calls`` message a tool-calling client's call is (the env's native format for
structured calls), the answer as an assistant message with text content. The env parses the
turns, runs the tools in the episode's sandbox and computes the reward; nothing is scored
here, so a gold trajectory scores exactly what it scores in the eval (3.0).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import orjson

from envs.env import FinAdvisorEnv
from mock_apis.errors import AdvisorGymError


T = TypeVar("T")
NO_EPISODE = ("no_episode", "no task started in this session: call start_task first")
#: A turn up to this long is short: stepping it (a few calls, or a short answer to score) takes
#: less than a hop to a worker thread and back; a long answer's compliance check can take ~20 ms.
INLINE_TURN_CHARS = 4096


class EpisodeError(AdvisorGymError):
    """A request the episode cannot serve: ``code`` (``no_episode``, ``unknown_task``,
    ``session_capacity``) and a one-line message for the client."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class Episode:
    """The running episode of one client on its own ``FinAdvisorEnv`` (its own sandbox).

    Thread-safe: a client's concurrent calls run one at a time, in the order they arrive.
    """

    def __init__(self, env: FinAdvisorEnv):
        self.env = env
        self.started = False
        self.lock = threading.Lock()
        self._calls = 0
        #: the running task, the agent turns it has taken and whether it has ended
        self.task_id: str | None = None
        self.turns, self.done = 0, False

    def start(self, task_id: str | None = None, seed: int | None = None) -> dict[str, Any]:
        """Start a task (``task_id``, or one drawn with ``seed``): the task, the system prompt
        for a client that passes the tools through its API (``system``: they are not repeated in
        it) and the one for a client that writes its calls as text (``system_with_tools``)."""
        with self.lock:
            try:
                obs, info = self.env.reset(seed=seed, options={"task_id": task_id} if task_id is not None else None)
            except KeyError as err:
                raise EpisodeError("unknown_task", err.args[0]) from None
            self.started, self._calls, self.turns, self.done = True, 0, 0, False
            task = orjson.loads(obs)
            self.task_id = task["task_id"]
            return {"task_id": task["task_id"], "level": task["level"], "system": info["system_for_tools_api"],
                    "system_with_tools": task["system"], "user": task["user"],
                    "reward_version": info["reward_version"]}

    def call_tool(self, name: str, arguments: Any) -> tuple[Any, bool, dict[str, Any]]:
        """Run one tool call as an agent turn: ``(observation, ok, step info)``. ``ok`` is false
        for any error observation (bad arguments, unknown tool, the episode is over, ...)."""
        with self.lock:
            self._require_started()
            self._calls += 1
            call = {"id": f"call_{self._calls}", "type": "function",
                    "function": {"name": name, "arguments": orjson.dumps(arguments).decode()}}
            obs, info = self._step(orjson.dumps({"role": "assistant", "content": None, "tool_calls": [call]}).decode())
            calls = info.get("calls") or [{}]
            return orjson.loads(obs), calls[0].get("outcome") == "ok", info

    def submit(self, answer: str) -> dict[str, Any]:
        """The final answer: the episode ends and its reward breakdown comes back (``total``,
        ``R_fmt``, ``R_corr``, ``R_eff``, ``R_comp`` and the rest, as ``info["reward"]``)."""
        with self.lock:
            self._require_started()
            _, info = self._step(orjson.dumps({"role": "assistant", "content": answer}).decode())
            if "reward" not in info:  # the env ended the episode before (truncation): its reward again
                return self.env.end_episode()
            return info["reward"]

    def turn(self, message: str) -> tuple[str, dict[str, Any] | None]:
        """One agent turn as the model wrote it (any format the env parses: text tool calls,
        a JSON message, or the final answer): ``(observation, reward)``, the reward breakdown
        once the turn ended the episode, else ``None``."""
        with self.lock:
            self._require_started()
            obs, info = self._step(message)
            return obs, info.get("reward") if self.done else None

    def _step(self, message: str) -> tuple[str, dict[str, Any]]:
        obs, _, terminated, truncated, info = self.env.step(message)
        self.turns += 1
        self.done = terminated or truncated
        return obs, info

    async def run(self, inline: bool, method: Callable[..., T], *args: Any) -> T:
        """``method(*args)`` (one of this episode's) from async code: on the event loop when
        ``inline`` (a short step: an atomic tool call, a short turn) and the episode is idle,
        else in a worker thread (a long answer, a composite tool, a call queued behind another)."""
        if inline and not self.lock.locked():
            return method(*args)
        return await anyio.to_thread.run_sync(method, *args)

    def end(self) -> dict[str, Any]:
        """End the episode where it stands, as the env's step budget would (a client that stops
        before an answer); its reward breakdown (again, on an episode already ended)."""
        with self.lock:
            self._require_started()
            return self.env.end_episode()

    def _require_started(self) -> None:
        if not self.started:
            raise EpisodeError(*NO_EPISODE)

    def close(self) -> None:
        self.env.close()
