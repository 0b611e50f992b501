"""Episodes per minute of ``advisorgym eval --agent openai`` against an endpoint of fixed
latency: the sequential loop ``--concurrency`` replaced, ``--concurrency 1`` and
``--concurrency 32``, the fake endpoint's own ceiling, and memory per concurrent worker.

    python benchmarks/bench_eval_concurrency.py [--tasks 50] [--latency 0.3] [--concurrency 32]
                                                 [--repeat 3] [--max-seconds 600]

**The endpoint** is a real HTTP server on 127.0.0.1 in a subprocess: a raw ASGI app under
uvicorn (httptools, uvloop), OpenAI-compatible, whose ``/chat/completions`` answers every
request with the task's gold (one tool call a turn, then the gold answer), like a served model
that always gets it right, ``--latency`` seconds after the request reached it (its own work
counts inside the latency). Before timing, one request goes through the official ``openai``
client (the dev extra) to check that it parses the answers. Its **ceiling** is measured
first, without the eval: a lean asyncio client keeps 1× and 4× ``--concurrency`` requests in
flight (the eval's own first-turn bodies, 11 KB each) and times every answer; the server
reports how late its answers left (past arrival + latency) and its CPU time per request.

**Timed modes**, interleaved (each repeat runs all three, in rotating order, so that the
machine's load drifts over every mode alike); each run evaluates the first ``--tasks`` tasks of
the frozen suite into a fresh directory (episodes only: no plots) and is timed over environment
set-up and episodes (``run_eval``'s ``episodes_s``):

- ``sequential``: the eval loop as it was before ``--concurrency`` (``run_eval`` of commit
  7101fc4, the parent of the merge that added it), kept here line for line around today's
  ``run_episode``: one environment, one agent, the tasks in order, each record written and
  synced as it ends;
- ``run_eval(concurrency=1)`` and ``run_eval(concurrency=--concurrency)``.

Prints each run, the median per mode, the ratio ``concurrency 1`` / ``sequential`` (median of
the repeats' ratios), the ideal (requests × latency / concurrency) and the share of it
reached, and the wall-time floor (episodes are chains of requests: ``ceil(episodes /
workers)`` waves of ``turns × latency``).

**Memory per worker**: three fresh child processes run the same eval at concurrency 1, 8 and
``--concurrency`` at once; each reports its resident set before ``run_eval`` and its peak
(``VmHWM``) after; the growth of the peak per added worker is the least-squares slope over the
three. Runs stop repeating past ``--max-seconds``; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_JSON_HEADERS = [(b"content-type", b"application/json")]


def fake_endpoint_app(suite: Path, latency: float) -> Any:
    """The raw ASGI app: ``POST .../chat/completions`` answers the gold; ``GET /stats``."""
    from envs.tasks import load_tasks

    by_query = {t.query: t for t in load_tasks(suite)}
    late_ms: list[float] = []

    def gold_answer(body: bytes) -> bytes:
        messages = orjson.loads(body)["messages"]
        task = by_query[messages[1]["content"]]
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        if turn < len(task.gold_calls):
            g = task.gold_calls[turn]
            message = {"role": "assistant", "content": None,
                       "tool_calls": [{"id": f"call_{turn}", "type": "function",
                                       "function": {"name": g.name, "arguments": json.dumps(g.arguments)}}]}
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": task.gold_response}, "stop"
        return orjson.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "gold",
                             "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        arrived = time.monotonic()  # the request head is parsed; its body follows
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        if scope["path"] == "/stats":
            answer = orjson.dumps({"requests": len(late_ms), "late_ms": late_ms})
        else:
            answer = gold_answer(b"".join(chunks))
            await asyncio.sleep(max(0.0, arrived + latency - time.monotonic()))
            late_ms.append(1000 * (time.monotonic() - arrived - latency))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_JSON_HEADERS, (b"content-length", b"%d" % len(answer))]})
        await send({"type": "http.response.body", "body": answer})

    return app


def serve_fake(port: int, suite: Path, latency: float) -> None:
    import uvicorn

    uvicorn.run(fake_endpoint_app(suite, latency), host="127.0.0.1", port=port, http="httptools",
                log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stats(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/stats", timeout=5) as r:  # 127.0.0.1 only
        return json.loads(r.read())


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_with_openai_client(base: str, suite: Path) -> None:
    """One request through the official client: the fake answers as an OpenAI endpoint does."""
    try:
        import openai
    except ImportError:
        print("SKIP openai client check: the openai package is not installed (dev extra)")
        return
    from envs.env import FinAdvisorEnv

    env = FinAdvisorEnv(tasks=suite)
    _, info = env.reset(seed=0, options={"task_id": env.tasks[0].task_id})
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="bench", max_retries=0)
    reply = client.chat.completions.create(model="gold", tools=info["tools"], messages=[
        {"role": "system", "content": info["system_for_tools_api"]}, {"role": "user", "content": env.tasks[0].query}])
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == env.tasks[0].gold_calls[0].name, call
    env.close()
    print(f"openai {openai.__version__} client check: first tool call {call.function.name}")


def first_turn_bodies(suite: Path, n: int) -> list[bytes]:
    """The request bodies of the eval's first turn on the first ``n`` tasks, as the agent sends them."""
    from envs.env import FinAdvisorEnv

    env = FinAdvisorEnv(tasks=suite)
    bodies = []
    for task in env.tasks[:n]:
        _, info = env.reset(seed=0, options={"task_id": task.task_id})
        bodies.append(orjson.dumps({"model": "gold", "tools": info["tools"], "temperature": 0.0, "messages": [
            {"role": "system", "content": info["system_for_tools_api"]}, {"role": "user", "content": task.query}]}))
    env.close()
    return bodies


