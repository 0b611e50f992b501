"""The final step of an ordinary episode (compliance check + reward assembly), and a whole
one-call episode, in process.

    python benchmarks/bench_final_step.py [--n 5000] [--task hw-L1-01] [--versions toolrla-1.2.0 toolrla-1.1.0]

The task's gold call is made, then its gold answer is the final step. "cold" clears the
grey-area classifier's sentence memo before each final step, so every sentence is scored
afresh (an answer never seen before); "warm" is the usual case of a sentence seen in an
earlier episode. The raw floor is a SQLite SELECT by primary key plus ``orjson.dumps`` on the
env's own connection. Medians and p90 in microseconds, and ratios to the floor. Each reward
version is measured in the same run (its own env), and the final step's median is compared
with the last version's.
"""

from __future__ import annotations

import argparse
import statistics
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
    args = ap.parse_args()
    task = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == args.task)
    print(f"task {task.task_id}: {task.gold_calls[0].name}, answer of {len(task.gold_response)} characters")
    warm = {version: measure(task, version, args.n) for version in args.versions}
    last = args.versions[-1]
    for version, median in warm.items():
        print(f"{version}: final step, warm, median {median:.1f} µs = {median / warm[last]:.2f}× {last}")


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
