"""A production log simulator: scripted agents run through the environment, logged as production would.

``simulate_logs`` runs sessions of the scripted agents (``envs.evaluation.scripted``: the oracle
and the faulty baselines, or the hacks) on tasks of a suite through ``FinAdvisorEnv`` itself, so
every recorded tool result is the sandbox's real answer. Each session is logged in one of the
two formats (``envs.replay.logformat``), drawn per session: ``chat.jsonl`` (OpenAI chat) and
``react.jsonl`` (ReAct steps). A session carries its id, timestamps (model and tool latencies
drawn from the seed), the task id and user id in ``metadata``, and each call's
``tool_version``. After an imperfect answer (reward below 3) the same user asks again, half the
time, within 30 s: a re-query, as production sees it.

``faults`` (``FAULTS``) damage the logs the way real pipelines do, each once per file where
the file has a session to spare: a truncated line, bad JSON, a call to a tool the sandbox does
not have, a duplicated session, a Latin-1 line in the UTF-8 file, a renamed field, a missing
field, and a session without a task id (ingested; scored compliance-only). ``manifest.json``
lists every fault with its file and line. The same arguments give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from envs.env import FinAdvisorEnv
from envs.evaluation.agents import AGENT_SPECS, make_agent
from envs.replay.flags import REQUERY_S
from envs.replay.logformat import format_time, new_call, new_turn, served_version, render_line, turn_action, turn_results

FAULTS = ("truncated", "bad_json", "unknown_tool", "duplicate", "encoding", "renamed_field", "missing_field",
          "no_task")
#: The reject reason each fault's line gets at ingest (``no_task`` is ingested, not rejected).
FAULT_REASONS = {"truncated": "truncated_line", "bad_json": "bad_json", "unknown_tool": "unknown_tool",
                 "duplicate": "duplicate_session", "encoding": "invalid_encoding", "renamed_field": "renamed_field",
                 "missing_field": "missing_field", "no_task": None}
#: A tool production has and the sandbox does not (the ``unknown_tool`` fault).
PRODUCTION_ONLY_TOOL = "get_tax_lot_report"
START = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.timezone.utc)
FILES = {"chat": "chat.jsonl", "react": "react.jsonl"}
#: The agents a log can be simulated with: the oracle, the faulty baselines, the hacks (not the model agents).
SCRIPTED_AGENTS = tuple(a for a in AGENT_SPECS if a not in ("openai", "hf"))
_USERS = tuple(f"U{n:04d}" for n in range(1, 13))


def _turn(action: str, fmt: str, n: int) -> dict[str, Any]:
    """The turn record of a scripted agent's action: a ReAct call or answer, an OpenAI message
    with tool calls (in ReAct, which has one action a step, a raw step), or raw text."""
    try:
        value = orjson.loads(action)
    except orjson.JSONDecodeError:
        value = None
    turn = new_turn()
    if not isinstance(value, dict):
        value = {}
    call = value.get("action")
    tool_calls = value.get("tool_calls")
    if isinstance(call, dict) and "name" in call:
        arguments = call.get("arguments")
        turn["thought"] = value.get("thought")
        turn["calls"].append(new_call(f"call_{n}", call["name"],
                                      orjson.dumps(arguments).decode() if fmt == "chat" else arguments))
    elif isinstance(tool_calls, list) and tool_calls and fmt == "chat":
        turn["thought"] = value.get("content")
        turn["calls"] = [new_call(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in tool_calls]
    elif isinstance(value.get("response"), str) and fmt == "react":
        turn["thought"], turn["response"] = value.get("thought"), value["response"]
    elif isinstance(value.get("response"), str):
        turn["response"] = value["response"]  # the chat message's content: the answer
    elif fmt == "react":
        turn["raw"] = action
    else:
        turn["response"] = action  # the chat message's content, as the model wrote it
    return turn


def run_session(env: Any, agent: Any, task: Any, fmt: str, started: dt.datetime,
                rng: random.Random) -> tuple[dict[str, Any], dict[str, Any], dt.datetime]:
    """One episode of ``agent`` on ``task`` in ``env``, logged as a session record in ``fmt``;
    with the episode's reward info and its end time."""
    obs, info = env.reset(seed=0, options={"task_id": task.task_id})
    agent.start(task, obs, info)
    clock = started
    turns = []
    while True:
        turn = _turn(agent.act(obs), fmt, len(turns))
        for call in turn["calls"]:  # the version the env serves this task's calls in
            call["tool_version"] = served_version(task.tool_versions, call["name"])
        clock += dt.timedelta(seconds=rng.uniform(0.8, 4.0))
        turn["timestamp"] = format_time(clock)
        obs, _, terminated, truncated, step_info = env.step(turn_action({"format": fmt}, turn))
        if turn["calls"]:
            clock += dt.timedelta(seconds=rng.uniform(0.05, 0.6))
            for call, result in zip(turn["calls"], turn_results(turn, obs)):
                call.update(result=result, timestamp=format_time(clock))
        elif turn["raw"] is not None:
            turn["observation"] = orjson.loads(obs)
        turns.append(turn)
        if terminated or truncated:
            break
    session = {"session_id": "", "format": fmt, "started_at": format_time(started), "ended_at": format_time(clock),
               "task_id": task.task_id, "user_id": None, "metadata": {}, "system": env.system_prompt_for_tools_api,
               "query": task.query, "turns": turns, "tool_versions": {}}
    return session, step_info["reward"], clock


