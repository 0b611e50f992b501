"""Each reward version's rubric (a tree of ``envs.reward.rubric`` nodes) and ``compute_reward``.

The trees (``rubric_for``), top down:

``toolrla-1.2.0``::

    total = Gate(answered,
                 Gate(R_fmt, Sum(R_fmt, R_corr, R_eff, R_comp, error_penalty, *judges),
                             AtMost(Sum(R_comp, error_penalty))),
                 Sum(no_answer_base, AtMost(R_eff), R_comp, error_penalty))
    R_fmt  = the format gate with recovered slips: 0 when a failed turn is never recovered,
             else 1 / (1 + SLIP_COST · slips)
    R_corr = Gate(proper_answer, Product(correctness, answer_factor), 0)
    correctness = S_name · S_param when every required gold call is covered (S_cover = 1), else 0
    R_eff  = Gate(proper_answer, efficiency, AtMost(efficiency))
    efficiency = (W + 1)/(1 + x) − 1 − u/(u + max(T*, 1)), u the needless reads that
                 returned none of the task's information (noise_reads)

``toolrla-1.1.0`` and ``toolrla-1.0.0`` have the same shape with their own components (no
slips, S_cover by tool name, the mean S_param, R_corr without the answer by default; 1.0 has
no answer or refusal rule). ``composition`` swaps the ``correctness`` node (and ``binary``
the positive sum).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from envs.reward import components as c
from envs.reward.config import R_MAX, RewardConfig
from envs.reward.records import CallRecord, GoldCall
from envs.reward.rubric import (AtMost, Component, Evaluation, Gate, Judge, JudgeInput, Node, Penalty, Product, Sum,
                                walk)
from envs.reward.writes import unauthorized_writes

# v1.1: an episode without a final answer scores R_fmt/2 − NO_ANSWER_COST plus any penalties:
# at most −0.5, below every compliant answer under 1.1 (> 0, as R_eff > −1; 1.2's noise cost
# can take R_eff lower), and for the same calls always at least 1.5 below answering.
NO_ANSWER_COST = 1.0


@dataclass(frozen=True)
class Trajectory:
    """Everything the reward reads of a finished episode (see ``compute_reward``)."""

    turn_ok: Sequence[bool]
    calls: Sequence[CallRecord]
    gold: Sequence[GoldCall]
    required_tools: Sequence[str]
    optimal_calls: int
    violated: bool
    config: RewardConfig
    criticality: Mapping[str, float] | None
    answered: bool
    over_refusal: bool
    under_refusal: bool
    answer_recall: float
    call_turns: Sequence[bool]
    informed: frozenset[int]
    excused: frozenset[int]
    query: str
    response: str | None
    observations: Sequence[Any] = field(default_factory=tuple)
    write_target_keys: Sequence[str] | None = None  # the domain's (None: the default domain's)
    uninformative: frozenset[int] = frozenset()  # 1.2: indices of reads that returned none of the task's information

    @cached_property
    def counted(self) -> list[CallRecord]:
        return c.counted_calls(self.calls)

    @cached_property
    def unrecovered_turns(self) -> frozenset[int]:
        return c.unrecovered_turns(self.turn_ok, self.call_turns)

    @cached_property
    def gold_credits(self) -> list[float]:
        crit = self.criticality or {}
        return c.gold_credits(self.calls, self.gold, crit, self.informed, self.excused)

    @cached_property
    def unauthorized(self) -> tuple[str, ...]:
        if self.config.version == "toolrla-1.0.0":
            return ()
        return tuple(unauthorized_writes(self.calls, self.gold, attempts=self.config.v12,
                                         target_keys=self.write_target_keys))

    def judge_input(self) -> JudgeInput:
        calls = tuple({"name": x.label, "arguments": x.arguments, "ok": x.ok, "error": x.error} for x in self.calls)
        return JudgeInput(self.query, self.response if self.answered else None, calls, tuple(self.observations))


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


# --------------------------------------------------------------------------------------
# Components (leaves)


class FormatScore(Component):
    """1.0/1.1: every turn passed the format gate (R_fmt ∈ {0, 1})."""
    name = "R_fmt"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return c.format_score(t.turn_ok)


class FormatWithSlips(Component):
    """1.2: 0 when a failed turn (malformed, unknown tool) is never recovered by a later valid
    call; else each recovered slip costs a bounded, growing amount."""
    name = "R_fmt"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return c.format_score_with_slips(t.turn_ok, t.unrecovered_turns)


class Slips(Component):
    """1.2: the failed turns recovered by a later valid call."""
    name = "slips"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return float(sum(1 for ok in t.turn_ok if not ok) - len(t.unrecovered_turns))


class NameScore(Component):
    """1.0/1.1: 0 if any call names an unknown tool, else 1."""
    name = "S_name"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return c.name_score(t.calls)


class NameScoreRecovered(Component):
    """1.2: 0 only for an unknown tool name no later valid call recovered."""
    name = "S_name"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return c.name_score([x for x in t.calls if x.turn in t.unrecovered_turns])


class CoverageByName(Component):
    """1.0/1.1: the share of the required tools the agent called, by name."""
    name = "S_cover"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return c.coverage_score(t.calls, t.required_tools)


class CoverageByInformation(Component):
    """1.2: share of the required gold calls whose information the agent's calls returned (or
    whose tool it called: a wrong value is S_param's)."""
    name = "S_cover"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return c.information_coverage(t.gold_credits, t.gold, t.required_tools)


