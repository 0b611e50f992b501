"""``replay score``: each ingested session's recorded actions replayed through the environment.

Every session of an ingest directory (optionally only those started in ``[since, until)``) is
replayed with ``score_trajectory`` (the env parses, executes and rewards; nothing is
re-implemented here), on the task its ``metadata.task_id`` names, reset with seed 0 (seeds
only drive fault injection, which replay does not use). The recorded tool results are then
compared with the sandbox's, call by call:

- ``strict``: any difference fails the session (``status: "mismatch"``, with the diff); it is
  left out of the metrics;
- ``lenient``: differences are drift, counted per tool and field (``drift`` in the summary),
  and the session is scored (``status: "scored"``).

A session without a task id (``status: "no_task"``) or whose task is not in the suite
(``"unknown_task"``) has no gold, so no reward: it gets the checks that need none, the env's
format gate on each turn (``envs.actions``) and its compliance checker on the recorded answer
and results (``compliance_only``), feeds the hard-case flags, and stays out of the metrics.

A session recorded against other tool versions than its task's (``tool_version`` per call)
is replayed with those versions pinned (``Task.tool_versions``), in an env of its own; a
recorded version that is not served replays against the task's, noted as ``unpinned_versions``.

Writes ``DIR/scores.jsonl`` (one record per session: the eval's episode fields, the reward
breakdown, the sandbox observations, the diff), ``DIR/score_summary.json`` (the eval's metrics,
``envs.evaluation.metrics``, over the scored sessions; counts per status; drift) and
``DIR/hard_cases.jsonl`` (``envs.replay.flags``), replacing a previous run's: ``replay export``
works on the last run's sessions (its window). Each file is written atomically
(``mock_apis.atomic``), the summary last, listing the SHA-256 of the sessions it scored
(``inputs``) and of the files it wrote (``outputs``). An ingest that did not finish (no
``summary.json``, or files that differ from it) is refused, unless ``allow_partial``: then the
summary's ``partial`` says why the input was incomplete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from envs.actions import gate_errors, parse_action
from envs.env import FinAdvisorEnv
from envs.evaluation.metrics import compute_metrics
from envs.evaluation.run import episode_fields
from envs.replay.flags import hard_cases
from envs.replay.ingest import SESSIONS, SUMMARY, check_ingest, load_sessions
from envs.replay.logformat import parse_time, served_version, session_actions, turn_results
from envs.replay.scoring import score_trajectory
from envs.tasks import Task
from mock_apis.atomic import IncompleteOutput, file_sha256, marker_outputs, write_json_atomic, write_jsonl_atomic
from mock_apis.catalogue import versions_of

MODES = ("strict", "lenient")
SCORES = "scores.jsonl"
SCORE_SUMMARY = "score_summary.json"
HARD_CASES = "hard_cases.jsonl"
#: Differences listed per session at most (all of them are counted).
MAX_DIFFS = 50
_ABSENT = "<absent>"


def json_diff(recorded: Any, sandbox: Any, path: str = "") -> list[dict[str, Any]]:
    """Where two JSON values differ: ``{"path", "recorded", "sandbox"}`` per leaf (``<absent>``
    for a missing key or item). ``1`` and ``1.0`` are equal; ``True`` and ``1`` are not."""
    if isinstance(recorded, dict) and isinstance(sandbox, dict):
        out = []
        for key in sorted(set(recorded) | set(sandbox), key=str):
            sub = f"{path}.{key}" if path else str(key)
            out += json_diff(recorded.get(key, _ABSENT), sandbox.get(key, _ABSENT), sub)
        return out
    if isinstance(recorded, list) and isinstance(sandbox, list):
        out = []
        for i in range(max(len(recorded), len(sandbox))):
            out += json_diff(recorded[i] if i < len(recorded) else _ABSENT,
                             sandbox[i] if i < len(sandbox) else _ABSENT, f"{path}[{i}]")
        return out
    same = recorded == sandbox and isinstance(recorded, bool) == isinstance(sandbox, bool)
    return [] if same else [{"path": path or "$", "recorded": recorded, "sandbox": sandbox}]


def field_of(path: str) -> str:
    """A diff path with its list indices dropped (``holdings[2].units`` → ``holdings[].units``)."""
    out, skipping = [], False
    for ch in path:
        if ch == "[":
            skipping = True
            out.append("[]")
        elif ch == "]":
            skipping = False
        elif not skipping:
            out.append(ch)
    return "".join(out)


def call_diffs(session: Mapping[str, Any], observations: Sequence[str]) -> list[dict[str, Any]]:
    """Each recorded tool result against the sandbox's for the same call (turns the replay ran)."""
    diffs = []
    for n, (turn, obs) in enumerate(zip(session["turns"], observations)):
        if not turn["calls"]:
            continue
        for call, result in zip(turn["calls"], turn_results(turn, obs)):
            for d in json_diff(call["result"], result):
                diffs.append({"turn": n, "call": str(call["id"]), "tool": str(call["name"]), **d})
    return diffs


