"""The two production log formats, and the session record every replay command works on.

One JSON object per line (JSONL, UTF-8), one session per object; the formats are documented
with examples in ``fixtures/logs/README.md``.

**Chat** (OpenAI chat format)::

    {"session_id": "...", "started_at": ISO-8601, "ended_at": ISO-8601,
     "metadata": {"task_id": ..., "user_id": ..., ...},
     "messages": [{"role": "system", "content": ...}, {"role": "user", "content": ...},
                  {"role": "assistant", "content": thought or null, "tool_calls": [
                      {"id": "call_0", "type": "function", "function": {"name": ..., "arguments": "<JSON text>"}}]},
                  {"role": "tool", "tool_call_id": "call_0", "name": ..., "content": "<JSON text>",
                   "tool_version": "1"},
                  {"role": "assistant", "content": "<final answer>"}]}

**ReAct**::

    {"session_id": ..., "started_at": ..., "ended_at": ..., "metadata": {...}, "query": "...",
     "steps": [{"thought": ..., "action": {"name": ..., "arguments": {...}}, "observation": {...},
                "tool_version": "1"},
               {"raw": "<agent output that was not a valid step>", "observation": {...}},
               {"thought": ..., "final_answer": "..."}]}

Every message and step may carry a ``timestamp``. ``parse_session`` checks a decoded line and
turns it into a **session record** (a plain JSON object, written by ``replay ingest`` to
``sessions.jsonl``)::

    {"session_id", "format": "chat" | "react", "started_at", "ended_at", "task_id" | None,
     "user_id" | None, "metadata", "system" | None, "query",
     "turns": [{"timestamp", "thought", "calls": [{"id", "name", "arguments", "result",
                                                     "tool_version", "timestamp"}],
                "response", "raw", "observation", "reasoning"}],
     "tool_versions": {tool: version}}

or raises :class:`LogError` with a reason code (``REASONS``). ``turn_action`` rebuilds the
exact text the agent sent for a turn, in the session's own format, for ``env.step``;
``render_line`` writes a session record back as a log line (the simulator's output).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from envs.replay.scoring import assistant_turns
from mock_apis.catalogue import versions_of
from mock_apis.errors import AdvisorGymError

#: The version a call ran against when the log does not say (tools' first version).
DEFAULT_TOOL_VERSION = "1"



def new_turn(**fields: Any) -> dict[str, Any]:
    """A session record's turn (see the module doc), with ``fields`` set and the rest empty."""
    return {"timestamp": None, "thought": None, "calls": [], "response": None, "raw": None, "observation": None,
            "reasoning": None, **fields}


def new_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """A turn's call record, before its result, version and time are known."""
    return {"id": call_id, "name": name, "arguments": arguments, "result": None, "tool_version": None,
            "timestamp": None}


