"""Flywheel flags: the sessions worth a human look (ToolRLA §3.5), with the reasons.

``hard_cases`` flags a scored session (``envs.replay.rescore``) for each of:

- ``tool_failure``: a tool call failed when replayed in the sandbox (any outcome but ``ok``:
  an error, a fault, a back-end failure); for a session without a task, a recorded result
  that is an error object;
- ``many_rounds``: more than ``MAX_ROUNDS`` (4) rounds of tool calls (assistant turns that
  called a tool);
- ``user_requery``: the same user started another session within ``REQUERY_S`` (30) seconds
  of this one's end: the answer did not settle it (looked up among all ingested sessions,
  not only the window's);
- ``compliance_alert``: the compliance checker flagged the answer or an unrequested write
  (``violated``; for a session without a task, the compliance-only check's violations).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from envs.replay.logformat import parse_time

MAX_ROUNDS = 4
REQUERY_S = 30.0
FLAGS = ("tool_failure", "many_rounds", "user_requery", "compliance_alert")


def _requeries(sessions: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Session id → the same user's next session, when it started within ``REQUERY_S`` of its end."""
    starts: dict[str, list[tuple[float, str]]] = {}
    for s in sessions:
        if s["user_id"] is not None:
            starts.setdefault(s["user_id"], []).append((parse_time(s["started_at"], "").timestamp(), s["session_id"]))
    for values in starts.values():
        values.sort()
    found = {}
    for s in sessions:
        if s["user_id"] is None:
            continue
        end = parse_time(s["ended_at"], "").timestamp()
        later = starts[s["user_id"]]
        i = bisect.bisect_left(later, (end, ""))
        if i < len(later) and later[i][0] - end <= REQUERY_S and later[i][1] != s["session_id"]:
            found[s["session_id"]] = {"session_id": later[i][1], "after_s": round(later[i][0] - end, 3)}
    return found


def hard_cases(selected: Sequence[Mapping[str, Any]], records: Sequence[Mapping[str, Any]],
               everything: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per flagged session of ``selected`` (with ``records``, their score records, in the
    same order): ``session_id``, ``task_id``, ``started_at``, ``reasons`` and their ``details``."""
    requery = _requeries(everything)
    rows = []
    for session, record in zip(selected, records, strict=True):
        details: dict[str, Any] = {}
        if "compliance_only" in record:
            failed = [c["name"] for t in session["turns"] for c in t["calls"]
                      if isinstance(c["result"], dict) and "error" in c["result"]]
            violations = [v["rule"] for v in record["compliance_only"]["violations"]]
        else:
            failed = [c["name"] for c in record["calls"] if c["outcome"] != "ok"]
            violations = record["violations"] if record["violated"] else []
        if failed:
            details["tool_failure"] = {"tools": failed}
        rounds = sum(1 for t in session["turns"] if t["calls"])
        if rounds > MAX_ROUNDS:
            details["many_rounds"] = {"rounds": rounds}
        if session["session_id"] in requery:
            details["user_requery"] = requery[session["session_id"]]
        if violations:
            details["compliance_alert"] = {"rules": violations}
        if details:
            rows.append({"session_id": session["session_id"], "task_id": session["task_id"],
                         "started_at": session["started_at"], "reasons": [f for f in FLAGS if f in details],
                         "details": details})
    return rows
