"""The demo's learning curve: held-out metrics of every kept checkpoint against the optimizer
step counted across stages, and an SVG of it (no plotting library needed).

A point is ``{"stage", "step", "global_step", <metric>: value, ...}``: ``step`` within its
stage, ``global_step`` from the start of training (the first-call drills, then SFT, GRPO and
DPO, one after the other).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

CURVE_METRICS = ("mean_reward", "R_corr", "VR", "format_valid", "first_call_exact_ids",
                 "answers_without_invented_figures")
# The lower panel's series (all in [0, 1]) and their colours; the upper panel is mean R.
RATE_SERIES = (("R_corr", "#1b9e77"), ("VR", "#d95f02"), ("first_call_exact_ids", "#7570b3"),
               ("answers_without_invented_figures", "#e7298a"))
_WIDTH, _PANEL, _GAP, _LEFT, _RIGHT, _TOP = 900, 200, 50, 50, 330, 30


def checkpoints(stage_dir: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of each saved ``checkpoint-N`` that holds a model, by step."""
    found = []
    for path in stage_dir.glob("checkpoint-*"):
        suffix = path.name.removeprefix("checkpoint-")
        if suffix.isdigit() and (path / "config.json").is_file():
            found.append((int(suffix), path))
    return sorted(found)


def steps_run(metrics_path: Path) -> int:
    """The last optimizer step a stage's metrics log records (0 when there is none)."""
    if not metrics_path.is_file():
        return 0
    steps = [json.loads(line).get("step", 0) for line in metrics_path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    return max(steps, default=0)


def point(stage: str, step: int, global_step: int, heldout: dict[str, Any]) -> dict[str, Any]:
    return {"stage": stage, "step": step, "global_step": global_step,
            **{key: heldout.get(key) for key in CURVE_METRICS}}


def _scale(value: float, low: float, high: float, top: float) -> float:
    return top + _PANEL - (value - low) / ((high - low) or 1.0) * _PANEL


def learning_curve_svg(points: Sequence[dict[str, Any]], title: str) -> str:
    """Two panels, one column per point in training order (each labelled with its step in its
    stage, each stage's name above its columns): held-out mean R with the untrained base's as a
    dashed line, and R_corr, VR, first calls carrying the query's ids and answers without
    invented figures."""
    width = _WIDTH - _LEFT - _RIGHT
    step_x = width / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return _LEFT + i * step_x

    rewards = [p["mean_reward"] for p in points if p["mean_reward"] is not None]
    r_low, r_high = min(rewards + [0.0]), max(rewards + [1.0])
    pad = (r_high - r_low) * 0.08
    r_low, r_high = r_low - pad, r_high + pad
    top1 = _TOP + 22
    top2 = top1 + _PANEL + _GAP
    height = top2 + _PANEL + 56
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{_WIDTH}" height="{height}" fill="white"/>',
           f'<text x="{_LEFT}" y="18" font-size="13">{escape(title)}</text>']
    for top in (top1, top2):
        out.append(f'<rect x="{_LEFT}" y="{top}" width="{width}" height="{_PANEL}" fill="none" stroke="#999"/>')
    stages: dict[str, list[int]] = {}
    for i, p in enumerate(points):
        stages.setdefault(p["stage"], []).append(i)
    for n, (stage, columns) in enumerate(stages.items()):
        left = x(columns[0]) - step_x / 2 if columns[0] else x(0)
        if columns[0]:
            for top in (top1, top2):
                out.append(f'<line x1="{left:.1f}" y1="{top}" x2="{left:.1f}" y2="{top + _PANEL}" stroke="#ccc"/>')
        middle = (x(columns[0]) + x(columns[-1])) / 2
        out.append(f'<text x="{middle:.1f}" y="{top1 - 4 - 11 * (n % 2)}" text-anchor="middle" fill="#555">'
                   f'{escape(stage)}</text>')
    for i, p in enumerate(points):
        out.append(f'<text x="{x(i):.1f}" y="{top2 + _PANEL + 14}" text-anchor="middle">{p["step"]}</text>')
    for value in (r_low, 0.0, r_high):
        y = _scale(value, r_low, r_high, top1)
        out.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.1f}</text>')
    for value in (0.0, 0.5, 1.0):
        y = _scale(value, 0.0, 1.0, top2)
        out.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.1f}</text>')
    base = points[0]["mean_reward"]
    legend = "held-out mean R"
    if base is not None:
        y = _scale(base, r_low, r_high, top1)
        out.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_LEFT + width}" y2="{y:.1f}" stroke="#555" '
                   f'stroke-dasharray="4 3"/>')
        legend += f" (dashed: untrained base, {base:.2f})"

    def polyline(key: str, low: float, high: float, top: float, colour: str) -> None:
        pts = [(x(i), _scale(p[key], low, high, top)) for i, p in enumerate(points) if p.get(key) is not None]
        if not pts:
            return
        coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{colour}"/>' for a, b in pts)

    polyline("mean_reward", r_low, r_high, top1, "#000")
    out.append(f'<text x="{_LEFT + width + 8}" y="{top1 + 12}">{escape(legend)}</text>')
    for i, (key, colour) in enumerate(RATE_SERIES):
        polyline(key, 0.0, 1.0, top2, colour)
        out.append(f'<text x="{_LEFT + width + 8}" y="{top2 + 12 + 16 * i}" fill="{colour}">{escape(key)}</text>')
    out.append(f'<text x="{_LEFT + width / 2:.0f}" y="{height - 10}" text-anchor="middle">'
               f'optimizer step within each stage (the first-call drills, SFT, GRPO and DPO in turn)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
