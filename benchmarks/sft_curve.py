"""The SFT learning curve of a training config, on a validation split (never the held-out one).

    python benchmarks/sft_curve.py trainer/configs/demo.yaml --out runs/curve [--every 50] [--tasks 20]

Builds the config's tiny model, runs its SFT stage with a checkpoint every ``--every`` steps,
then runs the first turn of ``--tasks`` L1 validation tasks with the base model and each
checkpoint (greedy, the config's ``eval.max_new_tokens``) and prints, per step: the share of
first calls that are valid and the share that carry the query's ids (``trainer.call_metrics``),
the training loss and token accuracy; then the median CPU and wall seconds per step and the
load they were measured at (from the stage's ``metrics.jsonl``). ``--evaluate-only``
evaluates the checkpoints saved so far while SFT is still running (each checkpoint once).
Everything lands in ``<out>/curve.json``, and the curve is plotted in ``<out>/curve.png``.

The validation split: tasks generated from seed ``VALIDATION_SEED`` (a training seed, not the
held-out split's), none repeating a query or id of the training tasks or of the held-out split
(the generator excludes them, and ``stages.heldout_tasks`` refuses any overlap), L1 ones evenly
spaced.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from trainer import stages
from trainer.config import TrainConfig

VALIDATION_SEED = 3


def validation_split(config: TrainConfig, out: Path, n: int, level: str | None = "L1") -> Path:
    """``n`` tasks generated from ``VALIDATION_SEED`` (of ``level``; None: every level), evenly
    spaced over ``10 n`` generated, written once to ``out``."""
    path = out / f"validation-seed{VALIDATION_SEED}-{level + '-' if level else ''}{n}.jsonl"
    if path.is_file():
        return path
    from envs.replica import default_replica
    from envs.tasks import HELDOUT, load_tasks, save_tasks
    from envs.tasks.generator import generate_tasks

    train = stages.train_tasks(config)
    heldout = load_tasks(config.heldout or HELDOUT)
    meta = train[0].replica
    generated = generate_tasks(default_replica(meta["seed"], meta["scale"]), seed=VALIDATION_SEED, count=10 * n,
                               replica_meta=meta, id_prefix=f"v{VALIDATION_SEED}", exclude=[*train, *heldout]).tasks
    out.mkdir(parents=True, exist_ok=True)
    save_tasks(stages.evenly_spaced([t for t in generated if level is None or t.level == level], n), path)
    return path


def evaluate_checkpoints(config: TrainConfig, out: Path, validation: Path) -> list[dict[str, object]]:
    """The first-turn figures of the base model and of every SFT checkpoint in ``out`` (each
    evaluated once, kept in ``<out>/validation/stepN/point.json``), by step."""
    logs = [json.loads(line) for line in (out / "sft" / "metrics.jsonl").read_text().splitlines()]
    by_step = {r["step"]: r for r in logs if "loss" in r}
    models = {0: stages.base_model(config)}
    models |= {int(p.name.split("-")[1]): p for p in (out / "sft").glob("checkpoint-*")}
    config.heldout = str(validation)
    config.eval = {**config.eval, "limit": None, "max_steps": 1}  # the first turn only
    points = []
    for step in sorted(models):
        done = out / "validation" / f"step{step}" / "point.json"
        if not done.is_file():
            figures = stages.evaluate(models[step], config, done.parent, progress=False)
            logged = by_step.get(step, {})
            point = {"step": step, "first_call_valid": figures["first_call_valid"],
                     "first_call_exact_ids": figures["first_call_exact_ids"], "episodes": figures["episodes"],
                     "loss": logged.get("loss"), "mean_token_accuracy": logged.get("mean_token_accuracy"),
                     "load_when_evaluated": round(os.getloadavg()[0], 2)}
            done.write_text(json.dumps(point), encoding="utf-8")
            print(json.dumps(point), flush=True)
        points.append(json.loads(done.read_text(encoding="utf-8")))
    return points


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--out", required=True)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--evaluate-only", action="store_true",
                    help="evaluate the checkpoints saved so far (while SFT runs), do not train")
    args = ap.parse_args()
    out = Path(args.out)
    config = TrainConfig.load(args.config)
    config.output_dir = str(out)
    config.stages["sft"].update(save_steps=args.every, save_total_limit=None)
    config.stages["sft"].setdefault("report_to", [])
    validation = validation_split(config, out, args.tasks)
    if not args.evaluate_only:
        stages.base_model(config)
        stages.run_sft(config)
    points = evaluate_checkpoints(config, out, validation)
    logged = [json.loads(line) for line in (out / "sft" / "metrics.jsonl").read_text().splitlines()]
    costs = [(b["process_cpu_s"] - a["process_cpu_s"], b["time"] - a["time"]) for a, b in zip(logged, logged[1:])
             if "loss" in a and "loss" in b and "time" in a]
    result = {"config": args.config, "tiny": config.tiny, "sft": config.stages["sft"], "validation": str(validation),
              "points": points}
    if costs:
        result["per_step"] = {"cpu_s_median": round(statistics.median(c for c, _ in costs), 2),
                              "wall_s_median": round(statistics.median(w for _, w in costs), 2),
                              "load_median": statistics.median(r["load"] for r in logged if "load" in r),
                              "steps": len(costs) + 1}
        print(json.dumps(result["per_step"]))
    (out / "curve.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    plot(logged, points, out / "curve.png")


def plot(logged: list[dict[str, object]], points: list[dict[str, object]], path: Path) -> None:
    """Training loss against step, and the two first-call figures at each evaluated step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, loss_axis = plt.subplots(figsize=(7, 4))
    losses = [r for r in logged if "loss" in r]
    loss_axis.plot([r["step"] for r in losses], [r["loss"] for r in losses], color="0.6", lw=0.8,
                   label="training loss (assistant tokens)")
    loss_axis.set_xlabel("SFT step (8 conversations each)")
    loss_axis.set_ylabel("loss")
    share_axis = loss_axis.twinx()
    for key, label in (("first_call_valid", "first call valid"),
                       ("first_call_exact_ids", "first call carries the query's ids")):
        share_axis.plot([p["step"] for p in points], [p[key] or 0.0 for p in points], marker="o", label=label)
    share_axis.axhline(0.5, color="red", ls=":", lw=0.8, label="SFT target (50%)")
    share_axis.set_ylim(0, 1)
    share_axis.set_ylabel("share of 20 L1 validation tasks")
    handles = loss_axis.get_legend_handles_labels()[0] + share_axis.get_legend_handles_labels()[0]
    share_axis.legend(handles, [h.get_label() for h in handles], loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
