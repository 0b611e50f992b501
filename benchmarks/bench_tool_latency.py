"""Latency of one read-tool call: in-process back-end vs the HTTP service on loopback.

Runs ``get_client_profile`` N times (after a warm-up) through ``InProcessBackend.call`` and
through ``HttpBackend.call`` against a uvicorn server this script starts on a free
127.0.0.1 port, and prints the median and p90 of each and their ratio.

By default the server is a separate process (``advisorgym serve``, as deployed), so client
and server do not share a GIL; ``--server thread`` runs it in a thread of this process.

    python benchmarks/bench_tool_latency.py [--n 2000] [--replica PATH] [--tool get_client_profile]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from envs.backends import HttpBackend, InProcessBackend
from mock_apis.app import create_app, serve_in_thread
from mock_apis.domains.finance.generate import generate_replica

TOKEN = "bench-token"
SAMPLE_ARGUMENTS: dict[str, dict[str, Any]] = {
    "get_client_profile": {"client_id": "C000001"},
    "get_holdings": {"account_id": "A0000001"},
    "get_client_overview": {"client_id": "C000001"},
    "get_fund_info": {"fund": "EQ001"},
}


def measure(backend: Any, tool: str, arguments: dict[str, Any], n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        assert backend.call(tool, arguments).ok
    samples = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        outcome = backend.call(tool, arguments)
        samples.append((clock() - t0) / 1000.0)
        if not outcome.ok:
            raise SystemExit(f"{tool} failed: {outcome.payload}")
    return samples


@contextlib.contextmanager
def server_process(replica: Path) -> Iterator[str]:
    """``advisorgym serve`` in a child process on a free loopback port; yields its URL."""
    with server_child(replica) as (url, _child):
        yield url


@contextlib.contextmanager
def server_child(replica: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``server_process``, yielding the child process too (its pid, for its memory)."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "ADVISORGYM_API_TOKEN": TOKEN}
    child = subprocess.Popen([sys.executable, "-m", "envs.cli", "serve", "--replica", str(replica), "--host",
                              "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                             env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if child.poll() is not None:
                raise SystemExit(f"the server exited with {child.returncode}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        yield url, child
    finally:
        child.terminate()
        child.wait(timeout=10)


def summary(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=10)
    return statistics.median(samples), q[8]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="timed calls per back-end")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--replica", type=Path, default=None, help="default: a fresh seed-0, scale-2000 replica")
    parser.add_argument("--tool", default="get_client_profile", choices=sorted(SAMPLE_ARGUMENTS))
    parser.add_argument("--server", choices=["process", "thread"], default="process",
                        help="run the service in a child process (default, as deployed) or in a thread here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        replica = args.replica
        if replica is None:
            replica = Path(tmp) / "replica.sqlite"
            generate_replica(replica, seed=0, scale=2000)
        arguments = SAMPLE_ARGUMENTS[args.tool]

        local = InProcessBackend(replica)
        local.reset()
        in_process = measure(local, args.tool, arguments, args.n, args.warmup)
        local.close()

        server = serve_in_thread(create_app(replica, TOKEN)) if args.server == "thread" else server_process(replica)
        with server as url:
            remote = HttpBackend(url, token=TOKEN)
            remote.reset()
            over_http = measure(remote, args.tool, arguments, args.n, args.warmup)
            remote.close()

    (med_local, p90_local), (med_http, p90_http) = summary(in_process), summary(over_http)
    print(f"tool: {args.tool}  calls: {args.n} per back-end (+{args.warmup} warm-up)  "
          f"server: uvicorn in a {'child process' if args.server == 'process' else 'thread of this process'}  "
          f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"{'back-end':<12}{'median µs':>12}{'p90 µs':>12}")
    print(f"{'in-process':<12}{med_local:>12.1f}{p90_local:>12.1f}")
    print(f"{'http':<12}{med_http:>12.1f}{p90_http:>12.1f}")
    print(f"ratio http/in-process: median {med_http / med_local:.1f}x, p90 {p90_http / p90_local:.1f}x")


if __name__ == "__main__":
    main()
