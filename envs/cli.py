"""The ``advisorgym`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mock_apis.deid.build import DEFAULT_BATCH_ROWS
from mock_apis.domain import DEFAULT_DOMAIN, Domain, UnknownDomain, get_domain
from mock_apis.domains.finance.generate import DEFAULT_SCALE, DEFAULT_SEED, MIN_SCALE

# Plain (click) help: it wraps to the terminal, where rich's option tables cut text at 80 columns.
_PLAIN = {"rich_markup_mode": None, "no_args_is_help": True}
app = typer.Typer(help="advisorgym: a tool-calling RL environment for a financial advisory copilot.",
                  add_completion=False, **_PLAIN)
replica_app = typer.Typer(help="SQLite replicas: `replica generate` makes a seeded synthetic one, `replica build` "
                                "a de-identified one from a real database.", **_PLAIN)
app.add_typer(replica_app, name="replica", short_help="SQLite replicas: generate a synthetic one, or build one from "
                                                      "a real database.")


def usage_error(message: str) -> typer.Exit:
    """Print one line (what is wrong, what to do) and give the exit code for usage errors, 2."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


#: Help of every ``--domain`` option.
DOMAIN_HELP = "The back office (a package of mock_apis/domains, e.g. finance): its tools, replica, rules and suite."


def _domain(name: str) -> Domain:
    """The domain a ``--domain`` option names; a usage error (one line, the known names) otherwise."""
    try:
        return get_domain(name)
    except UnknownDomain as err:
        raise usage_error(str(err)) from None


def _check_tasks_file(tasks: Path | None) -> None:
    if tasks is None:
        return
    if not tasks.exists():
        raise usage_error(f"task suite not found: {tasks} (pass a JSONL file; omit --tasks for the frozen suite)")
    if not tasks.is_file():
        raise usage_error(f"--tasks must be a JSONL file, not a directory: {tasks}")


@replica_app.command("generate", short_help="Generate a seeded synthetic replica.")
def replica_generate(
    out: Path = typer.Option(..., "--out", help="Where to write the SQLite replica."),
    seed: int = typer.Option(DEFAULT_SEED, help="Random seed; the same seed and scale give a byte-identical file."),
    scale: int = typer.Option(DEFAULT_SCALE, min=MIN_SCALE, help="Rows in the transactions table (the largest table from about 16k rows up)."),
) -> None:
    """Generate a synthetic replica from the project's own seeded generator: the same seed and
    scale give the same rows on any install (and the same file with the same SQLite)."""
    import hashlib

    from mock_apis.domains.finance.generate import generate_replica, iter_row_counts, replica_digest

    generate_replica(out, seed=seed, scale=scale, show_progress=scale >= 50_000)
    counts = dict(iter_row_counts(out))
    typer.echo(f"wrote {out} ({sum(counts.values())} rows; largest table: "
               f"{max(counts, key=counts.get)} = {max(counts.values())})")
    typer.echo(f"file sha256: {hashlib.sha256(out.read_bytes()).hexdigest()}")
    typer.echo(f"rows sha256: {replica_digest(out)}")