def version_pin(task: Task, versions: Mapping[str, str]) -> tuple[Task | None, dict[str, str]]:
    """``task`` pinned to the tool versions the session recorded where they differ from the
    task's own (None: nothing to pin), and the recorded versions that are not served (those
    calls replay against the task's version)."""
    pin = {k: v for k, v in sorted(versions.items()) if served_version(task.tool_versions, k) != v}
    unserved = {k: v for k, v in pin.items() if v not in versions_of(k)}
    pin = {k: v for k, v in pin.items() if k not in unserved}
    return (dataclasses.replace(task, tool_versions={**task.tool_versions, **pin}) if pin else None), unserved


def env_options(tasks: Any, replica: Any, check_replica: bool) -> dict[str, Any]:
    """``FinAdvisorEnv`` keyword arguments for a replay: the suite and replica where given."""
    return {"check_replica": check_replica, **({"tasks": tasks} if tasks is not None else {}),
            **({"replica": replica} if replica is not None else {})}


def check_deid_replica(directory: Path, replica: str | os.PathLike[str] | None) -> None:
    """De-identified sessions replay only against a replica built with their key (``replica build
    --key-file``): any other replica's tool results, which scores and exports carry, would put
    source names and contacts back. ``ValueError`` (one line) otherwise."""
    try:
        fingerprint = orjson.loads((directory / SUMMARY).read_bytes()).get("key_fingerprint")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return  # no finished ingest: check_ingest says so
    if not fingerprint:
        return
    hint = "pass --replica, the one `advisorgym replica build --key-file` made with the same key"
    if replica is None:
        raise ValueError(f"{directory} holds sessions de-identified with key {fingerprint}, and the default replica "
                         f"holds the source's people: its tool results would bring their PII back; {hint}")
    try:
        con = sqlite3.connect(f"file:{Path(replica).resolve()}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'deid_key_fingerprint'").fetchone()
        finally:
            con.close()
    except sqlite3.Error as err:
        raise ValueError(f"--replica {replica}: cannot read its build key ({err})") from None
    if row is None or row[0] != fingerprint:
        built = f"built with key {row[0]}" if row else "not a de-identified build"
        raise ValueError(f"--replica {replica} is {built}, but {directory}'s sessions are de-identified with key "
                         f"{fingerprint}: its tool results would not be their pseudonyms; {hint}")


class Replayer:
    """One env for the suite, plus one per distinct tool-version pin, all with the same options."""

    def __init__(self, env_kwargs: dict[str, Any]):
        self._make = lambda tasks: FinAdvisorEnv(**{**env_kwargs, **({"tasks": tasks} if tasks else {})})
        self.env = self._make(None)
        self._pinned: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

    def env_for(self, task: Task, versions: Mapping[str, str]) -> tuple[Any, dict[str, str]]:
        pinned, unpinned = version_pin(task, versions)
        if pinned is None:
            return self.env, unpinned
        key = (task.task_id, pinned.pins)
        if key not in self._pinned:
            self._pinned[key] = self._make([pinned])
        return self._pinned[key], unpinned

    def close(self) -> None:
        for env in (self.env, *self._pinned.values()):
            env.close()


def _duration(session: Mapping[str, Any]) -> float:
    started, ended = parse_time(session["started_at"], "started_at"), parse_time(session["ended_at"], "ended_at")
    return (ended - started).total_seconds()


def _compliance_only(env: Any, session: Mapping[str, Any]) -> dict[str, Any]:
    """The checks a session without a task gets: the format gate per turn, and the compliance
    checker on the recorded answer and results (the env's own functions)."""
    results = [c["result"] for t in session["turns"] for c in t["calls"]]
    answer = next((t["response"] for t in reversed(session["turns"]) if t["response"] is not None), None)
    report = env.checker.check(answer or "", observations=results, query=session["query"], subject_client_ids=None,
                               terms=env.compliance_terms)
    fmt = str(env.reward_config.format)
    return {"format_errors": [list(gate_errors(parse_action(a), fmt)) for a in session_actions(session)],
            "answered": answer is not None,
            "violations": [{"rule": v.rule, "stage": v.stage, "evidence": v.evidence} for v in report.violations]}


