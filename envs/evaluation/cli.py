"""The evaluation commands of ``advisorgym``: ``eval``, ``show``, ``view``, ``compare``, ``tasks``
(generate, export), ``compliance-bench`` and ``reward-bench``. The top command (``advisorgym.cli``)
gathers them."""

from __future__ import annotations

import errno
import json
import sqlite3
import time
from contextlib import nullcontext
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.progress import Progress

from envs.config import PROMPT_MODES, ConfigError
from envs.contract_check import ContractDrift
from envs.env import FinAdvisorEnv
from envs.evaluation import compliance_bench as compliance_benchmark
from envs.evaluation import reward_bench as reward_benchmark
from envs.evaluation.config import COMMAND_LINE_KEYS, from_command_line
from envs.evaluation.outputs import EPISODES, METRICS, EvalConfigError, EvalLocked, load_episodes
from envs.evaluation.report import compare_table, format_transcript, plot_compare, summarise
from envs.evaluation.run import EvalAborted, run_eval
from envs.evaluation.training_rows import dataset_card, grpo_rows, sft_rows, write_jsonl
from envs.evaluation.view import serve as serve_site
from envs.evaluation.view import write_site
from envs.reward import VERSIONS
from envs.reward.compliance import calibration as reliability
from envs.tasks import load_tasks, save_tasks
from envs.tasks.generator import generate_tasks
from mock_apis.cli import DOMAIN_HELP, PLAIN_HELP, named_domain, usage_error
from mock_apis.domain import DEFAULT_DOMAIN
from mock_apis.replica_cache import default_replica

app = typer.Typer(help="Evaluation: run agents over task suites, read and compare the runs, make suites.",
                  **PLAIN_HELP)


def _check_tasks_file(tasks: Path | None) -> None:
    if tasks is None:
        return
    if not tasks.exists():
        raise usage_error(f"task suite not found: {tasks} (pass a JSONL file; omit --tasks for the frozen suite)")
    if not tasks.is_file():
        raise usage_error(f"--tasks must be a JSONL file, not a directory: {tasks}")


