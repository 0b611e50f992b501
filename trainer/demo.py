"""``advisorgym train demo``: SFT → GRPO → DPO from scratch on a tiny local model, on CPU,
with the held-out metrics after each stage (``demo_metrics.json``).

The settings are the shipped ``trainer/configs/demo.yaml`` (``demo-quick.yaml`` for
``--quick``: the same three stages, a few steps each); nothing is tuned on the held-out
split. After GRPO the file also holds the GRPO diagnostics that explain a flat result: the
group reward spread, the share of zero-variance groups, the reward sparsity and the
completion lengths, from the stage's own metrics log.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from trainer.config import TrainConfig

CONFIGS = Path(__file__).parent / "configs"
TABLE_KEYS = ("mean_reward", "R_fmt", "R_corr", "R_eff", "R_comp", "TCR", "format_valid", "VR", "ORR")


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


def format_table(results: dict[str, dict[str, Any]]) -> str:
    header = "| stage | " + " | ".join(TABLE_KEYS) + " | wall s |"
    lines = [header, "|" + "---|" * (len(TABLE_KEYS) + 2)]
    for stage, row in results.items():
        cells = ["–" if row["heldout"].get(k) is None else f"{row['heldout'][k]:.3f}" for k in TABLE_KEYS]
        lines.append(f"| {stage} | " + " | ".join(cells) + f" | {row['wall_s']:.0f} |")
    return "\n".join(lines)


def run_demo(output_dir: str | Path, quick: bool = False, echo: Any = print) -> dict[str, Any]:
    from trainer import stages

    config = demo_config(quick, output_dir)
    out = Path(config.output_dir)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}

    t = time.perf_counter()
    base = stages.base_model(config)
    results["base"] = {"heldout": stages.evaluate(base, config, out / "eval" / "base"),
                       "wall_s": time.perf_counter() - t}
    echo(format_table(results))
    for stage, runner in stages.STAGE_RUNNERS.items():
        t = time.perf_counter()
        final = runner(config)
        trained_s = time.perf_counter() - t
        results[stage] = {"heldout": stages.evaluate(final, config, out / "eval" / stage),
                          "wall_s": time.perf_counter() - t, "train_s": round(trained_s, 1)}
        if stage == "grpo":
            results[stage]["diagnostics"] = grpo_diagnostics(out / "grpo" / "metrics.jsonl")
        echo(format_table(results))
    summary = {"quick": quick, "wall_s": round(time.perf_counter() - started, 1), "stages": results,
               "heldout_tasks": len(stages.heldout_tasks(config)), "config": str(CONFIGS / (
                   "demo-quick.yaml" if quick else "demo.yaml"))}
    (out / "demo_metrics.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
