"""``advisorgym replay``: production logs replayed as episodes (simulate, ingest, score, export).

Gathered into the top ``advisorgym`` command by ``advisorgym.cli``. Usage errors print one line
and exit 2, as the other commands do (``mock_apis.cli.usage_error``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from envs.replay.export import export_logs
from envs.replay.ingest import SESSIONS, ingest_logs, log_files
from envs.replay.rescore import score_logs
from envs.replay.simulate import FAULTS, simulate_logs
from mock_apis.cli import PLAIN_HELP, usage_error
from mock_apis.domain import DEFAULT_DOMAIN, UnknownDomain

replay_app = typer.Typer(help="Production logs: simulate them, ingest them (every line accounted for), replay and "
                              "re-score them in the sandbox, export them as tasks, SFT rows or DPO pairs.",
                         **PLAIN_HELP)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _time(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise usage_error(f"{option} must be an ISO-8601 date or time, e.g. 2026-11-23 or 2026-11-23T08:00:00Z; "
                     f"got {value!r}") from None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.timezone.utc)


def _check_file(path: Path | None, what: str) -> None:
    if path is not None and not path.is_file():
        raise usage_error(f"{what} not found: {path}")


def _check_ingested(directory: Path) -> None:
    if not (directory / SESSIONS).is_file():
        raise usage_error(f"no {SESSIONS} in {directory}: run `advisorgym replay ingest LOGS... --out {directory}` first")


@replay_app.command("simulate", short_help="Write realistic production logs (both formats) from scripted agents.")
def simulate(
    out: Path = typer.Option(..., "--out", help="Folder for chat.jsonl, react.jsonl and manifest.json."),
    agents: str = typer.Option("oracle,wrong_tool,hallucinated_tool,noisy_params,redundant_calls,non_compliant,"
                               "malformed_json", "--agents", help="Comma-separated scripted agents, taking turns."),
    sessions: int = typer.Option(40, "--sessions", min=1, help="Sessions to simulate."),
    seed: int = typer.Option(0, "--seed", help="The same seed and options give byte-identical logs."),
    faults: str = typer.Option("", "--faults", help="Comma-separated faults to inject, or 'all': truncated, "
                                                    "bad_json, unknown_tool, duplicate, encoding, renamed_field, "
                                                    "missing_field, no_task."),
    tasks: Path = typer.Option(None, "--tasks", help="Task suite (JSONL); default: the frozen 500-task suite."),
    task_pool: int = typer.Option(None, "--task-pool", min=1, help="Draw the tasks from this many of the suite's, "
                                                                   "so that queries repeat (DPO pairs need that)."),
) -> None:
    """Simulate production logs: scripted agents through the env, with re-queries and faults."""
    _check_file(tasks, "task suite")
    chosen = list(FAULTS) if faults.strip() == "all" else _split(faults)
    try:
        manifest = simulate_logs(out, _split(agents), sessions, seed=seed, faults=chosen, tasks=tasks,
                                 task_pool=task_pool)
    except ValueError as err:
        raise usage_error(str(err)) from None
    files = ", ".join(f"{out / n} ({f['lines']} lines)" for n, f in manifest["files"].items())
    typer.echo(f"wrote {files}; {len(manifest['faults'])} fault(s) listed in {out / 'manifest.json'}")


@replay_app.command("ingest", short_help="Ingest JSONL logs; every line ingested or rejected with a reason.")
def ingest(
    logs: list[Path] = typer.Argument(..., metavar="LOGS...", help="Log files (JSONL), or folders of *.jsonl."),
    out: Path = typer.Option(..., "--out", help="Folder for sessions.jsonl, rejects.jsonl and summary.json."),
    key_file: Path = typer.Option(None, "--key-file", help="De-identify with this key, as `replica build "
                                                           "--key-file` does, so ids and pseudonyms match."),
    names_from: str = typer.Option(None, "--names-from", help="With --key-file: the source database's SQLAlchemy "
                                                              "URL (as `replica build --source`); its people's "
                                                              "names are scrubbed wherever the logs mention them."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help="The back office whose tools the logs call "
                                                                "(a package of mock_apis/domains)."),
) -> None:
    """Ingest production logs (chat or ReAct JSONL): sessions out, rejects with reasons, a summary."""
    missing = [str(p) for p in logs if not p.exists()]
    if missing:
        raise usage_error(f"log file(s) not found: {', '.join(missing)}")
    if not log_files(logs):
        raise usage_error(f"no *.jsonl files in {', '.join(map(str, logs))}")
    try:
        summary = ingest_logs(logs, out, key_file=key_file, names_from=names_from, domain=domain)
    except UnknownDomain as err:
        raise usage_error(str(err)) from None
    except ValueError as err:  # a bad key file (DeidKeyError says how to make one) or database URL
        raise usage_error(str(err)) from None
    reasons = ", ".join(f"{r} {n}" for r, n in summary["reasons"].items()) or "none"
    typer.echo(f"{summary['total']} lines: {summary['ingested']} sessions ingested, {summary['rejected']} rejected "
               f"({reasons}); wrote {out}")


@replay_app.command("score", short_help="Replay each session in the sandbox and re-score it.")
def score(
    directory: Path = typer.Argument(..., metavar="DIR", help="An ingest output folder."),
    strict: bool = typer.Option(True, "--strict/--lenient", help="strict: a recorded tool result that differs "
                                                                  "from the sandbox's fails the session; lenient: "
                                                                  "reported as drift, still scored."),
    replica: Path = typer.Option(None, "--replica", help="SQLite replica (default: the suite's)."),
    tasks: Path = typer.Option(None, "--tasks", help="Task suite the sessions' task ids refer to (default: the "
                                                     "frozen suite)."),
    check_replica: bool = typer.Option(True, "--check-replica/--no-check-replica",
                                       help="Refuse a replica other than the one the suite was written for."),
    since: str = typer.Option(None, "--since", help="Only sessions started at or after this time (ISO-8601)."),
    until: str = typer.Option(None, "--until", help="Only sessions started before this time (ISO-8601)."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Score an ingest that did not finish; "
                                                                      "score_summary.json says so (partial)."),
) -> None:
    """Replay and re-score ingested sessions; write scores.jsonl, score_summary.json, hard_cases.jsonl."""
    _check_ingested(directory)
    _check_file(replica, "replica")
    _check_file(tasks, "task suite")
    window = _time(since, "--since"), _time(until, "--until")
    try:
        summary = score_logs(directory, "strict" if strict else "lenient", tasks=tasks, replica=replica,
                             check_replica=check_replica, since=window[0], until=window[1],
                             allow_partial=allow_partial)
    except ValueError as err:
        raise usage_error(str(err)) from None
    overall = summary["metrics"]["overall"]
    status = ", ".join(f"{k} {n}" for k, n in summary["status"].items()) or "no sessions"
    tcr = f"{overall['TCR']:.1%}" if overall["TCR"] is not None else "-"
    typer.echo(f"{summary['sessions']} sessions ({status}); TCR {tcr}; {summary['sessions_with_drift']} with "
               f"differing tool results; {summary['hard_cases']} hard cases; wrote {directory}"
               + (f"; PARTIAL: {summary['partial']}" if summary["partial"] else ""))


@replay_app.command("export", short_help="Export scored sessions as tasks, SFT rows or DPO pairs.")
def export(
    directory: Path = typer.Argument(..., metavar="DIR", help="A scored ingest folder."),
    to: str = typer.Option(..., "--to", help="tasks, sft or dpo."),
    min_reward: float = typer.Option(None, "--min-reward", help="Keep sessions at or above this reward "
                                                                "(default 3.0; tasks always need 3.0)."),
    out: Path = typer.Option(None, "--out", help="Output folder (default: DIR/export)."),
    replica: Path = typer.Option(None, "--replica", help="SQLite replica (default: the suite's)."),
    tasks: Path = typer.Option(None, "--tasks", help="Task suite the sessions' task ids refer to."),
    check_replica: bool = typer.Option(True, "--check-replica/--no-check-replica",
                                       help="Refuse a replica other than the one the suite was written for."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Export an ingest or score run that did not "
                                                                      "finish; export_summary.json says so."),
) -> None:
    """Export scored sessions: a verified task suite, SFT rows or DPO pairs; counts per reward threshold."""
    _check_ingested(directory)
    _check_file(replica, "replica")
    _check_file(tasks, "task suite")
    try:
        summary = export_logs(directory, to, out, min_reward=min_reward, tasks=tasks, replica=replica,
                              check_replica=check_replica, allow_partial=allow_partial)
    except ValueError as err:  # ExportError included
        raise usage_error(str(err)) from None
    kept = ", ".join(f"{k} {n}" for k, n in summary["kept_by_threshold"].items())
    typer.echo(f"wrote {summary['file']} ({summary['written']} rows); sessions kept per reward threshold: {kept}"
               + (f"; PARTIAL: {' / '.join(summary['partial'])}" if summary["partial"] else ""))
