"""Load and fault benchmark of the HTTP service: the long version of the CI load test.

Starts ``advisorgym serve`` in a subprocess on a free 127.0.0.1 port and, for each client
count, runs that many client threads for ``--duration`` seconds. Each client is one
``HttpBackend`` episode loop: six buys (amounts unique to the client), each followed by a read
and a probe, then a per-session checksum (its pending orders and its cash must be exactly
what it wrote: anything else is a cross-session leak or a lost write), then a reset. With
``--flood N`` a slow-client flood of N half-open connections runs alongside every load phase.

Prints, per client count: requests, throughput, p50/p90/p99/max latency, server errors
(``internal_error``, ``service_unavailable``, ``timeout`` or any 5xx), checksum failures.

    python benchmarks/bench_service_load.py [--clients 16,32,64] [--duration 60] [--flood 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import httpx

from envs.backends import TOKEN_ENV, HttpBackend

TOKEN = "bench-token"
INFRA = {"internal_error", "service_unavailable", "timeout"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(replica: Path, port: int, log: Path | None = None, fd_limit: int | None = None, *extra: str,
                  token: str = TOKEN) -> subprocess.Popen:
    """``advisorgym serve`` in a subprocess, once it answers.

    ``log``: append the service's stderr there (default: inherit it); ``fd_limit``: run it with that descriptor
    limit; ``extra``: more ``serve`` options; ``token``: the API token it accepts.
    """
    def limit_fds() -> None:
        if fd_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

    env = {**os.environ, TOKEN_ENV: token}
    process = subprocess.Popen([sys.executable, "-c", "from envs.cli import app; app()", "serve", "--replica",
                                str(replica), "--port", str(port), "--log-level", "warning", *extra],
                               env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab") if log else None,
                               preexec_fn=limit_fds)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("the service did not start" + (f": {log.read_text()[-2000:]}" if log else ""))


def pick_ids(replica: Path) -> dict[str, Any]:
    """An active, verified account with cash, and a fund it may buy."""
    con = sqlite3.connect(f"file:{replica}?mode=ro", uri=True)
    account, cash, client = con.execute(
        "SELECT a.account_id, a.cash_balance, a.client_id FROM accounts a JOIN compliance_records k USING (client_id) "
        "WHERE a.status = 'active' AND k.kyc_status = 'verified' AND k.restriction = 'none' "
        "ORDER BY a.cash_balance DESC").fetchone()
    fund, minimum = con.execute("SELECT fund_code, min_investment FROM fund_profiles WHERE min_investment > 0 AND "
                                f"min_investment <= {cash / 40} ORDER BY fund_code").fetchone()
    con.close()
    return {"account_id": account, "cash": cash, "client_id": client, "fund": fund, "amount": max(minimum, 100.0)}


def client_loop(i: int, url: str, ids: dict[str, Any], stop_at: float, out: dict[str, list],
                max_ops: int | None = None, token: str = TOKEN) -> None:
    """One client's episodes until ``stop_at`` (or ``max_ops`` buy/read/probe calls); appends to ``out``.

    ``out`` needs the lists ``latencies``, ``errors`` (infrastructure errors), ``other`` (any other failed call)
    and ``leaks`` (episodes whose pending orders or cash are not exactly what this client wrote).
    """
    backend = HttpBackend(url, token=token)
    latencies: list[float] = []

    def timed(kind: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        outcome = getattr(backend, kind)(name, arguments)
        latencies.append(time.perf_counter() - started)
        if not outcome.ok:
            out["errors" if outcome.payload.get("error") in INFRA else "other"].append(
                {"client": i, "tool": name, "payload": outcome.payload})
        return outcome.payload

    ops = episode = 0
    try:
        while (max_ops is None or ops < max_ops) and time.monotonic() < stop_at:
            backend.reset()
            placed: list[float] = []
            for k in range(6):
                amount = round(ids["amount"] + i + (episode % 50) * 0.1 + k * 0.01, 2)  # unique to this session
                timed("call", "place_order", {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy",
                                              "amount": amount})
                placed.append(amount)
                timed("call", "get_client_profile", {"client_id": ids["client_id"]})
                timed("probe", "list_accounts", {"client_id": ids["client_id"]})
                ops += 3
            listed = timed("call", "list_orders", {"account_id": ids["account_id"], "status": "pending"})
            accounts = timed("call", "list_accounts", {"client_id": ids["client_id"]})
            cash = next((a["cash_balance"] for a in accounts.get("accounts", [])
                         if a["account_id"] == ids["account_id"]), None)
            seen = sorted(o["amount"] for o in listed.get("orders", []))
            if zlib.crc32(json.dumps(seen).encode()) != zlib.crc32(json.dumps(sorted(placed)).encode()) \
                    or cash is None or abs(cash - (ids["cash"] - sum(placed))) > 0.011:
                out["leaks"].append({"client": i, "seen": seen, "placed": placed, "cash": cash})
            episode += 1
    finally:
        backend.close()
        out["latencies"].extend(latencies)


def slow_flood(url: str, count: int, stop_at: float, stats: dict[str, int]) -> None:
    """Keep up to ``count`` half-open connections open (reopening those the server drops) until ``stop_at``."""
    host, port = url.removeprefix("http://").split(":")
    socks: list[socket.socket] = []
    while time.monotonic() < stop_at:
        alive = []
        for s in socks:
            try:
                s.setblocking(False)
                if s.recv(1) == b"":
                    raise OSError
                stats["dropped"] += 1
                s.close()
            except BlockingIOError:
                alive.append(s)
            except OSError:
                stats["dropped"] += 1
                s.close()
        socks = alive
        while len(socks) < count and time.monotonic() < stop_at:
            try:
                s = socket.create_connection((host, int(port)), timeout=2)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
                stats["opened"] += 1
            except OSError:
                stats["refused"] += 1
                break
        time.sleep(0.5)
    for s in socks:
        s.close()


def run_clients(url: str, ids: dict[str, Any], clients: int, duration: float, *, max_ops: int | None = None,
                token: str = TOKEN, grace_s: float = 60.0, flood: int = 0,
                flood_stats: dict[str, int] | None = None) -> tuple[dict[str, list], float, list[threading.Thread]]:
    """``clients`` threads of ``client_loop`` for ``duration`` seconds (with ``flood``: a ``slow_flood`` thread
    alongside, counting into ``flood_stats``), each joined for up to ``duration + grace_s``.

    Returns what the clients appended (see ``client_loop``), the wall time, and the threads (to check that none is
    still alive)."""
    out: dict[str, list] = {"latencies": [], "errors": [], "other": [], "leaks": []}
    stop_at = time.monotonic() + duration
    threads = [threading.Thread(target=client_loop, args=(i, url, ids, stop_at, out, max_ops, token))
               for i in range(clients)]
    if flood:
        threads.append(threading.Thread(target=slow_flood, args=(url, flood, stop_at, flood_stats)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + grace_s)
    return out, time.monotonic() - started, threads


def run_phase(url: str, ids: dict[str, Any], clients: int, duration: float, flood: int) -> dict[str, Any]:
    flood_stats = {"opened": 0, "dropped": 0, "refused": 0}
    out, wall, _ = run_clients(url, ids, clients, duration, flood=flood, flood_stats=flood_stats)
    lat = sorted(out["latencies"])

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")

    return {"clients": clients, "requests": len(lat), "rps": len(lat) / wall, "p50_ms": q(0.5), "p90_ms": q(0.9),
            "p99_ms": q(0.99), "max_ms": lat[-1] * 1000 if lat else float("nan"), "server_errors": len(out["errors"]),
            "leaks": len(out["leaks"]), "flood": flood_stats if flood else None,
            "error_samples": out["errors"][:3], "leak_samples": out["leaks"][:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="16,32,64", help="comma-separated client counts")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per client count")
    parser.add_argument("--flood", type=int, default=0, help="slow-client connections alongside the load")
    parser.add_argument("--replica", type=Path, default=None, help="SQLite replica (default: the cached default)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    from envs.replica import default_replica

    replica = args.replica or default_replica()
    port = free_port()
    process = start_service(replica, port)
    url = f"http://127.0.0.1:{port}"
    results = []
    try:
        ids = pick_ids(replica)
        print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}; service in a subprocess on {url}; {args.duration:g} s per row; "
              f"slow-client flood: {args.flood or 'none'}")
        print("| clients | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | server errors | leaks | flood |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for clients in (int(c) for c in args.clients.split(",")):
            r = run_phase(url, ids, clients, args.duration, args.flood)
            results.append(r)
            flood = "—" if r["flood"] is None else (f"{r['flood']['opened']} opened, {r['flood']['dropped']} "
                                                   f"timed out by the server, {r['flood']['refused']} refused")
            print(f"| {clients} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | "
                  f"{r['p99_ms']:.1f} | {r['max_ms']:.0f} | {r['server_errors']} | {r['leaks']} | {flood} |",
                  flush=True)
            for sample in r["error_samples"] + r["leak_samples"]:
                print(f"#   sample: {sample}")
    finally:
        process.terminate()
        process.wait(10)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
