"""Agents that drive ``FinAdvisorEnv``: a gold oracle, scripted faulty baselines, and two
model-backed agents (any OpenAI-compatible chat endpoint, a local Hugging Face model).

Every agent has the same small interface (:class:`Agent`)::

    agent.start(task, observation, info)   # once per episode, with reset()'s outputs
    action = agent.act(observation)        # once per turn; the string goes to env.step

Scripted agents (the oracle and the baselines) read the task's gold trajectory; model agents
never look at ``task``. Each scripted baseline makes ONE kind of typical error and otherwise
follows the gold, so that it lowers only the metrics and reward components that error
should lower (see ``BASELINES``). They are deterministic: the same task gives the same
actions.

Model agents never raise on a bad model or endpoint: transport errors, HTTP errors, time-outs
and unparseable answers become an action the environment scores as malformed, and the
error is appended to ``agent.errors`` (reset by ``start``), which the evaluator records.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import zlib
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import orjson

from envs.actions import parse_action
from envs.tasks import Task

__all__ = ["Agent", "BASELINES", "HACKS", "AGENT_SPECS", "NoAnswerAgent", "SkipToolsAgent", "RefuseAllAgent",
           "ToolSpamAgent", "UnrequestedWriteAgent", "OracleAgent", "WrongToolAgent", "HallucinatedToolAgent",
           "NoisyParamsAgent", "RedundantCallsAgent", "NonCompliantAgent", "MalformedJsonAgent",
           "OpenAIChatAgent", "HFLocalAgent", "make_agent", "malformed_action"]


@runtime_checkable
class Agent(Protocol):
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


# --------------------------------------------------------------------------------------
# Scripted agents

Step = str | Callable[[], str]


class ScriptedAgent:
    """Replays a script built from the task: a list of actions (or callables made at act time).

    The agent keeps the observations it saw after its tool calls, so a baseline whose error
    deprives it of data can answer without quoting figures it never saw (see ``_answer``).
    """

    name = "scripted"

    def __init__(self) -> None:
        self.task: Task | None = None
        self.errors: list[str] = []
        self._script: list[Step] = []
        self._observations: list[Any] = []
        self._last_was_call = False

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None:
        self.task = task
        self.errors = []
        self._observations = []
        self._last_was_call = False
        self._script = list(self.script(task))

    def act(self, observation: str) -> str:
        if self._last_was_call:
            self._observations.append(_loads(observation))
        if not self._script:  # the env should have ended the episode; answer again
            step: Step = self._answer
        else:
            step = self._script.pop(0)
        action = step() if callable(step) else step
        self._last_was_call = parse_action(action).kind == "tool_call"
        return action

    # -- building blocks ------------------------------------------------------------------

    def script(self, task: Task) -> list[Step]:
        return task.gold_actions()

    def _gold_calls(self, task: Task) -> list[str]:
        return task.gold_actions()[:-1]

    def _answer(self) -> str:
        """The gold answer, or, if what this agent actually observed does not support it (the
        compliance checker would flag it, e.g. as fabricated figures), a figure-free answer.

        A realistic agent does not quote figures it never saw; answering this way keeps the
        compliance term out of the comparison for baselines whose error is about tools.
        """
        task = self.task
        assert task is not None
        from envs.compliance import default_checker

        subjects = task.compliance.subject_client_ids
        report = default_checker().check(task.gold_response, observations=self._observations, query=task.query,
                                         subject_client_ids=frozenset(subjects) if subjects is not None else None)
        if not report.violated:
            return _final(task.gold_response)
        if task.compliance.expect_refusal:
            return _final(FALLBACK_REFUSAL, "This request goes against the firm's rules.")
        return _final(FALLBACK_ANSWER, "The tool results do not contain what I need.")


FALLBACK_ANSWER = ("I could not verify the figures for this request from the tool results, so I am not quoting any; "
                   "please check the records directly.")
FALLBACK_REFUSAL = "I can't help with that request under the firm's compliance rules."


class OracleAgent(ScriptedAgent):
    """Follows ``task.gold_actions()``: the gold calls, then the gold answer (reward 3)."""

    name = "oracle"


def _read_only(name: str) -> bool:
    from mock_apis.catalogue import catalogue

    spec = catalogue().get(name)
    return spec is not None and not spec.writes


class WrongToolAgent(ScriptedAgent):
    """Replaces one gold call with a different, real, read-only tool (a valid call).

    The call replaced is the last one whose tool is required and appears once in the gold
    (so no later gold call fails for want of its result, e.g. a cancel after a place);
    the substitute is the first catalogue tool not in the gold trajectory whose schema
    accepts (a subset of) the gold call's arguments, preferring one that takes some of
    them. Lowers S_cover, hence R_corr and TCR; R_fmt, S_name, R_eff, TIER are unchanged.
    On tasks with no gold call it behaves like the oracle.
    """

    name = "wrong_tool"

    def script(self, task: Task) -> list[Step]:
        calls = self._gold_calls(task)
        if not calls:
            return task.gold_actions()
        names = [g.name for g in task.gold_calls]
        # The last such call: nothing later in the gold depends on its result or its effect.
        index = next((i for i in reversed(range(len(names)))
                      if names[i] in task.required_tools and names.count(names[i]) == 1), len(names) - 1)
        gold = task.gold_calls[index]
        name, arguments = substitute_tool(gold.name, gold.arguments, set(names))
        calls[index] = _react(name, arguments, f"I need {name} for this.")
        return [*calls, self._answer]


# Arguments that make a call valid whatever the task (for substitutes that share no argument).
_STANDALONE_ARGS: dict[str, dict[str, Any]] = {"search_funds": {}, "get_market_index": {"index": "SPX"}}


def substitute_tool(name: str, arguments: dict[str, Any], exclude: set[str]) -> tuple[str, dict[str, Any]]:
    """A deterministic stand-in for ``name``: a valid read-only call of another tool.

    The first catalogue tool (not ``name``, not in ``exclude``, not a write) that accepts the
    gold call's arguments restricted to its own parameters, preferring one that takes some of
    them; failing that, a tool that needs none of them (``search_funds``, ``get_market_index``).
    """
    from mock_apis.catalogue import argument_errors, catalogue

    tools = catalogue()
    fallback = None
    for spec in tools.values():
        if spec.name == name or spec.name in exclude or spec.writes:
            continue
        properties = spec.parameters.get("properties", {})
        args = {k: v for k, v in arguments.items() if k in properties}
        if args and not argument_errors(spec, args):
            return spec.name, args
        if fallback is None and spec.name in _STANDALONE_ARGS:
            fallback = (spec.name, dict(_STANDALONE_ARGS[spec.name]))
    if fallback is None:
        # Every stand-alone tool is in the gold: take one anyway (still a different tool than ``name``).
        other = next(n for n in _STANDALONE_ARGS if n != name)
        fallback = (other, dict(_STANDALONE_ARGS[other]))
    return fallback


class HallucinatedToolAgent(ScriptedAgent):
    """Calls one plausible but non-existent tool before the gold calls.

    The env answers ``unknown_tool``; the agent then follows the gold. Lowers S_name (→ 0),
    hence R_corr; the unknown name also fails the format gate (R_fmt = 0, so R = 0), and the
    extra call raises AIR and TIER and lowers R_eff. S_cover, S_param, R_comp unchanged.
    """

    name = "hallucinated_tool"

    def script(self, task: Task) -> list[Step]:
        if task.gold_calls:
            first = task.gold_calls[0]
            name, arguments = hallucinated_name(first.name), dict(first.arguments)
        else:
            name, arguments = "get_return_forecast", {}
        return [_react(name, arguments, f"I will use {name} to look this up."), *task.gold_actions()]


def hallucinated_name(name: str) -> str:
    """A plausible tool name that is not in the catalogue (``list_accounts`` → ``get_accounts``)."""
    from mock_apis.catalogue import catalogue

    if name.startswith("list_"):
        candidate = "get_" + name[len("list_"):]
    elif name.startswith("search_"):
        candidate = "find_" + name[len("search_"):]
    elif name.startswith("get_"):
        candidate = name + "_details"
    else:
        candidate = name + "_request"
    while candidate in catalogue():
        candidate += "_v2"
    return candidate


_ID = re.compile(r"^([A-Z]{1,3})(\d{2,})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def perturb_value(value: Any) -> tuple[bool, Any]:
    """A typical slip on one argument value, or ``(False, value)`` when there is none.

    - an id (``C000002``, ``A0000003``, ``BD009``): one digit dropped (``C00002``) — the
      id no longer exists or no longer matches the schema, so the call fails;
    - an ISO date: shifted by one month (``2025-01-03`` → ``2025-02-03``);
    - a number: a decimal slip, ×10;
    - other text: the words in reverse order, or a trailing character dropped.
    """
    if isinstance(value, bool) or value is None:
        return False, value
    if isinstance(value, (int, float)):
        return True, value * 10 if value else 1
    if not isinstance(value, str) or not value:
        return False, value
    m = _ID.match(value)
    if m:
        prefix, digits = m.groups()
        zero = digits.find("0")
        digits = digits[:zero] + digits[zero + 1:] if zero != -1 else digits[:-1]
        return True, prefix + digits
    if _ISO_DATE.match(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return False, value
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return True, dt.date(year, month, min(day.day, 28)).isoformat()
    words = value.split()
    if len(words) > 1:
        return True, " ".join(reversed(words))
    return (True, value[:-1]) if len(value) > 1 else (False, value)


class NoisyParamsAgent(ScriptedAgent):
    """Perturbs one argument value of one gold call (see :func:`perturb_value`).

    The first gold call with a perturbable argument is changed, on its first id-like
    argument if any, else its first perturbable one. Lowers S_param (hence R_corr, TCR) and,
    where the slip makes the call fail (a dropped id digit does), raises TIER. R_fmt, S_name,
    S_cover, R_eff unchanged. On tasks with no gold call it behaves like the oracle.
    """

    name = "noisy_params"

    def script(self, task: Task) -> list[Step]:
        calls = self._gold_calls(task)
        for i, gold in enumerate(task.gold_calls):
            keys = sorted(gold.arguments, key=lambda k: (not (isinstance(gold.arguments[k], str)
                                                              and _ID.match(gold.arguments[k])), k))
            for key in keys:
                changed, value = perturb_value(gold.arguments[key])
                if changed:
                    calls[i] = _react(gold.name, {**gold.arguments, key: value}, f"I need {gold.name} for this.")
                    return [*calls, self._answer]
        return task.gold_actions()


class RedundantCallsAgent(ScriptedAgent):
    """Repeats every read-only gold call once, right after itself ("let me double-check").

    Write calls (orders, notes) are not repeated: that would be a different error. Raises
    AIR and lowers R_eff; R_corr, R_fmt, R_comp, TIER, TCR unchanged. On tasks without a
    read-only gold call it behaves like the oracle.
    """

    name = "redundant_calls"

    def script(self, task: Task) -> list[Step]:
        steps: list[Step] = []
        for call, action in zip(task.gold_calls, self._gold_calls(task)):
            steps.append(action)
            if _read_only(call.name):
                steps.append(_react(call.name, call.arguments, f"Let me double-check with {call.name}."))
        return [*steps, task.gold_actions()[-1]]


NON_COMPLIANT_ADDITIONS = (
    "I can also promise the client a guaranteed 8% annual return on this.",
    "I would also recommend buying Apple stock right now.",
)


class NonCompliantAgent(ScriptedAgent):
    """The gold trajectory, but the answer ends with a return guarantee or a stock tip.

    Which one is fixed per task (CRC32 of its id). Raises VR; R_comp = −λ, so every episode
    scores ≤ 3 − λ (−7 by default). Tool metrics and R_fmt, R_corr, R_eff are unchanged.
    """

    name = "non_compliant"

    def script(self, task: Task) -> list[Step]:
        addition = NON_COMPLIANT_ADDITIONS[zlib.crc32(task.task_id.encode()) % len(NON_COMPLIANT_ADDITIONS)]
        return [*self._gold_calls(task), _final(f"{task.gold_response} {addition}")]


class MalformedJsonAgent(ScriptedAgent):
    """One turn of truncated JSON, then the gold trajectory.

    The env answers ``malformed_action`` and goes on. R_fmt = 0 (so R = min(0, R_comp) = 0);
    every other component and the tool metrics are unchanged.
    """

    name = "malformed_json"

    def script(self, task: Task) -> list[Step]:
        name = task.gold_calls[0].name if task.gold_calls else "get_client_profile"
        broken = '{"thought": "Let me look that up.", "action": {"name": "%s", "arguments": {' % name
        return [broken, *task.gold_actions()]


# --------------------------------------------------------------------------------------
# Hack baselines: what a reward-hacking policy finds first. Each must score below every
# honest baseline (tested, and in the README's table).

VAGUE_ANSWER = "I have reviewed the request. Let me know if you need anything else."


class NoAnswerAgent(ScriptedAgent):
    """The gold calls, then never a final answer: it re-reads until the step budget runs out.

    Under reward 1.0 this scored the maximum; under 1.1 an episode without an answer scores
    at most −0.5. On tasks without a read-only gold call it re-reads the market index.
    """

    name = "no_answer"

    def script(self, task: Task) -> list[Step]:
        return self._gold_calls(task)

    def act(self, observation: str) -> str:
        if self._script:
            return super().act(observation)
        task = self.task
        assert task is not None
        reads = [g for g in task.gold_calls if _read_only(g.name)]
        call = (reads[-1].name, reads[-1].arguments) if reads else ("get_market_index", {"index": "SPX"})
        return _react(call[0], call[1], "Let me look at that once more before answering.")


class SkipToolsAgent(ScriptedAgent):
    """Answers at once, vaguely, without calling any tool (the TRM abstract's hack)."""

    name = "skip_tools"

    def script(self, task: Task) -> list[Step]:
        return [_final(VAGUE_ANSWER, "No need to look anything up.")]


class RefuseAllAgent(ScriptedAgent):
    """Refuses every task at once (over-refusal wherever the task expects an answer)."""

    name = "refuse_all"

    def script(self, task: Task) -> list[Step]:
        return [_final(FALLBACK_REFUSAL, "Refusing is always safe.")]


class ToolSpamAgent(ScriptedAgent):
    """Calls every read-only tool in the catalogue in one turn, the gold calls among them, then
    gives the gold answer. Arguments come from the gold calls where a tool takes them (else
    the tool's stand-alone arguments, else none, which may fail validation).
    """

    name = "tool_spam"

    def script(self, task: Task) -> list[Step]:
        from mock_apis.catalogue import catalogue

        pool: dict[str, Any] = {}
        for g in task.gold_calls:
            pool.update(g.arguments)
        gold_names = {g.name for g in task.gold_calls}
        calls: list[tuple[str, Any]] = []
        for spec in catalogue().values():
            if spec.writes or spec.name in gold_names:
                continue
            properties = spec.parameters.get("properties", {})
            args = {k: v for k, v in pool.items() if k in properties} or dict(_STANDALONE_ARGS.get(spec.name, {}))
            calls.append((spec.name, args))
        calls += [(g.name, g.arguments) for g in task.gold_calls]
        message = {"role": "assistant", "content": "Let me pull everything there is.",
                   "tool_calls": [{"id": f"call_{i}", "type": "function",
                                   "function": {"name": name, "arguments": orjson.dumps(args).decode()}}
                                  for i, (name, args) in enumerate(calls, 1)]}
        return [orjson.dumps(message).decode(), self._answer]


UNREQUESTED_ORDER = {"fund": "EQ001", "side": "buy", "amount": 1000}
UNREQUESTED_NOTE = "Client called about moving money; follow up next week."


class UnrequestedWriteAgent(ScriptedAgent):
    """The gold trajectory plus one write nobody asked for, before the answer: a buy order on
    the first account the gold calls name, else a note on the first client they name (else
    on client C000001).
    """

    name = "unrequested_write"

    def script(self, task: Task) -> list[Step]:
        args = [g.arguments for g in task.gold_calls]
        account = next((a["account_id"] for a in args if isinstance(a.get("account_id"), str)), None)
        client = next((a["client_id"] for a in args if isinstance(a.get("client_id"), str)), "C000001")
        if account is not None:
            write = _react("place_order", {"account_id": account, **UNREQUESTED_ORDER}, "I'll also buy some EQ001.")
        else:
            write = _react("add_advisor_note", {"client_id": client, "text": UNREQUESTED_NOTE},
                           "I'll log a note while I'm here.")
        return [*self._gold_calls(task), write, self._answer]


BASELINES: dict[str, type[ScriptedAgent]] = {
    cls.name: cls for cls in (WrongToolAgent, HallucinatedToolAgent, NoisyParamsAgent, RedundantCallsAgent,
                              NonCompliantAgent, MalformedJsonAgent)
}
HACKS: dict[str, type[ScriptedAgent]] = {
    cls.name: cls for cls in (NoAnswerAgent, SkipToolsAgent, RefuseAllAgent, ToolSpamAgent, UnrequestedWriteAgent)
}


# --------------------------------------------------------------------------------------
# Model agents


class _ChatAgent:
    """Shared bookkeeping: a chat history started from the reset observation."""

    name = "chat"

    def __init__(self) -> None:
        self.errors: list[str] = []
        # The endpoint's own failures (unreachable, timed out, 5xx, 401/403/404/429): not the model's.
        self.endpoint_errors: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None:  # noqa: ARG002 - task unused
        prompt = _loads(observation)
        if not isinstance(prompt, dict):
            prompt = {"system": "", "user": str(observation)}
        self.errors = []
        self.endpoint_errors = []
        self.tools = list(info.get("tools") or [])
        # The tools go through ``tools=``: the system prompt made for that, not the one listing them again.
        system = info.get("system_for_tools_api") if self.tools else None
        self.messages = [{"role": "system", "content": str(system or prompt.get("system", ""))},
                         {"role": "user", "content": str(prompt.get("user", ""))}]

    def _error(self, reason: str) -> str:
        self.errors.append(reason)
        return malformed_action(reason)


def split_tool_results(observation: str, n_calls: int) -> list[str]:
    """One content string per tool call of the previous turn.

    The env answers a turn with several calls with a list of ``{"name", "result"}``; one call
    gets its result directly. Anything else (e.g. a malformed-action error for the whole turn)
    goes to every call.
    """
    if n_calls > 1:
        value = _loads(observation)
        if (isinstance(value, list) and len(value) == n_calls
                and all(isinstance(v, dict) and "result" in v for v in value)):
            return [orjson.dumps(v["result"]).decode() for v in value]
    return [observation] * n_calls


_ENDPOINT_FAILURES = ("timeout:", "transport error:")
_ENDPOINT_STATUS = re.compile(r"HTTP (?:401|403|404|408|429|5\d\d)\b")


class OpenAIChatAgent(_ChatAgent):
    """An agent behind any OpenAI-compatible ``/chat/completions`` endpoint (vLLM, TGI, ...).

    Sends the system and user prompt of the reset observation, then the history, with the
    20 tool schemas as ``tools``. The returned assistant message (``content`` and
    ``tool_calls``) is the action, as JSON. After a tool-calling turn, each call's result
    goes back as a ``{"role": "tool", "tool_call_id", "content"}`` message.

    Never raises on a bad endpoint: after an HTTP error, time-out or unusable answer it
    returns a malformed action and records the error in ``errors``; the next turn retries the
    same request. After ``max_consecutive_errors`` failures in a row the endpoint is not
    called again in this episode (every further turn is a malformed action at once).
    """

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, temperature: float = 0.0,
                 timeout: float = 60, max_tokens: int | None = None, max_consecutive_errors: int = 3,
                 client: Any = None):
        import httpx

        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_consecutive_errors = max_consecutive_errors
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = client or httpx.Client(timeout=timeout, headers=headers)
        self._pending_ids: list[str] = []
        self._consecutive_errors = 0
        self._call_counter = 0

    @property
    def config(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model, "temperature": self.temperature,
                "max_tokens": self.max_tokens}

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None:
        super().start(task, observation, info)
        self._pending_ids = []
        self._consecutive_errors = 0
        self._call_counter = 0

    def act(self, observation: str) -> str:
        if self._pending_ids:
            for call_id, content in zip(self._pending_ids, split_tool_results(observation, len(self._pending_ids))):
                self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
            self._pending_ids = []
        elif len(self.messages) > 2 and self.messages[-1]["role"] == "assistant":
            # The previous answer was not usable as an action: show the env's error.
            self.messages.append({"role": "user", "content": observation})
        if self._consecutive_errors >= self.max_consecutive_errors:
            return self._error(f"endpoint skipped after {self._consecutive_errors} consecutive errors")
        message, error = self._complete()
        if error is not None:
            self._consecutive_errors += 1
            if error.startswith(_ENDPOINT_FAILURES) or _ENDPOINT_STATUS.match(error):
                self.endpoint_errors.append(error)
            return self._error(error)
        self._consecutive_errors = 0
        message = self._normalise(message)
        self.messages.append(message)
        return orjson.dumps(message).decode()

    def _complete(self) -> tuple[dict[str, Any], None] | tuple[None, str]:
        import httpx

        body: dict[str, Any] = {"model": self.model, "messages": self.messages, "tools": self.tools,
                                "temperature": self.temperature}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        try:
            response = self._client.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.TimeoutException as exc:
            return None, f"timeout: {type(exc).__name__}"
        except httpx.HTTPError as exc:
            return None, f"transport error: {type(exc).__name__}: {exc}"
        if response.status_code >= 400:
            return None, f"HTTP {response.status_code}: {response.text[:200]}"
        try:
            data = response.json()
        except ValueError:
            return None, f"non-JSON answer (HTTP {response.status_code}): {response.text[:200]!r}"
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            return None, f"answer has no choices[0].message: {str(data)[:200]}"
        if not isinstance(message, dict):
            return None, f"choices[0].message is not an object: {str(message)[:200]}"
        return message, None

    def _normalise(self, message: dict[str, Any]) -> dict[str, Any]:
        """The assistant message as it goes to the env and back into the history.

        Drops null fields; gives every tool call an id (some servers omit it) and remembers
        the ids, so the results can be sent back with the matching ``tool_call_id``.
        """
        out = {k: v for k, v in message.items() if v is not None}
        out["role"] = "assistant"
        calls = out.get("tool_calls")
        if isinstance(calls, list) and calls:
            calls = copy.deepcopy(calls)
            for tc in calls:
                if isinstance(tc, dict):
                    if not isinstance(tc.get("id"), str) or not tc["id"]:
                        self._call_counter += 1
                        tc["id"] = f"call_{self._call_counter}"
                    tc.setdefault("type", "function")
            out["tool_calls"] = calls
            self._pending_ids = [tc["id"] if isinstance(tc, dict) else f"call_invalid_{i}"
                                 for i, tc in enumerate(calls)]
        elif "tool_calls" in out:
            del out["tool_calls"]  # [] : a final answer
        return out

    def close(self) -> None:
        self._client.close()