def assistant_message(turn: Mapping[str, Any]) -> dict[str, Any]:
    """The chat format's assistant message of ``turn``: its thought and calls, or its response."""
    if turn["calls"]:
        return {"role": "assistant", "content": turn["thought"], "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in turn["calls"]]}
    return {"role": "assistant", "content": turn["response"]}

def served_version(task_versions: Mapping[str, str], name: Any) -> str:
    """The version a task's call of ``name`` runs in: its pin, else the tool's default
    (``DEFAULT_TOOL_VERSION`` for a name that is no tool)."""
    if not isinstance(name, str):
        return DEFAULT_TOOL_VERSION
    return task_versions.get(name) or next(iter(versions_of(name)), DEFAULT_TOOL_VERSION)
#: A session nests at most this deep (tool arguments at most 64 levels: the env's limit).
MAX_DEPTH = 100

#: Why a line was not ingested (``rejects.jsonl``'s ``reason``).
REASONS: dict[str, str] = {
    "invalid_encoding": "the line is not valid UTF-8 (e.g. a Latin-1 line in a UTF-8 file)",
    "empty_line": "a blank line",
    "line_too_long": "a line longer than ingest reads (MAX_LINE_BYTES); it is hashed, never held in memory",
    "truncated_line": "the JSON text stops before its end (a line cut short)",
    "bad_json": "not valid JSON",
    "not_an_object": "valid JSON, but not an object",
    "unknown_format": "neither a chat session (messages) nor a ReAct session (steps)",
    "missing_field": "a required field is absent",
    "renamed_field": "a required field is absent and an unknown field stands in its place (a renamed field)",
    "unknown_field": "a field the format does not have",
    "invalid_value": "a field has the wrong type or an impossible value",
    "inconsistent_session": "calls and results do not pair up (a result without its call, or the reverse)",
    "unknown_tool": "a tool the sandbox does not have answered (not an unknown_tool error): it cannot be replayed",
    "duplicate_session": "a copy of a session already ingested (same id or same content)",
    "conflicting_session": "a session id already ingested, with different content",
}

_COMMON = {"session_id": str, "started_at": str, "ended_at": str}
_OPTIONAL = {"metadata": dict}
_CHAT_TOP = {**_COMMON, "messages": list}
_REACT_TOP = {**_COMMON, "query": str, "steps": list}
_REACT_OPTIONAL = {"system": str}
_MESSAGE_KEYS = {"role", "content", "tool_calls", "tool_call_id", "name", "timestamp", "tool_version",
                 "reasoning_content"}
_CALL_KEYS = {"id", "type", "function"}
_STEP_KEYS = {"thought", "action", "observation", "final_answer", "raw", "timestamp", "tool_version"}


class LogError(AdvisorGymError, ValueError):
    """A line that cannot be ingested: ``reason`` (a ``REASONS`` code) and what is wrong."""

    def __init__(self, reason: str, message: str):
        assert reason in REASONS, reason
        super().__init__(message)
        self.reason, self.message = reason, message


def classify_json_error(text: str, err: orjson.JSONDecodeError) -> LogError:
    """``truncated_line`` when the text is a prefix of JSON (it ends where more was expected),
    ``bad_json`` otherwise."""
    if err.pos >= len(text.rstrip()) and "end of data" in err.msg:
        return LogError("truncated_line", f"the JSON stops at character {err.pos} of {len(text)}: {err.msg}")
    return LogError("bad_json", f"{err.msg} at character {err.pos}")


def _fields(obj: Mapping[str, Any], allowed: Iterable[str], missing: Sequence[str], where: str) -> None:
    """``renamed_field`` when a required field is missing and an unknown one is there, else
    ``missing_field`` or ``unknown_field``."""
    unknown = sorted(str(k) for k in set(obj) - set(allowed))
    if missing and unknown:
        raise LogError("renamed_field", f"{where}: {', '.join(missing)} missing and {', '.join(unknown)} not in the "
                                        "format: a renamed field?")
    if missing:
        raise LogError("missing_field", f"{where}: {', '.join(missing)} missing")
    if unknown:
        raise LogError("unknown_field", f"{where}: {', '.join(unknown)} not in the format")


def _check_fields(obj: Mapping[str, Any], required: Mapping[str, type], optional: Mapping[str, type],
                  where: str) -> None:
    _fields(obj, {*required, *optional}, [k for k in required if k not in obj], where)
    for key, kind in {**required, **optional}.items():
        if key in obj and not isinstance(obj[key], kind):
            raise LogError("invalid_value", f"{where}: {key} must be a {kind.__name__}, got {type(obj[key]).__name__}")


def parse_time(value: Any, where: str) -> dt.datetime:
    """An ISO-8601 timestamp with a time zone (``Z`` allowed), as an aware datetime."""
    if not isinstance(value, str):
        raise LogError("invalid_value", f"{where}: a timestamp must be ISO-8601 text")
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise LogError("invalid_value", f"{where}: {value[:40]!r} is not an ISO-8601 timestamp") from None
    if stamp.tzinfo is None:
        raise LogError("invalid_value", f"{where}: {value[:40]!r} has no time zone")
    return stamp


def format_time(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decoded(value: Any) -> Any:
    """A recorded value (a tool result, call arguments): JSON text decoded, anything else as it is."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _check_tool(call: dict[str, Any], tools: Mapping[str, Any], where: str) -> None:
    """A call of a tool the sandbox lacks is replayable only if the recorded answer was the
    ``unknown_tool`` error (the agent's mistake); a real answer came from a tool we do not have."""
    result = call["result"]
    if call["name"] not in tools and not (isinstance(result, dict) and result.get("error") == "unknown_tool"):
        raise LogError("unknown_tool", f"{where}: tool {str(call['name'])[:80]!r} answered, but the sandbox has "
                                       "no such tool")


def _version(value: Any, where: str) -> str:
    if value is None:
        return DEFAULT_TOOL_VERSION
    if not isinstance(value, str) or not value:
        raise LogError("invalid_value", f"{where}: tool_version must be non-empty text")
    return value


def _chat_turns(messages: list[Any], tools: Mapping[str, Any]) -> tuple[str | None, str, list[dict[str, Any]]]:
    system, query, turns = None, None, []
    pending: dict[str, dict[str, Any]] = {}
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise LogError("invalid_value", f"{where} is not an object")
        role = message.get("role")
        _fields(message, _MESSAGE_KEYS, ["role"] if "role" not in message else
                ["tool_call_id"] if role == "tool" and "tool_call_id" not in message else [], where)
        if "timestamp" in message:
            parse_time(message["timestamp"], f"{where}.timestamp")
        if role == "system":
            if system is not None or query is not None:
                raise LogError("invalid_value", f"{where}: a system message after the conversation started")
            system = message.get("content")
        elif role == "user":
            if query is not None:
                raise LogError("invalid_value", f"{where}: a second user message (one query per session)")
            if not isinstance(message.get("content"), str):
                raise LogError("missing_field", f"{where}: the user message has no text content")
            query = message["content"]
        elif role == "assistant":
            if query is None:
                raise LogError("inconsistent_session", f"{where}: an assistant turn before the user's query")
            if pending:
                raise LogError("inconsistent_session", f"{where}: calls {sorted(pending)} have no tool result")
            thought = message.get("content") if message.get("tool_calls") else None
            turn = new_turn(timestamp=message.get("timestamp"), thought=thought,
                            reasoning=message.get("reasoning_content"))
            for j, call in enumerate(message.get("tool_calls") or ()):
                cwhere = f"{where}.tool_calls[{j}]"
                if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
                    raise LogError("invalid_value", f"{cwhere} is not a call object with a function")
                if set(call) - _CALL_KEYS:
                    raise LogError("unknown_field", f"{cwhere}: {', '.join(sorted(set(call) - _CALL_KEYS))} not in "
                                                    "the format")
                if "id" not in call or "name" not in call["function"]:
                    raise LogError("missing_field", f"{cwhere}: id or function.name missing")
                entry = new_call(call["id"], call["function"]["name"], call["function"].get("arguments"))
                if str(call["id"]) in pending:
                    raise LogError("inconsistent_session", f"{cwhere}: call id {str(call['id'])[:40]!r} used twice")
                turn["calls"].append(entry)
                pending[str(call["id"])] = entry
            if not turn["calls"]:
                turn["response"] = message.get("content")
            turns.append(turn)
        elif role == "tool":
            entry = pending.pop(str(message["tool_call_id"]), None)
            if entry is None:
                raise LogError("inconsistent_session", f"{where}: a result for {str(message['tool_call_id'])[:40]!r}, "
                                                       "which no pending call has")
            entry["result"] = decoded(message.get("content"))
            entry["timestamp"] = message.get("timestamp")
            entry["tool_version"] = _version(message.get("tool_version"), f"{where}.tool_version")
            _check_tool(entry, tools, where)
        else:
            raise LogError("invalid_value", f"{where}: role {str(role)[:40]!r} is not system, user, assistant or tool")
    if query is None:
        raise LogError("missing_field", "messages: no user message (the query)")
    if pending:
        raise LogError("inconsistent_session", f"calls {sorted(pending)} have no tool result")
    return system, query, turns


def _react_turns(steps: list[Any], tools: Mapping[str, Any]) -> list[dict[str, Any]]:
    turns = []
    for i, step in enumerate(steps):
        where = f"steps[{i}]"
        if not isinstance(step, dict):
            raise LogError("invalid_value", f"{where} is not an object")
        kinds = [k for k in ("action", "final_answer", "raw") if k in step]
        _fields(step, _STEP_KEYS, ["action, final_answer or raw"] if not kinds else
                ["observation"] if "action" in step and "observation" not in step else [], where)
        if len(kinds) != 1:
            raise LogError("invalid_value", f"{where}: a step has one of action, final_answer or raw, not {kinds}")
        if "timestamp" in step:
            parse_time(step["timestamp"], f"{where}.timestamp")
        turn = new_turn(timestamp=step.get("timestamp"), thought=step.get("thought"))
        if "action" in step:
            action = step["action"]
            if not isinstance(action, dict) or "name" not in action:
                raise LogError("missing_field", f"{where}.action: name missing")
            call = {"id": f"step_{i}", "name": action["name"], "arguments": action.get("arguments"),
                    "result": decoded(step["observation"]),
                    "tool_version": _version(step.get("tool_version"), f"{where}.tool_version"),
                    "timestamp": step.get("timestamp")}
            _check_tool(call, tools, where)
            turn["calls"].append(call)
        elif "final_answer" in step:
            turn["response"] = step["final_answer"]
        else:
            turn["raw"], turn["observation"] = step["raw"], decoded(step.get("observation"))
        turns.append(turn)
    return turns


def _depth(value: Any) -> int:
    """How deeply a JSON value nests (iteratively: any depth is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack += [(v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def parse_session(obj: Any, tools: Mapping[str, Any]) -> dict[str, Any]:
    """The session record of one decoded log line (see the module doc), or ``LogError``."""
    if not isinstance(obj, dict):
        raise LogError("not_an_object", f"a JSON {type(obj).__name__}, not an object")
    if _depth(obj) > MAX_DEPTH:
        raise LogError("invalid_value", f"nested deeper than {MAX_DEPTH} levels (no session is)")
    if "messages" in obj:
        fmt, required, optional = "chat", _CHAT_TOP, _OPTIONAL
    elif "steps" in obj:
        fmt, required, optional = "react", _REACT_TOP, {**_OPTIONAL, **_REACT_OPTIONAL}
    else:
        raise LogError("unknown_format", f"no messages and no steps (fields: {', '.join(sorted(obj))[:200]})")
    _check_fields(obj, required, optional, "session")
    if not obj["session_id"]:
        raise LogError("invalid_value", "session: session_id is empty")
    started = parse_time(obj["started_at"], "started_at")
    if parse_time(obj["ended_at"], "ended_at") < started:
        raise LogError("invalid_value", "ended_at is before started_at")
    metadata = dict(obj.get("metadata") or {})
    for key in ("task_id", "user_id"):
        if metadata.get(key) is not None and not isinstance(metadata[key], str):
            raise LogError("invalid_value", f"metadata.{key} must be text")
    if fmt == "chat":
        system, query, turns = _chat_turns(obj["messages"], tools)
    else:
        system, query, turns = obj.get("system"), obj["query"], _react_turns(obj["steps"], tools)
    versions: dict[str, str] = {}
    for turn in turns:
        for call in turn["calls"]:
            if isinstance(call["name"], str) and call["name"] in tools:
                versions.setdefault(call["name"], call["tool_version"])  # a tool pins one version a session
    return {"session_id": obj["session_id"], "format": fmt, "started_at": obj["started_at"],
            "ended_at": obj["ended_at"], "task_id": metadata.get("task_id"), "user_id": metadata.get("user_id"),
            "metadata": metadata, "system": system, "query": query, "turns": turns, "tool_versions": versions}


def turn_action(session: Mapping[str, Any], turn: Mapping[str, Any]) -> str:
    """The text the agent sent for ``turn``, in the session's format, as ``env.step`` takes it
    (a ``null`` thought or arguments is taken as absent)."""
    if session["format"] == "chat":
        message = assistant_message(turn)
        if turn.get("reasoning") is not None:
            message["reasoning_content"] = turn["reasoning"]
        return assistant_turns([message])[0]
    if turn["raw"] is not None:
        return turn["raw"]
    step: dict[str, Any] = {"thought": turn["thought"]} if turn["thought"] is not None else {}
    if turn["calls"]:
        call = turn["calls"][0]
        step["action"] = {"name": call["name"], **({"arguments": call["arguments"]}
                                                  if call["arguments"] is not None else {})}
    else:
        step["response"] = turn["response"]
    return orjson.dumps(step).decode()


def session_actions(session: Mapping[str, Any]) -> list[str]:
    return [turn_action(session, turn) for turn in session["turns"]]


def turn_results(turn: Mapping[str, Any], observation: str) -> list[Any]:
    """The sandbox's result for each call of a turn, from the env's observation of the turn
    (one call: its result; several: a list of ``{"name", "result"}``)."""
    value = orjson.loads(observation)
    if len(turn["calls"]) == 1 or not isinstance(value, list):  # not a list: the turn's error, for each call
        return [value] * len(turn["calls"])
    return [r.get("result") if isinstance(r, dict) else r for r in value]


def content_hash(session: Mapping[str, Any]) -> str:
    """SHA-256 of what a session says (its id and where it was read excluded): two copies of a
    session, in either format or under another id, hash the same."""
    calls = [[(c["name"], decoded(c["arguments"]), c["result"]) for c in t["calls"]] for t in session["turns"]]
    body = {"started_at": session["started_at"], "ended_at": session["ended_at"], "query": session["query"],
            "user_id": session["user_id"], "task_id": session["task_id"], "calls": calls,
            "responses": [t["response"] for t in session["turns"]], "raw": [t["raw"] for t in session["turns"]]}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def chat_messages(session: Mapping[str, Any], system: str) -> list[dict[str, Any]]:
    """The session as an OpenAI message list (system, user, each turn, each recorded result),
    with ``system`` as the system prompt, each call's arguments as an object (as chat templates
    take them; kept as recorded when they are not a JSON object), each result as JSON text,
    the observation of a turn without calls that did not end the session (the env's error) as
    a user turn after it, and the calls
    numbered ``call00000``, ``call00001``, ... (nine letters and digits, the only
    ids Mistral's templates take, as in ``envs.evaluation.training_rows``' rows)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system},
                                      {"role": "user", "content": session["query"]}]
    n = 0
    for k, turn in enumerate(session["turns"]):
        if turn["calls"]:
            ids = [f"call{i:05d}" for i in range(n, n + len(turn["calls"]))]
            n += len(ids)
            messages.append({"role": "assistant", "content": turn["thought"] or "", "tool_calls": [
                {"id": call_id, "type": "function",
                 "function": {"name": str(c["name"]), "arguments": _arguments(c["arguments"])}}
                for call_id, c in zip(ids, turn["calls"])]})
            messages += [{"role": "tool", "tool_call_id": call_id, "name": str(c["name"]), "content": _text(c["result"])}
                         for call_id, c in zip(ids, turn["calls"])]
            continue
        messages.append({"role": "assistant", "content": turn["response"] if turn["raw"] is None else turn["raw"]})
        if k + 1 < len(session["turns"]) and turn["observation"] is not None:
            # a turn that did not end the episode (unusable): the env's error, as the eval's model agents show it
            messages.append({"role": "user", "content": _text(turn["observation"])})
    return messages


def _arguments(value: Any) -> Any:
    arguments = decoded(value)
    return arguments if isinstance(arguments, dict) else _text(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _stamped(entry: dict[str, Any], timestamp: str | None) -> dict[str, Any]:
    return {**entry, "timestamp": timestamp} if timestamp is not None else entry


def render_line(session: Mapping[str, Any]) -> dict[str, Any]:
    """A session record as a log line object in its format (``parse_session``'s inverse)."""
    head = {"session_id": session["session_id"], "started_at": session["started_at"],
            "ended_at": session["ended_at"], "metadata": dict(session["metadata"])}
    if session["format"] == "react":
        steps = []
        for turn in session["turns"]:
            step: dict[str, Any] = {"thought": turn["thought"]} if turn["thought"] is not None else {}
            if turn["calls"]:
                call = turn["calls"][0]
                step.update(action={"name": call["name"], "arguments": call["arguments"]},
                            observation=call["result"], tool_version=call["tool_version"])
            elif turn["raw"] is not None:
                step.update(raw=turn["raw"], observation=turn["observation"])
            else:
                step["final_answer"] = turn["response"]
            steps.append(_stamped(step, turn["timestamp"]))
        return {**head, "query": session["query"], "steps": steps}
    messages = [_stamped({"role": "system", "content": session["system"]}, session["started_at"]),
                _stamped({"role": "user", "content": session["query"]}, session["started_at"])]
    for turn in session["turns"]:
        messages.append(_stamped(assistant_message(turn), turn["timestamp"]))
        messages += [_stamped({"role": "tool", "tool_call_id": c["id"], "name": c["name"],
                               "content": _text(c["result"]), "tool_version": c["tool_version"]}, c["timestamp"])
                     for c in turn["calls"]]
    return {**head, "messages": messages}
