"""A static HTML site for browsing eval runs (``advisorgym view``): it opens from disk and
serves nothing (``--serve`` is optional).

- ``index.html``: per run, an overview (agent, reward version, config, contract) and the
  metrics per level (with the intervals and pass^k of repeated trials); then one table of
  tasks with each run's outcome, filterable (failed, violations, over-refusals, inconsistent
  across trials) and linked to the transcripts;
- ``episodes/R<n>/<task>-t<trial>.html``: one episode: the outcome and reward breakdown, the
  user's query, the system prompt collapsed, then each turn: the agent's action and tool
  calls formatted, the signals of its calls, and the results;
- ``tasks/<task>.html``: the task in every run, side by side (trial 0 of each, links to the rest).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from envs.actions import parse_action
from envs.evaluation.metrics import COMPONENTS
from envs.evaluation.outputs import EPISODES, METRICS, RUN, load_episodes
from envs.evaluation.report import _num, _pct, split_prompt

FILTERS = (("all", "all tasks"), ("failed", "failed"), ("violation", "violations"),
           ("overrefusal", "over-refusals"), ("inconsistent", "inconsistent across trials"))

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1400px;padding:0 1em;color:#1b1f23}
table{border-collapse:collapse;margin:.5em 0 1.2em}th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:right}
th:first-child,td:first-child,td.l{text-align:left}th{background:#f3f4f6}
.ok{color:#116329;font-weight:600}.fail{color:#b42318;font-weight:600}.warn{color:#9a6700}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.6em;border-radius:4px;margin:.3em 0}
.turn{border-left:3px solid #d0d7de;padding-left:.8em;margin:.8em 0}.agent{border-color:#0969da}
.env{border-color:#8c959f}.filters button{margin-right:.4em}.filters button.on{background:#0969da;color:#fff}
.cols{display:grid;gap:1em}.small{color:#57606a;font-size:12px}summary{cursor:pointer}
"""