async def _load(port: int, bodies: list[bytes], streams: int, rounds: int) -> list[float]:
    """``streams`` keep-alive connections, each sending ``rounds`` requests one after another."""
    latencies: list[float] = []

    async def stream(k: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for r in range(rounds):
            body = bodies[(k + r) % len(bodies)]
            started = time.perf_counter()
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                         b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(stream(k) for k in range(streams)))
    return latencies


def endpoint_ceiling(base: str, port: int, server_pid: int, bodies: list[bytes], streams: int, latency: float,
                     rounds: int = 4) -> None:
    """Time the fake endpoint alone with ``streams`` requests in flight; prints a RESULT line."""
    before, cpu_before = _stats(base)["requests"], _cpu_s(server_pid)
    started = time.perf_counter()
    latencies = asyncio.run(_load(port, bodies, streams, rounds))
    wall = time.perf_counter() - started
    cpu = _cpu_s(server_pid) - cpu_before
    late = _stats(base)["late_ms"][before:]
    lat_ms = sorted(1000 * x for x in latencies)
    print(f"RESULT fake endpoint, {streams} requests in flight x {rounds}: answers after median "
          f"{statistics.median(lat_ms):.1f} ms, p95 {lat_ms[int(0.95 * (len(lat_ms) - 1))]:.1f}, max {lat_ms[-1]:.1f} "
          f"(latency {1000 * latency:g}); left the server late by median {statistics.median(late):.2f} ms, max "
          f"{max(late):.2f}; {len(latencies) / wall:.0f} requests/s of {streams / latency:.0f} ideal; server CPU "
          + (f"{1000 * cpu / len(latencies):.2f} ms a request (one core: ~{len(latencies) / cpu:.0f} requests/s)"
             if cpu >= 0.05 else f"under 50 ms for {len(latencies)} requests (too little to divide)"))


