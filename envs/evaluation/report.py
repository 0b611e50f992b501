"""The eval's human-readable outputs: the Markdown report, the plots and the CLI summary."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from envs.evaluation.metrics import COMPONENTS, PLOTTED_COMPONENTS
from envs.evaluation.outputs import EPISODES, METRICS, PLOT_METRICS, PLOT_REWARDS, REPORT


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _provenance_lines(metrics: dict[str, Any]) -> list[str]:
    """What the score is tied to: the contract check (and any opt-out) and the audit log's head."""
    lines = []
    contract = metrics.get("contract")
    if contract is not None:
        if not contract.get("checked"):
            lines.append(f"- Contract: **not checked** ({contract.get('reason')})")
        elif contract["ok"]:
            lines.append(f"- Contract: `{contract['contract']}`, no breaking drift")
        else:
            lines.append(f"- Contract: `{contract['contract']}`: **breaking drift, run with --allow-drift**: "
                         + "; ".join(contract["breaking"][:5]))
    if metrics.get("audit"):
        lines.append(f"- Audit log: `{metrics['audit']['path']}`, head `{metrics['audit']['head']}`")
    return lines


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
    lines += _provenance_lines(metrics)
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
    lines += trial_lines(metrics)
    if plots:
        lines += ["", "## Plots", "", f"![Metrics per level]({PLOT_METRICS})", "",
                  f"![Reward component distributions]({PLOT_REWARDS})", "",
                  f"Files: [{PLOT_METRICS}]({PLOT_METRICS}), [{PLOT_REWARDS}]({PLOT_REWARDS}), "
                  f"[{METRICS}]({METRICS}), [{EPISODES}]({EPISODES})"]
    return "\n".join(lines) + "\n"


def _ci(interval: list[float] | None, fmt: Any) -> str:
    return "—" if not interval else f"[{fmt(interval[0])}, {fmt(interval[1])}]"


def trial_lines(metrics: dict[str, Any]) -> list[str]:
    """The repeated-trials section of the report (none for a single-trial run)."""
    t = metrics.get("trials")
    if not t:
        return []
    ks = list(t["pass_hat"])
    lines = ["", f"## Repeated trials (k = {t['k']})", "",
             "| Level | tasks | " + " | ".join(f"pass^{k}" for k in ks) + " | "
             + " | ".join(f"pass@{k}" for k in ks) + " | always / sometimes / never | TCR 95% CI | mean R 95% CI |",
             "|---|---:|" + "---:|" * (2 * len(ks)) + "---|---|---|"]
    for name, g in [("overall", t), *t["per_level"].items()]:
        c = g["consistency"]
        lines.append(f"| {name} | {g['tasks']} | " + " | ".join(_pct(g["pass_hat"][k]) for k in ks) + " | "
                     + " | ".join(_pct(g["pass_at"][k]) for k in ks)
                     + f" | {c['always']} / {c['sometimes']} / {c['never']} | {_ci(g['TCR_ci95'], _pct)} | "
                     f"{_ci(g['mean_R_ci95'], _num)} |")
    noise = t["noise"]
    lines += ["", "pass^k: the chance that a task succeeds in all k of k trials (C(c,k)/C(n,k) per task, "
              "averaged); pass@k: in at least one. Intervals: normal approximation over per-task means.",
              "", f"Noise floor: TCR per trial {', '.join(_pct(x) for x in t['per_trial']['TCR'])} "
              f"(sd {_pct(noise['TCR_sd_across_trials'])}); mean R per trial "
              f"{', '.join(_num(x) for x in t['per_trial']['mean_R'])} (sd {_num(noise['mean_R_sd_across_trials'])}); "
              f"mean per-task sd of R {_num(noise['task_reward_sd_mean'])}."]
    return lines


RATE_METRICS = ("TCR", "TIER", "CRR", "VR", "ORR")


def _label_bars(ax: Any, bars: Any, values: Sequence[float | None], fmt: str) -> None:
    """Each bar's value above it; "n/a" (and no bar) where the metric is undefined."""
    for bar, value in zip(bars, values):
        text = "n/a" if value is None else format(value, fmt)
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize="x-small", rotation=90)


def _grouped_bars(ax: Any, groups: Sequence[str], series: dict[str, Sequence[float | None]], scale: float,
                  fmt: str) -> None:
    width = 0.8 / max(len(series), 1)
    for j, (name, values) in enumerate(series.items()):
        xs = [x + (j - (len(series) - 1) / 2) * width for x in range(len(groups))]
        heights = [0.0 if v is None else scale * v for v in values]
        bars = ax.bar(xs, heights, width, label=name)
        _label_bars(ax, bars, [None if v is None else scale * v for v in values], fmt)
    ax.set_xticks(list(range(len(groups))), groups)