def _answered(result: Any) -> bool:
    """A recorded result that is the tool's answer (not the env's ``unknown_tool`` error)."""
    if isinstance(result, str):
        result = orjson.loads(result)
    return not (isinstance(result, dict) and result.get("error") == "unknown_tool")


def _rename_a_tool(line: dict[str, Any]) -> bool:
    """Rename the first call that a tool answered to ``PRODUCTION_ONLY_TOOL``; False if none."""
    if "steps" in line:
        step = next((s for s in line["steps"] if "action" in s and _answered(s["observation"])), None)
        if step is not None:
            step["action"]["name"] = PRODUCTION_ONLY_TOOL
        return step is not None
    results = {m["tool_call_id"]: m for m in line["messages"] if m["role"] == "tool"}
    for message in line["messages"]:
        for call in message.get("tool_calls") or ():
            if _answered(results[call["id"]]["content"]):
                call["function"]["name"] = results[call["id"]]["name"] = PRODUCTION_ONLY_TOOL
                return True
    return False


def _fault_line(kind: str, line: dict[str, Any], rng: random.Random) -> bytes | None:
    """A rendered line with a fault applied, as bytes; None when the fault does not fit this line."""
    if kind == "unknown_tool" and not _rename_a_tool(line):
        return None
    if kind == "renamed_field":  # an older logger's name for it
        line = {("sessionId" if k == "session_id" else k): v for k, v in line.items()}
    elif kind == "missing_field":
        del line["started_at"]
    elif kind == "no_task":
        del line["metadata"]["task_id"]
    elif kind == "encoding":
        if "messages" in line:
            line["messages"][1]["content"] += " (réf. dossier)"
        else:
            line["query"] += " (réf. dossier)"
        return orjson.dumps(line).decode().encode("latin-1")
    text = orjson.dumps(line).decode()
    if kind == "truncated":
        return text[:int(len(text) * rng.uniform(0.3, 0.9))].encode()
    if kind == "bad_json":
        return text.replace('"session_id"', "'session_id'", 1).encode()
    return text.encode()