class ParamScore(Component):
    """1.0/1.1: the gold calls' parameter accuracy (weighted by criticality where configured)."""
    name = "S_param"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        weights = t.criticality if t.config.criticality_weighted else None
        return c.param_score(t.calls, t.gold, weights, criticality=t.criticality, partial_credit=t.config.v11)


class ParamProduct(Component):
    """1.2: the product of the covered gold calls' credits (one wrong value is wrong data)."""
    name = "S_param"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        weights = t.criticality if t.config.criticality_weighted else None
        return c.param_product(t.gold_credits, t.gold, weights)


class IoUScores(Component):
    """The ``iou`` correctness: the mean of the name, parameter and value IoUs against the gold calls."""
    name = "iou"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        scores = c.iou_scores(t.calls, t.gold)
        ev.log.update(r_name=scores["r_name"], r_param=scores["r_param"], r_value=scores["r_value"])
        return (scores["r_name"] + scores["r_param"] + scores["r_value"]) / 3


S_NAME_V11, S_NAME_V12 = NameScore(), NameScoreRecovered()
S_COVER_V11, S_COVER_V12 = CoverageByName(), CoverageByInformation()
S_PARAM_V11, S_PARAM_V12 = ParamScore(), ParamProduct()
IOU = IoUScores()


class Correctness(Component):
    """The composition of the S-scores (``RewardConfig.composition``)."""
    name = "correctness"

    def __init__(self, s_name: Node, s_cover: Node, s_param: Node, complete_cover: bool):
        self.s_name, self.s_cover, self.s_param, self.complete_cover = s_name, s_cover, s_param, complete_cover

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        s_name, s_cover, s_param = ev(self.s_name), ev(self.s_cover), ev(self.s_param)
        iou = ev(IOU)
        composition = t.config.composition
        if composition == "multiplicative":
            if self.complete_cover:  # 1.2: a required call missing is a veto; partial work is R_eff's
                return s_name * s_param if s_cover >= 1.0 else 0.0
            return s_name * s_cover * s_param
        if composition == "additive":
            return (s_name + s_cover + s_param) / 3
        if composition == "iou":
            return iou
        return 1.0 if s_name == s_cover == s_param == 1.0 else 0.0


class AnswerFactor(Component):
    """1 − w + w · answer score (w: ``answer_weight``)."""
    name = "answer_factor"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        w = t.config.answer_weight
        return 1.0 - w + w * t.answer_recall if w else 1.0


class ProperAnswer(Component):
    """An answer, neither an over-refusal nor an under-refusal (1.0 answers every time)."""
    name = "proper_answer"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        if t.config.version == "toolrla-1.0.0":
            return 1.0
        return _flag(t.answered and not t.over_refusal and not t.under_refusal)


class Answered(Component):
    """The episode ended with a final answer (1.0 scores every episode as answered)."""
    name = "answered"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return _flag(t.answered or t.config.version == "toolrla-1.0.0")


class EfficiencyV10(Component):
    """1.0: the calls counted against the optimal number T*."""
    name = "efficiency"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return c.efficiency_score(len(t.counted), t.optimal_calls)


class EfficiencyV11(Component):
    """1.1: the calls counted against T*, scaled by the work the calls did."""
    name = "efficiency"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        work = c.work_score(t.calls, t.optimal_calls, ev(S_COVER_V11))
        return c.efficiency_score_v11(len(t.counted), t.optimal_calls, work)


class EfficiencyV12(Component):
    """1.2: the calls actually made (after the answer too) against T*; a read of another
    client counts as more than one needless call, and needless reads that returned none of the
    task's information cost ``noise_cost`` on top."""
    name = "efficiency"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        made = [x for x in t.counted if x.known_tool]
        work = c.work_score(t.calls, t.optimal_calls, ev(S_COVER_V12), failed_tries_count=True)
        charged = len(made) + c.FOREIGN_READ_EXTRA * ev(FOREIGN_READS)
        noise = min(ev(NOISE_READS), max(0.0, charged - t.optimal_calls))  # at most the needless calls
        return c.efficiency_score_v11(charged, t.optimal_calls, work) - c.noise_cost(int(noise), t.optimal_calls)


