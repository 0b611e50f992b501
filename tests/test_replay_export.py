"""Exporting scored production logs: verified tasks, SFT rows, DPO pairs, reward thresholds,
and the ``advisorgym replay`` commands end to end."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from envs import FinAdvisorEnv
from envs.cli import app
from envs.replay import score_trajectory
from envs.replay.export import THRESHOLDS, export_features, export_logs
from envs.replay.ingest import ingest_logs, load_sessions
from envs.replay.logformat import decoded, turn_results
from envs.replay.rescore import SCORES, score_logs
from envs.tasks import HANDWRITTEN, load_tasks
from mock_apis.atomic import IncompleteOutput
from tests.conftest import needs_train_extra

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Path:
    """The sample logs, ingested and scored (strict)."""
    out = tmp_path_factory.mktemp("scored")
    ingest_logs([LOGS], out)
    score_logs(out, "strict")
    return out


@pytest.fixture()
def workdir(scored, tmp_path) -> Path:
    shutil.copytree(scored, tmp_path / "d")
    return tmp_path / "d"


def test_exported_tasks_are_the_successful_sessions_and_score_3_with_their_gold(workdir):
    records = read_jsonl(workdir / SCORES)
    sessions = {s["session_id"]: s for s in load_sessions(workdir)}
    summary = export_logs(workdir, "tasks")
    tasks = load_tasks(workdir / "export" / "tasks.jsonl")
    successful = {r["task_id"] for r in records if r.get("task_success") and r["total"] == 3.0}
    assert summary["written"] == len(tasks) == len(successful) > 0  # one task per source task
    env = FinAdvisorEnv(tasks=workdir / "export" / "tasks.jsonl")
    for task in tasks:
        session = sessions[task.task_id.removeprefix("log-")]
        assert task.query == session["query"] and task.gold_response == session["turns"][-1]["response"]
        assert [g.name for g in task.gold_calls] == [c["name"] for t in session["turns"] for c in t["calls"]]
        assert score_trajectory(env, task, task.gold_actions()).reward["total"] == 3.0
    env.close()
    assert len(summary["left_out"]) == sum(1 for r in records if r.get("task_success") and r["total"] == 3.0) \
        - len(tasks)


def test_a_session_whose_trajectory_does_not_score_3_is_not_exported_as_a_task(workdir):
    records = read_jsonl(workdir / SCORES)
    successful = {r["task_id"] for r in records if r.get("task_success")}
    # claim success for a failed session of another task: export re-scores it and leaves it out
    fake = next(r for r in records if r["status"] == "scored" and not r["task_success"]
                and r["task_id"] not in successful and r["ended_by"] == "response")
    fake.update(task_success=True, total=3.0)
    (workdir / SCORES).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    with pytest.raises(IncompleteOutput, match="scores.jsonl: does not match score_summary.json"):
        export_logs(workdir, "tasks")  # the edit is caught by the score run's marker first
    summary = export_logs(workdir, "tasks", allow_partial=True)
    assert "scores.jsonl: does not match" in summary["partial"][0]
    assert f"log-{fake['session_id']}" not in {t.task_id for t in load_tasks(workdir / "export" / "tasks.jsonl")}
    left = {d["session_id"]: d["reason"] for d in summary["left_out"]}
    assert "re-scores" in left[fake["session_id"]] and fake["task_id"] in left[fake["session_id"]]


def test_sft_rows_carry_the_sandbox_results_and_the_tools_and_thresholds_report_what_they_keep(workdir):
    records = {r["session_id"]: r for r in read_jsonl(workdir / SCORES)}
    scored = [r for r in records.values() if r["status"] == "scored"]
    summary = export_logs(workdir, "sft", min_reward=2.0)
    rows = read_jsonl(workdir / "export" / "sft.jsonl")
    assert summary["kept_by_threshold"] == {f">={t:g}": sum(1 for r in scored if r["total"] >= t)
                                            for t in sorted({*THRESHOLDS, 2.0})}
    assert len(rows) == summary["written"] == summary["kept_by_threshold"][">=2"] > 0
    counts = list(summary["kept_by_threshold"].values())
    assert counts == sorted(counts, reverse=True)
    sessions = {s["session_id"]: s for s in load_sessions(workdir)}
    env = FinAdvisorEnv()
    for row in rows:
        assert row["tools"] == env.tool_schemas and row["reward"] >= 2.0
        messages = row["messages"]
        assert [m["role"] for m in messages[:2]] == ["system", "user"] and messages[-1]["role"] == "assistant"
        assert messages[0]["content"] == env.system_prompt_for_tools_api
        # an unusable turn is followed by the env's error, as the agent saw it: never two assistant turns in a row
        assert not any(a["role"] == b["role"] == "assistant" for a, b in zip(messages, messages[1:]))
        session, record = sessions[row["session_id"]], records[row["session_id"]]
        sandbox = [r for t, obs in zip(session["turns"], record["observations"]) if t["calls"]
                   for r in turn_results(t, obs)]
        assert [orjson.loads(m["content"]) for m in messages if m["role"] == "tool"] == sandbox
        calls = [call for m in messages for call in m.get("tool_calls") or ()]
        assert [call["function"]["arguments"] for call in calls] == [
            decoded(c["arguments"]) for t in session["turns"] for c in t["calls"]]  # objects, not JSON text
        assert all(isinstance(call["function"]["arguments"], dict) for call in calls)
    env.close()
    assert export_logs(workdir, "sft")["written"] == summary["kept_by_threshold"][">=3"]  # the default: 3.0


def test_dpo_pairs_share_a_query_and_prefer_the_compliant_or_correct_session(workdir):
    records = {r["session_id"]: r for r in read_jsonl(workdir / SCORES)}
    summary = export_logs(workdir, "dpo", min_reward=3.0)
    rows = read_jsonl(workdir / "export" / "dpo.jsonl")
    assert len(rows) == summary["written"] > 0 and summary["pairs"]["compliance"] >= 1
    for row in rows:
        good, bad = records[row["chosen_session"]], records[row["rejected_session"]]
        assert good["task_id"] == bad["task_id"] == row["task_id"]
        assert good["task_success"] and not good["violated"] and good["total"] >= 3.0
        assert bad["violated"] if row["pair"] == "compliance" else not bad["task_success"]
        assert [m["role"] for m in row["prompt"]] == ["system", "user"]
        assert row["chosen"][-1]["role"] == row["rejected"][-1]["role"] == "assistant"
        assert row["tools"] and all(t["type"] == "function" for t in row["tools"]) and row["chosen"] != row["rejected"]


@pytest.mark.train
def test_exported_rows_load_with_datasets_and_render_through_a_chat_template_with_tools(workdir):
    needs_train_extra()
    from datasets import load_dataset

    from trainer.tiny import build_tokenizer

    export_logs(workdir, "sft", min_reward=0.0)
    export_logs(workdir, "dpo")
    sft, dpo = (load_dataset("json", data_files=str(workdir / "export" / f"{to}.jsonl"), features=export_features(to),
                             split="train") for to in ("sft", "dpo"))
    for rows, to in ((sft, "sft"), (dpo, "dpo")):  # every message and tool schema round-trips unchanged
        assert list(rows) == read_jsonl(workdir / "export" / f"{to}.jsonl") and len(rows) > 0
    tokenizer = build_tokenizer(["advisor tools"], vocab_size=300)  # built locally: nothing from a hub
    for row in sft:
        text = tokenizer.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
        tools_block = text[text.index("<tools>\n"):text.index("\n</tools>")]
        assert all(f'"name": "{t["function"]["name"]}"' in tools_block for t in row["tools"])
        for message in row["messages"]:
            for call in message.get("tool_calls") or ():
                assert f'{{"name": "{call["function"]["name"]}", "arguments": ' in text
            if message["role"] == "tool":
                assert f"<tool_response>\n{message['content']}\n</tool_response>" in text
        assert text.rstrip().endswith(f"{row['messages'][-1]['content']}<|im_end|>")


def run(*args: str):
    return CliRunner().invoke(app, ["replay", *args])


def test_the_replay_commands_end_to_end_and_their_usage_errors(tmp_path):
    logs, out = tmp_path / "logs", tmp_path / "ingested"
    result = run("simulate", "--out", str(logs), "--sessions", "6", "--agents", "oracle,non_compliant",
                 "--faults", "truncated,duplicate", "--task-pool", "2")
    assert result.exit_code == 0, result.output
    result = run("ingest", str(logs), "--out", str(out))
    assert result.exit_code == 0 and "rejected (truncated_line" in result.output, result.output
    result = run("score", str(out), "--lenient")
    assert result.exit_code == 0 and "hard cases" in result.output, result.output
    for target in ("tasks", "sft", "dpo"):
        result = run("export", str(out), "--to", target)
        assert result.exit_code == 0 and (out / "export" / f"{target}.jsonl").is_file(), result.output
    for args, message in [
        (("simulate", "--out", str(tmp_path / "x"), "--agents", "oracle,gpt"), "unknown agent(s) gpt"),
        (("simulate", "--out", str(tmp_path / "x"), "--faults", "flood"), "unknown fault(s) flood"),
        (("ingest", str(tmp_path / "missing.jsonl"), "--out", str(out)), "log file(s) not found"),
        (("ingest", str(tmp_path), "--out", str(out)), "no *.jsonl files"),
        (("ingest", str(logs), "--out", str(out), "--key-file", str(tmp_path / "none.key")), "key file not found"),
        (("ingest", str(logs), "--out", str(out), "--names-from", "sqlite://"), "only applies with --key-file"),
        (("score", str(tmp_path)), "run `advisorgym replay ingest"),
        (("score", str(out), "--since", "last week"), "--since must be an ISO-8601"),
        (("score", str(out), "--replica", str(tmp_path / "none.sqlite")), "replica not found"),
        (("export", str(out), "--to", "csv"), "--to must be one of tasks, sft, dpo"),
    ]:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (args, result.output)
    fresh = tmp_path / "fresh"
    shutil.copytree(out, fresh)
    (fresh / SCORES).unlink()
    result = run("export", str(fresh), "--to", "sft")
    assert result.exit_code == 2 and "run `advisorgym replay score" in result.output
    result = run("export", str(out), "--to", "sft", "--tasks", str(HANDWRITTEN), "--no-check-replica")
    assert result.exit_code == 2 and "pass the --tasks the score run used" in result.output, result.output