@app.command("eval", short_help="Run an agent over a task suite; metrics and report.")
def eval_command(
    ctx: typer.Context,
    config_file: Path = typer.Option(None, "--config", help="An eval configuration (YAML: an EvalConfig, with "
                                                            "the env's options under `env:`); options given "
                                                            "here override it."),
    show_config: bool = typer.Option(False, "--show-config", help="Print the configuration this command would "
                                                                  "run (JSON, secrets masked) and exit."),
    agent: str = typer.Option("oracle", "--agent", help="oracle; baselines wrong_tool, hallucinated_tool, "
                                                       "noisy_params, redundant_calls, non_compliant, malformed_json; "
                                                       "hacks no_answer, skip_tools, refuse_all, tool_spam, "
                                                       "unrequested_write; openai; hf."),
    tasks: Path = typer.Option(None, "--tasks",
                               help="Task suite (JSONL); default: the frozen 500-task suite fixtures/tasks/suite.jsonl."),
    out: Path = typer.Option(Path("report"), "--out", help="Output directory (resumed if it holds the same run)."),
    base_url: str = typer.Option(None, "--base-url", help="openai: the endpoint, e.g. http://127.0.0.1:8000/v1."),
    model: str = typer.Option(None, "--model", help="openai: the model name to request."),
    api_key: str = typer.Option(None, "--api-key", envvar="OPENAI_API_KEY", show_envvar=True,
                                help="openai: bearer key (prefer the environment variable)."),
    temperature: float = typer.Option(0.0, "--temperature", help="openai: sampling temperature."),
    request_timeout: float = typer.Option(60.0, "--request-timeout", help="openai: seconds per request."),
    model_path: Path = typer.Option(None, "--model-path", help="hf: a local Hugging Face model directory."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", help="hf: tokens generated per turn."),
    device: str = typer.Option("cpu", "--device", help="hf: torch device."),
    grounded_numbers: bool = typer.Option(False, "--grounded-numbers/--free-numbers",
                                          help="hf: write a number or entity id only as the conversation shows it "
                                               "(grounded decoding; docs/eval.md)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N tasks of the suite."),
    backend: str = typer.Option("inprocess", "--backend", help="inprocess or http."),
    url: str = typer.Option(None, "--url", help="http backend: the advisorgym service URL."),
    token: str = typer.Option(None, "--token", envvar="ADVISORGYM_API_TOKEN", show_envvar=True,
                              help="http backend: the service's bearer token."),
    composition: str = typer.Option("multiplicative", "--composition",
                                    help="Reward composition: multiplicative, additive, binary or iou."),
    max_steps: int = typer.Option(12, "--max-steps", min=1, help="Agent turns before truncation."),
    seed: int = typer.Option(0, "--seed", help="Episode i (suite order) is reset with seed + i."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard what --out holds and start afresh."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    replica: Path = typer.Option(None, "--replica", help="inprocess backend: a SQLite replica (default: the "
                                                         "one the suite was written for, generated on first use)."),
    check_replica: bool = typer.Option(True, "--check-replica/--no-check-replica",
                                       help="Refuse a replica other than the one the suite was written for."),
    reward_version: str = typer.Option(None, "--reward-version", help="toolrla-1.1.0 (default) or "
                                                                      "toolrla-1.0.0 (the paper's, for ablations)."),
    transcript_chars: int = typer.Option(20_000, "--transcript-chars", min=0,
                                         help="Cut each transcript entry past this many characters (0: never)."),
    audit_log: Path = typer.Option(None, "--audit-log", help="Append every tool call and episode end to this "
                                                             "hash-chained log (advisorgym audit verify)."),
    allow_drift: bool = typer.Option(False, "--allow-drift", help="Run even if the back-end has drifted from the "
                                                                  "tool contract (recorded in the report)."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Episodes at once, each worker with its own "
                                                                     "environment and agent (openai: the endpoint's "
                                                                     "latency overlaps; hf: one batched generate "
                                                                     "for the N episodes' turns)."),
    trials: int = typer.Option(1, "--trials", min=1, help="Runs of each task, with distinct seeds; reports pass^k "
                                                          "and pass@k, consistency and intervals."),
    ray_address: str = typer.Option(None, "--ray", metavar="ADDRESS", help="Run the episodes on the Ray cluster "
                                                                          "at ADDRESS (auto, host:6379 or "
                                                                          "ray://host:10001): --concurrency actors "
                                                                          "over its nodes (extra ray)."),
    rate_limit: float = typer.Option(None, "--rate-limit", min=0.001, help="openai: requests per second at most, "
                                                                          "over all workers."),
    max_retries: int = typer.Option(3, "--max-retries", min=0, help="openai: retries of a request after a "
                                                                     "time-out, 429 or 5xx (Retry-After honoured)."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """Run an agent over a task suite; write episodes, ToolRLA metrics, a Markdown report and plots."""
    # the options given on the command line or by their environment variable (typer's own click: by name)
    given = [name for name, value in ctx.params.items() if value is not None
             and getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT"]
    try:
        config = from_command_line({name: ctx.params[name] for name in given if name in COMMAND_LINE_KEYS},
                                   config_file)
    except ConfigError as err:
        raise usage_error(str(err)) from None
    if show_config:
        typer.echo(json.dumps(config.to_dict(redact=True), indent=2))
        return
    _check_tasks_file(Path(config.env.tasks) if config.env.tasks is not None else None)
    model_dir = config.agent_options.get("model_path")
    if config.agent == "hf" and model_dir is not None and not Path(model_dir).is_dir():
        raise usage_error(f"--model-path must be a local model directory (nothing is downloaded): {model_dir}")
    replica = config.env.backend.replica
    if replica is not None and not Path(replica).is_file():
        raise usage_error(f"replica not found: {replica}")
    out = Path(config.out)
    try:
        episode_pool = None
        if config.ray is not None:
            from envs.integrations.ray import eval_pool  # optional: the ray extra (the module imports ray)

            episode_pool = eval_pool(config.ray)
        result = run_eval(config=config, episode_pool=episode_pool)
    except EvalLocked as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    except (EvalConfigError, ValueError, ImportError, KeyError) as err:
        raise usage_error(str(err).strip('"')) from None
    except (EvalAborted, ConnectionError, ContractDrift) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    except sqlite3.DatabaseError as err:
        typer.echo(f"error: the replica {replica or '(the cached default)'} is unreadable ({err}): pass a good "
                   "--replica, or delete the cached one to regenerate it", err=True)
        raise typer.Exit(1) from None
    except OSError as err:
        what = "disk full" if err.errno in (errno.ENOSPC, errno.EDQUOT) else err.strerror or str(err)
        typer.echo(f"error: {what} writing {err.filename or out}; the episodes stored so far are kept: free the "
                   "space (or fix the cause) and rerun the same command to resume", err=True)
        raise typer.Exit(1) from None
    for line in summarise(result):
        typer.echo(line)
    if result.get("pool"):
        retried = result["pool"]["episodes_retried"]
        typer.echo(f"ray: {result['pool']['actors_replaced']} actor(s) replaced, {len(retried)} episode(s) retried"
                   + "".join(f"\n  retried {r['task_id']} (trial {r['trial']}): {r['reason']}" for r in retried))
    if result["infra_failed"]:
        typer.echo(f"error: {result['infra_failed']} episode(s) failed for infrastructure reasons and were not "
                   "stored; rerun the same command to retry them.", err=True)
        raise typer.Exit(1)


@app.command("show", short_help="Print one episode's transcript.")
def show(
    episodes: Path = typer.Argument(..., metavar="EPISODES", help="An eval's episodes.jsonl, or its output directory."),
    task: str = typer.Option(None, "--task", help="The task to print (default: list the episodes)."),
    width: int = typer.Option(100, "--width", min=40, help="Wrap lines at this width."),
    trial: int = typer.Option(None, "--trial", min=0, help="With repeated trials: which one (default: the last)."),
    system: bool = typer.Option(False, "--system", help="Print the whole system prompt (the tool schemas too) "
                                                       "instead of one line about it."),
) -> None:
    """Print one episode's transcript readably: outcome, reward, the user's query, every turn."""
    path = episodes / EPISODES if episodes.is_dir() else episodes
    if not path.is_file():
        raise usage_error(f"no episodes file at {path} (pass an eval's --out directory or its {EPISODES})")
    try:
        records = load_episodes(path, repair=False)
    except EvalConfigError as err:
        raise usage_error(str(err)) from None
    if task is None:
        for r in records:
            typer.echo(f"{r['task_id']}\t{r.get('level')}\ttrial {r.get('trial', 0)}\tR={r.get('total')}\t"
                       f"{'success' if r.get('task_success') else 'fail'}")
        typer.echo(f"{len(records)} episodes; show one with --task ID")
        return
    match = [r for r in records if r["task_id"] == task and (trial is None or r.get("trial", 0) == trial)]
    if not match:
        raise usage_error(f"task {task!r}{'' if trial is None else f' trial {trial}'} is not in {path} "
                          f"({len(records)} episodes; list them without --task)")
    typer.echo(format_transcript(match[-1], width=width, system=system))


@app.command("view", short_help="Write a static HTML site to browse eval runs (--serve: on 127.0.0.1).")
def view(
    reports: list[Path] = typer.Argument(..., metavar="REPORT_DIR", help="Eval output directories."),
    out: Path = typer.Option(Path("view"), "--out", help="Where to write the site (index.html)."),
    serve: bool = typer.Option(False, "--serve", help="Also serve it on 127.0.0.1 until Ctrl-C."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="--serve: the port (0: any free one)."),
) -> None:
    """Write a static HTML site of one or more eval runs: overview, metrics per level, a
    filterable task table, a transcript page per episode, and each task in every run side by
    side. It opens from disk (file://); --serve is optional."""
    for report in reports:
        if not (report / METRICS).is_file() or not (report / EPISODES).is_file():
            raise usage_error(f"{report} is not an eval output directory (no {METRICS} and {EPISODES})")
    try:
        index = write_site(reports, out)
    except EvalConfigError as err:
        raise usage_error(str(err)) from None
    typer.echo(f"wrote {index} ({len(reports)} run(s)); open it in a browser")
    if serve:
        try:
            serve_site(out, port)
        except KeyboardInterrupt:
            pass


@app.command("compare", short_help="Compare eval reports side by side (table, plot).")
def compare(
    reports: list[Path] = typer.Argument(..., metavar="REPORT_DIR",
                                         help="Eval output directories (with metrics.json)."),
    out: Path = typer.Option(Path("compare"), "--out", help="Where to write compare.md and compare.png."),
) -> None:
    """Compare agents side by side: one table and one plot from several eval reports."""
    runs = []
    for report in reports:
        path = report / METRICS if report.is_dir() else report
        if not path.is_file():
            raise usage_error(f"no {METRICS} in {report} (run `advisorgym eval --out {report}` first)")
        try:
            runs.append(orjson.loads(path.read_bytes()))
        except orjson.JSONDecodeError as err:
            raise usage_error(f"{path} is not valid JSON ({err})") from None
    out.mkdir(parents=True, exist_ok=True)
    table = compare_table(runs)
    (out / "compare.md").write_text(table, encoding="utf-8")
    plot_compare(runs, out / "compare.png")
    typer.echo(table.rstrip())
    typer.echo(f"wrote {out / 'compare.md'} and {out / 'compare.png'}")


tasks_app = typer.Typer(help="Task suites: `tasks generate` makes a sandbox-verified one.", **PLAIN_HELP)
app.add_typer(tasks_app, name="tasks", short_help="Task suites: `tasks generate` makes a sandbox-verified one.")

@tasks_app.command("generate", short_help="Generate a sandbox-verified task suite from a replica.")
def tasks_generate(
    out: Path = typer.Option(..., "--out", help="Where to write the suite (JSONL, one task a line)."),
    seed: int = typer.Option(0, "--seed", help="Generation seed; the same seed, count and replica give identical bytes."),
    count: int = typer.Option(500, "--count", min=1, help="Number of tasks (30/35/20/15% L1/L2/L3/L4)."),
    replica_seed: int = typer.Option(None, "--replica-seed", help="Seed of the replica to draw from (default: the "
                                                                  "domain's)."),
    replica_scale: int = typer.Option(None, "--replica-scale", min=1, help="Scale of that replica (default: the "
                                                                          "domain's)."),
    replica: Path = typer.Option(None, "--replica", help="Use this replica file instead of the cached default "
                                                         "(its seed and scale are read from its meta table)."),
    id_prefix: str = typer.Option(None, "--id-prefix", help="Task id prefix (default: s<seed>), e.g. h1 for a "
                                                           "held-out split."),
    exclude: list[Path] = typer.Option(None, "--exclude", help="Suite(s) whose queries must not be repeated "
                                                               "(repeatable)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """Generate a sandbox-verified task suite from a replica (every gold trajectory scores 3.0)."""
    found = named_domain(domain)
    if replica is not None:
        if not replica.is_file():
            typer.echo(f"error: replica not found: {replica}", err=True)
            raise typer.Exit(2)
        path, meta = replica, None
    else:
        seed_, scale_ = (found.default_seed if replica_seed is None else replica_seed,
                         found.default_scale if replica_scale is None else replica_scale)
        path, meta = default_replica(seed_, scale_, found), {"seed": seed_, "scale": scale_}
    for path_ in exclude or []:
        _check_tasks_file(path_)
    excluded = [t for p in (exclude or []) for t in load_tasks(p)]
    started = time.perf_counter()
    bar_ctx = nullcontext(None)
    if progress:
        bar_ctx = Progress(console=Console(stderr=True), transient=True)
    with bar_ctx as bar:
        bars: dict[str, object] = {}

        def report(phase: str, done: int, total: int) -> None:
            if bar is None:
                return
            if phase not in bars:
                bars[phase] = bar.add_task({"build": "building candidates", "verify": "replaying gold"}.get(phase, phase),
                                           total=total)
            bar.update(bars[phase], completed=done, total=total)

        try:
            result = generate_tasks(path, seed=seed, count=count, replica_meta=meta, id_prefix=id_prefix,
                                    exclude=excluded, progress=report if progress else None, domain=found)
        except RuntimeError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
    save_tasks(result.tasks, out)
    elapsed = time.perf_counter() - started
    counts = result.counts()
    typer.echo(f"wrote {len(result.tasks)} tasks to {out} in {elapsed:.1f}s "
               f"({', '.join(f'{lvl}={n}' for lvl, n in counts.items())})")
    typer.echo(f"candidates verified: {result.candidates}; rejected: {len(result.rejected)}; surplus: "
               f"{result.surplus}; duplicate queries skipped: {result.skipped_duplicates}")
    for reason, n in result.rejection_summary().items():
        typer.echo(f"  rejected x{n}: {reason}")
    for task_id, reason in result.rejected[:10]:
        typer.echo(f"    {task_id}: {reason}")


@tasks_app.command("export", short_help="Export a suite as GRPO prompts and SFT conversations (JSONL), with a card.")
def tasks_export(
    out: Path = typer.Option(..., "--out", help="Folder for grpo.jsonl, sft.jsonl and README.md (the dataset card)."),
    tasks: Path = typer.Option(None, "--tasks", help="Task suite (JSONL); default: the frozen 500-task suite."),
    seed: int = typer.Option(0, "--seed", help="Task i gets seed + i, as in eval."),
    prompt_mode: str = typer.Option("tools_via_template", "--prompt-mode",
                                    help="GRPO prompts: tools_via_template (the trainer passes the tools column to "
                                         "the chat template) or full (the system prompt lists the tools)."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """Write GRPO rows (prompt as messages, tools, task_id, level, seed), SFT rows (messages with
    the env's real tool results, tools, ~5% error-recovery demonstrations) and a dataset card
    saying how to load them with datasets."""
    _check_tasks_file(tasks)
    if prompt_mode not in PROMPT_MODES:
        raise usage_error(f"--prompt-mode must be one of {', '.join(PROMPT_MODES)}, got {prompt_mode!r}")
    found = named_domain(domain)
    try:
        env = FinAdvisorEnv(tasks=tasks, prompt_mode="tools_via_template", domain=found)
    except ValueError as err:
        raise usage_error(str(err)) from None
    as_of = env.replica_meta.get("as_of", "unknown")
    grpo = grpo_rows(env.tasks, as_of, seed, prompt_mode, found)
    sft = sft_rows(env, env.tasks, seed)
    env.close()
    write_jsonl(grpo, out / "grpo.jsonl")
    write_jsonl(sft, out / "sft.jsonl")
    suite = str(tasks) if tasks is not None else f"the {found.name} domain's frozen suite"
    card = dataset_card(suite, as_of, seed, prompt_mode, grpo, sft, found)
    (out / "README.md").write_text(card, encoding="utf-8")
    recovery = sum(1 for r in sft if r["kind"] != "gold")
    typer.echo(f"wrote {out / 'grpo.jsonl'} ({len(grpo)} prompts), {out / 'sft.jsonl'} ({len(sft)} "
               f"conversations, {recovery} of them error-recovery demonstrations) and {out / 'README.md'}")


@app.command("compliance-bench", short_help="The compliance checker on its labelled public set.")
def compliance_bench(
    split: str = typer.Option("all", "--split", help="dev (developed against), frozen (never tuned on) or all."),
    errors: bool = typer.Option(False, "--errors", help="List the misjudged sentences."),
    calibration: bool = typer.Option(True, "--calibration/--no-calibration",
                                     help="Also print the grey-area classifier's reliability out of template "
                                          "(needs scikit-learn, the dev extra)."),
) -> None:
    """Recall on violations and false alarms on compliant sentences of
    fixtures/compliance/public_set.jsonl, overall and per class; then the grey-area
    classifier's calibration: per probability bin, out of template, the share of violations."""
    if split not in compliance_benchmark.SPLITS:
        raise usage_error(f"--split must be one of {', '.join(compliance_benchmark.SPLITS)}, not {split!r}")
    splits = ("dev", "frozen", "all") if split == "all" else (split,)
    for name in splits:
        typer.echo(compliance_benchmark.format_result(compliance_benchmark.run(name), name, show_errors=errors) + "\n")
    if calibration:
        table = reliability()
        typer.echo(f"grey-area classifier out of template ({table['n']} training sentences, 5 folds by template): "
                   f"at threshold {table['threshold']}, precision {table['precision']:.3f}, "
                   f"recall {table['recall']:.3f}")
        typer.echo(f"{'probability':<13}{'n':>5}{'mean p':>9}{'violations':>12}")
        for row in table["bins"]:
            mean = "-" if row["mean_probability"] is None else f"{row['mean_probability']:.2f}"
            share = "-" if row["violation_share"] is None else f"{row['violation_share']:.2f}"
            typer.echo(f"{row['bin']:<13}{row['n']:>5}{mean:>9}{share:>12}")


@app.command("reward-bench", short_help="Pairwise accuracy of the reward on the reward benchmark.")
def reward_bench(
    reward_version: list[str] = typer.Option(None, "--reward-version",
                                             help="A reward version to score (repeatable); default: every version."),
    pairs: Path = typer.Option(None, "--pairs", help="Pairs (JSONL); default: fixtures/reward_bench/pairs.jsonl."),
) -> None:
    """Score the chosen and the rejected trajectory of every pair through the environment and
    print, per error type and overall, the share of pairs where the chosen one scores strictly
    higher, with the ties counted apart."""
    versions = list(reward_version or VERSIONS)
    unknown = [v for v in versions if v not in VERSIONS]
    if unknown:
        raise usage_error(f"unknown reward version {unknown[0]!r}; one of {', '.join(VERSIONS)}")
    path = pairs or reward_benchmark.PAIRS
    if not Path(path).is_file():
        raise usage_error(f"pairs file not found: {path}")
    typer.echo(reward_benchmark.format_results(reward_benchmark.run(versions, path)))
