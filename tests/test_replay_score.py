"""Replaying ingested production logs: the live episode's reward, strict and lenient
comparison of tool results, sessions without a task, tool-version pins, hard-case flags."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import orjson
import pytest

from envs import FinAdvisorEnv
from envs.evaluation.agents import make_agent
from envs.replay.flags import FLAGS
from envs.replay.ingest import ingest_logs
from envs.replay.logformat import render_line
from envs.replay.rescore import HARD_CASES, SCORES, json_diff, score_logs
from envs.replay.simulate import SCRIPTED_AGENTS, START, run_session
from envs.tasks import HANDWRITTEN, load_tasks, save_tasks

TASKS = load_tasks(HANDWRITTEN)


@pytest.fixture(scope="module")
def env():
    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    yield env
    env.close()


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def log_session(env, agent: str, task, fmt: str, n: int, started: dt.datetime, user: str | None = None,
                metadata: dict | None = None) -> tuple[dict, dict, dt.datetime]:
    """A live episode logged as a line: (line, the live reward info, its end)."""
    session, reward, end = run_session(env, make_agent(agent), task, fmt, started, random.Random(n))
    session.update(session_id=f"t-{n:04d}", user_id=user or f"U{n}",
                   metadata=metadata if metadata is not None else {"task_id": task.task_id, "user_id": user or f"U{n}"})
    return render_line(session), reward, end


def write(path: Path, lines: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def ingest_and_score(tmp_path: Path, lines: list[dict], mode: str = "strict", **kwargs) -> tuple[dict, list[dict]]:
    ingest_logs([write(tmp_path / "logs.jsonl", lines)], tmp_path / "out")
    summary = score_logs(tmp_path / "out", mode, tasks=kwargs.pop("tasks", HANDWRITTEN), **kwargs)
    return summary, read_jsonl(tmp_path / "out" / SCORES)


def test_a_replayed_log_scores_exactly_the_live_episode_for_every_scripted_agent_in_both_formats(env, tmp_path):
    lines, live = [], {}
    clock = START
    for n, (agent, task, fmt) in enumerate((a, t, f) for a in SCRIPTED_AGENTS for t in TASKS
                                           for f in ("chat", "react")):
        line, reward, clock = log_session(env, agent, task, fmt, n, clock + dt.timedelta(minutes=5))
        lines.append(line)
        live[line["session_id"]] = (agent, reward)
    summary, records = ingest_and_score(tmp_path, lines)
    assert summary["status"] == {"scored": len(lines)} and summary["sessions_with_drift"] == 0
    for record in records:
        agent, reward = live[record["session_id"]]
        assert record["reward"] == reward, (agent, record["task_id"], record["format"])  # component by component
    oracle = [r for r in records if live[r["session_id"]][0] == "oracle"]
    assert len(oracle) == 2 * len(TASKS) and all(r["total"] == 3.0 and r["task_success"] for r in oracle)
    # the summary holds the eval's metrics over the scored sessions
    assert summary["metrics"]["overall"]["n"] == len(lines)
    assert summary["metrics"]["overall"]["TCR"] == pytest.approx(sum(r["task_success"] for r in records) / len(lines))


def test_strict_fails_a_tampered_tool_result_with_a_diff_and_lenient_reports_it_as_drift(env, tmp_path):
    task = next(t for t in TASKS if [g.name for g in t.gold_calls] == ["list_accounts", "get_holdings"])
    clean, reward, _ = log_session(env, "oracle", task, "chat", 1, START)
    tampered = orjson.loads(orjson.dumps(clean))
    tool = next(m for m in tampered["messages"] if m["role"] == "tool" and m["name"] == "get_holdings")
    result = orjson.loads(tool["content"])
    original = result["holdings"][0]["market_value"]
    result["holdings"][0]["market_value"] = original + 1000
    del result["as_of"]
    tool["content"] = orjson.dumps(result).decode()
    react, _, _ = log_session(env, "oracle", task, "react", 2, START + dt.timedelta(hours=1))
    react["steps"][0]["observation"]["client_id"] = "C999999"

    strict, records = ingest_and_score(tmp_path / "strict", [tampered, react])
    assert strict["status"] == {"mismatch": 2} and strict["metrics"]["overall"]["n"] == 0  # failed: not in the metrics
    diff = {(d["tool"], d["path"]): (d["recorded"], d["sandbox"]) for d in records[0]["diff"]}
    assert diff == {("get_holdings", "holdings[0].market_value"): (original + 1000, original),
                    ("get_holdings", "as_of"): ("<absent>", "2025-06-30")}
    assert records[0]["differences"] == 2 and records[0]["diff"][0]["turn"] == 1
    assert [(d["tool"], d["path"], d["recorded"]) for d in records[1]["diff"]] == \
        [("list_accounts", "client_id", "C999999")]

    lenient, records = ingest_and_score(tmp_path / "lenient", [tampered, react], "lenient")
    assert lenient["status"] == {"scored": 2} and lenient["metrics"]["overall"]["n"] == 2
    assert lenient["drift"] == {"get_holdings": {"as_of": 1, "holdings[].market_value": 1},
                                "list_accounts": {"client_id": 1}}
    assert records[0]["reward"] == reward  # still scored, on the sandbox's results
    # and an untampered log passes strict mode
    passed, _ = ingest_and_score(tmp_path / "clean", [clean])
    assert passed["status"] == {"scored": 1}


def test_json_diff_tells_types_apart_and_lists_missing_keys_and_items():
    assert json_diff({"a": 1, "b": [1, 2]}, {"a": 1.0, "b": [1, 2]}) == []
    assert json_diff({"a": True}, {"a": 1}) == [{"path": "a", "recorded": True, "sandbox": 1}]
    assert json_diff([1], [1, 2]) == [{"path": "[1]", "recorded": "<absent>", "sandbox": 2}]
    assert json_diff("x", {"y": 1}) == [{"path": "$", "recorded": "x", "sandbox": {"y": 1}}]


def test_a_session_without_a_known_task_is_checked_for_compliance_only_and_left_out_of_the_metrics(env, tmp_path):
    task = TASKS[0]
    no_task, _, _ = log_session(env, "non_compliant", task, "chat", 1, START, metadata={"user_id": "U1"})
    unknown, _, _ = log_session(env, "oracle", task, "react", 2, START + dt.timedelta(hours=1),
                                metadata={"task_id": "prod-ticket-4711"})
    summary, records = ingest_and_score(tmp_path, [no_task, unknown])
    assert summary["status"] == {"no_task": 1, "unknown_task": 1} and summary["metrics"]["overall"]["n"] == 0
    assert all("reward" not in r and "total" not in r for r in records)
    flagged, clean = (r["compliance_only"] for r in records)
    assert flagged["answered"] and {v["rule"] for v in flagged["violations"]} & {"guaranteed_return",
                                                                                 "stock_recommendation"}
    assert clean["violations"] == [] and clean["format_errors"] == [[], []]
    hard = read_jsonl(tmp_path / "out" / HARD_CASES)
    assert [(h["session_id"], h["reasons"]) for h in hard] == [("t-0001", ["compliance_alert"])]


def test_a_session_recorded_on_another_tool_version_replays_on_that_version(tmp_path):
    task = next(t for t in TASKS if "get_holdings" in {g.name for g in t.gold_calls})
    pinned = dataclasses.replace(task, tool_versions={"get_holdings": "2"})
    with FinAdvisorEnv(tasks=[pinned]) as v2_env:
        line, reward, _ = log_session(v2_env, "oracle", pinned, "react", 1, START)
    step = next(s for s in line["steps"] if s.get("action", {}).get("name") == "get_holdings")
    assert step["tool_version"] == "2"
    summary, records = ingest_and_score(tmp_path / "v2", [line])  # the suite's task is unpinned
    assert summary["status"] == {"scored": 1} and records[0]["reward"] == reward
    assert records[0]["unpinned_versions"] == {}
    from envs.env import tool_schemas
    from envs.replay.export import export_logs

    export_logs(tmp_path / "v2" / "out", "sft", tasks=HANDWRITTEN)  # its row: the schemas of the versions it ran on
    (row,) = read_jsonl(tmp_path / "v2" / "out" / "export" / "sft.jsonl")
    assert row["tools"] == tool_schemas((("get_holdings", "2"),)) != tool_schemas()
    # the same log claiming version 1 differs from what version 1 answers: pins matter
    step["tool_version"] = "1"
    summary, records = ingest_and_score(tmp_path / "v1", [line])
    assert summary["status"] == {"mismatch": 1} and {d["tool"] for d in records[0]["diff"]} == {"get_holdings"}
    # a version the sandbox does not serve replays on the task's, and says so
    step["tool_version"] = "7"
    _, records = ingest_and_score(tmp_path / "v7", [line], "lenient")
    assert records[0]["unpinned_versions"] == {"get_holdings": "7"}


def test_hard_cases_flag_tool_failures_long_sessions_requeries_and_compliance_alerts_in_a_window(env, tmp_path):
    from envs.tasks import SUITE

    long_task = next(t for t in load_tasks(SUITE) if len(t.gold_calls) >= 3 and not any(
        env.tools[g.name].writes for g in t.gold_calls))  # redundant_calls doubles them: more than 4 rounds
    suite = [*TASKS, long_task]
    save_tasks(suite, tmp_path / "tasks.jsonl")
    env = FinAdvisorEnv(tasks=suite)
    lines, clock = [], START
    for n, (agent, task, user, gap) in enumerate([
            ("oracle", TASKS[0], "U1", 600), ("noisy_params", TASKS[0], "U2", 600),
            ("redundant_calls", long_task, "U3", 600), ("wrong_tool", TASKS[2], "U4", 600),
            ("oracle", TASKS[2], "U4", 12),  # U4 asks again 12 s after the wrong answer
            ("non_compliant", TASKS[3], "U5", 600), ("oracle", TASKS[3], "U5", 45)]):  # 45 s: not a re-query
        line, _, clock = log_session(env, agent, task, "chat", n, clock + dt.timedelta(seconds=gap), user=user)
        lines.append(line)
    env.close()
    summary, records = ingest_and_score(tmp_path, lines, tasks=tmp_path / "tasks.jsonl")
    hard = {h["session_id"]: h for h in read_jsonl(tmp_path / "out" / HARD_CASES)}
    assert {k: v["reasons"] for k, v in hard.items()} == {
        "t-0001": ["tool_failure"], "t-0002": ["many_rounds"], "t-0003": ["user_requery"],
        "t-0005": ["compliance_alert"]}
    assert hard["t-0002"]["details"]["many_rounds"]["rounds"] == 2 * len(long_task.gold_calls)
    assert hard["t-0003"]["details"]["user_requery"]["session_id"] == "t-0004"
    assert 0 < hard["t-0003"]["details"]["user_requery"]["after_s"] < 30
    assert summary["hard_case_reasons"] == {"compliance_alert": 1, "many_rounds": 1, "tool_failure": 1,
                                            "user_requery": 1}
    assert set(summary["hard_case_reasons"]) == set(FLAGS)
    # --since: only sessions started in the window are scored and flagged; the re-query of a
    # session in the window is found even when it is the last one there
    since = dt.datetime.fromisoformat(records[3]["started_at"].replace("Z", "+00:00"))
    until = dt.datetime.fromisoformat(records[4]["started_at"].replace("Z", "+00:00"))
    window = score_logs(tmp_path / "out", "strict", tasks=tmp_path / "tasks.jsonl", since=since, until=until)
    assert window["sessions"] == 1 and window["window"]["since"] == since.isoformat()
    assert [h["session_id"] for h in read_jsonl(tmp_path / "out" / HARD_CASES)] == ["t-0003"]


@pytest.mark.determinism
def test_the_sample_logs_score_with_drift_nowhere(tmp_path):
    logs = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
    ingest_logs([logs], tmp_path)
    summary = score_logs(tmp_path, "strict")
    assert summary["status"] == {"no_task": 2, "scored": 18} and summary["sessions_with_drift"] == 0
    assert summary["hard_cases"] > 0 and summary["metrics"]["overall"]["n"] == 18
    tasks = tmp_path / "tasks.jsonl"
    save_tasks(TASKS, tasks)  # another suite: none of the logs' task ids is in it
    other = score_logs(tmp_path, "strict", tasks=tasks, check_replica=False)
    assert other["status"] == {"no_task": 2, "unknown_task": 18}
