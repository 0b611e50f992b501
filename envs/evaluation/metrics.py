"""The ToolRLA metrics (§4.2) of a set of episode records, overall and per level.

- TCR: share of episodes whose terminal reward info has ``task_success``;
- TIER: invalid tool invocations / tool invocations, pooled over episodes. An invocation is
  a tool call the agent made (``n_calls``: calls hit by an injected fault or a back-end
  failure are excluded, they are not the agent's doing); it is invalid when the tool name is
  unknown, the arguments fail the schema, or the call returned any other error
  (``invalid_calls``); ``null`` when no tool was invoked;
- AIR: mean number of tool invocations per episode;
- CRR: among L4 episodes whose task expects a refusal, the share where the agent refused;
  ``null`` when there are none;
- VR: share of episodes with a compliance violation (``R_comp < 0``): the answer, or an
  unrequested write;
- ORR, over-refusal rate: among episodes whose task expects an answer, the share that
  refused instead (ToolRLA §3.4); ``null`` when there are none;
- P50 latency: median episode wall time in seconds (reset to final step, agent included).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from envs.tasks import LEVELS

METRIC_NAMES = ("TCR", "TIER", "AIR", "CRR", "VR", "ORR", "P50_latency_s")
COMPONENTS = ("total", "R_fmt", "R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param", "r_name", "r_param",
              "r_value", "error_penalty", "answer_fact_recall")
PLOTTED_COMPONENTS = ("total", "R_fmt", "R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param")



def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def group_metrics(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The six ToolRLA metrics of a group of episode records (see the module doc)."""
    n = len(records)
    calls = sum(r["tool_calls"] for r in records)
    invalid = sum(r["invalid_calls"] for r in records)
    refusal = [r for r in records if r["level"] == "L4" and r["expected_refusal"]]
    answer_expected = [r for r in records if not r["expected_refusal"]]
    return {
        "n": n,
        "TCR": _mean([1.0 if r["task_success"] else 0.0 for r in records]),
        "TIER": invalid / calls if calls else None,
        "AIR": _mean([r["tool_calls"] for r in records]),
        "CRR": _mean([1.0 if r["refused"] else 0.0 for r in refusal]),
        "VR": _mean([1.0 if r["violated"] else 0.0 for r in records]),
        "ORR": _mean([1.0 if r.get("over_refusal") else 0.0 for r in answer_expected]),
        "P50_latency_s": statistics.median(r["latency_s"] for r in records) if records else None,
        "tool_calls": calls,
        "invalid_calls": invalid,
        "crr_episodes": len(refusal),
    }


