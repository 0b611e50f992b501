"""The demo's learning curve helpers (no training extra needed)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from trainer.learning_curve import checkpoints, learning_curve_svg, point, steps_run


def test_checkpoints_are_the_saved_models_by_step(tmp_path):
    for name in ("checkpoint-20", "checkpoint-100", "checkpoint-3"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    (tmp_path / "checkpoint-40").mkdir()  # cut short: no model in it
    (tmp_path / "checkpoint-final").mkdir()
    (tmp_path / "checkpoint-final" / "config.json").write_text("{}")
    assert [step for step, _ in checkpoints(tmp_path)] == [3, 20, 100]


def test_steps_run_is_the_last_logged_step(tmp_path):
    log = tmp_path / "metrics.jsonl"
    assert steps_run(log) == 0
    log.write_text("".join(json.dumps(row) + "\n" for row in ({"step": 1, "loss": 2.0}, {"step": 7, "loss": 1.0},
                                                               {"step": 7, "train_runtime": 3.0})))
    assert steps_run(log) == 7


def test_the_svg_draws_each_series_over_the_global_step_with_the_base_line():
    heldout = [{"mean_reward": 1.0, "R_corr": 0.0, "VR": 0.0, "first_call_exact_ids": 0.0,
                "answers_without_invented_figures": 1.0},
               {"mean_reward": -5.5, "R_corr": 0.28, "VR": 0.7, "first_call_exact_ids": 0.69,
                "answers_without_invented_figures": 0.33},
               {"mean_reward": -4.0, "R_corr": 0.3, "VR": 0.6, "first_call_exact_ids": None,
                "answers_without_invented_figures": 0.4}]
    points = [point("base", 0, 0, heldout[0]), point("sft", 400, 1400, heldout[1]), point("grpo", 60, 1460, heldout[2])]
    svg = learning_curve_svg(points, "demo & co")
    ET.fromstring(svg)  # well-formed, the title escaped
    lines = {re.search(r'stroke="(#[0-9a-f]+)"', line).group(1): line for line in svg.splitlines()
             if line.startswith("<polyline")}
    assert len(lines) == 5
    reward_xs = [float(pair.split(",")[0]) for pair in re.search(r'points="([^"]+)"', lines["#000"]).group(1).split()]
    assert reward_xs == sorted(reward_xs) and len(reward_xs) == 3
    ids_line = lines["#7570b3"]  # first_call_exact_ids: the point without a value is left out
    assert len(re.search(r'points="([^"]+)"', ids_line).group(1).split()) == 2
    assert "untrained base, 1.00" in svg and "demo &amp; co" in svg
    for stage in ("base", "sft", "grpo"):
        assert f">{stage}</text>" in svg
