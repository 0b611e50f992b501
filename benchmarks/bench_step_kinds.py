"""In-process ``step`` of a read, a write and a composite tool, with and without the gold probe.

    python benchmarks/bench_step_kinds.py [--n 2000] [--rounds 3] [--episode 20] [--replica PATH]

Every step is one call of the kind's tool with fixed arguments:

- read: ``get_client_profile`` of C000002;
- write: ``add_advisor_note`` for C000002;
- composite: ``get_client_overview`` of C000002 (profile, accounts, holdings, transactions);

and the raw floor is a SQLite SELECT by key + ``orjson.dumps``, in the same process.

"with probe": the env's task has a gold call of the same tool with other arguments, so the
reward also executes the gold call (rolled back) to score the arguments; the task is the
first of the default suite whose gold uses the tool. "no probe": the task's gold uses none of
the three tools (``hw-L1-02``: a market-index lookup), so only the call runs. Steps run in
episodes of ``--episode`` steps, each after an untimed ``reset`` (so writes do not pile up);
rows are interleaved over ``--rounds`` rounds and the medians taken over all. The floor runs
on the env's own connection, as in ``bench_final_step.py``. Medians and p90 in microseconds,
and each median over the floor's.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench_env import timed
from bench_final_step import summary

from envs import FinAdvisorEnv
from envs.replica import default_replica
from envs.tasks import DEFAULT_SUITE, HANDWRITTEN, Task, load_tasks

CLIENT = "C000002"
KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "read": ("get_client_profile", {"client_id": CLIENT}),
    "write": ("add_advisor_note", {"client_id": CLIENT, "text": "Called the client about the fee schedule."}),
    "composite": ("get_client_overview", {"client_id": CLIENT}),
}
NO_PROBE_TASK = "hw-L1-02"


def action(tool: str, arguments: dict[str, Any]) -> str:
    return json.dumps({"thought": "Do it.", "action": {"name": tool, "arguments": arguments}})


def probe_task(suite: list[Task], tool: str, arguments: dict[str, Any]) -> Task:
    """The first task whose gold calls ``tool`` with other arguments (so a call probes it)."""
    return next(t for t in suite
                if any(g.name == tool for g in t.gold_calls)
                and all(g.arguments != arguments for g in t.gold_calls if g.name == tool))


def stepper(task: Task, replica: Path, act: str, episode: int) -> Callable[[int], list[float]]:
    """``n -> n step latencies`` on an env of ``task`` (a reset, untimed, every ``episode`` steps)."""
    env = FinAdvisorEnv(tasks=[task], replica=replica, max_steps=10**9, check_replica=False)
    env.reset(seed=0)
    _, _, _, _, info = env.step(act)
    outcome = info["calls"][0]["outcome"]
    if outcome != "ok":
        raise SystemExit(f"{task.task_id}: the benchmarked call failed ({info['calls'][0]})")

    def run(n: int) -> list[float]:
        xs: list[float] = []
        while len(xs) < n:
            env.reset(seed=0)
            xs += timed(lambda: env.step(act), min(episode, n - len(xs)))
        return xs

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="timed steps per row and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--episode", type=int, default=20, help="steps between untimed resets")
    ap.add_argument("--replica", type=Path, default=None, help="default: the cached seed-0, scale-5000 replica")
    args = ap.parse_args()
    replica = args.replica or default_replica()
    suite = load_tasks(DEFAULT_SUITE)
    plain = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == NO_PROBE_TASK)
    assert not {g.name for g in plain.gold_calls} & {tool for tool, _ in KINDS.values()}
    rows: dict[str, Callable[[int], list[float]]] = {}
    for kind, (tool, arguments) in KINDS.items():
        act = action(tool, arguments)
        with_probe = probe_task(suite, tool, arguments)
        rows[f"{kind} step ({tool}), with probe ({with_probe.task_id})"] = stepper(with_probe, replica, act,
                                                                                  args.episode)
        rows[f"{kind} step ({tool}), no probe ({plain.task_id})"] = stepper(plain, replica, act, args.episode)
    floor_env = FinAdvisorEnv(tasks=[plain], replica=replica, check_replica=False)
    floor_env.reset(seed=0)
    con = floor_env.backend.sandbox.con

    def floor() -> None:
        orjson.dumps(dict(con.execute("SELECT * FROM clients WHERE client_id = ?", (CLIENT,)).fetchone()))

    for run in rows.values():  # warm-up
        run(200)
    timed(floor, 500)
    samples: dict[str, list[float]] = {"raw floor: SELECT by key + orjson": [], **{name: [] for name in rows}}
    for _ in range(args.rounds):
        samples["raw floor: SELECT by key + orjson"] += timed(floor, args.n)
        for name, run in rows.items():
            samples[name] += run(args.n)
    base = statistics.median(samples["raw floor: SELECT by key + orjson"])
    print(f"replica {replica.name}; {args.rounds} rounds of {args.n} steps per row, a reset every {args.episode}")
    for name, xs in samples.items():
        print(f"{name:62s} {summary(xs, base)}")


if __name__ == "__main__":
    main()
