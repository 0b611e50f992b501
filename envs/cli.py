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
    scale: int = typer.Option(DEFAULT_SCALE, min=MIN_SCALE, help="Rows in the largest table (transactions)."),
) -> None:
    """Generate a synthetic replica with Faker."""
    from mock_apis.generate import generate_replica, iter_row_counts

    generate_replica(out, seed=seed, scale=scale, show_progress=scale >= 50_000)
    counts = dict(iter_row_counts(out))
    typer.echo(f"wrote {out} ({sum(counts.values())} rows; largest table: "
               f"{max(counts, key=counts.get)} = {max(counts.values())})")


if __name__ == "__main__":
    app()
