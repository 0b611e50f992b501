"""The cost of the service's durable audit log: tool calls per second over HTTP against
``advisorgym serve`` without ``--audit-log`` and with it (every call written and fsynced before
its answer, fsyncs shared by concurrent calls: group commit), in the same run, alternating.

Each client has its own session and alternates a write (``place_order``, 1 dollar) and a read
(``list_orders``); each measurement lasts ``--seconds`` (bounded: the whole run takes about
2 × modes × client counts × (seconds + start-up)).

    python benchmarks/bench_audit_durability.py [--seconds 4] [--clients 1,8] [--dir DIR]

``--dir``: where the log goes (default a temporary folder; put it on the disk to measure).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from envs.replica import default_replica

TOKEN = "bench"
BUY = {"account_id": "A0000003", "fund": "BD009", "side": "buy", "amount": 1.0}
ADVISORGYM = str(Path(sys.executable).with_name("advisorgym"))


@contextlib.contextmanager
def served(audit_log: Path | None) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [ADVISORGYM, "serve", "--replica", str(default_replica(0, 5000)), "--port", str(port), "--log-level",
           "warning", "--max-writes", "100000000"]
    if audit_log is not None:
        cmd += ["--audit-log", str(audit_log)]
    proc = subprocess.Popen(cmd, env={**os.environ, "ADVISORGYM_API_TOKEN": TOKEN}, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", trust_env=False).status_code == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("advisorgym serve did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def measure(url: str, clients: int, seconds: float) -> float:
    """Calls per second that ``clients`` threads, each in its own session, complete."""
    counts = [0] * clients
    start = threading.Barrier(clients + 1)
    stop = time.monotonic() + seconds + 0.5

    def client(i: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False) as http:
            session = {"X-Session-Id": http.post("/sessions").json()["session_id"]}
            start.wait()
            while time.monotonic() < stop:
                for name, body in (("place_order", BUY), ("list_orders", {"account_id": "A0000003"})):
                    answer = http.post(f"/tools/{name}", json=body, headers=session)
                    if answer.status_code != 200:
                        raise SystemExit(f"{name}: HTTP {answer.status_code} {answer.text[:200]}")
                    counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - began)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0, help="Seconds per measurement.")
    ap.add_argument("--clients", default="1,8", help="Comma-separated client counts.")
    ap.add_argument("--dir", type=Path, default=None, help="Folder for the audit log (default: a temporary one).")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for clients in map(int, args.clients.split(",")):
            row = {"clients": clients}
            for mode in ("no_audit_log", "durable_audit_log"):
                log = Path(tmp) / f"audit-{clients}.jsonl" if mode == "durable_audit_log" else None
                with served(log) as url:
                    row[mode] = round(measure(url, clients, args.seconds), 1)
            row["ratio"] = round(row["durable_audit_log"] / row["no_audit_log"], 3)
            results.append(row)
            print(json.dumps(row), flush=True)
    print("| clients | calls/s, no audit log | calls/s, durable audit log | ratio |")
    print("|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['clients']} | {r['no_audit_log']} | {r['durable_audit_log']} | {r['ratio']:.2f} |")


if __name__ == "__main__":
    main()