def plot_metrics_by_level(metrics: dict[str, Any], path: Path) -> None:
    """Grouped bars, labelled with their values: rate metrics (%), AIR and P50 latency, overall
    and per level; an undefined metric is written "n/a", not drawn as 0."""
    # matplotlib: slow to import (seconds on a loaded machine); only the plots need it, not the CLI
    from matplotlib.figure import Figure  # heavy: ~0.5 s to import; only the plots need it

    groups = ["overall", *metrics["per_level"]]
    data = [metrics["overall"], *metrics["per_level"].values()]
    fig = Figure(figsize=(14, 4.6), layout="constrained")
    axes = fig.subplots(1, 3, width_ratios=[3.4, 1.2, 1.2])
    _grouped_bars(axes[0], groups, {name: [m.get(name) for m in data] for name in RATE_METRICS}, 100.0, ".0f")
    axes[0].set_ylabel("%")
    axes[0].set_ylim(0, 125)
    axes[0].set_title("Rates (n/a: undefined)")
    axes[0].legend(ncols=len(RATE_METRICS), fontsize="small", loc="upper left", bbox_to_anchor=(0, -0.08))
    for ax, name, label, fmt in ((axes[1], "AIR", "tool calls / episode", ".2f"),
                                 (axes[2], "P50_latency_s", "seconds", ".4f")):
        values = [m.get(name) for m in data]
        bars = ax.bar(groups, [v or 0.0 for v in values], color="tab:gray")
        _label_bars(ax, bars, values, fmt)
        ax.margins(y=0.25)
        ax.set_title(name)
        ax.set_ylabel(label)
        ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle(f"{metrics['agent']}: metrics per level")
    fig.savefig(path, dpi=100)


def plot_reward_components(records: Sequence[dict[str, Any]], path: Path) -> None:
    """One histogram per reward component, with its mean marked."""
    # matplotlib: only the plots need it (see plot_metrics_by_level)
    from matplotlib.figure import Figure  # heavy: ~0.5 s to import; only the plots need it

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
    if m.get("trials"):
        t = m["trials"]
        yield (f"{t['k']} trials: " + "  ".join(f"pass^{k} {_pct(v)}" for k, v in t["pass_hat"].items())
               + f"  TCR 95% CI {_ci(t['TCR_ci95'], _pct)}; tasks always/sometimes/never solved "
               f"{t['consistency']['always']}/{t['consistency']['sometimes']}/{t['consistency']['never']}")
    yield f"report: {Path(result['out']) / REPORT}"


# --------------------------------------------------------------------------------------
# Several runs side by side, and one episode's transcript

COMPARED = ("TCR", "TIER", "AIR", "CRR", "VR", "ORR", "P50_latency_s")


