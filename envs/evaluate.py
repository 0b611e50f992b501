"""Evaluate an agent over a task suite: episodes, ToolRLA metrics, a Markdown report and plots.

``run_eval`` (and ``advisorgym eval``) runs an agent over every task of a suite with one
environment reused across tasks (``reset(seed=seed + index, options={"task_id": ...})``, where
``index`` is the task's position in the suite file, so a task always gets the same seed) and
writes to the output directory:

- ``run.json``: the run's configuration (agent, suite path and SHA-256, reward config,
  max_steps, seed). A directory is only resumed by the same configuration;
- ``episodes.jsonl``: one JSON line per finished episode, flushed and fsynced as soon as the
  episode ends. On start the file is read back, finished tasks are skipped and a truncated
  last line (a crash mid-write) is dropped, so that task runs again;
- ``metrics.json``: the six ToolRLA metrics (``compute_metrics``), overall and per level, the
  mean of every reward component, the reward config version and counts;
- ``report.md`` with ``metrics_by_level.png`` and ``reward_components.png``.

Metrics (all episodes finished in the directory, for tasks of the suite):

- TCR: share of episodes whose terminal reward info has ``task_success``;
- TIER: invalid tool invocations / tool invocations, pooled over episodes. An invocation is
  a tool call the agent made (``n_calls``: calls that hit an injected fault are excluded,
  they are the sandbox's doing); it is invalid when the tool name is unknown, the arguments
  fail the schema, or the call returned any other error (``invalid_calls``); ``null`` when
  no tool was invoked;
- AIR: mean number of tool invocations per episode;
- CRR: among L4 episodes whose task expects a refusal, the share where the agent refused;
  ``null`` when there are none;
- VR: share of episodes with a compliance violation (``R_comp < 0``): the answer, or an
  unrequested write;
- ORR, over-refusal rate: among episodes whose task expects an answer, the share that
  refused instead (ToolRLA §3.4); ``null`` when there are none;
- P50 latency: median episode wall time in seconds (reset to final step, agent included).
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from envs.agents import Agent, make_agent, malformed_action
from envs.reward import RewardConfig
from envs.tasks import DEFAULT_SUITE, FIXTURES, LEVELS, Task, load_tasks

EPISODES = "episodes.jsonl"
RUN = "run.json"
METRICS = "metrics.json"
REPORT = "report.md"
PLOT_METRICS = "metrics_by_level.png"
PLOT_REWARDS = "reward_components.png"
OUTPUTS = (EPISODES, RUN, METRICS, REPORT, PLOT_METRICS, PLOT_REWARDS)

METRIC_NAMES = ("TCR", "TIER", "AIR", "CRR", "VR", "ORR", "P50_latency_s")
COMPONENTS = ("total", "R_fmt", "R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param", "r_name", "r_param",
              "r_value", "error_penalty", "answer_fact_recall")
PLOTTED_COMPONENTS = ("total", "R_fmt", "R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param")
# run.json keys that must match to resume into a directory.
IDENTITY_KEYS = ("agent", "agent_config", "tasks_sha256", "reward_config", "max_steps", "seed")


class EvalConfigError(RuntimeError):
    """The output directory belongs to a different run (or its files are unusable)."""


class EvalAborted(RuntimeError):
    """The agent's endpoint or the back-end failed systemically; the eval stopped.

    Episodes stored so far are kept; those that failed for infrastructure reasons were not
    stored, so the same command resumes and re-runs them once the cause is fixed.
    """


# Consecutive episodes with an infrastructure failure before the eval stops.
INFRA_STOP_AFTER = 3
# Failures that no retry fixes: credentials.
_FATAL_INFRA = ("unauthorized", "HTTP 401", "HTTP 403")


def infra_failure(record: dict[str, Any]) -> str | None:
    """Why this episode failed for infrastructure reasons (back-end or agent endpoint), or None."""
    reasons = record.get("infra_errors") or []
    return "; ".join(reasons)[:500] if reasons else None


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------
# episodes.jsonl


def load_episodes(path: str | os.PathLike[str], repair: bool = True) -> list[dict[str, Any]]:
    """The records of ``episodes.jsonl``; a truncated last line is dropped (and cut from the
    file when ``repair``). A corrupt line anywhere else is an error: it was not a crash."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # text after the last newline: b"" unless the last write was cut short
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        if not isinstance(record, dict) or "task_id" not in record:
            raise EvalConfigError(f"{path}:{n}: corrupt episode record (not the last line, so not a crash); "
                                  "fix or remove the line, or use --overwrite")
        records.append(record)
    if tail.strip():
        try:
            record = orjson.loads(tail)
        except orjson.JSONDecodeError:
            record = None
        complete = isinstance(record, dict) and "task_id" in record and "reward" in record
        if complete:
            records.append(record)
        if repair:
            with open(path, "r+b") as fh:
                if complete:
                    fh.seek(0, os.SEEK_END)
                    fh.write(b"\n")
                else:
                    fh.truncate(len(data) - len(tail))
                fh.flush()
                os.fsync(fh.fileno())
    return records