class NoiseReads(Component):
    """1.2: reads that returned none of the task's information (``uninformative``)."""
    name = "noise_reads"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return float(len(t.uninformative))


class ForeignReads(Component):
    """1.2: reads of a client the task is not about."""
    name = "foreign_reads"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return float(sum(1 for x in t.counted if x.foreign_client and not x.writes))


FOREIGN_READS = ForeignReads()
NOISE_READS = NoiseReads()


class ComplianceMagnitude(Component):
    """λ when the answer violated a rule or a write was unauthorised, else 0."""
    name = "violation"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return t.config.compliance_penalty if (t.violated or t.unauthorized) else 0.0


class ErrorCosts(Component):
    """Optional: the configured costs of the failed calls' error codes (none by default)."""
    name = "error_costs"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return c.error_cost(t.calls, t.config.error_costs)


class NoAnswerBase(Component):
    """R_fmt/2 − NO_ANSWER_COST: where an episode without an answer starts."""
    name = "no_answer_base"

    def __init__(self, r_fmt: Node):
        self.r_fmt = r_fmt

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return ev(self.r_fmt) / 2 - NO_ANSWER_COST


class Zero(Component):
    """Always 0: a branch that contributes nothing."""
    name = "zero"

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        return 0.0


class BinaryPositive(Component):
    """``binary``: R_MAX for a fully correct, well-formed trajectory, else 0 (from 1.1 on,
    needless calls still cost)."""
    name = "positive"

    def __init__(self, r_fmt: Node, r_corr: Node, r_eff: Node):
        self.r_fmt, self.r_corr, self.r_eff = r_fmt, r_corr, r_eff

    def compute(self, t: Trajectory, ev: Evaluation) -> float:
        positive = R_MAX if (ev(self.r_fmt) == 1.0 and ev(self.r_corr) == 1.0) else 0.0
        return positive + min(0.0, ev(self.r_eff)) if t.config.version != "toolrla-1.0.0" else positive


FORMAT_V11, FORMAT_V12 = FormatScore(), FormatWithSlips()
ZERO, ANSWERED, PROPER = Zero(), Answered(), ProperAnswer()


@lru_cache(maxsize=64)
def rubric_for(version: str, composition: str, judges: tuple[Judge, ...] = ()) -> Node:
    """The version's tree (see the module doc)."""
    v12 = version == "toolrla-1.2.0"
    r_fmt = FORMAT_V12 if v12 else FORMAT_V11
    s_name, s_cover, s_param = (S_NAME_V12, S_COVER_V12, S_PARAM_V12) if v12 else (S_NAME_V11, S_COVER_V11,
                                                                                    S_PARAM_V11)
    correctness = Correctness(s_name, s_cover, s_param, complete_cover=v12)
    r_corr = Gate("R_corr", PROPER, Product("answered_correctness", correctness, AnswerFactor()), ZERO)
    efficiency = (EfficiencyV12() if v12 else EfficiencyV11() if version == "toolrla-1.1.0" else EfficiencyV10())
    r_eff = Gate("R_eff", PROPER, efficiency, AtMost("efficiency_capped", efficiency))
    r_comp = Penalty("R_comp", ComplianceMagnitude())
    error_penalty = Penalty("error_penalty_signed", ErrorCosts())
    if composition == "binary":
        positive: Node = BinaryPositive(r_fmt, r_corr, r_eff)
    else:
        positive = Sum("positive", r_fmt, r_corr, r_eff)
    scored = Sum("scored", positive, r_comp, error_penalty, *judges)
    formatted = Gate("formatted", r_fmt, scored, AtMost("format_failed", Sum("penalties", r_comp, error_penalty)))
    unanswered = Sum("unanswered", NoAnswerBase(r_fmt), AtMost("efficiency_capped", efficiency), r_comp, error_penalty)
    extra: list[Node] = [IOU, s_cover, s_param, s_name]
    if v12:
        extra += [Slips(), FOREIGN_READS, NOISE_READS]
    return _Root(Gate("total", ANSWERED, formatted, unanswered), tuple(extra))


class _Root(Node):
    """The total, plus the nodes every breakdown reports even when no branch needed them."""

    def __init__(self, total: Node, reported: tuple[Node, ...]):
        self.name, self.total, self.reported = "rubric", total, reported
        self.nodes = tuple({n.name: n for n in (*walk(total), *reported)}.values())

    def score(self, t: Any, ev: Evaluation) -> float:
        value = ev(self.total)
        for node in self.nodes:
            ev(node)
        return value


# --------------------------------------------------------------------------------------
# The breakdown


