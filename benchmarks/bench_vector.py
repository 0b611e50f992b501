"""Episodes per second through ``gymnasium.vector.SyncVectorEnv`` and ``AsyncVectorEnv``.

    python benchmarks/bench_vector.py [--envs 1,8,32] [--seconds 3] [--kinds sync,async]

Each sub-env is ``FinAdvisorEnv(tasks=[hw-L1-01])`` (in-process back-end, the cached default
replica) playing a fixed one-call episode: the task's gold ``get_risk_assessment`` call, then
its gold answer (which terminates it). Vector envs autoreset in gymnasium's default mode
(``NEXT_STEP``), so one cycle of every sub-env's episode is three vector steps: the call, the
answer, and the step that resets (its action is ignored). ``AsyncVectorEnv`` runs with
``shared_memory=False``: the observations are JSON text of any length, which gymnasium's
fixed-size shared memory cannot hold (the env refuses ``shared_memory=True`` with a
``TypeError``). Its workers are forked processes; on a 2-core machine 32 of them compete for
the cores with this process.

Cycles run for ``--seconds`` after a warm-up, each timed. ``median``: the sub-env count over
the median cycle time, in episodes per second; ``p90``: the same rate at the 90th-percentile
(slow) cycle time. Construction and the first reset are not timed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym

from envs import FinAdvisorEnv
from envs.tasks import HANDWRITTEN, Task, load_tasks

TASK_ID = "hw-L1-01"


def the_task() -> Task:
    return next(t for t in load_tasks(HANDWRITTEN) if t.task_id == TASK_ID)


def make_env() -> FinAdvisorEnv:
    """A sub-env (module level, so that ``AsyncVectorEnv`` workers can build it)."""
    return FinAdvisorEnv(tasks=[the_task()])


def make_vector(kind: str, n: int) -> gym.vector.VectorEnv:
    fns: list[Callable[[], gym.Env]] = [make_env] * n
    if kind == "sync":
        return gym.vector.SyncVectorEnv(fns)
    return gym.vector.AsyncVectorEnv(fns, shared_memory=False)


def cycle_times(vec: gym.vector.VectorEnv, n: int, seconds: float, warmup: int = 5) -> list[float]:
    """Seconds per cycle (call, answer, autoreset step) of all ``n`` sub-envs."""
    call, answer = the_task().gold_actions()
    steps = [(call,) * n, (answer,) * n, (call,) * n]  # the third is ignored: those sub-envs reset
    vec.reset(seed=0)

    def cycle() -> float:
        t0 = time.perf_counter()
        for actions in steps[:2]:
            vec.step(actions)
        _, _, terminated, _, _ = vec.step(steps[2])
        elapsed = time.perf_counter() - t0
        assert not terminated.any()
        return elapsed

    for _ in range(warmup):
        cycle()
    out: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(out) < 10:
        out.append(cycle())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--envs", default="1,8,32", help="comma-separated sub-env counts")
    ap.add_argument("--seconds", type=float, default=3.0, help="timed seconds per vector env")
    ap.add_argument("--kinds", default="sync,async", help="sync, async or both")
    args = ap.parse_args()
    names = {"sync": "SyncVectorEnv", "async": "AsyncVectorEnv(shared_memory=False)"}
    print(f"fixed one-call episode ({TASK_ID}: gold call, gold answer), NEXT_STEP autoreset; "
          f"{args.seconds:g} s per row")
    for kind in args.kinds.split(","):
        for n in (int(x) for x in args.envs.split(",")):
            vec = make_vector(kind, n)
            try:
                xs = sorted(cycle_times(vec, n, args.seconds))
            finally:
                vec.close()
            median, slow = n / statistics.median(xs), n / xs[int(0.9 * len(xs))]
            print(f"{names[kind]}, {n} sub-envs: median {median:9,.1f} episodes/s   p90 {slow:9,.1f} episodes/s"
                  f"   ({len(xs)} cycles)", flush=True)


if __name__ == "__main__":
    main()
