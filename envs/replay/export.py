"""``replay export``: scored sessions as training and evaluation data.

Reads what ``replay ingest`` and ``replay score`` wrote to a directory and writes, to ``out``
(default ``DIR/export``):

- ``--to tasks`` → ``tasks.jsonl``: a task suite from the successful sessions, each session's
  recorded trajectory as the gold (its calls, thoughts and answer; the rest of the task, as
  its answer facts and compliance expectation, from the session's task). One task per source
  task (the first successful session). A task is kept only if the recorded trajectory
  re-scores at the maximum (3.0), as a success (the answer facts found, no violation), in the
  sandbox, both on the session's task and as the new task's gold (so a success claimed in a
  tampered or stale scores file is caught); the others are listed in the summary with the
  score they got;
- ``--to sft`` → ``sft.jsonl``: one row per session at or above ``min_reward`` (default 3.0),
  in the Hugging Face conversational format with a ``tools`` column, as ``advisorgym tasks
  export``'s SFT rows (``envs.evaluation.training_rows``): ``messages`` with each call's arguments as an object
  (as chat templates take them) and each result as JSON text, the sandbox's own tool results,
  the system prompt for tools passed through the chat template; ``tools``, the schemas in the
  versions the session ran against; ``session_id``, ``task_id``, ``level``, ``reward``;
- ``--to dpo`` → ``dpo.jsonl``: preference pairs of sessions of the same query (task): chosen
  a compliant, successful one at or above ``min_reward``; rejected one that violates
  compliance (``pair: "compliance"``), else one that fails the task (``"correctness"``).
  Rows are TRL's conversational preference format (``prompt``, ``chosen``, ``rejected``, as
  messages like the SFT rows', and ``tools`` as schema objects).

Load the rows with ``export_features(to)`` (``envs.evaluation.training_rows.row_features``, as the tasks
export's), which keep every message and tool schema as the JSON it is::

    load_dataset("json", data_files="export/sft.jsonl", features=export_features("sft"), split="train")

Every export reports, in ``export_summary.json``, how many scored sessions each reward
threshold keeps (``THRESHOLDS``, and ``min_reward``): reward-guided filtering. Only sessions
with ``status: "scored"`` in the last ``replay score`` run count (its window; not strict-mode
mismatches, not sessions without a task). The ingest and the score run must both have
finished (their summaries list files that match) and the scores must be of the folder's
sessions; ``allow_partial`` exports incomplete inputs anyway, saying why in the summary's
``partial``. Files are written atomically (``mock_apis.atomic``), the summary last.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envs.replay.ingest import SESSIONS, check_ingest, load_sessions, read_records
from envs.replay.logformat import chat_messages, decoded, turn_results
from envs.replay.rescore import SCORE_SUMMARY, SCORES, check_deid_replica, env_options, version_pin
from envs.replay.scoring import score_trajectory
from envs.reward import GoldCall
from envs.env import FinAdvisorEnv, tool_schemas
from envs.tasks import Task, save_tasks
from envs.evaluation.training_rows import row_features
from mock_apis.atomic import IncompleteOutput, check_outputs, file_sha256, marker_outputs, write_json_atomic, \
    write_jsonl_atomic
from mock_apis.errors import AdvisorGymError

TARGETS = ("tasks", "sft", "dpo")
MAX_REWARD = 3.0
THRESHOLDS = (0.0, 1.0, 2.0, 2.5, 3.0)
EXPORT_SUMMARY = "export_summary.json"


class ExportError(AdvisorGymError, ValueError):
    """The directory cannot be exported (not scored yet, or unreadable scores)."""


def load_scores(directory: Path, allow_partial: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """The score records of a complete ingest and score run in ``directory``, and why they are
    partial (empty: they are not). Incomplete or partial inputs raise ``IncompleteOutput`` unless
    ``allow_partial``; scores of other sessions than the folder's always raise ``ExportError``."""
    path = directory / SCORES
    if not path.is_file():
        raise ExportError(f"no {SCORES} in {directory}: run `advisorgym replay score {directory}` first")
    partial: list[str] = []
    rescore = f"run `advisorgym replay score {directory}` again (or pass --allow-partial)"
    for check in (lambda: check_ingest(directory),
                  lambda: check_outputs(directory, SCORE_SUMMARY, "replay score", rescore)):
        try:
            marker = check()
        except IncompleteOutput as err:
            if not allow_partial:
                raise
            partial.append(str(err))
    if not partial:
        if marker.get("inputs", {}).get(SESSIONS) != file_sha256(directory / SESSIONS):
            raise ExportError(f"{directory / SCORES} scores other sessions than {directory / SESSIONS} (the logs "
                              f"were ingested again after scoring): run `advisorgym replay score {directory}` again")
        if marker.get("partial"):
            if not allow_partial:
                raise IncompleteOutput(f"{directory / SCORE_SUMMARY}: scored with --allow-partial ({marker['partial']}); "
                                       "pass --allow-partial to export it anyway")
            partial.append(marker["partial"])
    return read_records(path, "score record"), partial


