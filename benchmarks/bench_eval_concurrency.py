"""Episodes per minute of ``advisorgym eval --agent openai`` against an endpoint of fixed
latency: one episode at a time, and ``--concurrency 32``.

    python benchmarks/bench_eval_concurrency.py [--tasks 50] [--latency 0.3] [--concurrency 32]
                                                 [--repeat 3] [--max-seconds 400]

The endpoint is a real HTTP server on 127.0.0.1, in a subprocess (uvicorn): an
OpenAI-compatible ``/chat/completions`` that answers every request after ``--latency``
seconds with the task's gold (one tool call a turn, then the gold answer), like a served
model that always gets it right. Before timing, one request goes through the official
``openai`` client (the dev extra) to check that it parses the answers. Each run is the eval
of the first ``--tasks`` tasks of the frozen suite into a fresh directory (episodes only: no
plots). Prints episodes/min of each run and the median per mode, the ideal (requests x
latency / concurrency) and the share of it reached, and the growth of peak RSS per extra
worker. Runs stop repeating past ``--max-seconds``; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from fastapi import FastAPI, Request  # FastAPI reads the handler's annotations: module-level names
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fake_endpoint_app(suite: Path, latency: float) -> FastAPI:
    from envs.tasks import load_tasks

    by_query = {t.query: t for t in load_tasks(suite)}
    app = FastAPI()
    stats = {"requests": 0}

    @app.get("/stats")
    async def get_stats():
        return stats

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        stats["requests"] += 1
        await asyncio.sleep(latency)
        messages = body["messages"]
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
        return JSONResponse({"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "gold",
                             "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    return app


def serve_fake(port: int, suite: Path, latency: float) -> None:
    import uvicorn

    uvicorn.run(fake_endpoint_app(suite, latency), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _requests(base: str) -> int:
    with urllib.request.urlopen(f"{base}/stats", timeout=5) as r:  # noqa: S310 - 127.0.0.1 only
        return json.loads(r.read())["requests"]


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=400.0)
    ap.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    from envs.tasks import SUITE

    if args.serve_fake:
        serve_fake(args.serve_fake, SUITE, args.latency)
        return
    from envs.evaluation.run import run_eval

    port = _free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve-fake", str(port), "--latency", str(args.latency)],
                              cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _requests(base)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the fake endpoint did not start") from None
                time.sleep(0.2)
        check_with_openai_client(base, SUITE)
        stop_at = time.monotonic() + args.max_seconds
        kwargs = {"base_url": f"{base}/v1", "model": "gold"}
        results: dict[int, list[float]] = {}
        rss: dict[int, float] = {}
        requests: dict[int, int] = {}
        for conc in (1, args.concurrency):
            rates = results.setdefault(conc, [])
            for i in range(args.repeat):
                if i and time.monotonic() > stop_at:
                    print(f"  (stopped repeating: past --max-seconds {args.max_seconds:g})")
                    break
                before = _requests(base)
                with tempfile.TemporaryDirectory() as tmp:
                    result = run_eval("openai", SUITE, Path(tmp), agent_kwargs=kwargs, limit=args.tasks,
                                      concurrency=conc, progress=False, plots=False)
                assert result["ran"] == args.tasks and result["infra_failed"] == 0, result
                requests[conc] = _requests(base) - before
                rates.append(60 * args.tasks / result["episodes_s"])
                print(f"concurrency {conc:>3} run {i + 1}: {result['episodes_s']:.2f} s, {rates[-1]:.0f} episodes/min "
                      f"({requests[conc]} requests, TCR {result['metrics']['overall']['TCR']:.0%})")
            rss[conc] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB, Linux: KiB
        for conc, rates in results.items():
            med = statistics.median(rates)
            ideal = 60 * args.tasks / (requests[conc] * args.latency / conc)
            print(f"RESULT concurrency {conc}: median {med:.0f} episodes/min over {len(rates)} run(s); ideal "
                  f"{ideal:.0f}/min ({requests[conc]} requests x {args.latency:g} s / {conc}); {med / ideal:.2f} "
                  "of ideal")
        speedup = statistics.median(results[args.concurrency]) / statistics.median(results[1])
        print(f"RESULT speed-up at concurrency {args.concurrency}: {speedup:.1f}x")
        print(f"RESULT peak RSS: {rss[1]:.0f} MiB after the sequential runs, {rss[args.concurrency]:.0f} MiB after "
              f"concurrency {args.concurrency}: {(rss[args.concurrency] - rss[1]) / (args.concurrency - 1):.1f} MiB "
              "per extra worker")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