FILTER_JS = """
function applyFilter(name){
  document.querySelectorAll('.filters button').forEach(b=>b.classList.toggle('on',b.dataset.filter===name));
  let shown=0;
  document.querySelectorAll('#tasks tbody tr').forEach(tr=>{
    const keep=name==='all'||tr.dataset[name]==='1'; tr.style.display=keep?'':'none'; shown+=keep;});
  document.getElementById('shown').textContent=shown;
}
document.querySelectorAll('.filters button').forEach(b=>b.addEventListener('click',()=>applyFilter(b.dataset.filter)));
applyFilter((location.hash.match(/filter=(\\w+)/)||[])[1]||'all');
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str, script: str = "") -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}" + (f"<script>{script}</script>" if script else "")
            + "</body></html>\n")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _pretty(text: str) -> str:
    """JSON indented, anything else as it is."""
    try:
        return orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return text


def load_run(path: Path) -> dict[str, Any]:
    """One eval output directory: its ``metrics.json``, ``run.json`` and episode records."""
    metrics = orjson.loads((path / METRICS).read_bytes())
    run = orjson.loads((path / RUN).read_bytes()) if (path / RUN).is_file() else {}
    records = load_episodes(path / EPISODES, repair=False)
    return {"path": path, "metrics": metrics, "run": run, "records": records}


def _overview(n: int, run: dict[str, Any]) -> str:
    m, cfg = run["metrics"], run["run"]
    contract = m.get("contract") or {}
    contract_text = ("not recorded" if not contract else f"not checked ({contract.get('reason')})"
                     if not contract.get("checked") else f"{contract.get('contract')}: "
                     + ("no breaking drift" if contract.get("ok") else "BREAKING DRIFT"))
    rows = [("directory", str(run["path"])), ("agent", m["agent"]), ("agent config", m.get("agent_config") or {}),
            ("reward", f"{m['reward_version']} ({m['reward_config'].get('composition')})"),
            ("tasks", f"{m['tasks']}: {m['counts']['episodes']} episodes of {m['counts']['tasks_in_suite']} tasks"
                      f" x {m['counts'].get('trials', 1)} trial(s)"),
            ("max steps, seed, back-end", f"{cfg.get('max_steps')}, {cfg.get('seed')}, {cfg.get('backend')}"),
            ("contract", contract_text)]
    if m.get("audit"):
        rows.append(("audit log", f"{m['audit']['path']} head {m['audit']['head']}"))
    out = [f"<h2 id=run{n}>R{n}: {_e(m['agent'])}</h2><table class=overview>"]
    out += [f"<tr><th>{_e(k)}</th><td class=l>{_e(v)}</td></tr>" for k, v in rows]
    out.append("</table>")
    trials = m.get("trials") or {}
    head = ["level", "n", "TCR", "TCR 95% CI", "TIER", "AIR", "CRR", "VR", "ORR", "mean R", "mean R 95% CI"]
    ks = list(trials.get("pass_hat", {}))
    head += [f"pass^{k}" for k in ks] + [f"pass@{k}" for k in ks]
    out.append("<table class=metrics><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>")
    groups = [("overall", m["overall"], m["reward_means"]["overall"], trials)] + [
        (lv, g, m["reward_means"]["per_level"][lv], (trials.get("per_level") or {}).get(lv, {}))
        for lv, g in m["per_level"].items()]
    for name, g, means, t in groups:
        ci = t.get("TCR_ci95")
        rci = t.get("mean_R_ci95")
        cells = [name, g["n"], _pct(g["TCR"]), f"[{_pct(ci[0])}, {_pct(ci[1])}]" if ci else "—", _pct(g["TIER"]),
                 _num(g["AIR"]), _pct(g["CRR"]), _pct(g["VR"]), _pct(g.get("ORR")), _num(means["total"]),
                 f"[{_num(rci[0])}, {_num(rci[1])}]" if rci else "—"]
        cells += [_pct((t.get("pass_hat") or {}).get(k)) for k in ks] + [_pct((t.get("pass_at") or {}).get(k))
                                                                         for k in ks]
        out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _episode_href(n: int, r: dict[str, Any]) -> str:
    return f"episodes/R{n}/{_slug(r['task_id'])}-t{r.get('trial', 0)}.html"


def _task_row(task_id: str, by_run: list[dict[str, list[dict[str, Any]]]]) -> str:
    level = query = ""
    flags = {"failed": False, "violation": False, "overrefusal": False, "inconsistent": False}
    cells = []
    for n, eps in enumerate(by_run):
        rs = eps.get(task_id, [])
        if not rs:
            cells.append("<td class=l>—</td>")
            continue
        level = rs[0]["level"]
        prompt = split_prompt(str((rs[0].get("transcript") or [{}])[0].get("text", "")))
        query = query or (prompt[1] if prompt else "")
        wins = sum(1 for r in rs if r["task_success"])
        flags["failed"] |= wins < len(rs)
        flags["violation"] |= any(r["violated"] for r in rs)
        flags["overrefusal"] |= any(r.get("over_refusal") for r in rs)
        flags["inconsistent"] |= 0 < wins < len(rs)
        links = " ".join(f"<a class=transcript href='{_episode_href(n, r)}' title='trial {r.get('trial', 0)}'>"
                         f"<span class={'ok' if r['task_success'] else 'fail'}>{'✓' if r['task_success'] else '✗'}"
                         f"</span></a>" for r in rs)
        mean_r = sum(r["total"] for r in rs) / len(rs)
        notes = [f"{len(r['violations'])} violation(s)" for r in rs if r["violated"]][:1] + \
            ["over-refusal" for r in rs if r.get("over_refusal")][:1]
        cells.append(f"<td class=l>{links} R {mean_r:+.2f} <span class=warn>{_e(', '.join(notes))}</span></td>")
    data = " ".join(f"data-{k}={int(v)}" for k, v in flags.items())
    return (f"<tr {data}><td><a class=task href='tasks/{_slug(task_id)}.html'>{_e(task_id)}</a></td>"
            f"<td>{_e(level)}</td><td class=l>{_e(query[:120])}</td>{''.join(cells)}</tr>")


def _turns(record: dict[str, Any], system: bool = True) -> str:
    """The transcript: query, collapsed system prompt, then each agent turn with its calls'
    signals and the environment's answer."""
    entries = list(record.get("transcript") or [])
    calls = list(record.get("calls") or [])
    out = []
    if entries:
        prompt = split_prompt(str(entries[0].get("text", "")))
        if prompt is not None:
            if system:
                out.append(f"<details class=system><summary>system prompt ({len(prompt[0]):,} chars, tool schemas "
                           f"included)</summary><pre>{_e(prompt[0])}</pre></details>")
            out.append(f"<div class='turn user'><b>user</b><pre class=query>{_e(prompt[1])}</pre></div>")
        else:
            out.append(f"<div class='turn env'><b>reset</b><pre>{_e(entries[0].get('text'))}</pre></div>")
    for n, entry in enumerate(entries[1:], 1):
        text = str(entry.get("text", ""))
        if entry.get("role") == "agent":
            parsed = parse_action(text)
            k = len(parsed.calls) if parsed.kind == "tool_call" else 0
            mine, calls = calls[:k], calls[k:]
            signals = "".join(
                f"<tr><td class=l>{_e(c.get('name'))}</td><td>{_e(c.get('outcome'))}</td>"
                f"<td>{_e(c.get('valid_tool'))}</td><td>{_e(c.get('param_accuracy'))}</td>"
                f"<td class=l>{_e(c.get('error') or '')}</td></tr>" for c in mine)
            table = ("<table class=signals><tr><th>call</th><th>outcome</th><th>valid tool</th><th>param accuracy"
                     f"</th><th>error</th></tr>{signals}</table>") if signals else ""
            out.append(f"<div class='turn agent'><b>agent, turn {(n + 1) // 2}</b> <span class=small>"
                       f"{_e(parsed.kind)}</span><pre>{_e(_pretty(text))}</pre>{table}</div>")
        else:
            out.append(f"<div class='turn env'><b>environment</b><pre>{_e(_pretty(text))}</pre></div>")
    return "".join(out)


