"""Every benchmark in one command, with the peers side by side, at sizes that fit in minutes.

    python benchmarks/run_all.py [--quick] [--skip NAME,...] [--only NAME,...]

Runs each benchmark script of ``benchmarks/`` as a subprocess of the interpreter running this
script (``sys.executable``), with small sizes (the whole run stays well under 10 minutes on a
2-core machine), collects the medians it prints, and runs the peer comparisons of
``benchmarks/peers/`` in the same run. Ours:

- in-process ``step`` of a read, a write and a composite tool, each with and without the gold
  probe, and the raw floor (SQLite SELECT by key + orjson) in the same process
  (``bench_step_kinds``); the final step and a whole one-call episode (``bench_final_step``);
- ``reset`` at 1k, 10k and 100k rows, clean and after a write episode (``bench_env``), and
  writes at 5k and 100k rows (``bench_writes``);
- episodes/s of ``SyncVectorEnv`` and ``AsyncVectorEnv(shared_memory=False)`` of 1, 8 and 32
  sub-envs, a fixed one-call episode each (``bench_vector``);
- memory per live env and per live server session (``bench_memory``);
- remote steps (1 request each) against a bare ``GET /health`` and against a minimal ASGI
  echo under uvicorn + httptools, through the same client (``bench_remote_step``); remote
  steps/s with 16 clients (``bench_service_load``, and the openenv-core peer below);
- the audit log, worst-case steps, the eval run and the baseline table.

Peers:

- skyrl-gym: its ``SQLEnv.step`` on the same lookup as our in-process read-tool step;
- openenv-core: a minimal OpenEnv environment doing the same SQLite lookup, served by
  openenv-core's own ``create_app`` and stepped through its WebSocket client, against
  ``FinAdvisorEnv(backend="http")`` stepping ``advisorgym serve``; 1 client and 16.

The peers are never project dependencies. Install them in a separate venv and run this
script with that venv's interpreter; with an interpreter that cannot import a peer, its
comparison is skipped with a printed ``SKIP`` line:

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install -e '.[dev]' openenv-core skyrl-gym
    /tmp/peers/bin/python benchmarks/run_all.py

(``[dev]`` brings pytest and hypothesis, which ``bench_step_worst_case.py`` needs for the fuzz
test's hostile inputs; without them that benchmark is skipped too.) The project's own venv
runs everything but the peers: ``.venv/bin/python benchmarks/run_all.py``.

Writes ``docs/benchmarks-latest.json`` (every median, p90, the command, each script's argv,
wall time and output) and ``docs/benchmarks-latest.md`` (the table, with the command), and
prints the table. Compare ratios measured in one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DOCS = ROOT / "docs"

Metric = dict[str, Any]

# --- parsers: a benchmark's stdout (and its --json file, if any) -> metrics -----------------

_LINE = re.compile(r"^(?P<what>\S.*?)\s*:?\s+median\s+(?P<med>[\d.,]+)\s*(?P<unit>µs|ms|s)\b"
                   r"(?:.*?p90\s+(?P<p90>[\d.,]+))?")


def _num(text: str | None) -> float | None:
    return None if text is None else float(text.replace(",", ""))


def parse_median_lines(out: str, _json: Any = None) -> list[Metric]:
    """Lines of the form ``<what> median X µs   p90 Y µs ...`` (bench_env, final_step, remote_step, audit, eval)."""
    metrics = []
    for line in out.splitlines():
        m = _LINE.match(line.strip())
        if m:
            metrics.append({"what": " ".join(m["what"].split()), "median": _num(m["med"]), "p90": _num(m["p90"]),
                            "unit": m["unit"]})
    return metrics


def parse_tool_latency(out: str, _json: Any = None) -> list[Metric]:
    metrics = []
    for line in out.splitlines():
        m = re.match(r"^(in-process|http)\s+([\d.]+)\s+([\d.]+)\s*$", line.strip())
        if m:
            metrics.append({"what": f"get_client_profile call, {m[1]} back-end", "median": float(m[2]),
                            "p90": float(m[3]), "unit": "µs"})
    return metrics


def parse_writes(out: str, _json: Any = None) -> list[Metric]:
    lines = [ln for ln in out.splitlines() if ln.startswith("|")]
    if not lines:
        return []
    scales = re.findall(r"([\d,]+) rows median", lines[0])
    metrics = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for scale, cell in zip(scales, cells[1:1 + len(scales)]):
            m = re.match(r"([\d.]+) \(([\d.]+)\)", cell)
            if m:
                metrics.append({"what": f"{cells[0]} @ {scale} rows", "median": float(m[1]), "p90": float(m[2]),
                                "unit": "µs"})
    return metrics


def parse_memory(out: str, _json: Any = None) -> list[Metric]:
    metrics = []
    for line in out.splitlines():
        m = re.match(r"^(?P<what>\S.*?)\s+Python heap\s+(?P<heap>[\d.]+) KiB\s+resident set\s+(?P<rss>[\d.]+) KiB",
                     line.strip())
        if m:
            metrics.append({"what": f"{m['what']}: Python heap per env", "median": float(m["heap"]), "unit": "KiB"})
            metrics.append({"what": f"{m['what']}: resident set per env", "median": float(m["rss"]), "unit": "KiB"})
        m = re.match(r"^(?P<what>\S.*?)\s+resident set\s+(?P<rss>[\d.]+) KiB per session", line.strip())
        if m:
            metrics.append({"what": f"{m['what']}: server resident set per session", "median": float(m["rss"]),
                            "unit": "KiB"})
    return metrics


def parse_vector(out: str, _json: Any = None) -> list[Metric]:
    """``<vector env>, <n> sub-envs: median X episodes/s   p90 Y episodes/s`` (bench_vector)."""
    metrics = []
    for line in out.splitlines():
        m = re.match(r"^(?P<what>\S.*?): median\s+(?P<med>[\d.,]+) episodes/s\s+p90\s+(?P<p90>[\d.,]+) episodes/s",
                     line.strip())
        if m:
            metrics.append({"what": m["what"], "median": _num(m["med"]), "p90": _num(m["p90"]), "unit": "episodes/s"})
    return metrics


def parse_service_load(_out: str, data: Any = None) -> list[Metric]:
    metrics = []
    for r in data or []:
        c = r.get("clients")
        metrics.append({"what": f"{c} clients: requests/s", "median": r.get("rps"), "unit": "req/s"})
        metrics.append({"what": f"{c} clients: request latency", "median": r.get("p50_ms"), "p90": r.get("p90_ms"),
                        "unit": "ms"})
        metrics.append({"what": f"{c} clients: server errors + leaks",
                        "median": (r.get("server_errors") or 0) + (r.get("leaks") or 0), "unit": "count"})
    return metrics


def parse_worst_case(_out: str, data: Any = None) -> list[Metric]:
    if not data:
        return []
    rows = data.get("rows", [])
    answers = [r for r in rows if r["kind"] == "answer"]
    calls = [r for r in rows if r["kind"] == "call"]
    metrics = [{"what": "peer: normal final step (gold answer)", "median": data.get("peer_median_ms"), "unit": "ms"}]
    for label, group in (("slowest 200 KB hostile answer", answers), ("slowest hostile tool call", calls)):
        if group:
            worst = max(group, key=lambda r: r["median_ms"])
            metrics.append({"what": f"{label} ({worst['input']})", "median": worst["median_ms"],
                            "max": max(r["max_ms"] for r in group), "unit": "ms"})
    return metrics


def parse_baseline(out: str, _json: Any = None) -> list[Metric]:
    rows = [ln for ln in out.splitlines() if ln.startswith("| ") and not ln.startswith("| agent")]
    return [{"what": "scripted agents tabulated (wall time is the benchmark)", "median": len(rows), "unit": "agents"}]


def parse_result_line(out: str) -> dict[str, Any] | None:
    for line in reversed(out.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return None


def parse_skyrl(out: str, _json: Any = None) -> list[Metric]:
    res = parse_result_line(out)
    if not res or "skipped" in res:
        return []
    labels = {"raw floor": "raw floor: SELECT by key + orjson", "ours": "ours: in-process step, get_client_profile",
              "skyrl": "skyrl-gym SQLEnv.step, same query"}
    return [{"what": labels[k], "median": res[k]["median_us"], "p90": res[k]["p90_us"], "unit": "µs"} for k in labels]


def parse_openenv(out: str, _json: Any = None) -> list[Metric]:
    res = parse_result_line(out)
    if not res or "skipped" in res:
        return []
    c = res["clients"]
    metrics = []
    for k, label in (("ours", "ours: FinAdvisorEnv(backend='http').step"), ("openenv", "openenv-core WebSocket step")):
        metrics.append({"what": f"{label}, 1 client", "median": res[k]["median_us"], "p90": res[k]["p90_us"],
                        "unit": "µs"})
        metrics.append({"what": f"{label}, {c} clients", "median": res[k][f"steps_per_s_{c}_clients"],
                        "unit": "steps/s"})
    for k, label in (("ours_openenv_route", "ours: OpenEnv route step (openenv-core client on /ws)"),
                     ("ours_mcp", "ours: MCP over HTTP call_tool (mcp client on /mcp)"),
                     ("ours_mcp_bare_post", "ours: MCP tools/call as a bare POST (envs.wire on /mcp)")):
        if k in res:
            metrics.append({"what": f"{label}, 1 client", "median": res[k]["median_us"], "p90": res[k]["p90_us"],
                            "unit": "µs"})
    return metrics


# --- the runs ---------------------------------------------------------------------------------

Spec = dict[str, Any]


def specs(quick: bool) -> list[Spec]:
    """Each benchmark: name, script (relative to benchmarks/), argv, parser, whether it takes ``--json PATH``."""
    n = 300 if quick else 1000
    duration = "3" if quick else "5"
    vector_s = "0.5" if quick else "2"
    out: list[Spec] = []
    for scale in ((1000, 100000) if quick else (1000, 10000, 100000)):
        out.append({"name": f"bench_env@{scale}", "script": "bench_env.py",
                    "args": ["--scale", str(scale), "--n", str(n)], "parse": parse_median_lines})
    out += [
        {"name": "bench_step_kinds", "script": "bench_step_kinds.py", "args": ["--n", str(n), "--rounds", "3"],
         "parse": parse_median_lines},
        {"name": "bench_final_step", "script": "bench_final_step.py", "args": ["--n", str(n)],
         "parse": parse_median_lines},
        {"name": "bench_writes", "script": "bench_writes.py", "args": ["--scales", "5000,100000", "--n", str(n // 2)],
         "parse": parse_writes},
        {"name": "bench_audit", "script": "bench_audit.py", "args": ["--n", str(n), "--rounds", "3"],
         "parse": parse_median_lines},
        {"name": "bench_vector", "script": "bench_vector.py", "args": ["--envs", "1,8,32", "--seconds", vector_s],
         "parse": parse_vector},
        {"name": "bench_memory", "script": "bench_memory.py", "args": ["--envs", "16", "--sessions", "32"],
         "parse": parse_memory},
        {"name": "bench_tool_latency", "script": "bench_tool_latency.py",
         "args": ["--n", str(n // 2), "--warmup", "100"], "parse": parse_tool_latency},
        {"name": "bench_remote_step", "script": "bench_remote_step.py", "args": ["--n", str(n // 2)],
         "parse": parse_median_lines},
        {"name": "bench_service_load", "script": "bench_service_load.py",
         "args": ["--clients", "16", "--duration", duration], "parse": parse_service_load, "json": True},
        {"name": "bench_step_worst_case", "script": "bench_step_worst_case.py", "args": ["--n", "3"],
         "parse": parse_worst_case, "json": True},
        {"name": "bench_eval", "script": "bench_eval.py", "args": ["--repeat", "1"], "parse": parse_median_lines},
        {"name": "baseline_table", "script": "baseline_table.py", "args": [], "parse": parse_baseline},
        {"name": "peer:skyrl-gym", "script": "peers/bench_skyrl_sql.py", "args": ["--n", str(n), "--rounds", "3"],
         "parse": parse_skyrl, "peer": True},
        {"name": "peer:openenv-core", "script": "peers/bench_openenv_remote.py",
         "args": ["--n", str(n // 2), "--rounds", "3", "--clients", "16", "--duration", duration],
         "parse": parse_openenv, "peer": True},
    ]
    return out


def run_one(spec: Spec, timeout: float) -> dict[str, Any]:
    argv = [sys.executable, str(BENCH / spec["script"]), *spec["args"]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    with tempfile.TemporaryDirectory() as tmp:
        json_path = Path(tmp) / "out.json"
        if spec.get("json"):
            argv += ["--json", str(json_path)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            rc, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, out = "timeout", (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = f"timed out after {timeout:.0f} s"
        wall = time.perf_counter() - t0
        data = json.loads(json_path.read_text()) if json_path.is_file() else None
    shown = [a if a != str(json_path) else "<tmp>.json" for a in argv[1:]]
    shown[0] = str(Path(shown[0]).relative_to(ROOT))
    result = {"name": spec["name"], "command": "python " + shlex.join(shown), "rc": rc, "wall_s": round(wall, 2),
              "metrics": [], "stdout": out[-4000:], "stderr": err[-2000:] if rc != 0 else ""}
    skip = next((ln for ln in out.splitlines() if ln.startswith("SKIP ")), None)
    missing = re.search(r"ModuleNotFoundError: No module named '([^']+)'", err or "") if rc != 0 else None
    if missing:
        skip = f"SKIP module {missing[1]!r} is not importable by {sys.executable}"
    if skip:
        result["skipped"] = skip[5:]
    elif rc == 0:
        try:
            result["metrics"] = spec["parse"](out, data)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the other results
            result["parse_error"] = repr(exc)
    return result


# --- the report -------------------------------------------------------------------------------

def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, (int, float)):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.1f}" if abs(x) >= 10 or x == int(x) else f"{x:.2f}"
    return str(x)


def _metric(results: dict[str, dict], bench: str, prefix: str) -> float | None:
    for m in results.get(bench, {}).get("metrics", []):
        if m["what"].startswith(prefix):
            return m["median"]
    return None


def comparisons(results: dict[str, dict]) -> list[dict[str, Any]]:
    """The side-by-side rows: ours, the peer or floor, and their ratio, all from this run."""
    rows = []

    def add(what: str, ours: float | None, peer: float | None, unit: str, peer_name: str, ratio_name: str,
            ratio: Callable[[float, float], float]) -> None:
        if ours is not None and peer is not None:
            rows.append({"what": what, "ours": ours, "peer": peer, "peer_name": peer_name, "unit": unit,
                         "ratio_name": ratio_name, "ratio": ratio(ours, peer)})

    sk = "peer:skyrl-gym"
    add("in-process read-tool step vs skyrl-gym SQLEnv.step (same lookup)",
        _metric(results, sk, "ours:"), _metric(results, sk, "skyrl-gym"), "µs", "skyrl-gym", "peer / ours",
        lambda o, p: p / o)
    add("in-process read-tool step vs raw floor (SELECT by key + orjson)",
        _metric(results, sk, "ours:"), _metric(results, sk, "raw floor"), "µs", "floor", "ours / floor",
        lambda o, p: o / p)
    oe = "peer:openenv-core"
    add("remote step latency, 1 client", _metric(results, oe, "ours: FinAdvisorEnv(backend='http').step, 1 client"),
        _metric(results, oe, "openenv-core WebSocket step, 1 client"), "µs", "openenv-core", "ours / peer",
        lambda o, p: o / p)
    for label in ("ours: OpenEnv route step (openenv-core client on /ws)", "ours: MCP over HTTP call_tool (mcp client on /mcp)",
                  "ours: MCP tools/call as a bare POST (envs.wire on /mcp)"):
        add(f"remote step latency, 1 client: {label.split(': ', 1)[1]}", _metric(results, oe, f"{label}, 1 client"),
            _metric(results, oe, "openenv-core WebSocket step, 1 client"), "µs", "openenv-core", "ours / peer",
            lambda o, p: o / p)
    c16 = next((m["what"].rsplit(", ", 1)[1] for m in results.get(oe, {}).get("metrics", [])
                if m["unit"] == "steps/s"), "16 clients")
    add(f"remote steps/s, {c16}", _metric(results, oe, f"ours: FinAdvisorEnv(backend='http').step, {c16}"),
        _metric(results, oe, f"openenv-core WebSocket step, {c16}"), "steps/s", "openenv-core", "ours / peer",
        lambda o, p: o / p)
    ks = "bench_step_kinds"
    floor = _metric(results, ks, "raw floor")
    for m in results.get(ks, {}).get("metrics", []):
        if not m["what"].startswith("raw floor"):
            add(f"in-process {m['what']} vs raw floor", m["median"], floor, "µs", "floor", "ours / floor",
                lambda o, p: o / p)
    env_scales = sorted(int(name.split("@")[1]) for name in results if name.startswith("bench_env@"))
    if len(env_scales) > 1:
        lo, hi = env_scales[0], env_scales[-1]
        for label in ("reset of a clean episode", "reset after a write episode"):
            add(f"{label}, {hi:,} rows vs {lo:,} rows", _metric(results, f"bench_env@{hi}", label),
                _metric(results, f"bench_env@{lo}", label), "µs", f"{lo // 1000}k rows",
                f"{hi // 1000}k / {lo // 1000}k", lambda o, p: o / p)
    vs = "bench_vector"
    counts = sorted({int(m["what"].rsplit(", ", 1)[1].split()[0]) for m in results.get(vs, {}).get("metrics", [])})
    if counts:
        most = counts[-1]
        add(f"AsyncVectorEnv(shared_memory=False) vs SyncVectorEnv, {most} sub-envs",
            _metric(results, vs, f"AsyncVectorEnv(shared_memory=False), {most} sub-envs"),
            _metric(results, vs, f"SyncVectorEnv, {most} sub-envs"), "episodes/s", "Sync", "async / sync",
            lambda o, p: o / p)
        add(f"SyncVectorEnv, {most} sub-envs vs 1 sub-env", _metric(results, vs, f"SyncVectorEnv, {most} sub-envs"),
            _metric(results, vs, f"SyncVectorEnv, {counts[0]} sub-envs"), "episodes/s", f"{counts[0]} sub-env",
            f"{most} / {counts[0]}", lambda o, p: o / p)
    mem = "bench_memory"
    add("server session vs live env through gym.make (resident set)",
        _metric(results, mem, "advisorgym serve: live session"), _metric(results, mem, "gym.make(ENV_ID): resident"),
        "KiB", "gym.make env", "session / env", lambda o, p: o / p)
    fs = "bench_final_step"
    floor = _metric(results, fs, "raw floor")
    for label, prefix in (("final step, warm", "final step, warm"), ("one-call episode", "one-call episode")):
        add(f"{label} vs raw floor", _metric(results, fs, prefix), floor, "µs", "floor", "ours / floor",
            lambda o, p: o / p)
    rs = "bench_remote_step"
    health = _metric(results, rs, "bare GET /health")
    add("remote read step vs bare GET /health round trip", _metric(results, rs, "read without a probe"), health, "µs",
        "GET /health", "ours / floor", lambda o, p: o / p)
    echo = _metric(results, rs, "bare ASGI echo")
    for label in ("read without a probe", "read with a gold probe"):
        add(f"remote {label} vs minimal ASGI echo round trip (uvicorn + httptools)", _metric(results, rs, label),
            echo, "µs", "ASGI echo", "ours / floor", lambda o, p: o / p)
    w = "bench_writes"
    add("add_advisor_note, 100k rows vs 5k rows", _metric(results, w, "add_advisor_note @ 100,000"),
        _metric(results, w, "add_advisor_note @ 5,000"), "µs", "5k rows", "100k / 5k", lambda o, p: o / p)
    return rows


def render(report: dict[str, Any]) -> str:
    lines = ["# Benchmarks: latest `run_all.py` run", "",
             f"`{report['command']}` — {report['date']}, Python {report['python']}, {report['cpus']} CPUs, "
             f"1-minute load {report['load_before']} before / {report['load_after']} after, "
             f"{report['wall_s']:.0f} s in all. Medians (p90 where the script prints it); ratios are taken "
             "within this run. Sizes are run_all's small ones (see each command), so absolute numbers are noisier "
             "than the per-script runs in `docs/benchmarks.md`.", ""]
    skipped = [r for r in report["runs"] if r.get("skipped")]
    for r in skipped:
        lines.append(f"SKIP {r['name']}: {r['skipped']}")
    if skipped:
        lines.append("")
    lines += ["## Side by side (same run)", "", "| comparison | ours | peer / floor | unit | ratio |",
              "|---|---:|---:|---|---:|"]
    for c in report["comparisons"]:
        lines.append(f"| {c['what']} | {_fmt(c['ours'])} | {_fmt(c['peer'])} ({c['peer_name']}) | {c['unit']} | "
                     f"{c['ratio']:.2f}× ({c['ratio_name']}) |")
    lines += ["", "## Every median", "", "| benchmark | what | median | p90 | unit |", "|---|---|---:|---:|---|"]
    for r in report["runs"]:
        for m in r["metrics"]:
            lines.append(f"| {r['name']} | {m['what']} | {_fmt(m['median'])} | {_fmt(m.get('p90'))} | {m['unit']} |")
    lines += ["", "## Runs", "", "1-minute load after each benchmark (2 CPUs: above ~2, other work was competing and its "
              "medians are inflated).", "", "| benchmark | command | wall s | load after | status |",
              "|---|---|---:|---:|---|"]
    for r in report["runs"]:
        status = ("skipped" if r.get("skipped") else "ok" if r["rc"] == 0 and not r.get("parse_error")
                  else f"FAILED (rc {r['rc']}{', ' + r['parse_error'] if r.get('parse_error') else ''})")
        lines.append(f"| {r['name']} | `{r['command']}` | {r['wall_s']:.1f} | {r.get('load1_after', '')} | {status} |")
    return "\n".join(lines) + "\n"


def load1() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes still (a smoke run)")
    ap.add_argument("--only", default="", help="comma-separated benchmark names to run (default: all)")
    ap.add_argument("--skip", default="", help="comma-separated benchmark names to leave out")
    ap.add_argument("--timeout", type=float, default=240, help="seconds per benchmark before it is stopped")
    ap.add_argument("--out", type=Path, default=DOCS, help="where benchmarks-latest.{json,md} go")
    args = ap.parse_args()
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    todo = [s for s in specs(args.quick) if (not only or s["name"] in only) and s["name"] not in skip]
    command = "python benchmarks/run_all.py" + "".join(
        f" {a}" for a in sys.argv[1:])
    print(f"# {command}  (interpreter {sys.executable}); {len(todo)} benchmarks", flush=True)
    load_before, t0 = load1(), time.perf_counter()
    runs = []
    for spec in todo:
        print(f"- {spec['name']:24s} ...", end=" ", flush=True)
        r = run_one(spec, args.timeout)
        r["load1_after"] = load1()
        runs.append(r)
        if r.get("skipped"):
            print(f"SKIP ({r['wall_s']:.1f} s): {r['skipped']}", flush=True)
        elif r["rc"] == 0 and not r.get("parse_error"):
            print(f"ok ({r['wall_s']:.1f} s, {len(r['metrics'])} medians)", flush=True)
        else:
            print(f"FAILED ({r['wall_s']:.1f} s, rc {r['rc']}): {(r['stderr'] or r.get('parse_error', ''))[-300:]}",
                  flush=True)
    report = {"command": command, "interpreter": sys.executable, "date": dt.datetime.now().isoformat(timespec="seconds"),
              "python": platform.python_version(), "cpus": os.cpu_count(), "load_before": load_before,
              "load_after": load1(), "wall_s": time.perf_counter() - t0, "runs": runs}
    report["comparisons"] = comparisons({r["name"]: r for r in runs})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks-latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    table = render(report)
    (args.out / "benchmarks-latest.md").write_text(table)
    print()
    print(table)
    print(f"wrote {args.out / 'benchmarks-latest.json'} and {args.out / 'benchmarks-latest.md'}")
    for r in runs:
        if r.get("skipped"):
            print(f"SKIP {r['name']}: {r['skipped']}")
    if any(r["rc"] != 0 or r.get("parse_error") for r in runs if not r.get("skipped")):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