def _cell(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return _num(value) if name == "AIR" else _num(value, 4) if name.endswith("_s") else _pct(value)


def compare_table(runs: Sequence[dict[str, Any]]) -> str:
    """One Markdown table of several runs' metrics.json: overall metrics and mean R, per agent;
    with repeated trials, a second table: pass^k, pass@k, consistency and intervals."""
    header = "| agent | reward | episodes | " + " | ".join(COMPARED) + " | mean R | " + \
        " | ".join(f"R {lv}" for lv in _levels(runs)) + " |"
    lines = [header, "|---|---|---:|" + "---:|" * (len(COMPARED) + 1 + len(_levels(runs)))]
    for m in runs:
        means = m["reward_means"]
        per_level = [_num((means["per_level"].get(lv) or {}).get("total")) if lv in means["per_level"] else "n/a"
                     for lv in _levels(runs)]
        lines.append(f"| {m['agent']} | {m.get('reward_version', '?')} | {m['counts']['episodes']} | "
                     + " | ".join(_cell(k, m["overall"].get(k)) for k in COMPARED)
                     + f" | {_num(means['overall']['total'])} | " + " | ".join(per_level) + " |")
    with_trials = [m for m in runs if m.get("trials")]
    if with_trials:
        ks = sorted({int(k) for m in with_trials for k in m["trials"]["pass_hat"]})
        lines += ["", "| agent | k | " + " | ".join(f"pass^{k}" for k in ks) + " | "
                  + " | ".join(f"pass@{k}" for k in ks) + " | always / sometimes / never | TCR 95% CI | sd of TCR "
                  "across trials |", "|---|---:|" + "---:|" * (2 * len(ks)) + "---|---|---:|"]
        for m in with_trials:
            t, c = m["trials"], m["trials"]["consistency"]
            lines.append(f"| {m['agent']} | {t['k']} | "
                         + " | ".join(_pct(t["pass_hat"].get(str(k))) for k in ks) + " | "
                         + " | ".join(_pct(t["pass_at"].get(str(k))) for k in ks)
                         + f" | {c['always']} / {c['sometimes']} / {c['never']} | {_ci(t['TCR_ci95'], _pct)} | "
                         f"{_pct(t['noise']['TCR_sd_across_trials'])} |")
    return "\n".join(lines).replace("—", "n/a") + "\n"


def _levels(runs: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({lv for m in runs for lv in m["per_level"]})


def plot_compare(runs: Sequence[dict[str, Any]], path: Path) -> None:
    """Side-by-side bars per agent: the rate metrics (%) and the mean reward per level, labelled."""
    # matplotlib: only the plots need it (see plot_metrics_by_level)
    from matplotlib.figure import Figure  # heavy: ~0.5 s to import; only the plots need it

    agents = [m["agent"] for m in runs]
    fig = Figure(figsize=(max(10, 2.2 * len(runs) + 6), 4.8), layout="constrained")
    axes = fig.subplots(1, 2, width_ratios=[1.6, 1])
    _grouped_bars(axes[0], agents, {k: [m["overall"].get(k) for m in runs] for k in RATE_METRICS}, 100.0, ".0f")
    axes[0].set_ylim(0, 125)
    axes[0].set_ylabel("%")
    axes[0].set_title("Rates, overall (n/a: undefined)")
    axes[0].legend(ncols=len(RATE_METRICS), fontsize="small", loc="upper left", bbox_to_anchor=(0, -0.08))
    levels = ["overall", *_levels(runs)]
    series = {m["agent"]: [(m["reward_means"]["overall"] if lv == "overall"
                            else m["reward_means"]["per_level"].get(lv) or {}).get("total") for lv in levels]
              for m in runs}
    _grouped_bars(axes[1], levels, series, 1.0, ".2f")
    axes[1].axhline(0, color="black", linewidth=0.6)
    axes[1].margins(y=0.2)
    axes[1].set_title("Mean reward R per level")
    axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(0, -0.08), ncols=min(len(runs), 4))
    fig.suptitle("Agents compared")
    fig.savefig(path, dpi=100)


def split_prompt(text: str) -> tuple[str, str] | None:
    """``(system, user)`` of a reset observation (the prompt as JSON), or None for other text."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if isinstance(value, dict) and isinstance(value.get("user"), str):
        return str(value.get("system", "")), value["user"]
    return None


def format_transcript(record: dict[str, Any], width: int = 100, system: bool = False) -> str:
    """One episode, readably: the outcome, the reward breakdown, the user's query, then every
    turn. The system prompt (the tool schemas among it) is one line unless ``system``."""
    def wrapped(label: str, text: str) -> str:
        return textwrap.fill(text, width=width, initial_indent=label, subsequent_indent=" " * len(label),
                             replace_whitespace=False, drop_whitespace=False) if text else label + "(empty)"

    r = record.get("reward", {})
    lines = [f"task {record['task_id']} ({record.get('level')}), agent {record.get('agent')}, seed {record.get('seed')}"
             + (f", trial {record['trial']}" if record.get("trial") else ""),
             f"R = {r.get('total')}  (R_fmt {r.get('R_fmt')}, R_corr {r.get('R_corr')}, R_eff {r.get('R_eff')}, "
             f"R_comp {r.get('R_comp')}; {r.get('version')})",
             f"ended by {record.get('terminated_by')} after {record.get('steps')} turns; success "
             f"{record.get('task_success')}; violations {record.get('violations') or 'none'}"]
    if record.get("error"):
        lines.append(f"errors: {record['error']}")
    turns = list(record.get("transcript") or [])
    if not turns:
        lines.append("(no transcript: this record was written before transcripts were kept)")
    prompt = split_prompt(str(turns[0].get("text", ""))) if turns else None
    if prompt is not None:
        sys_text, user = prompt
        if system:
            lines.append(wrapped("[0] system: ", sys_text))
        else:
            lines.append(f"[0] system: {len(sys_text):,} chars (instructions and tool schemas; --system shows them)")
        lines.append(wrapped("[0] user: ", user))
    for n, entry in enumerate(turns):
        if n == 0 and prompt is not None:
            continue
        who = "agent" if entry.get("role") == "agent" else "env"
        label = f"[{n // 2 if who == 'agent' else (n + 1) // 2}] {who}: "
        lines.append(wrapped(label, str(entry.get("text", ""))))
    return "\n".join(lines)
