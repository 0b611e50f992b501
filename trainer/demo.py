"""``advisorgym train demo``: SFT → GRPO → DPO from scratch on a tiny local model, on CPU,
with the held-out metrics after each stage (``demo_metrics.json``).

The settings are the shipped ``trainer/configs/demo.yaml`` (``demo-quick.yaml`` for
``--quick``: a smoke test, the same three stages, a few steps each, which says so); nothing
is tuned on the held-out split. It prints a line before every stage and every evaluation,
the metrics table after each stage, and at the end the call-level figures
(``trainer.call_metrics``) and each stage's paired deltas with 95% confidence intervals.
After GRPO the file also holds the GRPO diagnostics that explain a flat result: the group
reward spread, the share of zero-variance groups, the reward sparsity and the completion
lengths, from the stage's own metrics log; after DPO, how many pairs chose the policy's own
answer. The learning curve (``learning_curve.svg`` and the file's ``curve``) is held-out
mean R and the call-level rates at every kept checkpoint (the first-call drills' model, and
each stage's saved checkpoints; with ``--quick``, each stage's final model only).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from trainer import stages
from trainer.call_metrics import CALL_FIGURES
from trainer.config import TrainConfig
from trainer.learning_curve import checkpoints, learning_curve_svg, point, steps_run

CONFIGS = Path(__file__).parent / "configs"
TABLE_KEYS = ("mean_reward", "R_fmt", "R_corr", "R_eff", "R_comp", "TCR", "format_valid", "tool_call_rate", "VR",
              "ORR")
SMOKE_TEST = ("SMOKE TEST (--quick): a few steps per stage on 6 held-out tasks, to show that the pipeline runs end "
              "to end; its numbers are not evidence that training helps (run without --quick for that).")


def demo_config(quick: bool, output_dir: str | Path) -> TrainConfig:
    config = TrainConfig.load(CONFIGS / ("demo-quick.yaml" if quick else "demo.yaml"))
    config.output_dir = str(output_dir)
    return config


def grpo_diagnostics(metrics_path: Path) -> dict[str, Any]:
    """Medians over the GRPO steps of what TRL logged: reward, its within-group spread, the
    share of groups with zero variance (no learning signal), tool calls and lengths."""
    rows = [json.loads(line) for line in metrics_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if "reward" in r]

    def median(key: str) -> float | None:
        values = [float(r[key]) for r in rows if key in r]
        return round(statistics.median(values), 4) if values else None

    return {"steps": len(rows), "reward": median("reward"), "reward_std": median("reward_std"),
            "frac_reward_zero_std": median("frac_reward_zero_std"),
            "completions_mean_length": median("completions/mean_length"),
            "clipped_ratio": median("completions/clipped_ratio"),
            "tool_call_frequency": median("tools/call_frequency"), "R_fmt": median("advisor/R_fmt"),
            "R_corr": median("advisor/R_corr")}


def pair_counts(pairs_path: Path) -> dict[str, int]:
    """How many DPO pairs of each source, and of the sampled ones how many chose the policy's
    own answer (on-policy) rather than the gold one."""
    rows = [json.loads(line) for line in pairs_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    sampled = [r for r in rows if r["source"] == "sampled"]
    return {"pairs": len(rows), "sampled": len(sampled),
            "sampled_chosen_by_policy": sum(1 for r in sampled if r.get("chosen_by") == "policy"),
            "over_caution": sum(1 for r in rows if r["source"] == "over_caution"),
            "expert": sum(1 for r in rows if r["source"].startswith("expert:"))}


def _cell(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """The held-out metrics of each stage so far (one row each)."""
    header = "| stage | " + " | ".join(TABLE_KEYS) + " | wall s |"
    lines = [header, "|" + "---|" * (len(TABLE_KEYS) + 2)]
    for stage, row in results.items():
        cells = [_cell(row["heldout"].get(k)) for k in TABLE_KEYS]
        lines.append(f"| {stage} | " + " | ".join(cells) + f" | {row['wall_s']:.0f} |")
    return "\n".join(lines)


def paired_delta(after: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]], key: str = "R"
                 ) -> dict[str, float] | None:
    """Mean per-task difference ``after - before`` of ``key`` over the tasks both evaluated,
    with its 95% confidence interval (normal approximation; half-width 0 for one task)."""
    common = sorted(set(after) & set(before))
    if not common:
        return None
    diffs = [float(after[t][key]) - float(before[t][key]) for t in common]
    mean = statistics.fmean(diffs)
    half = 1.96 * statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
    return {"mean": mean, "low": mean - half, "high": mean + half, "tasks": len(diffs)}


def _delta_cell(delta: dict[str, float] | None) -> str:
    if delta is None:
        return "–"
    return f"{delta['mean']:+.3f} [{delta['low']:+.3f}, {delta['high']:+.3f}]"


def format_final_tables(results: dict[str, dict[str, Any]]) -> str:
    """After the metrics table: the call-level figures, and each stage's paired deltas with 95%
    confidence intervals over the held-out tasks (against the previous stage and the base)."""
    stages = list(results)
    calls = ["| stage | " + " | ".join(CALL_FIGURES) + " | L1 first_call_exact_ids |",
             "|" + "---|" * (len(CALL_FIGURES) + 2)]
    for stage in stages:
        held = results[stage]["heldout"]
        calls.append(f"| {stage} | " + " | ".join(_cell(held.get(k)) for k in CALL_FIGURES)
                     + f" | {_cell(held.get('L1', {}).get('first_call_exact_ids'))} |")
    deltas = ["| stage | Δ mean R vs previous [95% CI] | Δ R_corr vs previous [95% CI] | Δ mean R vs base [95% CI] |",
              "|---|---|---|---|"]
    for previous, stage in zip(stages, stages[1:]):
        now, before, base = (results[s]["heldout"]["per_task"] for s in (stage, previous, stages[0]))
        deltas.append(f"| {stage} | {_delta_cell(paired_delta(now, before))} | "
                      f"{_delta_cell(paired_delta(now, before, 'R_corr'))} | {_delta_cell(paired_delta(now, base))} |")
    return "\n\n".join(("\n".join(calls), "\n".join(deltas)))


def run_demo(output_dir: str | Path, quick: bool = False, echo: Any = print) -> dict[str, Any]:
    config = demo_config(quick, output_dir)
    out = Path(config.output_dir)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    if quick:
        echo(SMOKE_TEST)
    n_heldout = len(stages.heldout_tasks(config))

    def say(message: str) -> None:
        echo(f"[demo {time.perf_counter() - started:6.0f} s] {message}")

    t = time.perf_counter()
    say("building the tiny model and its tokenizer (once per output folder)")
    base = stages.base_model(config)
    say(f"evaluating base on {n_heldout} held-out tasks")
    results["base"] = {"heldout": stages.evaluate(base, config, out / "eval" / "base"),
                       "wall_s": time.perf_counter() - t}
    echo(format_table(results))
    curve = [point("base", 0, 0, results["base"]["heldout"])]

    def curve_point(stage: str, step: int, offset: int, model_dir: Path, name: str) -> None:
        say(f"learning curve: {stage} step {step}, on {n_heldout} held-out tasks")
        curve.append(point(stage, step, offset + step, stages.evaluate(model_dir, config, out / "eval" / name)))

    offset = 0
    for stage, runner in stages.STAGE_RUNNERS.items():
        t = time.perf_counter()
        say(f"{stage}: training (TRL's progress bar below; log in {out / stage / 'metrics.jsonl'})")
        final = runner(config)
        trained_s = time.perf_counter() - t
        say(f"{stage}: trained in {trained_s:.0f} s; evaluating on {n_heldout} held-out tasks")
        results[stage] = {"heldout": stages.evaluate(final, config, out / "eval" / stage),
                          "wall_s": time.perf_counter() - t, "train_s": round(trained_s, 1)}
        if stage == "grpo":
            results[stage]["diagnostics"] = grpo_diagnostics(out / "grpo" / "metrics.jsonl")
        if stage == "dpo":
            results[stage]["pairs"] = pair_counts(out / "dpo" / "pairs.jsonl")
            say(f"dpo pairs: {results[stage]['pairs']}")
        echo(format_table(results))
        drills = out / stage / "first-call-drills"
        if (drills / "final" / "config.json").is_file():
            drill_steps = steps_run(drills / "metrics.jsonl")
            curve_point("first-call drills", drill_steps, offset, drills / "final", f"{stage}-drills")
            offset += drill_steps
        stage_steps = steps_run(out / stage / "metrics.jsonl")
        if not quick:
            for step, path in checkpoints(out / stage):
                if step < stage_steps:
                    curve_point(stage, step, offset, path, f"{stage}-step{step}")
        curve.append(point(stage, stage_steps, offset + stage_steps, results[stage]["heldout"]))
        offset += stage_steps
        (out / "learning_curve.svg").write_text(
            learning_curve_svg(curve, f"advisorgym train demo{' --quick' if quick else ''}: "
                                      f"{n_heldout} held-out tasks"), encoding="utf-8")
    echo(format_final_tables(results))
    if quick:
        echo(SMOKE_TEST)
    deltas = {stage: {"vs_previous": paired_delta(results[stage]["heldout"]["per_task"],
                                                  results[previous]["heldout"]["per_task"]),
                      "R_corr_vs_previous": paired_delta(results[stage]["heldout"]["per_task"],
                                                         results[previous]["heldout"]["per_task"], "R_corr"),
                      "vs_base": paired_delta(results[stage]["heldout"]["per_task"],
                                              results["base"]["heldout"]["per_task"])}
              for previous, stage in zip(list(results), list(results)[1:])}
    summary = {"quick": quick, "wall_s": round(time.perf_counter() - started, 1), "stages": results,
               "deltas": deltas, "curve": curve, "heldout_tasks": n_heldout, "config": str(CONFIGS / (
                   "demo-quick.yaml" if quick else "demo.yaml"))}
    (out / "demo_metrics.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
