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

from envs.evaluation.agents import AGENT_SPECS, BASELINES, HACKS, Agent, make_agent
from envs.evaluation.metrics import compute_metrics
from envs.evaluation.outputs import EvalConfigError, load_episodes
from envs.evaluation.run import EvalAborted, run_episode, run_eval

__all__ = ["AGENT_SPECS", "BASELINES", "HACKS", "Agent", "make_agent", "compute_metrics", "EvalConfigError",
           "load_episodes", "EvalAborted", "run_episode", "run_eval"]