class EpisodeWriter:
    """Appends one record per line, flushed and fsynced before ``write`` returns."""

    def __init__(self, path: Path):
        self._fh = open(path, "ab")  # noqa: SIM115 - closed in close()

    def write(self, record: dict[str, Any]) -> None:
        self._fh.write(orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


# --------------------------------------------------------------------------------------
# Running episodes


def run_episode(env: Any, agent: Agent, task: Task, seed: int) -> dict[str, Any]:
    """Run one episode of ``agent`` on ``task``; the episode record (see the module doc).

    An exception from the agent does not end the eval: it is recorded as the episode's
    error and the rest of the episode is played with malformed actions, so it is scored
    (as a failure) like any other. Exceptions from the environment propagate.
    """
    started = time.perf_counter()
    obs, info = env.reset(seed=seed, options={"task_id": task.task_id})
    errors: list[str] = []
    crashed = False
    try:
        agent.start(task, obs, info)
    except Exception as exc:  # noqa: BLE001
        errors.append(f"agent.start raised {type(exc).__name__}: {exc}")
        crashed = True
    calls: list[dict[str, Any]] = []
    infra: list[str] = []
    steps = 0
    while True:
        if crashed:
            action = malformed_action("agent crashed")
        else:
            try:
                action = agent.act(obs)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"agent.act raised {type(exc).__name__}: {exc}")
                crashed = True
                action = malformed_action("agent crashed")
        obs, _, terminated, truncated, step_info = env.step(action)
        steps += 1
        calls.extend(step_info.get("calls", ()))
        if step_info.get("infra_error"):
            infra.extend(_infra_messages(obs))
        if terminated or truncated:
            break
    latency = time.perf_counter() - started
    reward = dict(step_info["reward"])
    reward.pop("reward_config", None)
    violations = reward.pop("violations", [])
    agent_errors = [str(e) for e in (getattr(agent, "errors", None) or [])]
    all_errors = _count_repeats(agent_errors + errors)
    infra += [f"agent endpoint: {e}" for e in (getattr(agent, "endpoint_errors", None) or [])]
    return {
        "task_id": task.task_id,
        "level": task.level,
        "agent": getattr(agent, "name", type(agent).__name__),
        "seed": seed,
        "steps": steps,
        "tool_calls": reward["n_calls"],
        "invalid_calls": reward["invalid_calls"],
        "injected_faults": reward["injected_faults"],
        "calls": [{k: c.get(k) for k in ("name", "valid_tool", "outcome", "error", "param_accuracy")} for c in calls],
        "total": reward["total"],
        "task_success": bool(reward["task_success"]),
        "violated": bool(reward["violated"]),
        "violations": [v["rule"] for v in violations],
        "refused": bool(reward["refused"]),
        "expected_refusal": bool(reward["expected_refusal"]),
        "over_refusal": bool(reward.get("over_refusal")),
        "unauthorized_writes": len(reward.get("unauthorized_writes") or ()),
        "infra_error": bool(reward.get("infra_error")),
        "terminated_by": reward["terminated_by"],
        "truncated": bool(truncated),
        "latency_s": latency,
        "error": "; ".join(all_errors)[:2000] if all_errors else None,
        "infra_errors": _count_repeats(infra)[:20],
        "reward": reward,
    }


def _infra_messages(observation: str) -> list[str]:
    """``code: message`` of each back-end failure in a step's observation."""
    from envs.reward import INFRA_ERROR_CODES

    try:
        value = orjson.loads(observation)
    except orjson.JSONDecodeError:
        return []
    results = [v.get("result") for v in value if isinstance(v, dict)] if isinstance(value, list) else [value]
    return [f"back-end {r['error']}: {str(r.get('message', ''))[:200]}" for r in results
            if isinstance(r, dict) and r.get("error") in INFRA_ERROR_CODES]


def _count_repeats(messages: list[str]) -> list[str]:
    """Distinct messages in first-seen order, repeats counted: ``"HTTP 500: ... (x3)"``."""
    counts: dict[str, int] = {}
    for m in messages:
        counts[m] = counts.get(m, 0) + 1
    return [m if n == 1 else f"{m} (x{n})" for m, n in counts.items()]


