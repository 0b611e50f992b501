"""Remote steps against openenv-core: latency with one client and throughput with 16.

    python benchmarks/peers/bench_openenv_remote.py [--n 500] [--rounds 3] [--clients 16] [--duration 5]

Two servers run as child processes on 127.0.0.1, one uvicorn worker each, on the same
seed-0, scale-5000 replica:

- ours: ``advisorgym serve`` (the hand-written suite), stepped three ways with a
  ``get_client_profile`` call (a read whose tool the gold does not use):
  ``FinAdvisorEnv(backend="http")`` (the env here, the tools there: one request a step);
  the OpenEnv route, the whole episode there, through openenv-core's own ``GenericEnvClient``
  on ``/ws`` (the same client class as the peer's); MCP over streamable HTTP (``/mcp``) through
  the official ``mcp`` client's ``call_tool`` (when the mcp extra is installed), and the same
  ``tools/call`` as a bare JSON-RPC POST (``envs.wire``: the server's share of an MCP call);
- peer: a minimal OpenEnv environment built on openenv-core's own ``create_app``
  (``peers/openenv_lookup_server.py``) whose step is the same SQLite lookup, stepped through
  openenv-core's WebSocket ``EnvClient`` (its ``.sync()`` wrapper).

An episode served whole (OpenEnv, MCP) ends after 12 turns, so those clients start a new one
every 10 steps, outside the timed calls. Latency: one client each, interleaved rounds, medians
over all rounds. Throughput (``FinAdvisorEnv`` and the peer): ``--clients`` threads, each with
its own env / client (own session), stepping for ``--duration`` s, steps counted after a
one-second warm-up. Prints a table and a last line ``RESULT {json}``.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402 - after the sys.path set-up

import httpx  # noqa: E402 - likewise

from envs import FinAdvisorEnv  # noqa: E402 - likewise
from envs.replica import default_replica  # noqa: E402 - likewise
from envs.tasks import HANDWRITTEN, load_tasks  # noqa: E402 - likewise
from bench_env import timed  # noqa: E402 - likewise
from peers import skip_unimportable  # noqa: E402 - likewise

try:
    from openenv.core import EnvClient, GenericEnvClient
    from openenv.core.client_types import StepResult
    from openenv.core.env_server.types import State

    from peers.openenv_lookup_models import LookupAction, LookupObservation
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    skip_unimportable("openenv-core", exc)

TOKEN = "bench-token"
LOOKUP = ("get_client_profile", {"client_id": "C000002"})
ACTION = json.dumps({"thought": "Look up the client.", "action": {"name": LOOKUP[0], "arguments": LOOKUP[1]}})
#: steps of an episode served whole before the client starts a new one (untimed); its limit is 12
EPISODE_STEPS = 10


class LookupClient(EnvClient[LookupAction, LookupObservation, State]):
    def _step_payload(self, action: LookupAction) -> dict:
        return {"client_id": action.client_id}

    def _parse_result(self, payload: dict) -> StepResult[LookupObservation]:
        obs = payload.get("observation", {})
        return StepResult(observation=LookupObservation(row=obs.get("row", {}), done=payload.get("done", False),
                                                        reward=payload.get("reward")),
                          reward=payload.get("reward"), done=payload.get("done", False))

    def _parse_state(self, payload: dict) -> State:
        return State(episode_id=payload.get("episode_id"), step_count=payload.get("step_count", 0))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv: list[str], port: int, env: dict[str, str], cwd: Path | None = None,
          quiet: bool = False) -> subprocess.Popen:
    """``argv`` in a child process, once ``/health`` on ``port`` answers. ``quiet``: drop its stderr (openenv-core's
    server logs a traceback for every WebSocket client that closes)."""
    child = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL if quiet else None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"{argv[:4]} exited with {child.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return child
        except httpx.HTTPError:
            time.sleep(0.1)
    child.kill()
    raise SystemExit(f"{argv[:4]} did not start")


def timed_episodes(step, restart, n: int) -> list[float]:
    """``timed(step, n)``, with ``restart()`` (untimed) every ``EPISODE_STEPS`` steps."""
    out = []
    for i in range(n):
        if i % EPISODE_STEPS == 0:
            restart()
        out += timed(step, 1)
    return out


def mcp_latency(url: str, n: int) -> list[float]:
    """µs per ``call_tool`` of the lookup through the official mcp client on ``/mcp`` (one session)."""
    import anyio
    import httpx2
    from mcp.client.client import Client
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> list[float]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"})
        out = []
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            for i in range(n):
                if i % EPISODE_STEPS == 0:
                    await client.call_tool("start_task", {"task_id": "hw-L1-01"})
                t0 = time.perf_counter()
                result = await client.call_tool(*LOOKUP)
                out.append((time.perf_counter() - t0) * 1e6)
                assert not result.is_error, result.content
        return out

    return anyio.run(main)


def mcp_bare_latency(url: str, n: int) -> list[float]:
    """µs per ``tools/call`` of the lookup sent as one bare JSON-RPC POST on ``/mcp``, through
    ``envs.wire`` (the HTTP client of ``FinAdvisorEnv(backend="http")``), on a session opened by
    hand (initialize, notifications/initialized): the server's share of an MCP call, without
    the mcp client's."""
    from envs.wire import Connection

    wire = Connection(url)
    headers = b"Authorization: Bearer %s\r\nAccept: application/json, text/event-stream\r\n" \
              b"Content-Type: application/json\r\n" % TOKEN.encode()

    def post(message: dict, session: bytes = b"") -> bytes:
        answer = wire.request("POST", "/mcp", headers + session, json.dumps(message).encode(), time.monotonic() + 30)
        assert answer.status in (200, 202), answer.body
        return answer.headers.get(b"mcp-session-id", b"")

    session_id = post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}})
    session = b"Mcp-Session-Id: %s\r\nMcp-Protocol-Version: 2025-11-25\r\n" % session_id
    post({"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    start = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                        "params": {"name": "start_task", "arguments": {"task_id": "hw-L1-01"}}}).encode()
    lookup = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": {"name": LOOKUP[0], "arguments": LOOKUP[1]}}).encode()
    out = []
    for i in range(n):
        if i % EPISODE_STEPS == 0:
            wire.request("POST", "/mcp", headers + session, start, time.monotonic() + 30)
        t0 = time.perf_counter()
        answer = wire.request("POST", "/mcp", headers + session, lookup, time.monotonic() + 30)
        out.append((time.perf_counter() - t0) * 1e6)
        assert answer.status == 200 and b'"isError":false' in answer.body, answer.body
    wire.close()
    return out


def mcp_available() -> bool:
    try:
        import mcp.client.client  # noqa: F401 - only whether the extra is installed
    except ImportError:
        return False
    return True


def throughput(make, clients: int, duration: float) -> float:
    """Steps/s of ``clients`` threads, each ``make()``-ing a stepper and stepping until the deadline."""
    counts = [0] * clients
    ready = threading.Barrier(clients + 1)
    state = {"go": False, "stop": False}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            step, close = make()
        except BaseException as exc:  # noqa: BLE001 - the main thread raises it
            errors.append(exc)
            ready.wait()
            return
        ready.wait()
        try:
            while not state["stop"]:
                step()
                if state["go"]:
                    counts[i] += 1
        except BaseException as exc:  # noqa: BLE001 - likewise
            errors.append(exc)
        finally:
            close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    time.sleep(1.0)  # warm-up
    state["go"] = True
    t0 = time.perf_counter()
    time.sleep(duration)
    done = sum(counts)
    elapsed = time.perf_counter() - t0
    state["stop"] = True
    for t in threads:
        t.join(30)
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed: {errors[0]!r}")
    return done / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=5.0)
    args = ap.parse_args()
    replica = default_replica(0, 5000)
    task = next(t for t in load_tasks(HANDWRITTEN) if t.task_id == "hw-L1-01")
    ours_port, peer_port = free_port(), free_port()
    ours_proc = start([sys.executable, "-m", "envs.cli", "serve", "--replica", str(replica), "--host", "127.0.0.1",
                       "--port", str(ours_port), "--log-level", "warning", "--tasks", str(HANDWRITTEN)], ours_port,
                      {"ADVISORGYM_API_TOKEN": TOKEN})
    peer_proc = start([sys.executable, "-m", "uvicorn", "peers.openenv_lookup_server:app", "--host", "127.0.0.1",
                       "--port", str(peer_port), "--log-level", "warning"], peer_port,
                      {"PEER_REPLICA": str(replica), "PEER_MAX_ENVS": str(max(64, 2 * args.clients)),
                       "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")},
                      cwd=HERE.parent, quiet=True)
    ours_url, peer_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{peer_port}"

    def make_ours():
        env = FinAdvisorEnv(tasks=[task], backend="http", base_url=ours_url, token=TOKEN, max_steps=10**9)
        env.reset(seed=0)
        return (lambda: env.step(ACTION)), env.close

    def make_peer():
        client = LookupClient(base_url=peer_url).sync()
        client.connect()
        client.reset()
        action = LookupAction(client_id="C000002")
        return (lambda: client.step(action)), client.close

    route = GenericEnvClient(base_url=ours_url.replace("http://", f"http://advisorgym:{TOKEN}@")).sync()
    route_action = {"message": ACTION}

    def route_step():
        result = route.step(route_action)
        assert result.observation["result"]["client_id"] == "C000002", result
        return result

    try:
        ours_step, ours_close = make_ours()
        peer_step, peer_close = make_peer()
        route.connect()
        route_restart = lambda: route.reset(task_id="hw-L1-01")  # noqa: E731 - a one-line helper
        first = peer_step()
        assert first.observation.row.get("full_name") == "Adrian Chen", first
        for _ in range(200):
            ours_step()
            peer_step()
        timed_episodes(route_step, route_restart, 200)
        with_mcp = mcp_available()
        if with_mcp:
            mcp_latency(ours_url, 100)
            mcp_bare_latency(ours_url, 100)
        lat: dict[str, list[float]] = {"ours": [], "openenv": [], "ours_openenv_route": []}
        if with_mcp:
            lat["ours_mcp"], lat["ours_mcp_bare_post"] = [], []
        for _ in range(args.rounds):
            lat["openenv"] += timed(peer_step, args.n)
            lat["ours"] += timed(ours_step, args.n)
            lat["ours_openenv_route"] += timed_episodes(route_step, route_restart, args.n)
            if with_mcp:
                lat["ours_mcp"] += mcp_latency(ours_url, args.n)
                lat["ours_mcp_bare_post"] += mcp_bare_latency(ours_url, args.n)
        ours_close()
        peer_close()
        route.close()
        tput = {"ours": throughput(make_ours, args.clients, args.duration),
                "openenv": throughput(make_peer, args.clients, args.duration)}
    finally:
        for p in (ours_proc, peer_proc):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    res = {k: {"median_us": statistics.median(v), "p90_us": sorted(v)[int(0.9 * len(v))], "n": len(v),
               **({f"steps_per_s_{args.clients}_clients": tput[k]} if k in tput else {})} for k, v in lat.items()}
    res["clients"] = args.clients
    for k in lat:
        if k.startswith("ours"):
            res[f"latency_{k}_over_openenv"] = res[k]["median_us"] / res["openenv"]["median_us"]
    res["throughput_ours_over_openenv"] = tput["ours"] / tput["openenv"]
    print(f"{'remote step':52s} {'median µs':>10s} {'p90 µs':>10s} {f'steps/s @{args.clients}':>14s} {'/ peer':>7s}")
    for k, label in (("ours", "ours: FinAdvisorEnv(backend='http')"),
                     ("ours_openenv_route", "ours: OpenEnv route, openenv-core client on /ws"),
                     ("ours_mcp", "ours: MCP over HTTP, mcp client call_tool"),
                     ("ours_mcp_bare_post", "ours: MCP tools/call, bare POST (envs.wire)"),
                     ("openenv", "openenv-core WebSocket EnvClient")):
        if k in res:
            ratio = f"{res[f'latency_{k}_over_openenv']:6.2f}×" if k != "openenv" else ""
            steps = f"{tput[k]:14.0f}" if k in tput else f"{'':14s}"
            print(f"{label:52s} {res[k]['median_us']:10.1f} {res[k]['p90_us']:10.1f} {steps} {ratio:>7s}")
    print(f"throughput ours/openenv {res['throughput_ours_over_openenv']:.2f}×")
    print("RESULT " + json.dumps(res))


if __name__ == "__main__":
    main()