def sequential_before_concurrency(agent_kwargs: dict[str, Any], suite: Path, out: Path, limit: int) -> float:
    """The episode loop of ``run_eval`` before ``--concurrency`` (commit 7101fc4), line for line
    without the progress bar, on a fresh ``out``; returns its seconds, timed as ``episodes_s``
    was then (environment set-up, the episodes, closing)."""
    from envs.env import FinAdvisorEnv
    from envs.evaluation.agents import make_agent
    from envs.evaluation.outputs import EPISODES, EpisodeWriter
    from envs.evaluation.config import INFRA_STOP_AFTER
    from envs.evaluation.run import _FATAL_INFRA, infra_failure, run_episode
    from envs.reward import RewardConfig
    from envs.tasks import load_tasks

    seed, max_steps, transcript_chars, infra_stop_after = 0, 12, 20_000, INFRA_STOP_AFTER
    todo = list(enumerate(load_tasks(suite)))[:limit]
    instance = make_agent("openai", **agent_kwargs)
    reward_config = RewardConfig()
    ran = infra_failed = consecutive = 0
    loop_started = time.perf_counter()
    env = FinAdvisorEnv(tasks=suite, backend="inprocess", base_url=None, token=None, max_steps=max_steps,
                        reward_config=reward_config)
    if callable(getattr(env.checker, "warm_up", None)):
        env.checker.warm_up()
    writer = EpisodeWriter(out / EPISODES)
    try:
        successes, reward_sum = 0, 0.0
        for index, task in todo:
            record = run_episode(env, instance, task, seed + index, transcript_chars)
            record["index"] = index
            failure = infra_failure(record)
            if failure is not None:
                infra_failed += 1
                consecutive += 1
                if consecutive >= infra_stop_after or any(f in failure for f in _FATAL_INFRA):
                    raise RuntimeError(f"infrastructure failure: {failure}")
                continue
            consecutive = 0
            writer.write(record)
            ran += 1
            successes += record["task_success"]
            reward_sum += record["total"]
    finally:
        writer.close()
        _ = env.contract_status
        env.close()
    instance.close()
    seconds = time.perf_counter() - loop_started
    assert ran == limit and successes == limit, (ran, successes)
    return seconds


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure_memory(agent_kwargs: dict[str, Any], suite: Path, limit: int, concurrency: int) -> None:
    """Child mode: one eval at ``concurrency``; prints its RSS before and its peak after (KiB)."""
    from envs.evaluation.run import run_eval

    before = _rss_kib("VmRSS")
    with tempfile.TemporaryDirectory() as tmp:
        result = run_eval("openai", suite, Path(tmp), agent_kwargs=agent_kwargs, limit=limit,
                          concurrency=concurrency, progress=False, plots=False)
    assert result["ran"] == limit, result
    print(json.dumps({"concurrency": concurrency, "rss_before_kib": before, "peak_kib": _rss_kib("VmHWM")}))