class HFLocalAgent(_ChatAgent):
    """A local Hugging Face causal LM, loaded from a directory (never from the hub).

    Each turn renders the history with the tokenizer's chat template and the tool schemas
    (``apply_chat_template(messages, tools=..., add_generation_prompt=True)``), generates
    greedily and returns the decoded new text as the action (the env accepts the tagged
    ``<think>``/``<tool_call>``/``<response>`` form as well as JSON). The model's text goes
    back into the history as the assistant turn; the env's observation as one ``tool`` turn per
call the text made (a ``user`` turn when the text was not a usable tool call).

    torch and transformers are imported here, lazily: the rest of the package does not need
    them. A failure while generating becomes a malformed action recorded in ``errors``.
    """

    name = "hf"

    def __init__(self, model_path: str | os.PathLike[str], max_new_tokens: int = 256, device: str = "cpu"):
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - exercised only without the extras
            raise ImportError("HFLocalAgent needs torch and transformers: "
                              "pip install torch transformers") from exc
        super().__init__()
        self.model_path = str(model_path)
        self.max_new_tokens = max_new_tokens
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(self.model_path, local_files_only=True).to(device)
        self.model.eval()
        self._last_calls = -1

    @property
    def config(self) -> dict[str, Any]:
        return {"model_path": os.path.abspath(self.model_path), "max_new_tokens": self.max_new_tokens}

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None:
        super().start(task, observation, info)
        self._last_calls = -1  # tool calls in the previous turn; -1: no turn yet

    def act(self, observation: str) -> str:
        if self._last_calls > 0:
            for content in split_tool_results(observation, self._last_calls):
                self.messages.append({"role": "tool", "content": content})
        elif self._last_calls == 0:  # the previous turn was not usable: show the env's error
            self.messages.append({"role": "user", "content": observation})
        try:
            text = self._generate()
        except Exception as exc:  # noqa: BLE001 - a model failure must not end the eval
            return self._error(f"generation failed: {type(exc).__name__}: {exc}"[:500])
        self.messages.append({"role": "assistant", "content": text})
        parsed = parse_action(text)
        self._last_calls = len(parsed.calls) if parsed.kind == "tool_call" else 0
        return text

    def _generate(self) -> str:
        import torch

        try:
            inputs = self.tokenizer.apply_chat_template(self.messages, tools=self.tools or None,
                                                        add_generation_prompt=True, return_tensors="pt",
                                                        return_dict=True)
        except TypeError:  # older transformers: no return_dict
            ids = self.tokenizer.apply_chat_template(self.messages, tools=self.tools or None,
                                                     add_generation_prompt=True, return_tensors="pt")
            inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        with torch.no_grad():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                                         pad_token_id=pad)
        new = output[0, inputs["input_ids"].shape[1]:]
        return self.tokenizer.decode(new, skip_special_tokens=True).strip()


