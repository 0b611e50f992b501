"""Evaluate an agent over a task suite: episodes, ToolRLA metrics, a Markdown report and plots.

``run_eval`` (and ``advisorgym eval``) runs an agent over every task of a suite with one
environment reused across tasks (``reset(seed=seed + index, options={"task_id": ...})``, where
``index`` is the task's position in the suite file, so a task always gets the same seed) and
writes to the output directory:

- ``run.json``: the run's configuration (agent, suite path and SHA-256, reward config,
  max_steps, seed). A directory is only resumed by the same configuration;
- ``episodes.jsonl``: one JSON line per finished episode (``envs.evaluation.outputs``);
  episodes that failed for infrastructure reasons are not stored, so a resume re-runs them;
- ``metrics.json``: the ToolRLA metrics (``envs.evaluation.metrics``), overall and per
  level, the mean of every reward component, the reward config version and counts;
- ``report.md`` with ``metrics_by_level.png`` and ``reward_components.png``
  (``envs.evaluation.report``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import orjson

from envs.evaluation.agents import Agent, make_agent, malformed_action
from envs.evaluation.metrics import compute_metrics
from envs.evaluation.outputs import (EPISODES, METRICS, OUTPUTS, PLOT_METRICS, PLOT_REWARDS, REPORT, RUN,
                                     EpisodeWriter, EvalConfigError, file_sha256, load_episodes)
from envs.evaluation.report import plot_metrics_by_level, plot_reward_components, render_report
from envs.reward import RewardConfig
from envs.tasks import DEFAULT_SUITE, Task, load_tasks

IDENTITY_KEYS = ("agent", "agent_config", "tasks_sha256", "reward_config", "max_steps", "seed")


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



# Each transcript entry (an observation or an agent turn) is cut past this many characters.
TRANSCRIPT_CHARS = 20_000


def _clip(text: Any, limit: int) -> str:
    text = text if isinstance(text, str) else repr(text)
    if limit <= 0 or len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated: {len(text)} chars]"


def run_episode(env: Any, agent: Agent, task: Task, seed: int,
                transcript_chars: int = TRANSCRIPT_CHARS) -> dict[str, Any]:
    """Run one episode of ``agent`` on ``task``; the episode record (see the module doc).

    The record's ``transcript`` is the whole exchange: the reset observation, then each agent
    turn (the raw text sent to ``step``) and the observation it got back, every entry cut past
    ``transcript_chars`` characters (0: never cut).

    An exception from the agent does not end the eval: it is recorded as the episode's
    error and the rest of the episode is played with malformed actions, so it is scored
    (as a failure) like any other. Exceptions from the environment propagate.
    """
    started = time.perf_counter()
    obs, info = env.reset(seed=seed, options={"task_id": task.task_id})
    transcript = [{"role": "env", "text": _clip(obs, transcript_chars)}]
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
        transcript += [{"role": "agent", "text": _clip(action, transcript_chars)},
                       {"role": "env", "text": _clip(obs, transcript_chars)}]
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
        **episode_fields(reward, violations, calls),
        "injected_faults": reward["injected_faults"],
        "terminated_by": reward["terminated_by"],
        "truncated": bool(truncated),
        "latency_s": latency,
        "error": "; ".join(all_errors)[:2000] if all_errors else None,
        "infra_errors": _count_repeats(infra)[:20],
        "reward": reward,
        "transcript": transcript,
    }


def episode_fields(reward: dict[str, Any], violations: list[dict[str, Any]], calls: list[dict[str, Any]]
                   ) -> dict[str, Any]:
    """The fields of an episode record that ``compute_metrics`` reads, from the episode's
    terminal reward info, its violations and its per-call signals (the live eval and a
    replayed production log build their records with this)."""
    return {
        "tool_calls": reward["n_calls"],
        "invalid_calls": reward["invalid_calls"],
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
             env_kwargs: dict[str, Any] | None = None, infra_stop_after: int = INFRA_STOP_AFTER,
             transcript_chars: int = TRANSCRIPT_CHARS) -> dict[str, Any]:
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
    if not suite:
        raise ValueError(f"{suite_path} holds no tasks (an empty file?): nothing to evaluate")
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
    audit: dict[str, Any] | None = None
    contract: dict[str, Any] | None = None
    loop_started = time.perf_counter()
    if todo:
        env = FinAdvisorEnv(tasks=suite_path, backend=backend, base_url=url, token=token, max_steps=max_steps,
                            reward_config=reward_config, **(env_kwargs or {}))
        if callable(getattr(env.checker, "warm_up", None)):
            env.checker.warm_up()  # train the grey-area classifier now, not inside the first episode's latency
        writer = EpisodeWriter(episodes_path)
        try:
            with _progress(progress) as bar:
                task_bar = bar.add_task(f"{spec}", total=len(todo))
                successes, reward_sum = 0, 0.0
                for index, task in todo:
                    record = run_episode(env, instance, task, seed + index, transcript_chars)
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
            contract = env.contract_status
            if env.audit is not None:  # ties this report to its audit log: `audit verify --head`
                audit = {"path": str(env_kwargs["audit_log"]), "head": env.audit.head}
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
    if audit is not None:
        metrics["audit"] = audit
    if contract is not None:
        metrics["contract"] = contract
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
