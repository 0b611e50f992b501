"""Worst-case ``env.step`` time on hostile agent output (reward 1.1's "never stalls" bound).

For each input: the step's median and max over ``--n`` runs, in process, on the first
handwritten task. Answers are the final step (parser, compliance checker, reward); names
and nesting are a tool-call step (parser, argument guard, back-end). The peer is a normal
final step (the gold answer) in the same process. Target: every 200 KB answer under 50 ms.

    python benchmarks/bench_step_worst_case.py --n 7 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from envs import FinAdvisorEnv
from envs.tasks import HANDWRITTEN, load_tasks
from test_env_fuzz import HOSTILE_TURNS, HUGE_ANSWERS

TASK = load_tasks(HANDWRITTEN)[0]
TARGET_MS = 50.0


def time_step(env: FinAdvisorEnv, action, final: bool, n: int) -> list[float]:
    times = []
    for _ in range(n):
        env.reset(seed=0, options={"task_id": TASK.task_id})
        if final:
            for gold in TASK.gold_actions()[:-1]:
                env.step(gold)
        started = time.perf_counter()
        env.step(action)
        times.append((time.perf_counter() - started) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    env.checker.warm_up()
    peer = statistics.median(time_step(env, TASK.gold_actions()[-1], True, max(args.n, 50)))
    rows = []
    for name, text in HUGE_ANSWERS.items():
        action = text if text.startswith("<think>") else json.dumps({"thought": "t", "response": text})
        rows.append(("answer", name, len(action), time_step(env, action, True, args.n)))
    for name, turn in HOSTILE_TURNS.items():
        rows.append(("call", name, None, time_step(env, turn, False, args.n)))
    env.close()
    print(f"peer: a normal final step (gold answer), median {peer:.3f} ms")
    print(f"| kind | input | size | median ms | max ms | × peer | under {TARGET_MS:g} ms |")
    print("|---|---|---:|---:|---:|---:|---|")
    results = []
    for kind, name, size, times in rows:
        med, worst = statistics.median(times), max(times)
        results.append({"kind": kind, "input": name, "chars": size, "median_ms": med, "max_ms": worst})
        print(f"| {kind} | {name} | {size or '—'} | {med:.2f} | {worst:.2f} | {med / peer:.0f} | "
              f"{'yes' if worst < TARGET_MS else 'NO'} |")
    if args.json:
        args.json.write_text(json.dumps({"peer_median_ms": peer, "rows": results}, indent=2))


if __name__ == "__main__":
    main()
