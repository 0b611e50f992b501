"""skyrl-gym's SQL env step against our in-process read-tool step, on the same query.

    python benchmarks/peers/bench_skyrl_sql.py [--n 1000] [--rounds 3]

Both look up client C000002 in the same seed-0, scale-5000 replica: skyrl-gym's ``SQLEnv``
(``data="spider"``, the replica linked in as its database) steps
``<sql>SELECT * FROM clients WHERE client_id = 'C000002'</sql>``; ours steps a
``get_client_profile`` call. The raw floor is a SELECT by key + ``orjson.dumps`` on an open
connection (the env's own). Rounds are interleaved; medians over all rounds. Prints a table and a last line
``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from envs import FinAdvisorEnv
from envs.replica import default_replica
from envs.tasks import HANDWRITTEN, load_tasks
from bench_env import timed
from peers import skip_unimportable

try:
    from skyrl_gym.envs.sql.env import SQLEnv, Text2SQLEnvConfig
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    skip_unimportable("skyrl-gym", exc)

SQL = "SELECT * FROM clients WHERE client_id = 'C000002'"


def settle() -> None:
    """Let skyrl-gym's per-query worker threads finish and collect its garbage before our rows are timed."""
    deadline = time.monotonic() + 2
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    gc.collect()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    replica = default_replica(0, 5000)
    task = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == "hw-L1-01")
    ours = FinAdvisorEnv(tasks=[task], replica=replica, max_steps=10**9, check_replica=False)
    ours.reset(seed=0)
    action = json.dumps({"thought": "Look up the client.",
                         "action": {"name": "get_client_profile", "arguments": {"client_id": "C000002"}}})
    con = ours.backend.sandbox.con  # the floor runs on the env's own connection, as in bench_final_step.py

    def floor() -> None:
        orjson.dumps(dict(con.execute("SELECT * FROM clients WHERE client_id = ?", ("C000002",)).fetchone()))

    with tempfile.TemporaryDirectory() as tmp:
        db_dir = Path(tmp) / "spider" / "database" / "replica"
        db_dir.mkdir(parents=True)
        (db_dir / "replica.sqlite").symlink_to(replica)

        def make_peer() -> SQLEnv:
            env = SQLEnv(Text2SQLEnvConfig(db_path=tmp), extras={
                "db_id": "replica", "reward_spec": {"ground_truth": SQL}, "data": "spider", "max_turns": 10**9})
            env.init([{"role": "user", "content": "Look up client C000002."}])
            return env

        peer = make_peer()
        out = peer.step(f"<think>look up</think><sql>{SQL}</sql>")
        assert "Adrian Chen" in out["observations"][0]["content"], out
        peer_action = f"<think>look up</think><sql>{SQL}</sql>"
        for _ in range(200):
            ours.step(action)
            peer.step(peer_action)
            floor()
        rows: dict[str, list[float]] = {"raw floor": [], "ours": [], "skyrl": []}
        for _ in range(args.rounds):
            rows["ours"] += timed(lambda: ours.step(action), args.n)
            rows["raw floor"] += timed(floor, args.n)
            peer = make_peer()  # its chat history grows with every step
            rows["skyrl"] += timed(lambda peer=peer: peer.step(peer_action), args.n)
            peer = None  # drop it and its chat history
            settle()
    ours.close()
    res = {k: {"median_us": statistics.median(v), "p90_us": sorted(v)[int(0.9 * len(v))], "n": len(v)}
           for k, v in rows.items()}
    res["skyrl_over_ours"] = res["skyrl"]["median_us"] / res["ours"]["median_us"]
    res["ours_over_floor"] = res["ours"]["median_us"] / res["raw floor"]["median_us"]
    labels = {"raw floor": "raw floor: SELECT by key + orjson", "ours": "ours: in-process step, get_client_profile",
              "skyrl": "skyrl-gym SQLEnv.step, same query"}
    for k, label in labels.items():
        print(f"{label:44s} median {res[k]['median_us']:8.1f} µs   p90 {res[k]['p90_us']:8.1f} µs")
    print(f"skyrl-gym / ours: {res['skyrl_over_ours']:.1f}×   ours / floor: {res['ours_over_floor']:.1f}×")
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main()