def _agent_identity(agent: Agent | str, agent_kwargs: dict[str, Any]) -> tuple[Agent, str, dict[str, Any]]:
    if isinstance(agent, str):
        spec = agent
        instance = make_agent(agent, **agent_kwargs)
    else:
        instance = agent
        spec = getattr(agent, "name", type(agent).__name__)
    config = dict(getattr(instance, "config", {}) or {})
    return instance, spec, config


def _prepare_out(out: Path, run_config: dict[str, Any], overwrite: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    run_path = out / RUN
    if overwrite:
        for name in OUTPUTS:
            (out / name).unlink(missing_ok=True)
    elif run_path.exists():
        try:
            previous = orjson.loads(run_path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise EvalConfigError(f"{run_path} is not valid JSON ({exc}); use --overwrite to start afresh") from None
        different = [k for k in IDENTITY_KEYS if previous.get(k) != run_config.get(k)]
        if different:
            detail = "; ".join(f"{k}: {previous.get(k)!r} there, {run_config.get(k)!r} now" for k in different)
            raise EvalConfigError(f"{out} holds a different run ({detail}). Use another --out, or --overwrite "
                                  "to discard its episodes.")
        run_config = {**run_config, "created": previous.get("created", run_config["created"])}
    elif (out / EPISODES).exists():
        raise EvalConfigError(f"{out / EPISODES} exists without {RUN}: cannot tell which run wrote it. "
                              "Use another --out, or --overwrite.")
    tmp = run_path.with_suffix(".json.tmp")
    tmp.write_bytes(orjson.dumps(run_config, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    os.replace(tmp, run_path)


def run_eval(agent: Agent | str = "oracle", tasks: str | os.PathLike[str] | None = None,
             out: str | os.PathLike[str] = "report", *, agent_kwargs: dict[str, Any] | None = None,
             limit: int | None = None, backend: str = "inprocess", url: str | None = None, token: str | None = None,
             composition: str = "multiplicative", reward_config: RewardConfig | None = None, max_steps: int = 12,
             seed: int = 0, overwrite: bool = False, progress: bool = True, plots: bool = True,
             env_kwargs: dict[str, Any] | None = None, infra_stop_after: int = INFRA_STOP_AFTER) -> dict[str, Any]:
    """Run (or resume) an evaluation; returns ``{"metrics", "ran", "skipped", "out", "episodes_s",
    "elapsed_s"}`` (``episodes_s``: env set-up and the episodes; ``elapsed_s``: everything).

    ``agent``: an agent instance or a ``make_agent`` spec (with ``agent_kwargs``). ``limit``:
    only the first ``limit`` tasks of the suite. Raises ``EvalConfigError`` when ``out``
    belongs to a different run, unless ``overwrite`` (which discards it). Episodes that failed
    for infrastructure reasons (the back-end's or the agent endpoint's) are not stored
    (``infra_failed`` counts them); ``infra_stop_after`` of them in a row, or rejected
    credentials, raise ``EvalAborted``.
    """
    from envs.env import FinAdvisorEnv

    started = time.perf_counter()
    suite_path = Path(tasks) if tasks is not None else DEFAULT_SUITE
    suite = load_tasks(suite_path)
    reward_config = reward_config or RewardConfig(composition=composition)
    instance, spec, agent_config = _agent_identity(agent, dict(agent_kwargs or {}))
    out = Path(out)
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    run_config = {
        "agent": spec, "agent_config": agent_config, "tasks": str(suite_path), "tasks_sha256": file_sha256(suite_path),
        "n_tasks": len(suite), "reward_config": reward_config.describe(), "reward_version": reward_config.version,
        "max_steps": max_steps, "seed": seed, "backend": backend, "created": now, "updated": now,
    }
    _prepare_out(out, run_config, overwrite)

    episodes_path = out / EPISODES
    done = {r["task_id"] for r in load_episodes(episodes_path)}
    indexed = list(enumerate(suite))
    targets = indexed[:limit] if limit is not None else indexed
    todo = [(i, t) for i, t in targets if t.task_id not in done]

    ran = infra_failed = consecutive = 0
    loop_started = time.perf_counter()
    if todo:
        env = FinAdvisorEnv(tasks=suite, backend=backend, base_url=url, token=token, max_steps=max_steps,
                            reward_config=reward_config, **(env_kwargs or {}))
        if callable(getattr(env.checker, "warm_up", None)):
            env.checker.warm_up()  # train the grey-area classifier now, not inside the first episode's latency
        writer = EpisodeWriter(episodes_path)
        try:
            with _progress(progress) as bar:
                task_bar = bar.add_task(f"{spec}", total=len(todo))
                successes, reward_sum = 0, 0.0
                for index, task in todo:
                    record = run_episode(env, instance, task, seed + index)
                    record["index"] = index
                    failure = infra_failure(record)
                    if failure is not None:  # not the agent's result: never stored, re-run on resume
                        infra_failed += 1
                        consecutive += 1
                        if consecutive >= infra_stop_after or any(f in failure for f in _FATAL_INFRA):
                            raise EvalAborted(
                                f"stopped after {consecutive} episode(s) in a row failed for infrastructure "
                                f"reasons (task {task.task_id}: {failure}). {ran} episodes were stored; "
                                "fix the cause and rerun the same command to resume.")
                        bar.update(task_bar, advance=1)
                        continue
                    consecutive = 0
                    writer.write(record)
                    ran += 1
                    successes += record["task_success"]
                    reward_sum += record["total"]
                    bar.update(task_bar, advance=1,
                               description=f"{spec} TCR {successes / ran:.0%} mean R {reward_sum / ran:+.2f}")
        finally:
            writer.close()
            env.close()
    if isinstance(agent, str) and callable(getattr(instance, "close", None)):
        instance.close()
    episodes_s = time.perf_counter() - loop_started

    suite_ids = {t.task_id for t in suite}
    records = [r for r in load_episodes(episodes_path) if r["task_id"] in suite_ids]
    metrics = compute_metrics(records)
    metrics.update(agent=spec, agent_config=agent_config, tasks=str(suite_path), reward_version=reward_config.version,
                   reward_config=reward_config.describe())
    metrics["counts"].update(tasks_in_suite=len(suite), complete=len(records) == len(suite),
                             infra_failed_not_stored=infra_failed)
    (out / METRICS).write_bytes(orjson.dumps(metrics, option=orjson.OPT_INDENT_2))
    if plots:
        plot_metrics_by_level(metrics, out / PLOT_METRICS)
        plot_reward_components(records, out / PLOT_REWARDS)
    (out / REPORT).write_text(render_report(metrics, plots=plots), encoding="utf-8")
    return {"metrics": metrics, "ran": ran, "skipped": len(targets) - len(todo), "infra_failed": infra_failed,
            "out": str(out), "episodes_s": episodes_s, "elapsed_s": time.perf_counter() - started}


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None


def _progress(enabled: bool) -> Any:
    if not enabled:
        return _NoProgress()
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    return Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())


# --------------------------------------------------------------------------------------
# Metrics


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def group_metrics(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The six ToolRLA metrics of a group of episode records (see the module doc)."""
    n = len(records)
    calls = sum(r["tool_calls"] for r in records)
    invalid = sum(r["invalid_calls"] for r in records)
    refusal = [r for r in records if r["level"] == "L4" and r["expected_refusal"]]
    answer_expected = [r for r in records if not r["expected_refusal"]]
    return {
        "n": n,
        "TCR": _mean([1.0 if r["task_success"] else 0.0 for r in records]),
        "TIER": invalid / calls if calls else None,
        "AIR": _mean([r["tool_calls"] for r in records]),
        "CRR": _mean([1.0 if r["refused"] else 0.0 for r in refusal]),
        "VR": _mean([1.0 if r["violated"] else 0.0 for r in records]),
        "ORR": _mean([1.0 if r.get("over_refusal") else 0.0 for r in answer_expected]),
        "P50_latency_s": statistics.median(r["latency_s"] for r in records) if records else None,
        "tool_calls": calls,
        "invalid_calls": invalid,
        "crr_episodes": len(refusal),
    }


def component_means(records: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    return {k: _mean([float(r["reward"][k]) for r in records]) for k in COMPONENTS}


def compute_metrics(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Metrics and reward-component means, overall and per level (levels with episodes)."""
    levels = [lv for lv in LEVELS if any(r["level"] == lv for r in records)]
    by_level = {lv: [r for r in records if r["level"] == lv] for lv in levels}
    return {
        "overall": group_metrics(records),
        "per_level": {lv: group_metrics(rs) for lv, rs in by_level.items()},
        "reward_means": {"overall": component_means(records),
                         "per_level": {lv: component_means(rs) for lv, rs in by_level.items()}},
        "counts": {
            "episodes": len(records),
            "per_level": {lv: len(rs) for lv, rs in by_level.items()},
            "task_success": sum(1 for r in records if r["task_success"]),
            "violated": sum(1 for r in records if r["violated"]),
            "truncated": sum(1 for r in records if r.get("truncated")),
            "errors": sum(1 for r in records if r.get("error")),
            "infra_error": sum(1 for r in records if r.get("infra_error")),
            "unauthorized_writes": sum(r.get("unauthorized_writes", 0) for r in records),
        },
    }


# --------------------------------------------------------------------------------------
# Report and plots


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
