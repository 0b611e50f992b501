"""Remote ``env.step`` latency and requests per step: ``FinAdvisorEnv(backend="http")``.

    python benchmarks/bench_remote_step.py [--n 1000] [--replica PATH]

The service runs as ``advisorgym serve`` in a child process on 127.0.0.1 (as deployed). Steps
timed, on task ``hw-L1-01`` (gold: ``get_risk_assessment`` of C000002):

- a read whose tool has a gold call with other arguments (the env also executes the gold
  call: a probe), ``get_risk_assessment`` of C000003;
- a read of a tool the gold does not use (no probe), ``get_client_profile``;
- a turn of three calls (OpenAI ``tool_calls``), one of them with a probe.

Two floors: a bare ``GET /health`` round trip through the same client connection, and the
limit, a round trip to a minimal ASGI app (``asgi_echo.py``: a raw ASGI callable answering a
fixed 11-byte JSON body, under uvicorn with httptools, in its own child process) through the
same client class (``envs.wire.Connection``), posting a body the size of a one-call batch.
Each row gives the median, p90, the ratios to both floors and the HTTP requests the step made.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from asgi_echo import echo_server
from bench_env import timed
from bench_tool_latency import TOKEN, server_process

from envs import FinAdvisorEnv
from envs.wire import Connection
from envs.tasks import HANDWRITTEN, load_tasks
from mock_apis.domains.finance.generate import generate_replica


def react(name: str, arguments: dict[str, Any]) -> str:
    return json.dumps({"thought": "Look it up.", "action": {"name": name, "arguments": arguments}})


def turn(calls: list[tuple[str, dict[str, Any]]]) -> str:
    return json.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
        for i, (n, a) in enumerate(calls)]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--replica", type=Path, default=None, help="default: a fresh seed-0, scale-5000 replica")
    args = ap.parse_args()
    task = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == "hw-L1-01")
    actions = {
        "read with a gold probe": react("get_risk_assessment", {"client_id": "C000003"}),
        "read without a probe": react("get_client_profile", {"client_id": "C000002"}),
        "turn of 3 calls, 1 probe": turn([("get_client_profile", {"client_id": "C000002"}),
                                          ("get_risk_assessment", {"client_id": "C000003"}),
                                          ("list_accounts", {"client_id": "C000002"})]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        replica = args.replica or Path(tmp) / "replica.sqlite"
        if args.replica is None:
            generate_replica(replica, seed=0, scale=5000)
        with echo_server() as echo_url:
            echo = echo_floor(echo_url, args.n)
        limit = statistics.median(echo)
        with server_process(replica) as url:
            env = FinAdvisorEnv(tasks=[task], backend="http", base_url=url, token=TOKEN, max_steps=10**9)
            env.reset(seed=0)
            requests = []
            request = env.backend._request

            def counted(*a: Any, **kw: Any) -> Any:
                requests.append(a[1])
                return request(*a, **kw)

            env.backend._request = counted
            floor = timed(lambda: env.backend._request("GET", "/health"), args.n)
            base = statistics.median(floor)
            print(f"{'bare ASGI echo round trip':28s} {line(echo, base, limit)}   (uvicorn + httptools, raw ASGI)")
            print(f"{'bare GET /health round trip':28s} {line(floor, base, limit)}")
            for name, action in actions.items():
                for _ in range(100):
                    env.step(action)
                del requests[:]
                env.step(action)
                per_step = len(requests)
                xs = timed(lambda: env.step(action), args.n)
                print(f"{name:28s} {line(xs, base, limit)}   {per_step} request(s)/step")
            env.close()


def echo_floor(url: str, n: int) -> list[float]:
    """Round trips (µs) to the minimal ASGI app, through ``envs.wire.Connection``, after a warm-up."""
    connection = Connection(url)
    headers = b"Content-Type: application/json\r\nAccept: application/json\r\n"
    body = b'{"ops":[{"name":"get_client_profile","probe":false,"arguments":{"client_id":"C000002"}}]}'

    def round_trip() -> None:
        response = connection.request("POST", "/echo", headers, body, time.monotonic() + 10)
        assert response.status == 200 and response.body == b'{"ok":true}', response.body

    timed(round_trip, 200)
    xs = timed(round_trip, n)
    connection.close()
    return xs


def line(xs: list[float], base: float, limit: float) -> str:
    xs = sorted(xs)
    median = statistics.median(xs)
    return (f"median {median:8.1f} µs   p90 {xs[int(0.9 * len(xs))]:8.1f} µs   {median / base:5.2f}× /health"
            f"   {median / limit:5.2f}× echo")


if __name__ == "__main__":
    main()
