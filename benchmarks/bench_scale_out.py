"""Scale-out: episodes/s with 1, 2 and 4 service containers behind one ``BackendPool``.

    python benchmarks/bench_scale_out.py [--replicas 1,2,4] [--workers 4] [--seconds 10] [--json FILE]

Starts the largest number of containers asked for (``DockerService``: the hardened image of
``mock_apis/docker/build.sh``, host networking, one free 127.0.0.1 port each, the tasks' default
replica mounted read-only), then for each replica count runs ``--workers`` client processes, each
with one ``FinAdvisorEnv(backend="http", base_url=[the first N URLs])`` looping over the
hand-written tasks' gold trajectories for ``--seconds``. Every episode's reward is checked against
the in-process reward, so a failing replica cannot pass as a fast one. The containers are removed
at the end.

The clients share the machine with the servers: on a host with few cores the figures show where
the CPUs run out rather than the service's ceiling (the CPU count is printed with them).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from pathlib import Path
from typing import Any

from envs import FinAdvisorEnv
from envs.docker_backend import DockerService
from envs.replica import default_replica
from envs.tasks import HANDWRITTEN, load_tasks



def gold_rewards(tasks: list[Any], replica: Path) -> dict[str, float]:
    env = FinAdvisorEnv(tasks=tasks, replica=replica)
    try:
        return {task.task_id: episode(env, task) for task in tasks}
    finally:
        env.close()


def episode(env: FinAdvisorEnv, task: Any) -> float:
    env.reset(seed=0, options={"task_id": task.task_id})
    for action in task.gold_actions():
        _, reward, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    return float(reward)


def worker(urls: list[str], token: str, expected: dict[str, float], start: Any, seconds: float, results: Any) -> None:
    tasks = load_tasks(HANDWRITTEN)
    env = FinAdvisorEnv(tasks=tasks, backend="http", base_url=urls, token=token)
    episode(env, tasks[0])  # warm: connections open, contract checked
    start.wait()
    done = wrong = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        task = tasks[done % len(tasks)]
        wrong += episode(env, task) != expected[task.task_id]
        done += 1
    env.close()
    results.put((done, wrong))


def measure(urls: list[str], token: str, expected: dict[str, float], workers: int, seconds: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    start, results = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(urls, token, expected, start, seconds, results)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    start.wait(timeout=120)
    began = time.monotonic()
    counts = [results.get(timeout=seconds + 120) for _ in procs]
    elapsed = time.monotonic() - began
    for proc in procs:
        proc.join(timeout=30)
    done, wrong = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if wrong:
        raise SystemExit(f"{wrong} of {done} episodes scored differently from in process on {urls}")
    return {"replicas": len(urls), "workers": workers, "episodes": done, "seconds": round(elapsed, 2),
            "episodes_per_s": round(done / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", default="1,2,4", help="replica counts to measure, comma-separated")
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per replica count")
    parser.add_argument("--image", default=None, help="image (default: $ADVISORGYM_DOCKER_IMAGE or advisorgym-api:latest)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    counts = [int(n) for n in args.replicas.split(",")]
    load = Path("/proc/loadavg").read_text().split()[:3]
    tasks = load_tasks(HANDWRITTEN)
    replica = default_replica(tasks[0].replica["seed"], tasks[0].replica["scale"])
    expected = gold_rewards(tasks, replica)
    services, token = [], "bench-scale-out-" + os.urandom(8).hex()
    try:
        for _ in range(max(counts)):
            services.append(DockerService(replica, image=args.image, token=token))
        rows = [measure([s.url for s in services[:n]], token, expected, args.workers, args.seconds) for n in counts]
    finally:
        for service in services:
            service.stop()
    base = rows[0]["episodes_per_s"]
    print(f"{os.cpu_count()} CPUs, load average before: {' '.join(load)}")
    print(f"{'replicas':>8} {'workers':>7} {'episodes':>8} {'episodes/s':>10} {'vs first':>8}")
    for row in rows:
        print(f"{row['replicas']:>8} {row['workers']:>7} {row['episodes']:>8} {row['episodes_per_s']:>10} "
              f"{row['episodes_per_s'] / base:>7.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"cpus": os.cpu_count(), "load_before": load, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
