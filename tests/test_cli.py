"""The command line as a new user meets it: one-line errors with exit code 2, help that fits 80
columns, transcripts (`show`), side-by-side reports (`compare`), and the README's Python snippet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envs.cli import app
from envs.tasks import HANDWRITTEN

ROOT = Path(__file__).resolve().parents[1]
RUNNER = CliRunner()


def run(*args: str):
    return RUNNER.invoke(app, list(args), env={"COLUMNS": "80"})


def _one_line_error(res, fragment: str) -> None:
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(("args", "fragment"), [
    (["eval", "--tasks", "no/such/suite.jsonl"], "task suite not found"),
    (["eval", "--tasks", "fixtures"], "not a directory"),
    (["eval", "--agent", "hf", "--model-path", "no/such/model"], "local model directory"),
    (["eval", "--agent", "nope"], "unknown agent 'nope'"),
    (["eval", "--backend", "http"], "needs --url"),
    (["eval", "--replica", "no/such.sqlite"], "replica not found"),
    (["eval", "--reward-version", "toolrla-9"], "reward version must be one of"),
    (["show", "no/such/dir"], "no episodes file"),
    (["compare", "no/such/dir"], "no metrics.json"),
    (["tasks", "generate", "--out", "x.jsonl", "--exclude", "no/such.jsonl"], "task suite not found"),
])
def test_cli_usage_errors_are_one_clear_line_with_exit_code_2(tmp_path, args, fragment):
    res = run(*[a if not a.startswith("no/") else str(tmp_path / a) for a in args])
    _one_line_error(res, fragment)


def test_an_empty_suite_is_an_error_not_an_empty_success(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    _one_line_error(run("eval", "--tasks", str(empty), "--out", str(tmp_path / "out"), "--no-progress"), "no tasks")


@pytest.mark.parametrize("command", [[], ["eval"], ["serve"], ["show"], ["compare"], ["replica"],
                                     ["replica", "generate"], ["tasks"], ["tasks", "generate"], ["tasks", "export"],
                                     ["train"], ["train", "grpo"], ["train", "demo"], ["contract"], ["drift"],
                                     ["drift", "check"], ["audit"], ["audit", "verify"], ["compliance-bench"],
                                     ["reward-bench"]])
def test_help_fits_80_columns_and_is_never_cut(command):
    res = run(*command, "--help")
    assert res.exit_code == 0
    for line in res.output.splitlines():
        assert len(line) <= 80, line
        assert "…" not in line and not re.search(r"\w\.\.\.$", line), line


def test_group_help_says_what_exists():
    assert "replica generate" in run("replica", "--help").output
    assert "tasks generate" in run("tasks", "--help").output


def test_transcripts_show_and_compare(tmp_path):
    for agent, chars in (("oracle", "20000"), ("tool_spam", "300")):
        res = run("eval", "--agent", agent, "--tasks", str(HANDWRITTEN), "--out", str(tmp_path / agent),
                  "--no-progress", "--transcript-chars", chars)
        assert res.exit_code == 0, res.output
        assert "episodes with errors: 0" in res.output
    record = json.loads((tmp_path / "tool_spam" / "episodes.jsonl").read_text().splitlines()[0])
    roles = [e["role"] for e in record["transcript"]]
    assert roles[0] == "env" and roles[1::2] == ["agent"] * record["steps"]
    assert any("truncated" in e["text"] for e in record["transcript"])  # the spam turn is cut at 300 chars
    assert all(len(e["text"]) < 400 for e in record["transcript"])

    listing = run("show", str(tmp_path / "oracle"))
    assert listing.exit_code == 0 and "hw-L2-01" in listing.output
    shown = run("show", str(tmp_path / "oracle" / "episodes.jsonl"), "--task", "hw-L2-01")
    assert shown.exit_code == 0
    assert "R = 3.0" in shown.output and "list_accounts" in shown.output and "agent:" in shown.output
    # The query comes before the turns and the system prompt is one line; --system prints it whole.
    lines = shown.output.splitlines()
    assert lines[3].startswith("[0] system: ") and "chars" in lines[3] and lines[4].startswith("[0] user: ")
    assert len(lines) < 30 and '"get_client_overview"' not in shown.output
    whole = run("show", str(tmp_path / "oracle"), "--task", "hw-L2-01", "--system", "--width", "200").output
    assert "get_client_overview" in whole and len(whole.splitlines()) > len(lines)
    _one_line_error(run("show", str(tmp_path / "oracle"), "--task", "nope"), "is not in")

    res = run("compare", str(tmp_path / "oracle"), str(tmp_path / "tool_spam"), "--out", str(tmp_path / "cmp"))
    assert res.exit_code == 0, res.output
    table = (tmp_path / "cmp" / "compare.md").read_text()
    assert "| oracle |" in table and "| tool_spam |" in table
    assert (tmp_path / "cmp" / "compare.png").read_bytes().startswith(b"\x89PNG")
    from envs.evaluation.report import compare_table

    spam = json.loads((tmp_path / "tool_spam" / "metrics.json").read_text())
    spam["overall"]["CRR"] = None  # as for a suite without refusal tasks
    row = compare_table([spam]).splitlines()[-1]
    assert row.split(" | ")[6] == "n/a"


def test_the_readme_python_snippet_runs_as_written():
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"## Quick start\n\n```python\n(.*?)```", readme, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    assert namespace["terminated"] and namespace["info"]["reward"]["version"] == "toolrla-1.2.0"


def test_an_unknown_task_id_names_the_loaded_suite():
    import gymnasium as gym

    import envs  # noqa: F401

    env = gym.make("advisorgym/FinAdvisor-v0", tasks=HANDWRITTEN)
    with pytest.raises(KeyError, match=r"handwritten\.jsonl, 12 tasks\) has e\.g\. hw-"):
        env.reset(options={"task_id": "s0-L9-0001"})
    env.close()


def test_eval_on_ray_without_the_ray_extra_is_one_line(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    monkeypatch.delitem(sys.modules, "envs.integrations.ray", raising=False)
    res = CliRunner().invoke(app, ["eval", "--ray", "auto", "--tasks", str(HANDWRITTEN), "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "error: the Ray integration needs the ray extra: pip install -e '.[ray]'" in res.output
    assert not (tmp_path / "episodes.jsonl").exists()