def _damage(lines: list[dict[str, Any]], faults: Sequence[str], rng: random.Random,
            name: str) -> tuple[list[bytes], list[dict[str, Any]]]:
    """The file's lines with each fault applied to a session of its own (a duplicate: a copy of
    a line, one to three lines later), and the faults with their line numbers."""
    entries: list[tuple[bytes, str | None, str]] = [(orjson.dumps(line), None, line["session_id"]) for line in lines]
    free = list(range(len(lines)))
    rng.shuffle(free)
    duplicated = []
    for kind in faults:
        while free:
            index = free.pop()
            if kind == "duplicate":
                duplicated.append(index)
                break
            damaged = _fault_line(kind, orjson.loads(entries[index][0]), rng)
            if damaged is not None:
                entries[index] = (damaged, kind, entries[index][2])
                break
    for index in sorted(duplicated, reverse=True):  # inserting after index leaves lower indices in place
        entries.insert(min(index + 1 + rng.randint(0, 2), len(entries)), (entries[index][0], "duplicate",
                                                                           entries[index][2]))
    records = [{"file": name, "line": n, "fault": kind, "session_id": session_id, "reason": FAULT_REASONS[kind]}
               for n, (_, kind, session_id) in enumerate(entries, 1) if kind is not None]
    return [data for data, _, _ in entries], records


def simulate_logs(out: str | Path, agents: Sequence[str], sessions: int, seed: int = 0,
                  faults: Sequence[str] = (), tasks: str | Path | None = None, task_pool: int | None = None,
                  start: dt.datetime = START) -> dict[str, Any]:
    """Write ``sessions`` simulated sessions to ``out`` (``chat.jsonl``, ``react.jsonl``,
    ``manifest.json``); the manifest. ``agents``: scripted agent names (``SCRIPTED_AGENTS``),
    taking turns; ``task_pool``: draw the sessions' tasks from that many of the suite's (drawn
    from the seed), so that several sessions share a query, as users' questions do."""
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    if sessions < 1 or not agents:
        raise ValueError("need at least one session and one agent")
    unknown = sorted(set(agents) - set(SCRIPTED_AGENTS))
    if unknown:
        raise ValueError(f"unknown agent(s) {', '.join(unknown)}; choose from {', '.join(SCRIPTED_AGENTS)}")
    if task_pool is not None and task_pool < 1:
        raise ValueError("task_pool must be at least 1")
    instances = [make_agent(a) for a in agents]
    rng = random.Random(seed)
    env = FinAdvisorEnv(tasks=tasks)
    try:
        suite = list(env.tasks)
        if task_pool is not None and task_pool < len(suite):
            suite = rng.sample(suite, task_pool)
        by_format: dict[str, list[dict[str, Any]]] = {fmt: [] for fmt in FILES}
        clock, requery = start, None
        for n in range(sessions):
            agent = instances[n % len(instances)]
            if requery is not None:
                task, user, fmt = requery
                started = clock + dt.timedelta(seconds=rng.uniform(4.0, REQUERY_S - 5.0))
            else:
                task, user, fmt = rng.choice(suite), rng.choice(_USERS), rng.choice(tuple(FILES))
                started = clock + dt.timedelta(seconds=rng.uniform(45.0, 900.0))
            session, reward, clock = run_session(env, agent, task, fmt, started, rng)
            session["session_id"] = f"sess-{seed}-{n:05d}"
            session["user_id"] = user
            session["metadata"] = {"task_id": task.task_id, "user_id": user, "agent": agent.name,
                                   "channel": "advisor-desk"}
            by_format[fmt].append(render_line(session))
            requery = (task, user, fmt) if reward["total"] < 3.0 and rng.random() < 0.5 else None
    finally:
        env.close()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"seed": seed, "sessions": sessions, "agents": list(agents), "faults": [],
                                "files": {}}
    for fmt, name in FILES.items():
        data, applied = _damage(by_format[fmt], faults, rng, name)
        (out / name).write_bytes(b"".join(line + b"\n" for line in data))
        manifest["files"][name] = {"lines": len(data), "sessions": len(by_format[fmt])}
        manifest["faults"] += applied
    manifest["faults_not_applied"] = sorted({f for f in faults} - {a["fault"] for a in manifest["faults"]})
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
    return manifest