def threshold_counts(scored: Sequence[Mapping[str, Any]], extra: float | None) -> dict[str, int]:
    """How many sessions each reward threshold keeps (``total >= threshold``)."""
    levels = sorted({*THRESHOLDS, *([extra] if extra is not None else [])})
    return {f">={t:g}": sum(1 for r in scored if r["total"] >= t) for t in levels}


def sandbox_session(session: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The session with each call's recorded result, and each turn without calls' observation,
    replaced by the sandbox's."""
    turns = []
    for turn, obs in zip(session["turns"], record["observations"]):
        results = turn_results(turn, obs) if turn["calls"] else []
        turns.append({**turn, "calls": [{**c, "result": r} for c, r in zip(turn["calls"], results)],
                      "observation": turn["observation"] if turn["calls"] else obs})
    return {**session, "turns": turns}


def session_task(session: Mapping[str, Any], source: Task) -> Task | str:
    """The task whose gold is the session's trajectory, or why there is none."""
    calls, thoughts = [], []
    for turn in session["turns"]:
        for call in turn["calls"]:
            arguments = decoded(call["arguments"])
            if not isinstance(call["name"], str) or not isinstance(arguments, dict):
                return "a call without a tool name or an arguments object"
            calls.append(GoldCall(call["name"], arguments))
            thoughts.append(turn["thought"] or f"I need {call['name']} for this.")
    answer = session["turns"][-1]["response"] if session["turns"] else None
    if not isinstance(answer, str):
        return "the session does not end with an answer"
    names = {c.name for c in calls}
    pinned, _ = version_pin(source, session["tool_versions"])
    return Task(task_id=f"log-{session['session_id']}", level=source.level, query=session["query"],
                gold_calls=tuple(calls), gold_response=answer,
                required_tools=tuple(t for t in source.required_tools if t in names), optimal_calls=len(calls),
                answer_facts=source.answer_facts, compliance=source.compliance, difficulty=source.difficulty,
                intent=source.intent, replica=dict(source.replica), gold_thoughts=tuple(thoughts),
                tool_versions=dict((pinned or source).tool_versions))


def export_tasks(pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]], suite: Mapping[str, Task],
                 env_kwargs: dict[str, Any]) -> tuple[list[Task], list[dict[str, Any]]]:
    """The verified tasks from successful sessions, and the sessions left out with why."""
    candidates: dict[str, tuple[dict[str, Any], Task]] = {}
    dropped = []
    for session, record in pairs:
        if not (record["task_success"] and record["total"] >= MAX_REWARD):
            continue
        if record["task_id"] in candidates:
            dropped.append({"session_id": session["session_id"], "reason": "another session of this task "
                            f"was exported ({candidates[record['task_id']][0]['session_id']})"})
            continue
        task = session_task(session, suite[record["task_id"]])
        if isinstance(task, str):
            dropped.append({"session_id": session["session_id"], "reason": task})
        else:
            candidates[record["task_id"]] = (session, task)
    if not candidates:
        return [], dropped
    tasks = [task for _, task in candidates.values()]
    sources = [suite[task_id] for task_id in candidates]
    env = FinAdvisorEnv(**{**env_kwargs, "tasks": tasks + sources})
    kept = []
    try:
        for task_id, (session, task) in candidates.items():
            # the recorded trajectory on the session's own task, and as the gold of the new one
            for scored_on in (suite[task_id], task):
                reward = score_trajectory(env, scored_on, task.gold_actions()).reward
                if not (reward["total"] >= MAX_REWARD and reward["task_success"]):
                    dropped.append({"session_id": session["session_id"], "reason": f"its trajectory re-scores "
                                    f"{reward['total']:.3f}{'' if reward['task_success'] else ', not a success'} "
                                    f"on {scored_on.task_id}, not {MAX_REWARD} and a success"})
                    break
            else:
                kept.append(task)
    finally:
        env.close()
    return kept, dropped


def session_tools(session: Mapping[str, Any], task: Task) -> list[dict[str, Any]]:
    """The tool schemas the session's calls ran against: its task's, with the recorded versions pinned."""
    pinned, _ = version_pin(task, session["tool_versions"])
    return tool_schemas((pinned or task).pins)


def export_features(to: str) -> Any:
    """The ``datasets.Features`` of ``sft.jsonl`` (``to="sft"``) or ``dpo.jsonl`` (``"dpo"``)."""
    if to == "sft":
        return row_features(("messages", "tools"), session_id="string", task_id="string", level="string",
                            reward="float64")
    return row_features(("prompt", "chosen", "rejected", "tools"), task_id="string", pair="string",
                        chosen_session="string", rejected_session="string", chosen_total="float64",
                        rejected_total="float64")


