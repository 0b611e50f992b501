"""``advisorgym train``: the bundled SFT → GRPO → DPO stages, and the CPU demo.

Registered on the main ``advisorgym`` app; torch, transformers and TRL are imported only when
a command runs, so ``advisorgym --help`` works without the train extra.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trainer.config import ConfigError, TrainConfig
from trainer.demo import run_demo
from trainer.stages import STAGE_RUNNERS

train_app = typer.Typer(help="The bundled trainer (SFT -> GRPO -> DPO on TRL; needs the train extra).",
                        rich_markup_mode=None, no_args_is_help=True)


def _needs_extra() -> None:
    try:
        # only whether the train extra is installed: each stage imports what it uses
        import datasets  # noqa: F401 - optional: the train extra
        import torch  # noqa: F401 - optional: the train extra
        import trl  # noqa: F401 - optional: the train extra
    except ImportError as exc:
        typer.echo(f"error: the trainer needs the train extra ({exc.name} is missing): "
                   "pip install torch==2.13.0 && pip install -e '.[train]'", err=True)
        raise typer.Exit(2) from None


def latest_checkpoint(stage_dir: Path) -> tuple[Path | None, list[Path]]:
    """The newest complete ``checkpoint-N`` in ``stage_dir`` and the newer incomplete ones
    skipped. Complete: its ``trainer_state.json`` (which the trainer writes last) is whole JSON."""
    numbered = sorted((p for p in stage_dir.glob("checkpoint-*") if p.name.split("-", 1)[1].isdigit()),
                      key=lambda p: int(p.name.split("-", 1)[1]), reverse=True)
    skipped = []
    for path in numbered:
        try:
            json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            skipped.append(path)
            continue
        return path, skipped
    return None, skipped


def _stage_command(stage: str) -> None:
    def command(
        config: Path = typer.Option(..., "--config", help="Training config (YAML); see trainer/configs/."),
        output_dir: Path = typer.Option(None, "--output-dir", help="Overrides the config's output_dir."),
        resume: str = typer.Option(None, "--resume", help="Resume from a checkpoint folder, or 'latest' for the "
                                                          "stage's newest checkpoint in output_dir."),
    ) -> None:
        _needs_extra()
        try:
            cfg = TrainConfig.load(config)
        except ConfigError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(2) from None
        if output_dir is not None:
            cfg.output_dir = str(output_dir)
        if resume is not None and resume != "latest" and not Path(resume).is_dir():
            typer.echo(f"error: --resume {resume}: no such checkpoint folder (or pass 'latest')", err=True)
            raise typer.Exit(2)
        stage_dir = Path(cfg.output_dir) / stage
        if resume == "latest":
            found, skipped = latest_checkpoint(stage_dir)
            if skipped:
                typer.echo(f"--resume latest: skipping incomplete checkpoint(s) {', '.join(p.name for p in skipped)} "
                           "(no readable trainer_state.json: the save was interrupted)", err=True)
            if found is None:
                typer.echo(f"error: --resume latest: no complete checkpoint in {stage_dir} (run the stage once first)",
                           err=True)
                raise typer.Exit(2)
            resume = str(found)
        final = STAGE_RUNNERS[stage](cfg, resume=resume)
        typer.echo(f"{stage}: final model in {final}; metrics in {stage_dir / 'metrics.jsonl'}")

    command.__doc__ = {"sft": "Supervised fine-tuning on the suite's gold conversations (~5% error recovery).",
                       "grpo": "GRPO with one live env episode per rollout, scored through the env.",
                       "dpo": "DPO for compliance on env-scored pairs (sampled, over-cautious, expert)."}[stage]
    train_app.command(stage, short_help=command.__doc__)(command)


for _stage in ("sft", "grpo", "dpo"):
    _stage_command(_stage)


@train_app.command("demo", short_help="SFT -> GRPO -> DPO from scratch on a tiny local model, on CPU.")
def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Output folder (models, logs, demo_metrics.json)."),
    quick: bool = typer.Option(False, "--quick", help="A smoke test: a few steps per stage on 6 held-out tasks "
                                                      "(meant to take under 3 minutes on an idle 2-core CPU)."),
) -> None:
    """Train a tiny model built locally through the three stages and print the held-out
    metrics after each (mean reward and components, TCR, format-valid rate, VR, ORR)."""
    _needs_extra()
    summary = run_demo(out, quick=quick, echo=typer.echo)
    typer.echo(f"demo finished in {summary['wall_s']:.0f} s; {out / 'demo_metrics.json'}")
    typer.echo(json.dumps({s: r["heldout"]["mean_reward"] for s, r in summary["stages"].items()}))
