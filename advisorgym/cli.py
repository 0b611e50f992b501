"""The ``advisorgym`` command: each package's commands, gathered at the top layer.

``mock_apis.cli`` (replica, contract, drift, audit), ``envs.integrations.cli`` (serve, mcp),
``envs.evaluation.cli`` (eval, show, view, compare, tasks, compliance-bench, reward-bench),
``envs.replay.cli`` (replay) and ``trainer.cli`` (train). Every package below knows only its
own commands; this module is the only one that sees them all.
"""

from __future__ import annotations

import typer

from envs.evaluation.cli import app as evaluation_app
from envs.integrations.cli import app as service_app
from envs.replay.cli import replay_app
from mock_apis.cli import PLAIN_HELP
from mock_apis.cli import app as back_office_app
from trainer.cli import train_app

app = typer.Typer(help="advisorgym: a tool-calling RL environment for a financial advisory copilot.",
                  add_completion=False, **PLAIN_HELP)
app.add_typer(back_office_app)
app.add_typer(service_app)
app.add_typer(evaluation_app)
app.add_typer(train_app, name="train", short_help="Train: SFT, GRPO, DPO on TRL (train extra).")
app.add_typer(replay_app, name="replay", short_help="Production logs: simulate, ingest, score, export.")

if __name__ == "__main__":
    app()