@replica_app.command("build", short_help="Build a de-identified replica from a real database.")
def replica_build(
    source: str = typer.Option(..., "--source", help="SQLAlchemy URL of the production-shaped database, e.g. "
                                                     "postgresql+psycopg://user@host/db (pip install -e '.[postgres]')."),
    out: Path = typer.Option(..., "--out", help="Where to write the SQLite replica (its manifest goes to "
                                                "OUT.manifest.json)."),
    key_file: Path = typer.Option(None, "--key-file", envvar="ADVISORGYM_DEID_KEY_FILE", show_envvar=True,
                                  help="Pseudonymisation key (raw bytes, at least 16; make one with `head -c 32 "
                                       "/dev/urandom > K`). Keep it secret: it links pseudonyms to people."),
    schema: str = typer.Option(None, "--schema", help="The source's schema (PostgreSQL default: public)."),
    allow_extra: bool = typer.Option(False, "--allow-extra", help="Leave out source tables and columns the model "
                                                                  "lacks (listed in the manifest) instead of refusing."),
    batch_rows: int = typer.Option(DEFAULT_BATCH_ROWS, min=1, help="Rows read and written per batch (bounds memory)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Build a de-identified replica: PII pseudonymised with a keyed, deterministic mapping."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from mock_apis.deid import BuildError, DeidKeyError, SchemaDrift, build_replica, load_key, manifest_path

    try:
        make_url(source)
    except ArgumentError:
        raise usage_error(f"--source is not a SQLAlchemy URL: {source!r} (e.g. postgresql+psycopg://user@host/db)") \
            from None
    if out.is_dir():
        raise usage_error(f"--out must be a file path, not a directory: {out}")
    if key_file is None:
        raise usage_error("pass --key-file K (a secret key; make one with `head -c 32 /dev/urandom > K`)")
    try:
        key = load_key(key_file)
    except DeidKeyError as err:
        raise usage_error(str(err)) from None
    try:
        manifest = build_replica(source, out, key, batch_rows=batch_rows, progress=progress, schema=schema,
                                 allow_extra=allow_extra)
    except SchemaDrift as err:
        typer.echo("error: the source schema differs from the model; nothing was written:", err=True)
        for problem in err.problems:
            typer.echo(f"  {problem}", err=True)
        typer.echo("(fix the source or a view over it; --allow-extra leaves out extra tables and columns)", err=True)
        raise typer.Exit(1) from None
    except BuildError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    counts = manifest["row_counts"]
    typer.echo(f"wrote {out} ({sum(counts.values())} rows in {len(counts)} tables, key {manifest['key_fingerprint']}); "
               f"manifest: {manifest_path(out)}")


@app.command("serve", short_help="Serve the tools over HTTP, behind bearer tokens.")
def serve(
    replica: Path = typer.Option(None, "--replica", help="SQLite replica to serve (default: the cached default "
                                                          "replica, generated on first use)."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind; keep the loopback default unless the "
                                               "network in front of it is trusted."),
    port: int = typer.Option(8080, min=1, max=65535, help="TCP port."),
    token: list[str] = typer.Option(None, "--token", envvar="ADVISORGYM_API_TOKEN", show_envvar=True,
                                    help="Bearer token clients must send; repeat it, or separate tokens with "
                                         "commas, for several (one per team: each sees only its own sessions). "
                                         "Prefer --token-file: command lines are visible to other users, the "
                                         "environment to `docker inspect`."),
    token_file: Path = typer.Option(None, "--token-file", envvar="ADVISORGYM_API_TOKEN_FILE", show_envvar=True,
                                    help="A file holding the bearer token(s), one per line or comma-separated "
                                         "(a Docker secret: docker-compose.yml mounts one); added to --token."),
    max_sessions: int = typer.Option(256, min=1, help="Live episode sessions at most (lowered to fit the "
                                                      "descriptor limit); beyond it POST /sessions answers "
                                                      "429 session_capacity (none is evicted)."),
    max_sessions_per_token: int = typer.Option(None, min=1, help="Live sessions per token at most "
                                                                 "(default: --max-sessions)."),
    session_ttl: float = typer.Option(900.0, min=1.0, help="Seconds a session may stay idle before it expires."),
    max_writes: int = typer.Option(256, min=0, help="Successful write calls per session until it is reset."),
    max_body_bytes: int = typer.Option(1 << 20, min=1024, help="Largest request body accepted (413 beyond)."),
    request_timeout: float = typer.Option(10.0, min=0.1, help="Seconds a client has to send a whole request "
                                                              "(head and body); slower ones get 408."),
    max_connections: int = typer.Option(None, min=1, help="Open connections at most (default and ceiling: the "
                                                          "descriptor limit, raised at start-up, less 128 and "
                                                          "the sessions' open files)."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    http: str = typer.Option("httptools", "--http", help="HTTP parser: httptools (C, faster) or h11 (pure "
                                                         "Python)."),
    access_log: bool = typer.Option(False, help="Log every request (slower)."),
    audit_log: Path = typer.Option(None, "--audit-log", help="Append every executed tool call to this "
                                                             "hash-chained log (advisorgym audit verify)."),
    tasks: Path = typer.Option(None, "--tasks", help="Task suite of the episode endpoints (OpenEnv; /mcp with the "
                                                     "mcp extra); default: the domain's frozen suite."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """Serve the tool catalogue over HTTP (FastAPI + uvicorn), behind bearer tokens; also whole
    episodes over the OpenEnv protocol (/ws, /reset, /step, /state, /schema) and, with the mcp
    extra, over MCP (streamable HTTP at /mcp)."""
    from envs.replica import default_replica
    from mock_apis.app import create_app, read_token_file
    from mock_apis.server import HTTP_PARSERS, ServerLimits, raise_fd_limit, run_server, session_cap

    found = _domain(domain)
    tokens = [t.strip() for value in token or [] for t in value.split(",") if t.strip()]
    if token_file is not None:
        try:
            tokens += read_token_file(token_file)
        except ValueError as err:
            raise usage_error(str(err)) from None
    if not tokens:
        typer.echo("error: no API token; pass --token-file (or set ADVISORGYM_API_TOKEN_FILE, or "
                   "ADVISORGYM_API_TOKEN). The service does not run without authentication.", err=True)
        raise typer.Exit(2)
    tokens = list(dict.fromkeys(tokens))
    if http not in HTTP_PARSERS:
        raise usage_error(f"--http must be one of {', '.join(sorted(HTTP_PARSERS))}, not {http!r}")
    path = replica if replica is not None else default_replica(domain=found)
    if not Path(path).is_file():
        typer.echo(f"error: replica not found: {path}", err=True)
        raise typer.Exit(2)
    server_limits = ServerLimits(request_timeout_s=request_timeout, max_connections=max_connections, http=http)
    fd_limit = raise_fd_limit()
    pools = 2 if episode_endpoints_available() else 1  # the MCP episodes hold sandboxes too
    capped = session_cap(server_limits, fd_limit, max_sessions, pools)
    if capped < max_sessions:
        typer.echo(f"note: --max-sessions {max_sessions} lowered to {capped}: each live session keeps a file "
                   f"open and the descriptor limit is {fd_limit} (raise it with ulimit -n)", err=True)
        max_sessions = capped
    try:
        api = create_app(path, tokens=tokens, max_sessions=max_sessions, max_sessions_per_token=max_sessions_per_token,
                         idle_ttl_s=session_ttl, max_writes=max_writes, max_body_bytes=max_body_bytes,
                         audit_log=audit_log, domain=found)
    except ValueError as err:  # a damaged or foreign replica; an audit log that does not end with a whole record
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    episodes = mount_episode_endpoints(api, path, tasks, max_sessions=max_sessions, idle_ttl_s=session_ttl, host=host,
                                       domain=found)
    typer.echo(f"advisorgym API on http://{host}:{port} ({found.name}: replica {path}, "
               f"{len(api.state.service.tools)} tools, "
               f"{len(tokens)} token(s)); {episodes}")
    # one process: sessions live in its memory, so several workers would not share them
    run_server(api, host, port, server_limits, log_level=log_level, access_log=access_log,
               session_fds=pools * max_sessions)


def episode_env_factory(replica: Path | None, tasks: Path | None, domain: str | Domain | None = None) -> Any:
    """A function making a fresh ``FinAdvisorEnv`` of ``domain`` over ``replica`` and ``tasks``,
    on its own sandbox or on the back-end it is given; one env is built here, so that a replica
    the tasks were not written for fails now."""
    from envs.env import FinAdvisorEnv

    FinAdvisorEnv(tasks=tasks, replica=replica, domain=domain).close()
    return lambda backend="inprocess": FinAdvisorEnv(tasks=tasks, replica=replica, backend=backend, domain=domain)


def episode_endpoints_available() -> bool:
    """Whether the installed extras allow the MCP episode endpoint (the mcp extra)."""
    try:
        from envs.integrations import mcp  # noqa: F401
    except ImportError:
        return False
    return True


def mount_episode_endpoints(api: Any, replica: Path, tasks: Path | None, domain: str | Domain | None = None,
                            **limits: Any) -> str:
    """Add the episode endpoints of ``domain`` to the service: the OpenEnv protocol (/reset,
    /step, /state, /schema, /ws), and MCP (/mcp) where the mcp extra is installed; what was
    added, in words."""
    from envs.integrations import openenv

    try:
        make_env = episode_env_factory(replica, tasks, domain)
    except (ValueError, OSError) as err:
        return f"no episode endpoints: {err}"
    openenv.mount(api, make_env)
    added = "OpenEnv episodes at /ws, /reset, /step"
    if not episode_endpoints_available():
        return f"{added}; no /mcp (pip install 'advisorgym[mcp]')"
    from envs.integrations import mcp as mcp_integration
    from mock_apis.app import owner_of

    mcp_integration.mount(api, make_env, max_episodes=limits["max_sessions"], idle_ttl_s=limits["idle_ttl_s"],
                          host=limits["host"], owner=owner_of, domain=domain)
    return f"{added}; MCP episodes at /mcp"


@app.command("mcp", short_help="Serve episodes over MCP on stdin/stdout (the mcp extra).")
def mcp_command(
    tasks: Path = typer.Option(None, "--tasks", help="Task suite (JSONL); default: the frozen 500-task suite."),
    replica: Path = typer.Option(None, "--replica", help="SQLite replica (default: the tasks' replica, generated "
                                                         "on first use)."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """An MCP server over stdio: the catalogue's tools plus start_task and submit_answer; one episode
    on its own sandbox. Configure it in an MCP client as the command `advisorgym mcp`."""
    try:
        import anyio

        from envs.integrations.mcp import run_stdio
    except ImportError:
        raise usage_error("advisorgym mcp needs the mcp extra: pip install 'advisorgym[mcp]'") from None
    found = _domain(domain)
    try:
        make_env = episode_env_factory(replica, tasks, found)
    except (ValueError, OSError) as err:
        raise usage_error(str(err)) from None
    anyio.run(run_stdio, make_env, found)


@app.command("eval", short_help="Run an agent over a task suite; metrics and report.")
def eval_command(
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
    from envs.evaluation.outputs import EvalConfigError, EvalLocked
    from envs.evaluation.report import summarise
    from envs.contract_check import ContractDrift
    from envs.evaluation.run import EvalAborted, run_eval
    from envs.reward import REWARD_VERSION, RewardConfig

    import errno
    import sqlite3

    from envs.evaluation.model_agents import RateLimiter

    found = _domain(domain)
    kwargs: dict = {}
    if agent == "openai":
        kwargs = {"base_url": base_url, "model": model, "api_key": api_key, "temperature": temperature,
                  "timeout": request_timeout, "max_retries": max_retries,
                  "rate_limiter": RateLimiter(rate_limit) if rate_limit else None}
    elif agent == "hf":
        kwargs = {"model_path": str(model_path) if model_path else None, "max_new_tokens": max_new_tokens,
                  "device": device}
    if ray_address is not None and rate_limit:
        raise usage_error("--rate-limit is one limiter in one process: it cannot span the actors of --ray")
    if backend == "http" and not url:
        raise usage_error("--backend http needs --url (the advisorgym service, e.g. http://127.0.0.1:8080)")
    _check_tasks_file(tasks)
    if agent == "hf" and model_path is not None and not model_path.is_dir():
        raise usage_error(f"--model-path must be a local model directory (nothing is downloaded): {model_path}")
    if replica is not None and not replica.is_file():
        raise usage_error(f"replica not found: {replica}")
    env_kwargs = {"check_replica": check_replica, **({"replica": replica} if replica is not None else {}),
                  **({"audit_log": audit_log} if audit_log is not None else {}),
                  **({"allow_drift": True} if allow_drift else {})}
    try:
        config = RewardConfig(composition=composition, version=reward_version or REWARD_VERSION)
        episode_pool = None
        if ray_address is not None:
            from envs.integrations.ray import eval_pool

            episode_pool = eval_pool(ray_address)
        result = run_eval(agent, tasks, out, agent_kwargs=kwargs, limit=limit, backend=backend, url=url,
                          token=token, reward_config=config, max_steps=max_steps, seed=seed,
                          overwrite=overwrite, progress=progress, env_kwargs=env_kwargs,
                          transcript_chars=transcript_chars, concurrency=concurrency, trials=trials,
                          episode_pool=episode_pool, domain=found)
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
    from envs.evaluation.outputs import EPISODES, EvalConfigError, load_episodes
    from envs.evaluation.report import format_transcript

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
    from envs.evaluation.outputs import EPISODES, METRICS, EvalConfigError
    from envs.evaluation.view import serve as serve_site, write_site

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
    import orjson

    from envs.evaluation.outputs import METRICS
    from envs.evaluation.report import compare_table, plot_compare

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


tasks_app = typer.Typer(help="Task suites: `tasks generate` makes a sandbox-verified one.", **_PLAIN)
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
    import time
    from contextlib import nullcontext

    from envs.replica import default_replica
    from envs.tasks import load_tasks, save_tasks
    from envs.tasks.generator import generate_tasks

    found = _domain(domain)
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
        from rich.console import Console
        from rich.progress import Progress

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
    from envs.env import PROMPT_MODES, FinAdvisorEnv
    from trainer.adapters import environment_class
    from trainer.data import dataset_card, grpo_rows, sft_rows, write_jsonl

    _check_tasks_file(tasks)
    if prompt_mode not in PROMPT_MODES:
        raise usage_error(f"--prompt-mode must be one of {', '.join(PROMPT_MODES)}, got {prompt_mode!r}")
    found = _domain(domain)
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
    card = dataset_card(suite, as_of, seed, prompt_mode, grpo, sft, found, environment_class(found).__name__)
    (out / "README.md").write_text(card, encoding="utf-8")
    recovery = sum(1 for r in sft if r["kind"] != "gold")
    typer.echo(f"wrote {out / 'grpo.jsonl'} ({len(grpo)} prompts), {out / 'sft.jsonl'} ({len(sft)} "
               f"conversations, {recovery} of them error-recovery demonstrations) and {out / 'README.md'}")


contract_app = typer.Typer(help="Schema contracts: `contract snapshot` writes one from the code and a replica.",
                           **_PLAIN)
app.add_typer(contract_app, name="contract", short_help="Schema contracts: snapshot the tools and replica.")


@contract_app.command("snapshot", short_help="Write the contract of the shipped code on a replica.")
def contract_snapshot(
    replica: Path = typer.Option(None, "--replica", help="SQLite replica to sample (default: the default "
                                                         "replica, generated on first use)."),
    out: Path = typer.Option(None, "--out", help="Where to write the JSON contract (default: the domain's shipped "
                                                 "contracts/contract-v1.json)."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """Snapshot each tool's version and schemas, the result shapes sampled on the replica and the
    replica's database schema, as deterministic JSON."""
    from mock_apis.contracts import build_contract, default_contract_path, dumps

    if replica is not None and not replica.is_file():
        raise usage_error(f"replica not found: {replica}")
    found = _domain(domain)
    contract = build_contract(replica, found)
    path = out or default_contract_path(found)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps(contract))
    typer.echo(f"wrote {path} ({len(contract['tools'])} tools, {len(contract['samples'])} sampled, "
               f"{len(contract['database'])} tables)")


drift_app = typer.Typer(help="Drift: `drift check` compares a service or a replica with the contract.", **_PLAIN)
app.add_typer(drift_app, name="drift", short_help="Drift: compare a service or replica with the contract.")


@drift_app.command("check", short_help="Compare a service and/or a replica with the contract.")
def drift_check(
    service: str = typer.Option(None, "--service", help="The service's URL, e.g. http://127.0.0.1:8080: its "
                                                        "published schemas and real sampled results."),
    token: str = typer.Option(None, "--token", envvar="ADVISORGYM_API_TOKEN", show_envvar=True,
                              help="--service: its bearer token (prefer the environment variable)."),
    in_process: bool = typer.Option(False, "--in-process", help="Check this installation's tool catalogue, "
                                                                "run on --replica (default: the default "
                                                                "replica)."),
    replica: Path = typer.Option(None, "--replica", help="A SQLite replica whose database schema to check."),
    contract: Path = typer.Option(None, "--contract", help="The contract (default: the domain's shipped "
                                                           "contracts/contract-v1.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """Compare a live service (or this installation) and/or a replica with the contract: every
    difference is breaking or compatible; exit 1 on breaking drift, 0 otherwise."""
    import orjson

    from mock_apis.contracts import DriftCheckError, check_drift

    if service and in_process:
        raise usage_error("pass --service URL or --in-process, not both")
    if not (service or in_process or replica):
        raise usage_error("nothing to check: pass --service URL, --in-process or --replica PATH")
    if replica is not None and not replica.is_file():
        raise usage_error(f"replica not found: {replica}")
    if contract is not None and not contract.is_file():
        raise usage_error(f"contract not found: {contract}")
    try:
        report = check_drift(contract, service=service, token=token, in_process=in_process, replica=replica,
                             domain=_domain(domain))
    except DriftCheckError as err:
        raise usage_error(str(err)) from None
    if as_json:
        typer.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    else:
        for line in report.lines():
            typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


audit_app = typer.Typer(help="Audit trails: `audit verify` checks a hash-chained log, `audit repair` cuts a torn "
                             "tail.", **_PLAIN)
app.add_typer(audit_app, name="audit", short_help="Audit trails: verify or repair a hash-chained log.")


@audit_app.command("verify", short_help="Check an audit log's hash chain; name the first bad record.")
def audit_verify(
    path: Path = typer.Argument(..., metavar="PATH", help="The audit log (JSONL)."),
    head: str = typer.Option(None, "--head", help="The head hash a report recorded: also catches a cut-off tail."),
) -> None:
    """Check every record of a hash-chained audit log: exit 1 naming the first edited, removed,
    reordered or inserted record."""
    from envs.audit import verify

    if not path.is_file():
        raise usage_error(f"audit log not found: {path}")
    ok, seq, reason = verify(path, expect_head=head)
    if not ok:
        typer.echo(f"error: {path}: record {seq}: {reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {path}: {reason}")


@audit_app.command("repair", short_help="Cut a log back to its last verified record; record the repair.")
def audit_repair(
    path: Path = typer.Argument(..., metavar="PATH", help="The audit log (JSONL)."),
    force: bool = typer.Option(False, "--force", help="Also cut when the first bad record is not the last line "
                                                      "(drops the verified records after it; they are saved)."),
) -> None:
    """Cut a torn or bad tail off a hash-chained audit log (the cut bytes saved beside it as
    PATH.cut-TIME) and append a chained `repair` record naming what was cut and why."""
    from envs.audit import repair

    if not path.is_file():
        raise usage_error(f"audit log not found: {path}")
    try:
        report = repair(path, force=force)
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if not report["repaired"]:
        typer.echo(f"ok: {path}: nothing to repair ({report['summary']})")
        return
    typer.echo(f"repaired: {path}: kept {report['kept_records']} records; cut {report['cut_lines']} line(s), "
               f"{report['cut_bytes']} bytes, from record {report['kept_records']} ({report['reason']}), saved to "
               f"{report['saved_to']}; repair record {report['repair_seq']}, head {report['head']}")


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
    from envs.evaluation.compliance_bench import SPLITS, format_result, run

    if split not in SPLITS:
        raise usage_error(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
    splits = ("dev", "frozen", "all") if split == "all" else (split,)
    for name in splits:
        typer.echo(format_result(run(name), name, show_errors=errors) + "\n")
    if calibration:
        from envs.reward.compliance import calibration as reliability

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
    from envs.evaluation.reward_bench import PAIRS, format_results, run
    from envs.reward import VERSIONS

    versions = list(reward_version or VERSIONS)
    unknown = [v for v in versions if v not in VERSIONS]
    if unknown:
        raise usage_error(f"unknown reward version {unknown[0]!r}; one of {', '.join(VERSIONS)}")
    path = pairs or PAIRS
    if not Path(path).is_file():
        raise usage_error(f"pairs file not found: {path}")
    typer.echo(format_results(run(versions, path)))


from trainer.cli import train_app  # noqa: E402 - imports nothing heavy; the commands import the extra

app.add_typer(train_app, name="train", short_help="Train: SFT, GRPO, DPO on TRL (train extra).")

from envs.replay.cli import replay_app  # noqa: E402 - the commands import what they need

app.add_typer(replay_app, name="replay", short_help="Production logs: simulate, ingest, score, export.")

if __name__ == "__main__":
    app()
