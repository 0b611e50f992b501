"""The ``advisorgym`` command line."""

from __future__ import annotations

from pathlib import Path

import typer

from mock_apis.generate import DEFAULT_SCALE, DEFAULT_SEED, MIN_SCALE

app = typer.Typer(help="advisorgym: a tool-calling RL environment for a financial advisory copilot.",
                  no_args_is_help=True, add_completion=False)
replica_app = typer.Typer(help="Build and inspect SQLite replicas.", no_args_is_help=True)
app.add_typer(replica_app, name="replica")


@replica_app.command("generate")
def replica_generate(
    out: Path = typer.Option(..., "--out", help="Where to write the SQLite replica."),
    seed: int = typer.Option(DEFAULT_SEED, help="Random seed; the same seed and scale give a byte-identical file."),
    scale: int = typer.Option(DEFAULT_SCALE, min=MIN_SCALE, help="Rows in the transactions table (the largest table from about 16k rows up)."),
) -> None:
    """Generate a synthetic replica with Faker."""
    from mock_apis.generate import generate_replica, iter_row_counts

    generate_replica(out, seed=seed, scale=scale, show_progress=scale >= 50_000)
    counts = dict(iter_row_counts(out))
    typer.echo(f"wrote {out} ({sum(counts.values())} rows; largest table: "
               f"{max(counts, key=counts.get)} = {max(counts.values())})")


@app.command("serve")
def serve(
    replica: Path = typer.Option(None, "--replica", help="SQLite replica to serve (default: the cached default "
                                                          "replica, generated on first use)."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind; keep the loopback default unless the "
                                               "network in front of it is trusted."),
    port: int = typer.Option(8080, min=1, max=65535, help="TCP port."),
    token: str = typer.Option(None, envvar="ADVISORGYM_API_TOKEN", show_envvar=True,
                              help="Bearer token clients must send (prefer the environment variable: "
                                   "command lines are visible to other users)."),
    max_sessions: int = typer.Option(256, min=1, help="Live episode sessions kept; the least recently "
                                                      "used is evicted beyond this."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    access_log: bool = typer.Option(False, help="Log every request (slower)."),
) -> None:
    """Serve the tool catalogue over HTTP (FastAPI + uvicorn), behind a bearer token."""
    import uvicorn

    from envs.replica import default_replica
    from mock_apis.app import create_app

    if not token:
        typer.echo("error: no API token; set ADVISORGYM_API_TOKEN (or pass --token). "
                   "The service does not run without authentication.", err=True)
        raise typer.Exit(2)
    path = replica if replica is not None else default_replica()
    if not Path(path).is_file():
        typer.echo(f"error: replica not found: {path}", err=True)
        raise typer.Exit(2)
    api = create_app(path, token, max_sessions=max_sessions)
    typer.echo(f"advisorgym API on http://{host}:{port} (replica {path}, {len(api.state.service.tools)} tools)")
    # one process: sessions live in its memory, so several workers would not share them
    uvicorn.run(api, host=host, port=port, log_level=log_level, access_log=access_log)


@app.command("eval")
def eval_command(
    agent: str = typer.Option("oracle", "--agent", help="oracle, wrong_tool, hallucinated_tool, noisy_params, "
                                                       "redundant_calls, non_compliant, malformed_json, openai, hf."),
    tasks: Path = typer.Option(None, "--tasks", help="Task suite (JSONL); default fixtures/tasks/suite.jsonl, "
                                                     "or the handwritten fixtures while it does not exist."),
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
) -> None:
    """Run an agent over a task suite; write episodes, ToolRLA metrics, a Markdown report and plots."""
    from envs.evaluate import EvalConfigError, run_eval, summarise

    kwargs: dict = {}
    if agent == "openai":
        kwargs = {"base_url": base_url, "model": model, "api_key": api_key, "temperature": temperature,
                  "timeout": request_timeout}
    elif agent == "hf":
        kwargs = {"model_path": str(model_path) if model_path else None, "max_new_tokens": max_new_tokens,
                  "device": device}
    if backend == "http" and not url:
        typer.echo("error: --backend http needs --url", err=True)
        raise typer.Exit(2)
    try:
        result = run_eval(agent, tasks, out, agent_kwargs=kwargs, limit=limit, backend=backend, url=url,
                          token=token, composition=composition, max_steps=max_steps, seed=seed,
                          overwrite=overwrite, progress=progress)
    except (EvalConfigError, ValueError, ImportError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    for line in summarise(result):
        typer.echo(line)


if __name__ == "__main__":
    app()
