"""Evaluation: agents, running a suite, metrics and reports.

- ``agents``: every agent by name (``make_agent``), built from ``agent_base`` (the interface),
  ``scripted`` (oracle and faulty baselines), ``hacks`` (reward-hacking baselines) and
  ``model_agents`` (OpenAI-compatible endpoint, local Hugging Face model);
- ``run``: ``run_eval`` and ``run_episode``;
- ``outputs``: the output files and ``episodes.jsonl``;
- ``metrics``: TCR, TIER, AIR, CRR, VR, ORR, P50 latency;
- ``report``: the Markdown report, plots and the CLI summary;
- ``view``: the static HTML site of one or more runs (``advisorgym view``).
"""

from __future__ import annotations

import importlib
from typing import Any

# The modules load on first use, so that the commands (envs.evaluation.cli) and the rest of the
# package start without the env, the agents and the reward.
_EXPORTS = {**dict.fromkeys(("AGENT_SPECS", "BASELINES", "HACKS", "Agent", "make_agent"), "envs.evaluation.agents"),
            "compute_metrics": "envs.evaluation.metrics",
            **dict.fromkeys(("EvalConfigError", "load_episodes"), "envs.evaluation.outputs"),
            **dict.fromkeys(("EvalAborted", "run_episode", "run_eval"), "envs.evaluation.run")}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'envs.evaluation' has no attribute {name!r}")


__all__ = ["AGENT_SPECS", "BASELINES", "HACKS", "Agent", "make_agent", "compute_metrics", "EvalConfigError",
           "load_episodes", "EvalAborted", "run_episode", "run_eval"]
