"""Memory per live env (``gym.make``, or one task list passed in) and per live server session.

    python benchmarks/bench_memory.py [--envs 32] [--sessions 32]

One env is made first, so that what every env shares (the replica file, the task suite when
it is shared, the tool catalogue, the trained compliance classifier) is already loaded. Then
``--envs`` more are made and kept alive, each reset and stepped once (a read tool call).
Python's heap is measured with ``tracemalloc`` (its growth over the envs, divided by their
number); SQLite allocates outside it, so the resident set's growth per env is shown too.
Each row runs in a forked child, so that one row's freed memory does not hide the next's.

Server sessions: ``advisorgym serve`` runs in a child process (as deployed, on the default
replica); one ``FinAdvisorEnv(backend="http")`` is reset and stepped first, then
``--sessions`` more, each its own live session (reset and stepped once, kept open). The row
is the growth of the server process's resident set (``/proc/<pid>/statm``) per session.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import tracemalloc
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from bench_tool_latency import TOKEN, server_child

import envs
from envs.replica import default_replica
from envs.tasks import DEFAULT_SUITE, load_tasks

STEP = json.dumps({"thought": "Look up the client.",
                   "action": {"name": "get_client_profile", "arguments": {"client_id": "C000002"}}})


def rss_bytes(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def per_env(make: Callable[[], Any], n: int) -> tuple[float, float]:
    """KiB of Python heap and of resident set that each of ``n`` live envs adds."""
    first = make()
    first.reset(seed=0)
    first.step(STEP)
    gc.collect()
    rss0 = rss_bytes()
    tracemalloc.start()
    heap0 = tracemalloc.get_traced_memory()[0]
    live = []
    for i in range(n):
        env = make()
        env.reset(seed=i)
        env.step(STEP)
        live.append(env)
    gc.collect()
    heap = (tracemalloc.get_traced_memory()[0] - heap0) / n / 1024
    tracemalloc.stop()
    rss = (rss_bytes() - rss0) / n / 1024
    for env in [first, *live]:
        env.close()
    return heap, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--envs", type=int, default=32)
    ap.add_argument("--sessions", type=int, default=32, help="live server sessions (0: skip that row)")
    args = ap.parse_args()
    tasks = load_tasks(DEFAULT_SUITE)
    rows = {
        "gym.make(ENV_ID)": lambda: gym.make(envs.ENV_ID),
        "FinAdvisorEnv(tasks=<one shared list>)": lambda: envs.FinAdvisorEnv(tasks=tasks),
    }
    print(f"{args.envs} live envs, each reset and stepped once; per env:")
    fork = multiprocessing.get_context("fork")
    for name in rows:
        child = fork.Process(target=report, args=(name, rows[name], args.envs))
        child.start()
        child.join()
    if args.sessions:
        rss = per_session(tasks, args.sessions)
        print(f"{'advisorgym serve: live session':40s} resident set {rss:8.1f} KiB per session "
              f"(server process, {args.sessions} sessions)", flush=True)


def per_session(tasks: list[Any], n: int) -> float:
    """KiB of the server process's resident set that each of ``n`` live sessions adds."""
    with server_child(default_replica()) as (url, server):
        def make() -> envs.FinAdvisorEnv:
            env = envs.FinAdvisorEnv(tasks=tasks, backend="http", base_url=url, token=TOKEN)
            env.reset(seed=len(live))
            env.step(STEP)
            return env

        live: list[envs.FinAdvisorEnv] = []
        live.append(make())
        rss0 = rss_bytes(server.pid)
        for _ in range(n):
            live.append(make())
        rss = (rss_bytes(server.pid) - rss0) / n / 1024
        for env in live:
            env.close()
    return rss


def report(name: str, make: Callable[[], Any], n: int) -> None:
    heap, rss = per_env(make, n)
    print(f"{name:40s} Python heap {heap:8.1f} KiB   resident set {rss:8.1f} KiB", flush=True)


if __name__ == "__main__":
    main()