def memory_per_worker(base: str, latency: float, limit: int, levels: list[int]) -> None:
    children = [subprocess.Popen([sys.executable, __file__, "--measure-memory", str(n), "--endpoint", base,
                                  "--tasks", str(limit), "--latency", str(latency)],
                                 cwd=ROOT, stdout=subprocess.PIPE, text=True) for n in levels]
    rows = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        assert child.returncode == 0, child.returncode
        rows.append(json.loads(out.strip().splitlines()[-1]))
    xs = [r["concurrency"] for r in rows]
    ys = [(r["peak_kib"] - r["rss_before_kib"]) / 1024 for r in rows]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    for r, y in zip(rows, ys):
        print(f"  memory, concurrency {r['concurrency']:>3}: RSS {r['rss_before_kib'] / 1024:.0f} MiB before run_eval, "
              f"peak {r['peak_kib'] / 1024:.0f} MiB: +{y:.1f} MiB")
    print(f"RESULT memory per worker: {slope:.2f} MiB of peak RSS per added worker (least squares over concurrency "
          f"{', '.join(map(str, xs))})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=600.0)
    ap.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--measure-memory", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = ap.parse_args()

    from envs.tasks import SUITE

    if args.serve_fake:
        serve_fake(args.serve_fake, SUITE, args.latency)
        return
    if args.measure_memory:
        measure_memory({"base_url": f"{args.endpoint}/v1", "model": "gold"}, SUITE, args.tasks, args.measure_memory)
        return
    from envs.evaluation.run import run_eval

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    port = _free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve-fake", str(port), "--latency", str(args.latency)],
                              cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _stats(base)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the fake endpoint did not start") from None
                time.sleep(0.2)
        check_with_openai_client(base, SUITE)
        bodies = first_turn_bodies(SUITE, args.tasks)
        asyncio.run(_load(port, bodies, args.concurrency, 1))  # untimed: the server's first requests
        for streams in (args.concurrency, 4 * args.concurrency):
            endpoint_ceiling(base, port, server.pid, bodies, streams, args.latency)

        kwargs = {"base_url": f"{base}/v1", "model": "gold"}
        with tempfile.TemporaryDirectory() as tmp:  # untimed: what a process does once (replica check, classifier)
            run_eval("openai", SUITE, Path(tmp), agent_kwargs=kwargs, limit=2, progress=False, plots=False)
        modes = ["sequential", "concurrency 1", f"concurrency {args.concurrency}"]
        seconds: dict[str, list[float]] = {m: [] for m in modes}
        requests: dict[str, int] = {}
        stop_at = time.monotonic() + args.max_seconds
        for i in range(args.repeat):
            if i and time.monotonic() > stop_at:
                print(f"  (stopped repeating: past --max-seconds {args.max_seconds:g})")
                break
            for mode in modes[i % 3:] + modes[:i % 3]:
                before = _stats(base)["requests"]
                with tempfile.TemporaryDirectory() as tmp:
                    if mode == "sequential":
                        elapsed = sequential_before_concurrency(kwargs, SUITE, Path(tmp), args.tasks)
                    else:
                        conc = int(mode.split()[1])
                        result = run_eval("openai", SUITE, Path(tmp), agent_kwargs=kwargs, limit=args.tasks,
                                          concurrency=conc, progress=False, plots=False)
                        assert result["ran"] == args.tasks and result["infra_failed"] == 0, result
                        assert result["metrics"]["overall"]["TCR"] == 1.0, result["metrics"]["overall"]
                        elapsed = result["episodes_s"]
                requests[mode] = _stats(base)["requests"] - before
                seconds[mode].append(elapsed)
                print(f"{mode:>15} run {i + 1}: {elapsed:6.2f} s, {60 * args.tasks / elapsed:5.0f} episodes/min "
                      f"({requests[mode]} requests)", flush=True)

        for mode in modes:
            med = statistics.median(seconds[mode])
            workers = 1 if mode == "sequential" else int(mode.split()[1])
            ideal_s = requests[mode] * args.latency / workers
            print(f"RESULT {mode}: median {60 * args.tasks / med:.0f} episodes/min over {len(seconds[mode])} run(s) "
                  f"({', '.join(f'{s:.2f}' for s in seconds[mode])} s); ideal {60 * args.tasks / ideal_s:.0f}/min "
                  f"({requests[mode]} requests x {args.latency:g} s / {workers}); {ideal_s / med:.2f} of ideal")
        conc_mode = modes[2]
        turns = requests[conc_mode] / args.tasks
        floor_s = math.ceil(args.tasks / args.concurrency) * turns * args.latency
        print(f"RESULT {conc_mode}: wall-time floor {floor_s:.2f} s ({math.ceil(args.tasks / args.concurrency)} "
              f"waves of {turns:g} requests), {floor_s / statistics.median(seconds[conc_mode]):.2f} of it reached")
        ratios = [c / s for c, s in zip(seconds["concurrency 1"], seconds["sequential"])]
        print(f"RESULT concurrency 1 / sequential: {statistics.median(ratios):.3f} (median of the repeats' ratios: "
              f"{', '.join(f'{r:.3f}' for r in ratios)})")
        speedup = statistics.median(seconds["concurrency 1"]) / statistics.median(seconds[conc_mode])
        print(f"RESULT speed-up at {conc_mode}: {speedup:.1f}x")
        memory_per_worker(base, args.latency, args.tasks, sorted({1, min(8, args.concurrency), args.concurrency}))
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
