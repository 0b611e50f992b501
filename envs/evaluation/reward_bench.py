"""The reward benchmark (``advisorgym reward-bench``): pairs of trajectories of one training
task, one better than the other by a single, named error, in FC-RewardBench's format
(``fixtures/reward_bench/pairs.jsonl``, written by ``fixtures/reward_bench/make_reward_bench.py``).

Each trajectory is scored through the environment (``envs.replay.score_trajectory``: the
sandbox replays its turns, so every call is executed and every answer checked as live). A
reward version gets a pair right when the chosen trajectory scores strictly higher than the
rejected one; a tie is counted apart (accuracy counts it as not right).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from envs.env import FinAdvisorEnv
from envs.replay import score_trajectory
from envs.resources import FIXTURES

PAIRS = FIXTURES / "reward_bench" / "pairs.jsonl"
SUITE = FIXTURES / "tasks" / "suite.jsonl"
COMPLIANCE_CLASSES = ("guarantee", "stock_tip", "forecast", "opinion", "behavioural_inference", "other_client")
ERROR_TYPES = ("wrong_tool", "wrong_value", "missing_call", "redundant_call", "recovered_slip", "alternative_path",
               "paraphrase_vs_dump", *(f"compliance:{c}" for c in COMPLIANCE_CLASSES), "derived_vs_invented",
               "refusal", "privacy_read", "unauthorised_write")


def load_pairs(path: str | os.PathLike[str] = PAIRS) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score_pairs(pairs: Iterable[dict[str, Any]], version: str,
                tasks: str | os.PathLike[str] = SUITE) -> list[tuple[float, float]]:
    """(chosen R, rejected R) of each pair under reward ``version``."""
    env = FinAdvisorEnv(tasks=str(tasks), reward_config={"version": version})
    try:
        return [(score_trajectory(env, p["task_id"], p["chosen"]).reward["total"],
                 score_trajectory(env, p["task_id"], p["rejected"]).reward["total"]) for p in pairs]
    finally:
        env.close()


def accuracy(pairs: Sequence[dict[str, Any]], scores: Sequence[tuple[float, float]]) -> dict[str, dict[str, Any]]:
    """Per error type and ``overall``: pairs, right (chosen > rejected), ties, wrong, accuracy."""
    table: dict[str, dict[str, Any]] = {}
    for p, (chosen, rejected) in zip(pairs, scores):
        for key in (p["error_type"], "overall"):
            row = table.setdefault(key, {"n": 0, "right": 0, "ties": 0, "wrong": 0})
            row["n"] += 1
            row["right" if chosen > rejected else "ties" if chosen == rejected else "wrong"] += 1
    for row in table.values():
        row["accuracy"] = row["right"] / row["n"]
    ordered = {t: table[t] for t in ERROR_TYPES if t in table}
    ordered.update({t: v for t, v in table.items() if t not in ordered and t != "overall"})
    if "overall" in table:
        ordered["overall"] = table["overall"]
    return ordered


def run(versions: Sequence[str], path: str | os.PathLike[str] = PAIRS) -> dict[str, dict[str, dict[str, Any]]]:
    pairs = load_pairs(path)
    return {v: accuracy(pairs, score_pairs(pairs, v)) for v in versions}


def format_results(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    versions = list(results)
    keys = list(next(iter(results.values()))) if results else []
    head = f"{'error type':<34}{'pairs':>6}" + "".join(f"{v:>24}" for v in versions)
    lines = [head, " " * 40 + "".join(f"{'accuracy (ties)':>24}" for _ in versions)]
    for key in keys:
        n = results[versions[0]][key]["n"]
        cells = "".join(f"{results[v][key]['accuracy']:>17.3f} ({results[v][key]['ties']:>4})" for v in versions)
        lines.append(f"{key:<34}{n:>6}{cells}")
    return "\n".join(lines)
