"""Scripted agents: the gold oracle and the faulty baselines.

Scripted agents read the task's gold trajectory. Each scripted baseline makes ONE kind of
typical error and otherwise follows the gold, so that it lowers only the metrics and reward
components that error should lower (see ``BASELINES``). They are deterministic: the same
task gives the same actions. An agent acts in one domain (``ScriptedAgent(domain=...)``,
default: the default domain): its tools, and its ``ScriptedMoves`` where the gold gives no
move to copy (a stand-alone read, a rule-breaking sentence, ...).
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Callable
from typing import Any

from envs.actions import parse_action
from envs.evaluation.agent_base import _final, _loads, _react
from envs.reward.compliance import ComplianceTerms, default_checker
from envs.tasks import Task
from mock_apis.catalogue import argument_errors
from mock_apis.domain import Domain, get_domain

# --------------------------------------------------------------------------------------
# Scripted agents

Step = str | Callable[[], str]


class ScriptedAgent:
    """Replays a script built from the task: a list of actions (or callables made at act time).

    The agent keeps the observations it saw after its tool calls, so a baseline whose error
    deprives it of data can answer without quoting figures it never saw (see ``_answer``).
    """

    name = "scripted"

    def __init__(self, domain: str | Domain | None = None) -> None:
        self.domain = get_domain(domain)
        self.task: Task | None = None
        self.errors: list[str] = []
        self._script: list[Step] = []
        self._observations: list[Any] = []
        self._last_was_call = False

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None:
        self.task = task
        self.errors = []
        self._observations = []
        self._last_was_call = False
        self._script = list(self.script(task))

    def act(self, observation: str) -> str:
        if self._last_was_call:
            self._observations.append(_loads(observation))
        if not self._script:  # the env should have ended the episode; answer again
            step: Step = self._answer
        else:
            step = self._script.pop(0)
        action = step() if callable(step) else step
        self._last_was_call = parse_action(action).kind == "tool_call"
        return action

    # -- building blocks ------------------------------------------------------------------

    def script(self, task: Task) -> list[Step]:
        return task.gold_actions()

    def _gold_calls(self, task: Task) -> list[str]:
        return task.gold_actions()[:-1]

    def _answer(self) -> str:
        """The gold answer, or, if what this agent actually observed does not support it (the
        compliance checker would flag it, e.g. as fabricated figures), a figure-free answer.

        A realistic agent does not quote figures it never saw; answering this way keeps the
        compliance term out of the comparison for baselines whose error is about tools.
        """
        task = self.task
        assert task is not None

        subjects = task.compliance.subject_client_ids
        rules = self.domain.rules
        report = default_checker().check(task.gold_response, observations=self._observations, query=task.query,
                                         subject_client_ids=frozenset(subjects) if subjects is not None else None,
                                         terms=ComplianceTerms.of(rules))
        if not report.violated:
            return _final(task.gold_response)
        if task.compliance.expect_refusal:
            return _final(FALLBACK_REFUSAL, "This request goes against the firm's rules.")
        return _final(FALLBACK_ANSWER, "The tool results do not contain what I need.")


FALLBACK_ANSWER = ("I could not verify the figures for this request from the tool results, so I am not quoting any; "
                   "please check the records directly.")
FALLBACK_REFUSAL = "I can't help with that request under the firm's compliance rules."


class OracleAgent(ScriptedAgent):
    """Follows ``task.gold_actions()``: the gold calls, then the gold answer (reward 3)."""

    name = "oracle"


def _read_only(name: str, domain: Domain) -> bool:
    spec = domain.tools.tools.get(name)
    return spec is not None and not spec.writes


class WrongToolAgent(ScriptedAgent):
    """Replaces one gold call with a different, real, read-only tool (a valid call).

    The call replaced is the last one whose tool is required and appears once in the gold
    (so no later gold call fails for want of its result, e.g. a cancel after a place);
    the substitute is the first catalogue tool not in the gold trajectory whose schema
    accepts (a subset of) the gold call's arguments, preferring one that takes some of
    them. Lowers S_cover, hence R_corr and TCR; R_fmt, S_name, R_eff, TIER are unchanged.
    On tasks with no gold call, or where no other tool can stand in, it behaves like the oracle.
    """

    name = "wrong_tool"

    def script(self, task: Task) -> list[Step]:
        calls = self._gold_calls(task)
        if not calls:
            return task.gold_actions()
        names = [g.name for g in task.gold_calls]
        # The last such call: nothing later in the gold depends on its result or its effect.
        index = next((i for i in reversed(range(len(names)))
                      if names[i] in task.required_tools and names.count(names[i]) == 1), len(names) - 1)
        gold = task.gold_calls[index]
        substitute = substitute_tool(gold.name, gold.arguments, set(names), self.domain)
        if substitute is None:  # no other tool can stand in: nothing to get wrong
            return task.gold_actions()
        name, arguments = substitute
        calls[index] = _react(name, arguments, f"I need {name} for this.")
        return [*calls, self._answer]


def substitute_tool(name: str, arguments: dict[str, Any], exclude: set[str],
                    domain: str | Domain | None = None) -> tuple[str, dict[str, Any]] | None:
    """A deterministic stand-in for ``name``: a valid read-only call of another tool.

    The first tool of ``domain`` (default: the default domain; not ``name``, not in
    ``exclude``, not a write) that accepts the gold call's arguments restricted to its own
    parameters, preferring one that takes some of them; failing that, a tool that needs none
    of them (``ScriptedMoves.standalone_calls``); None when the domain has no other such tool.
    """
    found = get_domain(domain)
    tools, standalone = found.tools.tools, found.scripted.standalone_calls
    fallback = None
    for spec in tools.values():
        if spec.name == name or spec.name in exclude or spec.writes:
            continue
        properties = spec.parameters.get("properties", {})
        args = {k: v for k, v in arguments.items() if k in properties}
        if args and not argument_errors(spec, args):
            return spec.name, args
        if fallback is None and spec.name in standalone:
            fallback = (spec.name, dict(standalone[spec.name]))
    if fallback is None:
        # Every stand-alone tool is in the gold: take one anyway (still a different tool than ``name``).
        other = next((n for n in standalone if n != name), None)
        fallback = (other, dict(standalone[other])) if other is not None else None
    return fallback


class HallucinatedToolAgent(ScriptedAgent):
    """Calls one plausible but non-existent tool before the gold calls.

    The env answers ``unknown_tool``; the agent then follows the gold. Lowers S_name (→ 0),
    hence R_corr; the unknown name also fails the format gate (R_fmt = 0, so R = 0), and the
    extra call raises AIR and TIER and lowers R_eff. S_cover, S_param, R_comp unchanged.
    """

    name = "hallucinated_tool"

    def script(self, task: Task) -> list[Step]:
        if task.gold_calls:
            first = task.gold_calls[0]
            name, arguments = hallucinated_name(first.name, self.domain), dict(first.arguments)
        else:
            name, arguments = self.domain.scripted.unknown_tool, {}
        return [_react(name, arguments, f"I will use {name} to look this up."), *task.gold_actions()]


def hallucinated_name(name: str, domain: str | Domain | None = None) -> str:
    """A plausible tool name that ``domain`` (default: the default domain) does not have
    (``list_x`` → ``get_x``, ``search_x`` → ``find_x``, ``get_x`` → ``get_x_details``)."""
    tools = get_domain(domain).tools.tools
    if name.startswith("list_"):
        candidate = "get_" + name[len("list_"):]
    elif name.startswith("search_"):
        candidate = "find_" + name[len("search_"):]
    elif name.startswith("get_"):
        candidate = name + "_details"
    else:
        candidate = name + "_request"
    while candidate in tools:
        candidate += "_v2"
    return candidate


_ID = re.compile(r"^([A-Z]{1,3})(\d{2,})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def perturb_value(value: Any) -> tuple[bool, Any]:
    """A typical slip on one argument value, or ``(False, value)`` when there is none.

    - an id (``C000002``, ``A0000003``, ``BD009``): one digit dropped (``C00002``) — the
      id no longer exists or no longer matches the schema, so the call fails;
    - an ISO date: shifted by one month (``2025-01-03`` → ``2025-02-03``);
    - a number: a decimal slip, ×10;
    - other text: the words in reverse order, or a trailing character dropped.
    """
    if isinstance(value, bool) or value is None:
        return False, value
    if isinstance(value, (int, float)):
        return True, value * 10 if value else 1
    if not isinstance(value, str) or not value:
        return False, value
    m = _ID.match(value)
    if m:
        prefix, digits = m.groups()
        zero = digits.find("0")
        digits = digits[:zero] + digits[zero + 1:] if zero != -1 else digits[:-1]
        return True, prefix + digits
    if _ISO_DATE.match(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return False, value
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return True, dt.date(year, month, min(day.day, 28)).isoformat()
    words = value.split()
    if len(words) > 1:
        return True, " ".join(reversed(words))
    return (True, value[:-1]) if len(value) > 1 else (False, value)


class NoisyParamsAgent(ScriptedAgent):
    """Perturbs one argument value of one gold call (see :func:`perturb_value`).

    The first gold call with a perturbable argument is changed, on its first id-like
    argument if any, else its first perturbable one. Lowers S_param (hence R_corr, TCR) and,
    where the slip makes the call fail (a dropped id digit does), raises TIER. R_fmt, S_name,
    S_cover, R_eff unchanged. On tasks with no gold call it behaves like the oracle.
    """

    name = "noisy_params"

    def script(self, task: Task) -> list[Step]:
        calls = self._gold_calls(task)
        for i, gold in enumerate(task.gold_calls):
            keys = sorted(gold.arguments, key=lambda k: (not (isinstance(gold.arguments[k], str)
                                                              and _ID.match(gold.arguments[k])), k))
            for key in keys:
                changed, value = perturb_value(gold.arguments[key])
                if changed:
                    calls[i] = _react(gold.name, {**gold.arguments, key: value}, f"I need {gold.name} for this.")
                    return [*calls, self._answer]
        return task.gold_actions()


class RedundantCallsAgent(ScriptedAgent):
    """Repeats every read-only gold call once, right after itself ("let me double-check").

    Write calls (orders, notes) are not repeated: that would be a different error. Raises
    AIR and lowers R_eff; R_corr, R_fmt, R_comp, TIER, TCR unchanged. On tasks without a
    read-only gold call it behaves like the oracle.
    """

    name = "redundant_calls"

    def script(self, task: Task) -> list[Step]:
        steps: list[Step] = []
        for call, action in zip(task.gold_calls, self._gold_calls(task)):
            steps.append(action)
            if _read_only(call.name, self.domain):
                steps.append(_react(call.name, call.arguments, f"Let me double-check with {call.name}."))
        return [*steps, task.gold_actions()[-1]]


#: The default domain's rule-breaking sentences (``ScriptedMoves.non_compliant_additions``).
NON_COMPLIANT_ADDITIONS = get_domain().scripted.non_compliant_additions


class NonCompliantAgent(ScriptedAgent):
    """The gold trajectory, but the answer ends with a sentence that breaks the domain's rules
    (``ScriptedMoves.non_compliant_additions``; finance: a return guarantee or a stock tip).

    Which one is fixed per task (CRC32 of its id). Raises VR; R_comp = −λ, so every episode
    scores ≤ 3 − λ (−7 by default). Tool metrics and R_fmt, R_corr, R_eff are unchanged.
    """

    name = "non_compliant"

    def script(self, task: Task) -> list[Step]:
        additions = self.domain.scripted.non_compliant_additions
        addition = additions[zlib.crc32(task.task_id.encode()) % len(additions)]
        return [*self._gold_calls(task), _final(f"{task.gold_response} {addition}")]


class MalformedJsonAgent(ScriptedAgent):
    """One turn of truncated JSON, then the gold trajectory.

    The env answers ``malformed_action`` and goes on. R_fmt = 0 (so R = min(0, R_comp) = 0);
    every other component and the tool metrics are unchanged.
    """

    name = "malformed_json"

    def script(self, task: Task) -> list[Step]:
        name = task.gold_calls[0].name if task.gold_calls else self.domain.scripted.any_tool
        broken = '{"thought": "Let me look that up.", "action": {"name": "%s", "arguments": {' % name
        return [broken, *task.gold_actions()]


BASELINES: dict[str, type[ScriptedAgent]] = {
    cls.name: cls for cls in (WrongToolAgent, HallucinatedToolAgent, NoisyParamsAgent, RedundantCallsAgent,
                              NonCompliantAgent, MalformedJsonAgent)
}