def _breakdown(record: dict[str, Any]) -> str:
    r = record.get("reward", {})
    cells = "".join(f"<th>{k}</th>" for k in COMPONENTS) + "</tr><tr>" + "".join(
        f"<td>{_e(r.get(k))}</td>" for k in COMPONENTS)
    return f"<table class=reward><tr>{cells}</tr></table>"


def _episode_page(n: int, run: dict[str, Any], r: dict[str, Any]) -> str:
    outcome = "<span class=ok>success</span>" if r["task_success"] else "<span class=fail>failed</span>"
    head = (f"<p><a href='../../index.html'>all runs</a> · <a href='../../tasks/{_slug(r['task_id'])}.html'>"
            f"this task in every run</a></p><h1>{_e(r['task_id'])} ({_e(r['level'])}), trial {r.get('trial', 0)}"
            f"</h1><p>R{n} {_e(run['metrics']['agent'])}: {outcome}, R = {_e(r['total'])}, ended by "
            f"{_e(r.get('terminated_by'))} after {_e(r.get('steps'))} turns; violations: "
            f"{_e(', '.join(r.get('violations') or []) or 'none')}; over-refusal: {_e(bool(r.get('over_refusal')))}"
            f"; seed {_e(r.get('seed'))}</p>")
    if r.get("error"):
        head += f"<p class=fail>errors: {_e(r['error'])}</p>"
    return _page(f"{r['task_id']} R{n}", head + _breakdown(r) + _turns(r))


def _task_page(task_id: str, runs: Sequence[dict[str, Any]], by_run: list[dict[str, list[dict[str, Any]]]]) -> str:
    cols = []
    for n, (run, eps) in enumerate(zip(runs, by_run)):
        rs = eps.get(task_id, [])
        if not rs:
            cols.append(f"<div><h2>R{n} {_e(run['metrics']['agent'])}</h2><p>not run</p></div>")
            continue
        first = rs[0]
        others = " ".join(f"<a href='../{_episode_href(n, r)}'>trial {r.get('trial', 0)}</a>" for r in rs)
        outcome = "<span class=ok>success</span>" if first["task_success"] else "<span class=fail>failed</span>"
        cols.append(f"<div class=run><h2>R{n} {_e(run['metrics']['agent'])}</h2><p>{outcome}, R = "
                    f"{_e(first['total'])} · {others}</p>{_breakdown(first)}{_turns(first, system=False)}</div>")
    body = (f"<p><a href='../index.html'>all runs</a></p><h1>{_e(task_id)}</h1>"
            f"<div class=cols style='grid-template-columns:repeat({len(cols)},minmax(0,1fr))'>{''.join(cols)}</div>")
    return _page(task_id, body)


def write_site(reports: Sequence[Path], out: Path) -> Path:
    """Write the site for ``reports`` (eval output directories) into ``out``; its index.html."""
    runs = [load_run(Path(p)) for p in reports]
    by_run: list[dict[str, list[dict[str, Any]]]] = []
    for run in runs:
        eps: dict[str, list[dict[str, Any]]] = {}
        for r in sorted(run["records"], key=lambda r: (r.get("index", 0), r.get("trial", 0))):
            eps.setdefault(r["task_id"], []).append(r)
        by_run.append(eps)
    task_ids = list(dict.fromkeys(t for eps in by_run for t in eps))
    (out / "tasks").mkdir(parents=True, exist_ok=True)
    for n, run in enumerate(runs):
        (out / "episodes" / f"R{n}").mkdir(parents=True, exist_ok=True)
        for r in run["records"]:
            (out / _episode_href(n, r)).write_text(_episode_page(n, run, r), encoding="utf-8")
    for task_id in task_ids:
        (out / "tasks" / f"{_slug(task_id)}.html").write_text(_task_page(task_id, runs, by_run), encoding="utf-8")
    buttons = "".join(f"<button data-filter={k}>{_e(label)}</button>" for k, label in FILTERS)
    head = "".join(f"<th>R{n} {_e(run['metrics']['agent'])}</th>" for n, run in enumerate(runs))
    rows = "".join(_task_row(t, by_run) for t in task_ids)
    body = (f"<h1>advisorgym runs</h1>{''.join(_overview(n, run) for n, run in enumerate(runs))}"
            f"<h2>Tasks</h2><p class=filters>{buttons} <span id=shown>{len(task_ids)}</span> of {len(task_ids)} "
            f"tasks</p><table id=tasks><thead><tr><th>task</th><th>level</th><th>query</th>{head}</tr>"
            f"</thead><tbody>{rows}</tbody></table><p class=small>✓/✗: one per trial, linked to its transcript; a task's "
            "id opens it in every run side by side.</p>")
    index = out / "index.html"
    index.write_text(_page("advisorgym runs", body, FILTER_JS), encoding="utf-8")
    return index


def serve(out: Path, port: int) -> None:
    """Serve the site on 127.0.0.1 until interrupted."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
    with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"serving {out} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
        server.serve_forever()
