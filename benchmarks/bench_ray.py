"""Per-node figures of the Ray integration, on a local two-node cluster (one CPU each).

    python benchmarks/bench_ray.py [--episodes 500] [--repeat 3] [--sessions 1000] [--json FILE]

- eval episodes: the oracle over the first ``--episodes`` suite tasks, in this process (the
  eval's ``EpisodeWorker``), on one actor (one node) and on two actors (two nodes) of a
  ``RayEnvPool``; episodes/s, env steps/s, the driver's CPU time per episode and the record's
  size (what each episode moves through the object store to the driver), medians of
  ``--repeat`` runs;
- turn-by-turn steps (the GRPO rollout path): the hand-written tasks' gold trajectories stepped
  through a local env and through a ``RemoteEnv`` (one Ray call per step): median µs per step;
- memory: the resident set of an env actor after its episodes (``psutil``), of this driver, and
  of a tool service replica (``ToolServer``) before and after ``--sessions`` live sessions.

Two nodes on one 2-core machine share its cores (and the machine is shared with other work):
the two-actor figure shows the pool's overhead and that both nodes work, not the speed-up of
two real machines. The CPU count and load average are printed with the figures.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import time
from typing import Any

import orjson
import psutil
import ray
from ray.cluster_utils import Cluster

from envs import FinAdvisorEnv
from envs.evaluation.agents import make_agent
from envs.evaluation.run import EpisodeWorker, Job
from envs.integrations.ray import RayEnvPool, ToolServiceGroup
from envs.replica import default_replica
from envs.tasks import HANDWRITTEN, SUITE, load_tasks


def make_env() -> FinAdvisorEnv:
    env = FinAdvisorEnv(tasks=SUITE)
    env.checker.warm_up()
    return env


def rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def eval_rates(jobs: list[Job], run: Any) -> dict[str, float]:
    """Episodes/s and steps/s; the driver's CPU time per episode (µs) and record size (bytes)."""
    driver = psutil.Process()
    cpu, started = sum(driver.cpu_times()[:2]), time.perf_counter()
    steps = size = 0
    for _, record in run(jobs):
        steps += record["steps"]
        size += len(orjson.dumps(record))
    elapsed, cpu = time.perf_counter() - started, sum(driver.cpu_times()[:2]) - cpu
    return {"episodes_s": len(jobs) / elapsed, "steps_s": steps / elapsed,
            "driver_cpu_us_per_episode": cpu / len(jobs) * 1e6, "record_bytes": size / len(jobs)}


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 1) for key in runs[0]}


def step_us(env: Any, tasks: list[Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        for task in tasks:
            env.reset(seed=0, options={"task_id": task.task_id})
            for action in task.gold_actions():
                started = time.perf_counter()
                _, _, terminated, truncated, _ = env.step(action)
                times.append(time.perf_counter() - started)
                if terminated or truncated:
                    break
    return round(statistics.median(times) * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    suite = load_tasks(SUITE)[:args.episodes]
    jobs = [Job(i, 0, task, i) for i, task in enumerate(suite)]
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()}

    local = EpisodeWorker(make_env, make_agent("oracle"), 20_000)
    figures["in_process"] = median_of([eval_rates(jobs, lambda js: ((j, local.run(j)) for j in js))
                                       for _ in range(args.repeat)])
    handwritten = load_tasks(HANDWRITTEN)
    hw_env = FinAdvisorEnv(tasks=HANDWRITTEN)
    figures["step_us_in_process"] = step_us(hw_env, handwritten, args.repeat)
    hw_env.close()
    local.env.close()

    cluster = Cluster(initialize_head=True, connect=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        figures["driver_rss_mib"] = round(rss_mib(os.getpid()), 1)
        for workers in (1, 2):
            pool = RayEnvPool(make_env, functools.partial(make_agent, "oracle"), workers=workers)
            places = pool.wait_ready()
            runs = [eval_rates(jobs, pool.run) for _ in range(args.repeat)]
            figures[f"ray_{workers}_actor"] = {**median_of(runs), "nodes": len({p["node_id"] for p in places}),
                                               "actor_rss_mib": [round(rss_mib(p["pid"]), 1) for p in places]}
            pool.close()

        pool = RayEnvPool(functools.partial(FinAdvisorEnv, tasks=HANDWRITTEN), workers=1)
        remote = pool.remote_env()
        figures["step_us_remote_env"] = step_us(remote, handwritten, args.repeat)
        remote.close()
        pool.close()

        import httpx

        group = ToolServiceGroup(str(default_replica()), ["bench-token"], replicas=1, num_cpus=0.5,
                                 max_sessions=args.sessions + 16)
        actor, place = group.servers[0]
        before = rss_mib(place["pid"])
        with httpx.Client(base_url=place["url"], headers={"Authorization": "Bearer bench-token"}) as client:
            started = time.perf_counter()
            for _ in range(args.sessions):
                client.post("/sessions").raise_for_status()
            opened_s = time.perf_counter() - started
        live = ray.get(actor.live_sessions.remote())
        after = rss_mib(place["pid"])
        figures["tool_service"] = {"sessions": live, "rss_before_mib": round(before, 1),
                                   "rss_after_mib": round(after, 1),
                                   "mib_per_session": round((after - before) / max(live, 1), 3),
                                   "sessions_opened_per_s": round(args.sessions / opened_s, 1)}
        group.close()
    finally:
        ray.shutdown()
        cluster.shutdown()
    figures["load_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
