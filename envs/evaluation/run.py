"""Evaluate an agent over a task suite: episodes, ToolRLA metrics, a Markdown report and plots.

``run_eval`` (and ``advisorgym eval``) runs an agent over every task of a suite, ``trials``
times, with one environment per worker reused across tasks: trial ``t`` of the task at
position ``index`` of the suite file is reset with ``seed + index + t * len(suite)`` (so a task
always gets the same seed, and trial 0 the seed a single-trial run gives it). With
``concurrency`` N, N workers (each its own environment and agent) take episodes from one
queue; the episode code is the same as with one (``run_episode``), and so are the records.
A lock file (``.lock``) keeps a second eval out of a directory in use. It writes to the output
directory:

- ``run.json``: the run's configuration (agent, suite path and SHA-256, reward config,
  max_steps, seed). A directory is only resumed by the same configuration;
- ``episodes.jsonl``: one JSON line per finished episode (``envs.evaluation.outputs``),
  appended as episodes finish and put in suite order (trial, then task index) when the run
  ends, so that a concurrent run's file matches a sequential run's; episodes that failed for
  infrastructure reasons are not stored, so a resume re-runs them;
- ``metrics.json``: the ToolRLA metrics (``envs.evaluation.metrics``), overall and per
  level, the mean of every reward component, the reward config version and counts;
- ``report.md`` with ``metrics_by_level.png`` and ``reward_components.png``
  (``envs.evaluation.report``).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from envs.evaluation.agents import Agent, make_agent, malformed_action
from envs.evaluation.metrics import compute_metrics, trial_metrics
from envs.evaluation.outputs import (EPISODES, METRICS, OUTPUTS, PLOT_METRICS, PLOT_REWARDS, REPORT, RUN,
                                     EpisodeWriter, EvalConfigError, OutLock, file_sha256, load_episodes,
                                     write_atomic)
from envs.evaluation.report import plot_metrics_by_level, plot_reward_components, render_report
from envs.reward import RewardConfig
from envs.tasks import Task, load_tasks
from mock_apis.domain import DEFAULT_DOMAIN, Domain, get_domain

IDENTITY_KEYS = ("agent", "agent_config", "tasks_sha256", "reward_config", "max_steps", "seed")


class EvalAborted(RuntimeError):
    """The agent's endpoint or the back-end failed systemically; the eval stopped.

    Episodes stored so far are kept; those that failed for infrastructure reasons were not
    stored, so the same command resumes and re-runs them once the cause is fixed.
    """


# Consecutive episodes with an infrastructure failure before the eval stops.
INFRA_STOP_AFTER = 3
# Failures that no retry fixes: credentials (the endpoint's, or the proxy's).
_FATAL_INFRA = ("unauthorized", "HTTP 401", "HTTP 403", "HTTP 407")


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


def _agent_identity(agent: Agent | str, agent_kwargs: dict[str, Any],
                    domain: str | Domain | None = None) -> tuple[Agent, str, dict[str, Any]]:
    if isinstance(agent, str):
        spec = agent
        instance = make_agent(agent, domain, **agent_kwargs)
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
    write_atomic(run_path, orjson.dumps(run_config, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


@dataclass(frozen=True)
class Job:
    """One episode to run: trial ``trial`` of the task at position ``index`` of the suite."""

    index: int
    trial: int
    task: Task
    seed: int


class EpisodeWorker:
    """An agent and an environment of its own (built by ``open``); runs jobs one after another."""

    def __init__(self, make_env: Callable[[], Any], agent: Agent, transcript_chars: int):
        self.make_env = make_env
        self.env: Any = None
        self.agent = agent
        self.transcript_chars = transcript_chars

    def open(self) -> None:
        if self.env is None:
            self.env = self.make_env()

    def run(self, job: Job) -> dict[str, Any]:
        record = run_episode(self.env, self.agent, job.task, job.seed, self.transcript_chars)
        record["index"] = job.index
        record["trial"] = job.trial
        return record

    def close(self) -> None:
        if self.env is not None:
            self.env.close()


def _sequential(jobs: list[Job], workers: list[EpisodeWorker]) -> Iterator[tuple[Job, dict[str, Any], bool]]:
    """The jobs in order, on the one worker, in this thread (``(job, record, False)``: none waits)."""
    for job in jobs:
        yield job, workers[0].run(job), False


def _concurrent(jobs: list[Job], workers: list[EpisodeWorker]) -> Iterator[tuple[Job, dict[str, Any], bool]]:
    """The jobs on every worker at once (a thread each), yielded as they finish: ``(job, record,
    more)``, ``more`` when another finished episode is already waiting.

    Each worker builds its environment in its own thread before its first job (``open``), so
    the workers' set-up overlaps the answers the first ones wait for instead of delaying every
    first request. An exception in a worker (an env failure) is raised here once it arrives;
    closing the iterator early (an abort) lets the episodes in flight finish and starts no
    other. A worker with no episode left calls its agent's ``retire()`` where it has one (the hf
    agents then stop waiting for its turns to fill a batch).
    """
    pending: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    results: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stop = threading.Event()
    done = object()

    def loop(worker: EpisodeWorker) -> None:
        try:
            while not stop.is_set():
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    break
                worker.open()
                results.put((job, worker.run(job)))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, raised there
            results.put((None, exc))
        finally:
            if callable(getattr(worker.agent, "retire", None)):
                worker.agent.retire()
            results.put(done)

    threads = [threading.Thread(target=loop, args=(w,), name=f"eval-worker-{n}", daemon=True)
               for n, w in enumerate(workers)]
    for t in threads:
        t.start()
    try:
        running = len(threads)
        while running:
            item = results.get()
            if item is done:
                running -= 1
                continue
            job, value = item
            if isinstance(value, BaseException):
                raise value
            yield job, value, not results.empty()
    finally:
        stop.set()
        for t in threads:
            t.join()


def _start_workers(n: int, make_env: Callable[[], Any], first_agent: Agent,
                   make_other_agent: Callable[[], Agent], transcript_chars: int) -> list[EpisodeWorker]:
    """``n`` workers. The first one's environment is built here, so that a replica or back-end
    that cannot serve fails the eval before any episode starts; the others' are built by their
    own threads (``_concurrent``)."""
    agents = [first_agent] + [make_other_agent() for _ in range(n - 1)]
    workers = [EpisodeWorker(make_env, a, transcript_chars) for a in agents]
    workers[0].open()
    return workers


def _order_episodes(path: Path) -> None:
    """Rewrite ``episodes.jsonl`` in suite order (trial, then index), atomically, if it is not."""
    records = load_episodes(path)
    key = [(r.get("trial", 0), r.get("index", 0)) for r in records]
    if key == sorted(key):
        return
    order = sorted(range(len(records)), key=key.__getitem__)
    tmp = path.with_suffix(".jsonl.tmp")
    with open(tmp, "wb") as fh:
        for i in order:
            fh.write(orjson.dumps(records[i], option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def run_eval(agent: Agent | str = "oracle", tasks: str | os.PathLike[str] | None = None,
             out: str | os.PathLike[str] = "report", *, agent_kwargs: dict[str, Any] | None = None,
             limit: int | None = None, backend: str = "inprocess", url: str | None = None, token: str | None = None,
             composition: str = "multiplicative", reward_config: RewardConfig | None = None, max_steps: int = 12,
             seed: int = 0, overwrite: bool = False, progress: bool = True, plots: bool = True,
             env_kwargs: dict[str, Any] | None = None, infra_stop_after: int = INFRA_STOP_AFTER,
             transcript_chars: int = TRANSCRIPT_CHARS, concurrency: int = 1, trials: int = 1,
             episode_pool: Callable[..., Any] | None = None, domain: str | Domain | None = None) -> dict[str, Any]:
    """Run (or resume) an evaluation; returns ``{"metrics", "ran", "skipped", "out", "episodes_s",
    "elapsed_s"}`` (``episodes_s``: env set-up and the episodes; ``elapsed_s``: everything), and
    with an ``episode_pool``, ``"pool"``: its ``report()`` (on Ray: ``{"episodes_by_node",
    "actors_replaced", "episodes_retried"}``).

    ``agent``: an agent instance or a ``make_agent`` spec (with ``agent_kwargs``); concurrent
    workers get the agent's ``worker_copy()`` where it has one, else a new agent of the spec. ``limit``:
    only the first ``limit`` tasks of the suite. ``trials``: runs of each task (distinct seeds;
    a directory run with fewer is extended). ``concurrency``: episodes at once, each worker with
    its own environment and agent (a spec is needed to build more than one agent). Raises
    ``EvalConfigError`` when ``out`` belongs to a different run, unless ``overwrite`` (which
    discards it), and ``EvalLocked`` when another eval is writing there. Episodes that failed
    for infrastructure reasons (the back-end's or the agent endpoint's) are not stored
    (``infra_failed`` counts them); ``infra_stop_after`` of them in a row, or rejected
    credentials, raise ``EvalAborted``.

    ``episode_pool``: run the episodes in other processes instead, such as Ray actors
    (``envs.integrations.ray.eval_pool(address)``): called with ``(make_env, make_agent,
    concurrency, transcript_chars)`` it returns a pool whose ``run(jobs)`` yields ``(job, record)``
    once per job (``report()``, ``contract_status()``, ``close()``); each worker builds its own
    environment and agent (the agent by name). The records are the same as in this process.

    ``domain``: the back office the tasks are written for (default: the default domain; its
    frozen suite is the default ``tasks``); a pool's workers get it by name.
    """
    from envs.env import FinAdvisorEnv

    started = time.perf_counter()
    if concurrency < 1 or trials < 1:
        raise ValueError("concurrency and trials must be at least 1")
    if concurrency > 1 and not isinstance(agent, str) and not callable(getattr(agent, "worker_copy", None)):
        raise ValueError("concurrency > 1 needs the agent by name, or one with worker_copy() (each worker has its "
                         "own agent)")
    if episode_pool is not None and not isinstance(agent, str):
        raise ValueError("an episode pool builds each worker's agent where it runs: pass the agent by name")
    if (concurrency > 1 or episode_pool is not None) and (env_kwargs or {}).get("audit_log") is not None:
        raise ValueError("an audit log is one hash chain written by one environment: use --concurrency 1 (and no "
                         "--ray) with --audit-log")
    found = get_domain(domain)
    worker_domain = found if episode_pool is None else found.name  # another process looks it up by name
    suite_path = Path(tasks) if tasks is not None else found.suite_path
    suite = load_tasks(suite_path)
    if not suite:
        raise ValueError(f"{suite_path} holds no tasks (an empty file?): nothing to evaluate")
    reward_config = reward_config or RewardConfig(composition=composition)
    out = Path(out)
    lock = OutLock(out)  # before anything is read or removed there
    try:
        instance, spec, agent_config = _agent_identity(agent, dict(agent_kwargs or {}), found)
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        run_config = {
            "agent": spec, "agent_config": agent_config, "tasks": str(suite_path),
            "tasks_sha256": file_sha256(suite_path), "n_tasks": len(suite), "reward_config": reward_config.describe(),
            "reward_version": reward_config.version, "max_steps": max_steps, "seed": seed, "backend": backend,
            "trials": trials, "created": now, "updated": now,
            **({"domain": found.name} if found.name != DEFAULT_DOMAIN else {}),
        }
        _prepare_out(out, run_config, overwrite)

        episodes_path = out / EPISODES
        done = {(r["task_id"], r.get("trial", 0)) for r in load_episodes(episodes_path)}
        indexed = list(enumerate(suite))
        targets = indexed[:limit] if limit is not None else indexed
        jobs = [Job(i, trial, t, seed + i + trial * len(suite)) for trial in range(trials) for i, t in targets
                if (t.task_id, trial) not in done]

        ran = infra_failed = consecutive = errors = 0
        audit: dict[str, Any] | None = None
        contract: dict[str, Any] | None = None
        pool_report: dict[str, Any] | None = None
        loop_started = time.perf_counter()
        if jobs:
            def make_env() -> Any:
                env = FinAdvisorEnv(tasks=suite_path, backend=backend, base_url=url, token=token,
                                    max_steps=max_steps, reward_config=reward_config, domain=worker_domain,
                                    **(env_kwargs or {}))
                if callable(getattr(env.checker, "warm_up", None)):
                    env.checker.warm_up()  # the grey-area classifier now, not inside the first episode's latency
                return env

            n_workers = min(concurrency, len(jobs))
            if episode_pool is None:
                copy_agent = getattr(instance, "worker_copy", None) or (
                    lambda: make_agent(spec, found, **(agent_kwargs or {})))
                workers = _start_workers(n_workers, make_env, instance, copy_agent, transcript_chars)
                finished = (_sequential if n_workers == 1 else _concurrent)(jobs, workers)
            else:
                from functools import partial

                if callable(getattr(instance, "close", None)):
                    instance.close()  # each worker builds its own
                workers = []
                pool = episode_pool(make_env, partial(make_agent, spec, worker_domain, **(agent_kwargs or {})),
                                    n_workers, transcript_chars)
                finished = pool.run(jobs)
            writer = EpisodeWriter(episodes_path)
            try:
                with _progress(progress) as bar:
                    task_bar = bar.add_task(f"{spec}", total=len(jobs))
                    successes, reward_sum = 0, 0.0
                    try:
                        for job, record, more in finished:
                            failure = infra_failure(record)
                            if failure is not None:  # not the agent's result: never stored, re-run on resume
                                infra_failed += 1
                                consecutive += 1
                                if consecutive >= infra_stop_after or any(f in failure for f in _FATAL_INFRA):
                                    raise EvalAborted(
                                        f"stopped after {consecutive} episode(s) in a row failed for infrastructure "
                                        f"reasons (task {job.task.task_id}: {failure}). {ran} episodes were stored; "
                                        "fix the cause and rerun the same command to resume.")
                            else:
                                consecutive = 0
                                writer.write(record, sync=False)
                                ran += 1
                                successes += record["task_success"]
                                reward_sum += record["total"]
                                errors += bool(record["error"])
                            if not more:  # else the episode waiting is synced with this one
                                writer.sync()
                            bar.update(task_bar, advance=1, description=(
                                f"{spec} TCR {successes / max(ran, 1):.0%} mean R {reward_sum / max(ran, 1):+.2f} "
                                f"errors {errors} infra {infra_failed}"))
                    finally:
                        finished.close()
            finally:
                try:
                    writer.close()
                finally:
                    if workers:
                        contract = workers[0].env.contract_status
                        env0 = workers[0].env
                        if env0.audit is not None:  # ties this report to its audit log: `audit verify --head`
                            audit = {"path": str(env_kwargs["audit_log"]), "head": env0.audit.head}
                    else:
                        contract = pool.contract_status()
                        pool_report = pool.report()
                        pool.close()
                    for w in workers:
                        w.close()
                    made_here = workers if isinstance(agent, str) else workers[1:]  # the caller's agent stays open
                    for w in made_here:
                        if callable(getattr(w.agent, "close", None)):
                            w.agent.close()
            _order_episodes(episodes_path)
        else:
            if isinstance(agent, str) and callable(getattr(instance, "close", None)):
                instance.close()
            # Nothing ran: the provenance of the episodes there is the previous run's.
            previous = _previous_metrics(out)
            contract, audit = previous.get("contract"), previous.get("audit")
        episodes_s = time.perf_counter() - loop_started

        suite_ids = {t.task_id for t in suite}
        records = [r for r in load_episodes(episodes_path) if r["task_id"] in suite_ids and r.get("trial", 0) < trials]
        metrics = compute_metrics(records)
        metrics.update(agent=spec, agent_config=agent_config, tasks=str(suite_path),
                       reward_version=reward_config.version, reward_config=reward_config.describe())
        if trials > 1:
            metrics["trials"] = trial_metrics(records, trials)
        metrics["counts"].update(tasks_in_suite=len(suite), trials=trials,
                                 complete=len(records) == len(suite) * trials, infra_failed_not_stored=infra_failed)
        if audit is not None:
            metrics["audit"] = audit
        if contract is not None:
            metrics["contract"] = contract
        write_atomic(out / METRICS, orjson.dumps(metrics, option=orjson.OPT_INDENT_2))
        if plots:
            plot_metrics_by_level(metrics, out / PLOT_METRICS)
            plot_reward_components(records, out / PLOT_REWARDS)
        write_atomic(out / REPORT, render_report(metrics, plots=plots).encode())
    finally:
        lock.release()
    return {"metrics": metrics, "ran": ran, "skipped": len(targets) * trials - len(jobs), "infra_failed": infra_failed,
            "out": str(out), "episodes_s": episodes_s, "elapsed_s": time.perf_counter() - started,
            **({"pool": pool_report} if pool_report is not None else {})}


def _previous_metrics(out: Path) -> dict[str, Any]:
    try:
        value = orjson.loads((out / METRICS).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


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

    # Redrawn twice a second: at rich's default 10 it took ~0.1 s of a 1.3 s run of 32 workers on 2 cores.
    return Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(), refresh_per_second=2)
