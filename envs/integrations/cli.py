"""The service commands of ``advisorgym``: ``serve`` (the tools over HTTP, with the episode
endpoints of the integrations) and ``mcp`` (episodes over MCP on stdio). The top command
(``advisorgym.cli``) gathers them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import typer

from envs.env import FinAdvisorEnv
from envs.integrations import openenv
from mock_apis.app import create_app, owner_of, read_token_file
from mock_apis.cli import DOMAIN_HELP, PLAIN_HELP, named_domain, usage_error
from mock_apis.domain import DEFAULT_DOMAIN, Domain
from mock_apis.replica_cache import default_replica
from mock_apis.server import HTTP_PARSERS, ServerLimits, raise_fd_limit, run_server, session_cap

app = typer.Typer(help="The service: tools and episodes over HTTP, episodes over MCP.", **PLAIN_HELP)


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
    found = named_domain(domain)
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
    FinAdvisorEnv(tasks=tasks, replica=replica, domain=domain).close()
    return lambda backend="inprocess": FinAdvisorEnv(tasks=tasks, replica=replica, backend=backend, domain=domain)


def episode_endpoints_available() -> bool:
    """Whether the installed extras allow the MCP episode endpoint (the mcp extra)."""
    try:
        from envs.integrations import mcp  # noqa: F401 - optional: only whether the mcp extra imports
    except ImportError:
        return False
    return True


def mount_episode_endpoints(api: Any, replica: Path, tasks: Path | None, domain: str | Domain | None = None,
                            **limits: Any) -> str:
    """Add the episode endpoints of ``domain`` to the service: the OpenEnv protocol (/reset,
    /step, /state, /schema, /ws), and MCP (/mcp) where the mcp extra is installed; what was
    added, in words."""
    try:
        make_env = episode_env_factory(replica, tasks, domain)
    except (ValueError, OSError) as err:
        return f"no episode endpoints: {err}"
    openenv.mount(api, make_env)
    added = "OpenEnv episodes at /ws, /reset, /step"
    if not episode_endpoints_available():
        return f"{added}; no /mcp (pip install 'advisorgym[mcp]')"
    from envs.integrations import mcp as mcp_integration  # optional: the mcp extra (the module imports mcp)

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
        from envs.integrations.mcp import run_stdio  # optional: the mcp extra (the module imports mcp)
    except ImportError:
        raise usage_error("advisorgym mcp needs the mcp extra: pip install 'advisorgym[mcp]'") from None
    found = named_domain(domain)
    try:
        make_env = episode_env_factory(replica, tasks, found)
    except (ValueError, OSError) as err:
        raise usage_error(str(err)) from None
    anyio.run(run_stdio, make_env, found)
