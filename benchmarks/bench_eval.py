"""Wall time of an oracle eval over the frozen suite (episodes, metrics, report and plots).

    python benchmarks/bench_eval.py [--repeat 3]

Prints each run's total and episode-loop time and the median; the peer figure is the
episode loop alone, so set-up and reporting costs are visible.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from envs.evaluation.run import run_eval
from envs.tasks import SUITE, load_tasks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = len(load_tasks(SUITE))
    totals, loops = [], []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = run_eval("oracle", SUITE, Path(tmp), progress=False)
            totals.append(time.perf_counter() - t0)
            loops.append(result["episodes_s"])
        print(f"run {i + 1}: {totals[-1]:.2f} s in all, episodes {loops[-1]:.2f} s ({1000 * loops[-1] / n:.2f} ms/task)")
    print(f"oracle over {n} tasks: median {statistics.median(totals):.2f} s in all, "
          f"episodes {statistics.median(loops):.2f} s")


if __name__ == "__main__":
    main()
