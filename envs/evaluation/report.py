"""The eval's human-readable outputs: the Markdown report, the plots and the CLI summary."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from envs.evaluation.metrics import COMPONENTS, PLOTTED_COMPONENTS
from envs.evaluation.outputs import EPISODES, METRICS, PLOT_METRICS, PLOT_REWARDS, REPORT


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def render_report(metrics: dict[str, Any], plots: bool = True) -> str:
    counts = metrics["counts"]
    rc = metrics["reward_config"]
    lines = [
        f"# advisorgym evaluation: `{metrics['agent']}`",
        "",
        f"- Tasks: `{metrics['tasks']}` — {counts['episodes']} of {counts['tasks_in_suite']} episodes finished"
        + ("" if counts["complete"] else " (partial run)"),
        f"- Reward: `{metrics['reward_version']}`, composition `{rc['composition']}`, "
        f"λ = {rc['compliance_penalty']:g}",
        f"- Successes: {counts['task_success']}, violations: {counts['violated']} "
        f"({counts.get('unauthorized_writes', 0)} unrequested writes), truncated: {counts['truncated']}, "
        f"episodes with errors: {counts['errors']}, failed for infrastructure reasons and not stored "
        f"(re-run on resume): {counts.get('infra_failed_not_stored', 0)}",
    ]
    if metrics.get("agent_config"):
        lines.append("- Agent config: " + ", ".join(f"{k}=`{v}`" for k, v in metrics["agent_config"].items()))
    lines += [
        "",
        "## Metrics (ToolRLA §4.2)",
        "",
        "| Level | n | TCR | TIER | AIR | CRR | VR | ORR | P50 latency (s) | mean R |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    groups = [("overall", metrics["overall"], metrics["reward_means"]["overall"])] + [
        (lv, m, metrics["reward_means"]["per_level"][lv]) for lv, m in metrics["per_level"].items()]
    for name, m, means in groups:
        lines.append(f"| {name} | {m['n']} | {_pct(m['TCR'])} | {_pct(m['TIER'])} | {_num(m['AIR'])} | "
                     f"{_pct(m['CRR'])} | {_pct(m['VR'])} | {_pct(m.get('ORR'))} | {_num(m['P50_latency_s'], 4)} | "
                     f"{_num(means['total'])} |")
    lines += [
        "",
        "TCR: task completion rate; TIER: invalid tool invocations / tool invocations; AIR: tool invocations per "
        "episode; CRR: share of refusal-expecting L4 tasks refused; VR: share of episodes with a compliance "
        "violation; ORR: share of answer-expecting tasks refused; P50 latency: median episode wall time. "
        "— : undefined (no tool call / no refusal task).",
        "",
        "## Reward components (means)",
        "",
        "| Level | " + " | ".join(COMPONENTS) + " |",
        "|---|" + "---:|" * len(COMPONENTS),
    ]
    for name, _, means in groups:
        lines.append(f"| {name} | " + " | ".join(_num(means[k], 3) for k in COMPONENTS) + " |")
    if plots:
        lines += ["", "## Plots", "", f"![Metrics per level]({PLOT_METRICS})", "",
                  f"![Reward component distributions]({PLOT_REWARDS})", "",
                  f"Files: [{PLOT_METRICS}]({PLOT_METRICS}), [{PLOT_REWARDS}]({PLOT_REWARDS}), "
                  f"[{METRICS}]({METRICS}), [{EPISODES}]({EPISODES})"]
    return "\n".join(lines) + "\n"


def plot_metrics_by_level(metrics: dict[str, Any], path: Path) -> None:
    """Grouped bars: rate metrics (%), AIR and P50 latency, for overall and each level."""
    from matplotlib.figure import Figure

    groups = ["overall", *metrics["per_level"]]
    data = [metrics["overall"], *metrics["per_level"].values()]
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, 3, width_ratios=[3, 1.2, 1.2])
    rates = ("TCR", "TIER", "CRR", "VR")
    width = 0.8 / len(rates)
    xs = range(len(groups))
    for j, name in enumerate(rates):
        values = [100 * (m[name] or 0.0) for m in data]
        axes[0].bar([x + (j - (len(rates) - 1) / 2) * width for x in xs], values, width, label=name)
    axes[0].set_xticks(list(xs), groups)
    axes[0].set_ylabel("%")
    axes[0].set_ylim(0, 105)
    axes[0].set_title("Rates (undefined shown as 0)")
    axes[0].legend(ncols=4, fontsize="small", loc="upper center")
    for ax, name, label in ((axes[1], "AIR", "tool calls / episode"), (axes[2], "P50_latency_s", "seconds")):
        ax.bar(groups, [m[name] or 0.0 for m in data], color="tab:gray")
        ax.set_title(name)
        ax.set_ylabel(label)
        ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle(f"{metrics['agent']}: metrics per level")
    fig.savefig(path, dpi=100)


def plot_reward_components(records: Sequence[dict[str, Any]], path: Path) -> None:
    """One histogram per reward component, with its mean marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 6), layout="constrained")
    axes = fig.subplots(2, 4)
    for ax, name in zip(axes.flat, PLOTTED_COMPONENTS):
        values = [float(r["reward"][name]) for r in records]
        if values:
            lo, hi = min(values), max(values)
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            ax.hist(values, bins=20, range=(lo, hi), color="tab:blue", alpha=0.8)
            mean = sum(values) / len(values)
            ax.axvline(mean, color="tab:red", linestyle="--", label=f"mean {mean:.2f}")
            ax.legend(fontsize="small")
        ax.set_title(name)
        ax.set_ylabel("episodes")
    fig.suptitle(f"Reward components over {len(records)} episodes")
    fig.savefig(path, dpi=100)


def summarise(result: dict[str, Any]) -> Iterable[str]:
    """Human-readable lines for the CLI."""
    m = result["metrics"]
    o = m["overall"]
    yield (f"{m['agent']}: {m['counts']['episodes']}/{m['counts']['tasks_in_suite']} episodes "
           f"(ran {result['ran']}, resumed past {result['skipped']}) in {result['elapsed_s']:.1f}s")
    yield (f"TCR {_pct(o['TCR'])}  TIER {_pct(o['TIER'])}  AIR {_num(o['AIR'])}  CRR {_pct(o['CRR'])}  "
           f"VR {_pct(o['VR'])}  ORR {_pct(o.get('ORR'))}  P50 {_num(o['P50_latency_s'], 4)}s  mean R {_num(m['reward_means']['overall']['total'])}")
    c = m["counts"]
    yield (f"reward {m['reward_version']}; episodes with errors: {c['errors']}; not stored after an "
           f"infrastructure failure: {result.get('infra_failed', 0)}; unrequested writes: "
           f"{c.get('unauthorized_writes', 0)}")
    yield f"report: {Path(result['out']) / REPORT}"