class RewardBreakdown(Mapping[str, Any]):
    """The episode's reward: every rubric node's score by name (``total``, ``R_fmt``,
    ``R_corr``, ``R_eff``, ``R_comp``, ``S_name``, ``S_cover``, ``S_param``, ``r_name``,
    ``r_param``, ``r_value``, the inner nodes), and the facts the score rests on (``n_calls``,
    ``optimal_calls``, ``violated``, ``error_penalty``, ``composition``, ``version``,
    ``format``, ``answered``, ``over_refusal``, ``under_refusal``, ``unauthorized_writes``,
    ``infra_errors``, and under 1.2 ``slips``, ``foreign_reads``, ``noise_reads``, ``late_calls``,
    ``judge_errors``). Read as a mapping or by attribute (``breakdown.total``)."""

    def __init__(self, values: dict[str, Any]):
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["_values"][key]
        except KeyError:
            raise AttributeError(key) from None

    def as_dict(self) -> dict[str, Any]:
        """A fresh dict (``unauthorized_writes`` as a list)."""
        out = dict(self._values)
        out["unauthorized_writes"] = list(out["unauthorized_writes"])
        return out


# Inner nodes whose scores are the breakdown's plumbing, not components users read.
_INTERNAL = frozenset({"rubric", "zero", "positive", "scored", "formatted", "format_failed", "penalties",
                       "unanswered", "no_answer_base", "efficiency_capped", "error_penalty_signed", "error_costs",
                       "violation", "answered"})


def compute_reward(*, turn_ok: Sequence[bool], calls: Sequence[CallRecord], gold: Sequence[GoldCall],
                   required_tools: Sequence[str], optimal_calls: int, violated: bool,
                   config: RewardConfig = RewardConfig(), criticality: Mapping[str, float] | None = None,
                   answered: bool = True, over_refusal: bool = False, under_refusal: bool = False,
                   answer_recall: float = 1.0, call_turns: Sequence[bool] | None = None,
                   informed: frozenset[int] = frozenset(), excused: frozenset[int] = frozenset(),
                   query: str = "", response: str | None = None, observations: Sequence[Any] = (),
                   write_target_keys: Sequence[str] | None = None,
                   uninformative: frozenset[int] = frozenset()) -> RewardBreakdown:
    """The episode's reward from its turns' format verdicts, its calls and the task's gold.

    ``violated``: the compliance checker flagged the final answer. ``answered``: the episode
    ended with a final answer (not the step budget). ``over_refusal``: the answer refused a
    task that expects an answer; ``under_refusal``: it did not refuse a task that expects a
    refusal. Under v1.0 those three are reported but not scored. ``answer_recall``: the
    answer's score (share of the task's answer facts it states), scored with
    ``config.answer_weight``. Under 1.2 only: ``call_turns`` (per turn: it was a tool-call
    turn; None: every turn before the last), ``informed`` (indices of the gold calls whose
    result the agent's calls returned), ``excused`` (gold calls whose tool failed on the
    back-end's side, where the answer says so), and the query, response and observations a
    judge reads, and ``uninformative`` (indices of the calls that were reads returning none of
    the task's information). Calls made after the answer count only under 1.2. ``write_target_keys``: the
    argument keys naming a write's target (the domain's; default: the default domain's).
    """
    if not config.v12:
        calls = [x for x in calls if not x.after_answer]
    if call_turns is None:
        call_turns = [True] * max(len(turn_ok) - 1, 0) + [False] * min(len(turn_ok), 1)
    t = Trajectory(turn_ok, calls, gold, required_tools, optimal_calls, violated, config, criticality, answered,
                   over_refusal, under_refusal, answer_recall, call_turns, informed, excused, query, response,
                   observations, write_target_keys, uninformative)
    ev = Evaluation(t)
    ev(rubric_for(config.version, config.composition, config.judges))
    values: dict[str, Any] = {k: _clean(v) for k, v in ev.log.items() if k not in _INTERNAL}
    values.update(
        n_calls=len(t.counted),
        optimal_calls=optimal_calls, violated=violated or bool(t.unauthorized), error_penalty=ev.log["error_costs"],
        composition=config.composition, version=config.version, format=str(config.format), answered=answered,
        over_refusal=over_refusal, under_refusal=under_refusal, unauthorized_writes=t.unauthorized,
        infra_errors=sum(1 for x in calls if x.infra_error))
    if config.v12:
        values.update(slips=int(ev.log["slips"]), foreign_reads=int(ev.log["foreign_reads"]),
                      noise_reads=int(ev.log["noise_reads"]),
                      late_calls=sum(1 for x in calls if x.after_answer), judge_errors=list(ev.errors))
    return RewardBreakdown(values)


def _clean(x: float) -> float:
    """Round away float noise so identical trajectories report identical, readable numbers."""
    r = round(x, 9)
    return 0.0 if r == 0 or math.isclose(r, 0.0, abs_tol=1e-12) else r