def score_session(replayer: Replayer, session: Mapping[str, Any], mode: str) -> dict[str, Any]:
    """The score record of one session (see the module doc)."""
    base = {"session_id": session["session_id"], "task_id": session["task_id"], "user_id": session["user_id"],
            "started_at": session["started_at"], "ended_at": session["ended_at"], "format": session["format"],
            "source": session.get("source"), "latency_s": _duration(session)}
    task_id = session["task_id"]
    task = replayer.env.task_index.get(task_id) if isinstance(task_id, str) else None
    if task is None:
        status = "no_task" if task_id is None else "unknown_task"
        return {**base, "status": status, "compliance_only": _compliance_only(replayer.env, session)}
    env, unpinned = replayer.env_for(task, session["tool_versions"])
    scored = score_trajectory(env, task, session_actions(session), seed=0)
    diffs = call_diffs(session, scored.observations)
    reward = scored.reward
    calls = [c for info in scored.step_infos for c in info.get("calls", ())]
    return {**base, "status": "mismatch" if diffs and mode == "strict" else "scored", "level": task.level,
            **episode_fields(reward, reward["violations"], calls),
            "truncated": scored.ended_by == "step_budget", "error": None,
            "turns_used": scored.turns_used, "unused_turns": scored.unused_turns, "ended_by": scored.ended_by,
            "unpinned_versions": unpinned, "differences": len(diffs), "diff": diffs[:MAX_DIFFS],
            "reward": reward, "observations": scored.observations}


def in_window(session: Mapping[str, Any], since: dt.datetime | None, until: dt.datetime | None) -> bool:
    started = parse_time(session["started_at"], "started_at")
    return (since is None or started >= since) and (until is None or started < until)


def score_logs(directory: str | os.PathLike[str], mode: str = "strict", *, tasks: str | os.PathLike[str] | None = None,
               replica: str | os.PathLike[str] | None = None, check_replica: bool = True,
               since: dt.datetime | None = None, until: dt.datetime | None = None,
               allow_partial: bool = False) -> dict[str, Any]:
    """Score the sessions ``replay ingest`` wrote to ``directory`` (see the module doc); the summary.
    ``IncompleteOutput`` if the ingest did not finish, unless ``allow_partial``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    directory = Path(directory)
    partial = None
    try:
        check_ingest(directory)
    except IncompleteOutput as err:
        if not allow_partial:
            raise
        partial = str(err)
    check_deid_replica(directory, replica)
    sessions_sha256 = file_sha256(directory / SESSIONS)
    sessions = load_sessions(directory)
    selected = [s for s in sessions if in_window(s, since, until)]
    replayer = Replayer(env_options(tasks, replica, check_replica))
    try:
        records = [score_session(replayer, s, mode) for s in selected]
    finally:
        replayer.close()
    write_jsonl_atomic(directory / SCORES, records)
    flagged = hard_cases(selected, records, sessions)
    write_jsonl_atomic(directory / HARD_CASES, flagged)
    drift: dict[str, Counter[str]] = {}
    for record in records:
        for d in record.get("diff", ()):
            drift.setdefault(d["tool"], Counter())[field_of(d["path"])] += 1
    scored = [r for r in records if r["status"] == "scored"]
    summary = {
        "mode": mode, "window": {"since": since.isoformat() if since else None,
                                 "until": until.isoformat() if until else None},
        "sessions": len(records), "status": dict(sorted(Counter(r["status"] for r in records).items())),
        "metrics": compute_metrics(scored),
        "drift": {tool: dict(sorted(fields.items())) for tool, fields in sorted(drift.items())},
        "sessions_with_drift": sum(1 for r in records if r.get("differences")),
        "hard_cases": len(flagged),
        "hard_case_reasons": dict(sorted(Counter(r for case in flagged for r in case["reasons"]).items())),
        "not_scored": "no_task / unknown_task sessions have no gold: format gate and compliance only "
                      "(compliance_only), not in the metrics; strict mismatches are not in the metrics either",
        "partial": partial,
        "inputs": {SESSIONS: sessions_sha256},
        "outputs": marker_outputs(directory, (SCORES, HARD_CASES)),
    }
    write_json_atomic(directory / SCORE_SUMMARY, summary)
    return summary
