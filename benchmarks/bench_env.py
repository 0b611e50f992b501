"""Median in-process ``step`` latency (a read tool) and ``reset`` latency on a large replica.

    python benchmarks/bench_env.py [--scale 100000] [--n 5000]

Reports medians and p90 in microseconds. The peer figure printed alongside is a bare
``call_tool`` on the same sandbox, so the environment's own overhead is visible.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from envs import FinAdvisorEnv
from envs.tasks import HANDWRITTEN, load_tasks
from mock_apis.catalogue import call_tool
from mock_apis.domains.finance.generate import generate_replica


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def summary(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs):8.1f} µs   p90 {xs[int(0.9 * len(xs))]:8.1f} µs"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        replica = Path(tmp) / "replica.sqlite"
        t0 = time.perf_counter()
        generate_replica(replica, seed=0, scale=args.scale)
        print(f"replica scale={args.scale} generated in {time.perf_counter() - t0:.1f} s")
        task = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == "hw-L1-01")
        env = FinAdvisorEnv(tasks=[task], replica=replica, max_steps=10**9, check_replica=False)
        action = json.dumps({"thought": "Look up the client.",
                             "action": {"name": "get_client_profile", "arguments": {"client_id": "C000002"}}})
        env.reset(seed=0)
        for _ in range(200):
            env.step(action)
        step = timed(lambda: env.step(action), args.n)
        bare = timed(lambda: call_tool(env.backend.sandbox, "get_client_profile", {"client_id": "C000002"}), args.n)
        write = json.dumps({"thought": "Note it.", "action": {"name": "add_advisor_note",
                                                               "arguments": {"client_id": "C000002", "text": "Called."}}})

        def dirty_reset() -> None:
            env.step(write)
            t0 = time.perf_counter()
            env.reset(seed=0)
            resets.append((time.perf_counter() - t0) * 1e6)

        resets: list[float] = []
        for _ in range(args.n // 5):
            dirty_reset()
        clean = timed(lambda: env.reset(seed=0), args.n)
        print(f"step  (get_client_profile, in-process)   {summary(step)}")
        print(f"peer: bare call_tool, same sandbox        {summary(bare)}   step/bare = "
              f"{statistics.median(step) / statistics.median(bare):.2f}x")
        print(f"reset after a write episode               {summary(resets)}")
        print(f"reset of a clean episode                  {summary(clean)}")
        env.close()


if __name__ == "__main__":
    main()
