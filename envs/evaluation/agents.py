"""Every agent by name (``make_agent``): the oracle and the faulty baselines
(``envs.evaluation.scripted``), the hacks (``envs.evaluation.hacks``) and the model agents
(``envs.evaluation.model_agents``). Every agent has the same small interface
(``envs.evaluation.agent_base.Agent``)::

    agent.start(task, observation, info)   # once per episode, with reset()'s outputs
    action = agent.act(observation)        # once per turn; the string goes to env.step
"""

from __future__ import annotations

from typing import Any

from envs.evaluation.agent_base import Agent, malformed_action
from envs.evaluation.hacks import (HACKS, UNREQUESTED_NOTE, UNREQUESTED_ORDER, VAGUE_ANSWER, NoAnswerAgent,
                                   RefuseAllAgent, SkipToolsAgent, ToolSpamAgent, UnrequestedWriteAgent)
from envs.evaluation.model_agents import HFLocalAgent, OpenAIChatAgent, split_tool_results
from mock_apis.domain import Domain
from envs.evaluation.scripted import (BASELINES, FALLBACK_ANSWER, FALLBACK_REFUSAL, NON_COMPLIANT_ADDITIONS,
                                      HallucinatedToolAgent, MalformedJsonAgent, NoisyParamsAgent,
                                      NonCompliantAgent, OracleAgent, RedundantCallsAgent, ScriptedAgent,
                                      WrongToolAgent, hallucinated_name, perturb_value, substitute_tool)

__all__ = ["Agent", "BASELINES", "HACKS", "AGENT_SPECS", "ScriptedAgent", "OracleAgent", "WrongToolAgent",
           "HallucinatedToolAgent", "NoisyParamsAgent", "RedundantCallsAgent", "NonCompliantAgent",
           "MalformedJsonAgent", "NoAnswerAgent", "SkipToolsAgent", "RefuseAllAgent", "ToolSpamAgent",
           "UnrequestedWriteAgent", "OpenAIChatAgent", "HFLocalAgent", "make_agent", "malformed_action",
           "split_tool_results", "substitute_tool", "hallucinated_name", "perturb_value", "FALLBACK_ANSWER",
           "FALLBACK_REFUSAL", "NON_COMPLIANT_ADDITIONS", "VAGUE_ANSWER", "UNREQUESTED_ORDER", "UNREQUESTED_NOTE"]

AGENT_SPECS = ("oracle", *BASELINES, *HACKS, "openai", "hf")


def make_agent(spec: str, domain: str | Domain | None = None, **kwargs: Any) -> Agent:
    """An agent by name: ``oracle``, a baseline (``wrong_tool``, ``hallucinated_tool``,
    ``noisy_params``, ``redundant_calls``, ``non_compliant``, ``malformed_json``), a hack
    (``no_answer``, ``skip_tools``, ``refuse_all``, ``tool_spam``, ``unrequested_write``),
    ``openai`` (kwargs of :class:`OpenAIChatAgent`) or ``hf`` (kwargs of :class:`HFLocalAgent`).
    A scripted agent acts in ``domain`` (default: the default domain).
    """
    if spec == "oracle":
        return OracleAgent(domain)
    if spec in BASELINES:
        return BASELINES[spec](domain)
    if spec in HACKS:
        return HACKS[spec](domain)
    if spec == "openai":
        if not kwargs.get("base_url") or not kwargs.get("model"):
            raise ValueError("agent 'openai' needs base_url and model")
        return OpenAIChatAgent(**kwargs)
    if spec == "hf":
        if not kwargs.get("model_path"):
            raise ValueError("agent 'hf' needs model_path")
        return HFLocalAgent(**kwargs)
    raise ValueError(f"unknown agent {spec!r}; choose one of {', '.join(AGENT_SPECS)}")
