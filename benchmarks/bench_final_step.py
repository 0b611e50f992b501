"""The final step of an ordinary episode (compliance check + reward assembly), and a whole
one-call episode, in process.

    python benchmarks/bench_final_step.py [--n 5000] [--task hw-L1-01] [--versions toolrla-1.2.0 toolrla-1.1.0]
    python benchmarks/bench_final_step.py --interleaved [--n 1500]
    python benchmarks/bench_final_step.py --first-step [--n 9]

The task's gold call is made, then its gold answer is the final step. "cold" clears the
grey-area classifier's sentence memo before each final step, so every sentence is scored
afresh (an answer never seen before); "warm" is the usual case of a sentence seen in an
earlier episode. The raw floor is a SQLite SELECT by primary key plus ``orjson.dumps`` on the
env's own connection. Medians and p90 in microseconds, and ratios to the floor. Each reward
version is measured in the same run (its own env), and the final step's median is compared
with the last version's.

``--interleaved``: the versions' final steps alternate in one process, so that both see the
same load on a shared machine; prints each version's medians and the median of the paired
ratios to the last version. ``--first-step``: the first final step of a fresh process
(``--n`` processes per version, alternating), which pays whatever is loaded lazily.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import orjson

from envs import FinAdvisorEnv
from envs.reward import REWARD_VERSION, V11_VERSION, VERSIONS
from envs.tasks import HANDWRITTEN, load_tasks


def summary(xs: list[float], floor: float) -> str:
    xs = sorted(xs)
    median = statistics.median(xs)
    return f"median {median:8.1f} µs   p90 {xs[int(0.9 * len(xs))]:8.1f} µs   {median / floor:6.1f}× floor"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--task", default="hw-L1-01")
    ap.add_argument("--versions", nargs="+", default=[REWARD_VERSION, V11_VERSION], choices=VERSIONS)
    ap.add_argument("--interleaved", action="store_true", help="alternate the versions in one process")
    ap.add_argument("--first-step", action="store_true", help="the first final step of fresh processes")
    ap.add_argument("--time-first-step", metavar="VERSION", help=argparse.SUPPRESS)  # one fresh process's part
    args = ap.parse_args()
    task = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == args.task)
    if args.time_first_step:
        env = FinAdvisorEnv(tasks=[task], max_steps=10**9, reward_config={"version": args.time_first_step})
        print(final_step_time(env, task, cold=False))
        return
    print(f"task {task.task_id}: {task.gold_calls[0].name}, answer of {len(task.gold_response)} characters")
    if args.interleaved:
        interleaved(task, args.versions, args.n)
        return
    if args.first_step:
        first_steps(args.task, args.versions, args.n)
        return
    warm = {version: measure(task, version, args.n) for version in args.versions}
    last = args.versions[-1]
    for version, median in warm.items():
        print(f"{version}: final step, warm, median {median:.1f} µs = {median / warm[last]:.2f}× {last}")


def final_step_time(env: FinAdvisorEnv, task, cold: bool) -> float:
    """One episode's final step (the gold call, then the gold answer), in microseconds."""
    env.reset(seed=0)
    env.step(task.gold_actions()[0])
    if cold:
        env.checker.warm_up()._classifier().probability.cache_clear()
    t0 = time.perf_counter()
    env.step(task.gold_actions()[-1])
    return (time.perf_counter() - t0) * 1e6


def interleaved(task, versions: list[str], n: int) -> None:
    envs = {v: FinAdvisorEnv(tasks=[task], max_steps=10**9, reward_config={"version": v}) for v in versions}
    for env in envs.values():
        for _ in range(200):
            final_step_time(env, task, cold=False)
    last = versions[-1]
    for cold in (False, True):
        times: dict[str, list[float]] = {v: [] for v in versions}
        for _ in range(n):
            for v, env in envs.items():
                times[v].append(final_step_time(env, task, cold))
        for v in versions:
            ratio = statistics.median(a / b for a, b in zip(times[v], times[last]))
            print(f"{v}: final step, {'cold' if cold else 'warm'}, interleaved, median "
                  f"{statistics.median(times[v]):.1f} µs; median paired ratio to {last} {ratio:.2f}×")


def first_steps(task_id: str, versions: list[str], n: int) -> None:
    times: dict[str, list[float]] = {v: [] for v in versions}
    for _ in range(n):
        for v in versions:
            out = subprocess.run([sys.executable, __file__, "--task", task_id, "--time-first-step", v],
                                 capture_output=True, text=True, check=True).stdout
            times[v].append(float(out.split()[-1]))
    for v in versions:
        print(f"{v}: first final step of a process, median {statistics.median(times[v]) / 1e3:.2f} ms "
              f"over {n} processes ({statistics.median(times[v]) / statistics.median(times[versions[-1]]):.2f}× "
              f"{versions[-1]})")


def measure(task, version: str, n: int) -> float:
    """Print the version's rows; the warm final step's median."""
    env = FinAdvisorEnv(tasks=[task], max_steps=10**9, reward_config={"version": version})
    call, answer = task.gold_actions()[0], task.gold_actions()[-1]
    memo = env.checker.warm_up()._classifier().probability
    con = env.backend.sandbox.con
    client = (task.compliance.subject_client_ids or ("C000002",))[0]

    def floor() -> None:
        orjson.dumps(dict(con.execute("SELECT * FROM clients WHERE client_id = ?", (client,)).fetchone()))

    def final_step(before: Callable[[], None]) -> float:
        env.reset(seed=0)
        env.step(call)
        before()
        t0 = time.perf_counter()
        env.step(answer)
        return (time.perf_counter() - t0) * 1e6

    def episode() -> float:
        t0 = time.perf_counter()
        env.reset(seed=0)
        env.step(call)
        env.step(answer)
        return (time.perf_counter() - t0) * 1e6

    def nothing() -> None:
        pass

    for _ in range(300):
        episode()
        floor()
    raw = []
    for _ in range(n):
        t0 = time.perf_counter()
        floor()
        raw.append((time.perf_counter() - t0) * 1e6)
    base = statistics.median(raw)
    rows = {
        "raw floor: SELECT by key + orjson": raw,
        "final step, warm (sentences seen before)": [final_step(nothing) for _ in range(n)],
        "final step, cold (classifier memo cleared)": [final_step(memo.cache_clear) for _ in range(n)],
        "one-call episode (reset, call, answer), warm": [episode() for _ in range(n)],
    }
    print(f"reward {version}")
    for name, xs in rows.items():
        print(f"  {name:46s} {summary(xs, base)}")
    env.close()
    return statistics.median(rows["final step, warm (sentences seen before)"])


if __name__ == "__main__":
    main()
