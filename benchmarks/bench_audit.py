"""The audit trail's cost: writing one call record (its result's hash included) against one
in-process ``step`` with a read tool, medians over interleaved rounds. Target: under 10%.

    python benchmarks/bench_audit.py [--n 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from bench_env import timed
from envs import FinAdvisorEnv
from mock_apis.audit import AuditLog, result_hash
from envs.tasks import HANDWRITTEN
from mock_apis.catalogue import call_tool

TOOL, ARGUMENTS = "get_client_profile", {"client_id": "C000002"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000, help="Calls per round.")
    ap.add_argument("--rounds", type=int, default=5, help="Interleaved rounds of each.")
    args = ap.parse_args()
    env = FinAdvisorEnv(tasks=HANDWRITTEN, max_steps=10**9)
    env.reset(seed=0, options={"task_id": "hw-L1-01"})
    action = json.dumps({"thought": "Look up the client.", "action": {"name": TOOL, "arguments": ARGUMENTS}})
    payload = call_tool(env.backend.sandbox, TOOL, ARGUMENTS).payload
    with tempfile.TemporaryDirectory() as tmp, AuditLog(Path(tmp) / "audit.jsonl") as log:
        def record() -> None:
            log.record_call(TOOL, ARGUMENTS, result_hash(payload), ok=True, task_id="hw-L1-01", step=1)

        for _ in range(300):  # warm caches and the file
            env.step(action)
            record()
        steps: list[float] = []
        records: list[float] = []
        for _ in range(args.rounds):
            steps += timed(lambda: env.step(action), args.n)
            records += timed(record, args.n)
    env.close()
    step_us, record_us = statistics.median(steps), statistics.median(records)
    print(f"in-process step ({TOOL}): median {step_us:8.1f} µs")
    print(f"audit call record:       median {record_us:8.1f} µs  ({100 * record_us / step_us:.1f}% of a step; "
          "target < 10%)")


if __name__ == "__main__":
    main()