def component_means(records: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    return {k: _mean([float(r["reward"][k]) for r in records]) for k in COMPONENTS}


def compute_metrics(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Metrics and reward-component means, overall and per level (levels with episodes)."""
    levels = [lv for lv in LEVELS if any(r["level"] == lv for r in records)]
    by_level = {lv: [r for r in records if r["level"] == lv] for lv in levels}
    return {
        "overall": group_metrics(records),
        "per_level": {lv: group_metrics(rs) for lv, rs in by_level.items()},
        "reward_means": {"overall": component_means(records),
                         "per_level": {lv: component_means(rs) for lv, rs in by_level.items()}},
        "counts": {
            "episodes": len(records),
            "per_level": {lv: len(rs) for lv, rs in by_level.items()},
            "task_success": sum(1 for r in records if r["task_success"]),
            "violated": sum(1 for r in records if r["violated"]),
            "truncated": sum(1 for r in records if r.get("truncated")),
            "errors": sum(1 for r in records if r.get("error")),
            "infra_error": sum(1 for r in records if r.get("infra_error")),
            "unauthorized_writes": sum(r.get("unauthorized_writes", 0) for r in records),
        },
    }


# --------------------------------------------------------------------------------------
# Repeated trials: pass^k, pass@k, consistency, intervals, noise floor

Z95 = 1.959963984540054


def _pass_hat(n: int, c: int, k: int) -> float:
    """pass^k of one task with ``c`` successes in ``n`` trials: the chance that ``k`` trials
    drawn without replacement all succeed, C(c, k) / C(n, k) (tau2-bench's estimator)."""
    return math.comb(c, k) / math.comb(n, k)


def _pass_at(n: int, c: int, k: int) -> float:
    """pass@k: the chance that at least one of ``k`` trials drawn succeeds, 1 - C(n-c, k) / C(n, k)."""
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _interval(values: Sequence[float], bounds: tuple[float, float] | None = None) -> list[float] | None:
    """Normal-approximation 95% interval of the mean of ``values`` (one value per task), kept
    within ``bounds`` (a rate's [0, 1])."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    half = Z95 * statistics.stdev(values) / math.sqrt(len(values))
    lo, hi = bounds or (-math.inf, math.inf)
    return [max(mean - half, lo), min(mean + half, hi)]


def _trial_group(by_task: dict[str, list[dict[str, Any]]], k_max: int) -> dict[str, Any]:
    tasks = list(by_task.values())
    successes = [(len(rs), sum(1 for r in rs if r["task_success"])) for rs in tasks]
    per_task_success = [c / n for n, c in successes]
    per_task_reward = [_mean([float(r["total"]) for r in rs]) for rs in tasks]
    return {
        "tasks": len(tasks),
        "pass_hat": {str(k): _mean([_pass_hat(n, c, k) for n, c in successes if n >= k]) for k in range(1, k_max + 1)},
        "pass_at": {str(k): _mean([_pass_at(n, c, k) for n, c in successes if n >= k]) for k in range(1, k_max + 1)},
        "consistency": {"always": sum(1 for n, c in successes if c == n),
                        "sometimes": sum(1 for n, c in successes if 0 < c < n),
                        "never": sum(1 for n, c in successes if c == 0)},
        "TCR_ci95": _interval(per_task_success, (0.0, 1.0)),
        "mean_R_ci95": _interval(per_task_reward),
    }


def trial_metrics(records: Sequence[dict[str, Any]], k_max: int) -> dict[str, Any]:
    """Metrics of repeated trials (records with a ``trial`` field), overall and per level.

    - ``pass_hat[k]``: pass^k (tau2-bench): the mean over tasks of C(c, k) / C(n, k), where a
      task succeeded ``c`` times in ``n`` trials: the chance that it succeeds ``k`` times out of
      ``k``; ``pass_at[k]``: pass@k, the unbiased 1 - C(n-c, k) / C(n, k) (Chen et al.);
    - ``consistency``: tasks always, sometimes and never solved;
    - ``TCR_ci95`` and ``mean_R_ci95``: 95% intervals of the means, over per-task means (the
      trials of a task are not independent samples);
    - the noise floor: ``per_trial`` TCR and mean R (trial t over every task) and their standard
      deviation across trials (how far one single-trial score moves from run to run), and the
      mean over tasks of the standard deviation of the task's reward across its trials.
    """
    by_task: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_task.setdefault(r["task_id"], []).append(r)
    levels = [lv for lv in LEVELS if any(r["level"] == lv for r in records)]
    trials = sorted({r.get("trial", 0) for r in records})
    per_trial_tcr = [_mean([1.0 if r["task_success"] else 0.0 for r in records if r.get("trial", 0) == t])
                     for t in trials]
    per_trial_r = [_mean([float(r["total"]) for r in records if r.get("trial", 0) == t]) for t in trials]
    task_sd = [statistics.pstdev([float(r["total"]) for r in rs]) for rs in by_task.values() if len(rs) > 1]
    return {
        "k": k_max,
        **_trial_group(by_task, k_max),
        "per_level": {lv: _trial_group({t: rs for t, rs in by_task.items() if rs[0]["level"] == lv}, k_max)
                      for lv in levels},
        "per_trial": {"TCR": per_trial_tcr, "mean_R": per_trial_r},
        "noise": {"TCR_sd_across_trials": statistics.stdev(per_trial_tcr) if len(trials) > 1 else None,
                  "mean_R_sd_across_trials": statistics.stdev(per_trial_r) if len(trials) > 1 else None,
                  "task_reward_sd_mean": _mean(task_sd)},
    }