def sft_row(session: Mapping[str, Any], record: Mapping[str, Any], system: str, task: Task) -> dict[str, Any]:
    return {"messages": chat_messages(sandbox_session(session, record), system), "tools": session_tools(session, task),
            "session_id": session["session_id"], "task_id": record["task_id"], "level": record["level"],
            "reward": record["total"]}


def dpo_rows(pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]], min_reward: float, system: str,
             tasks: Mapping[str, Task]) -> list[dict[str, Any]]:
    """One pair per task with a chosen and a rejected session (see the module doc)."""
    by_task: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for session, record in pairs:
        by_task.setdefault(record["task_id"], []).append((session, record))
    rows = []
    for task_id, group in by_task.items():
        chosen = next((p for p in group if p[1]["task_success"] and not p[1]["violated"]
                       and p[1]["total"] >= min_reward), None)
        violating = [p for p in group if p[1]["violated"]]
        failing = [p for p in group if not p[1]["task_success"] and not p[1]["violated"]]
        rejected, kind = (violating[0], "compliance") if violating else (failing[0], "correctness") if failing \
            else (None, "")
        if chosen is None or rejected is None:
            continue
        good, bad = (chat_messages(sandbox_session(*p), system) for p in (chosen, rejected))
        rows.append({"prompt": good[:2], "chosen": good[2:], "rejected": bad[2:],
                     "tools": session_tools(chosen[0], tasks[task_id]), "task_id": task_id,
                     "pair": kind,
                     "chosen_session": chosen[0]["session_id"], "rejected_session": rejected[0]["session_id"],
                     "chosen_total": chosen[1]["total"], "rejected_total": rejected[1]["total"]})
    return rows


def export_logs(directory: str | os.PathLike[str], to: str, out: str | os.PathLike[str] | None = None, *,
                min_reward: float | None = None, tasks: str | os.PathLike[str] | None = None,
                replica: str | os.PathLike[str] | None = None, check_replica: bool = True,
                allow_partial: bool = False) -> dict[str, Any]:
    """Export a scored directory ``--to`` tasks, sft or dpo (see the module doc); the summary."""
    if to not in TARGETS:
        raise ExportError(f"--to must be one of {', '.join(TARGETS)}, got {to!r}")
    directory = Path(directory)
    records, partial = load_scores(directory, allow_partial)
    check_deid_replica(directory, replica)
    sessions = {s["session_id"]: s for s in load_sessions(directory)}
    scored = [r for r in records if r["status"] == "scored"]
    stale = [r["session_id"] for r in scored if r["session_id"] not in sessions]
    if stale:
        raise ExportError(f"{directory / SCORES} scores sessions that are not in its sessions (e.g. "
                          f"{stale[0]!r}): the logs were ingested again; run `advisorgym replay score` again")
    pairs = [(sessions[r["session_id"]], r) for r in scored]
    out = Path(out) if out is not None else directory / "export"
    threshold = MAX_REWARD if min_reward is None else min_reward
    env_kwargs = env_options(tasks, replica, check_replica)
    summary: dict[str, Any] = {"to": to, "scored_sessions": len(scored), "min_reward": threshold,
                               "kept_by_threshold": threshold_counts(scored, threshold),
                               "partial": partial or None}
    env = FinAdvisorEnv(**env_kwargs)
    system, suite = env.system_prompt_for_tools_api, env.task_index
    env.close()
    foreign = sorted({r["task_id"] for r in scored if r["task_id"] not in suite})
    if foreign:
        raise ExportError(f"the sessions were scored on tasks this suite ({env.suite_name}) lacks, e.g. "
                          f"{foreign[0]!r}: pass the --tasks the score run used")
    out.mkdir(parents=True, exist_ok=True)
    if to == "tasks":
        kept, dropped = export_tasks(pairs, suite, env_kwargs)
        save_tasks(kept, out / "tasks.jsonl")
        summary.update(written=len(kept), file=str(out / "tasks.jsonl"), left_out=dropped)
    else:
        rows = [sft_row(s, r, system, suite[r["task_id"]]) for s, r in pairs if r["total"] >= threshold] \
            if to == "sft" else dpo_rows(pairs, threshold, system, suite)
        write_jsonl_atomic(out / f"{to}.jsonl", rows)
        summary.update(written=len(rows), file=str(out / f"{to}.jsonl"))
        if to == "dpo":
            summary["pairs"] = {k: sum(1 for r in rows if r["pair"] == k) for k in ("compliance", "correctness")}
    summary["outputs"] = marker_outputs(out, [Path(summary["file"]).name])
    write_json_atomic(out / EXPORT_SUMMARY, summary)
    return summary