AGENT_SPECS = ("oracle", *BASELINES, *HACKS, "openai", "hf")


def make_agent(spec: str, **kwargs: Any) -> Agent:
    """An agent by name: ``oracle``, a baseline (``wrong_tool``, ``hallucinated_tool``,
    ``noisy_params``, ``redundant_calls``, ``non_compliant``, ``malformed_json``), a hack
    (``no_answer``, ``skip_tools``, ``refuse_all``, ``tool_spam``, ``unrequested_write``),
    ``openai`` (kwargs of :class:`OpenAIChatAgent`) or ``hf`` (kwargs of :class:`HFLocalAgent`).
    """
    if spec == "oracle":
        return OracleAgent()
    if spec in BASELINES:
        return BASELINES[spec]()
    if spec in HACKS:
        return HACKS[spec]()
    if spec == "openai":
        if not kwargs.get("base_url") or not kwargs.get("model"):
            raise ValueError("agent 'openai' needs base_url and model")
        return OpenAIChatAgent(**kwargs)
    if spec == "hf":
        if not kwargs.get("model_path"):
            raise ValueError("agent 'hf' needs model_path")
        return HFLocalAgent(**kwargs)
    raise ValueError(f"unknown agent {spec!r}; choose one of {', '.join(AGENT_SPECS)}")
