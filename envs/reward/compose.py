"""Composing the components into the episode's reward, for each reward version."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from envs.reward import components as c
from envs.reward.config import R_MAX, RewardConfig
from envs.reward.records import CallRecord, GoldCall
from envs.reward.writes import unauthorized_writes

# v1.1: an episode without a final answer scores R_fmt/2 − NO_ANSWER_COST plus any penalties:
# at most −0.5, below every compliant answer (> 0, as R_eff > −1), and for the same calls
# always at least 1.5 below answering.
NO_ANSWER_COST = 1.0


@dataclass(frozen=True)
class RewardBreakdown:
    total: float
    R_fmt: float
    R_corr: float
    R_eff: float
    R_comp: float
    S_name: float
    S_cover: float
    S_param: float
    r_name: float
    r_param: float
    r_value: float
    n_calls: int
    optimal_calls: int
    violated: bool
    error_penalty: float
    composition: str
    version: str
    format: str
    answered: bool
    over_refusal: bool
    under_refusal: bool
    unauthorized_writes: tuple[str, ...]
    infra_errors: int

    def as_dict(self) -> dict[str, Any]:
        """Every field by name, ``unauthorized_writes`` as a list (``asdict`` without its deep
        copy: the other fields are immutable scalars)."""
        out = {name: getattr(self, name) for name in _BREAKDOWN_FIELDS}
        out["unauthorized_writes"] = list(self.unauthorized_writes)
        return out


_BREAKDOWN_FIELDS = tuple(f.name for f in fields(RewardBreakdown))


def compute_reward(*, turn_ok: Sequence[bool], calls: Sequence[CallRecord], gold: Sequence[GoldCall],
                   required_tools: Sequence[str], optimal_calls: int, violated: bool,
                   config: RewardConfig = RewardConfig(), criticality: Mapping[str, float] | None = None,
                   answered: bool = True, over_refusal: bool = False, under_refusal: bool = False,
                   answer_recall: float = 1.0) -> RewardBreakdown:
    """The episode's reward from its turns' format verdicts, its calls and the task's gold.

    ``violated``: the compliance checker flagged the final answer. ``answered``: the episode
    ended with a final answer (not the step budget). ``over_refusal``: the answer refused a
    task that expects an answer; ``under_refusal``: it did not refuse a task that expects a
    refusal. Under v1.0 those three are reported but not scored. ``answer_recall``: the share
    of the task's answer facts the answer states, scored only with ``config.answer_weight``.
    """
    v11 = config.v11
    r_fmt = c.format_score(turn_ok)
    s_name = c.name_score(calls)
    s_cover = c.coverage_score(calls, required_tools)
    weights = criticality if config.criticality_weighted else None
    s_param = c.param_score(calls, gold, weights, criticality=criticality, partial_credit=v11)
    n_calls = len(c.counted_calls(calls))
    writes = tuple(unauthorized_writes(calls, gold)) if v11 else ()
    violated = violated or bool(writes)
    r_comp = -config.compliance_penalty if violated else 0.0
    iou = c.iou_scores(calls, gold)
    penalty = c.error_cost(calls, config.error_costs)

    if config.composition == "multiplicative":
        r_corr = s_name * s_cover * s_param
    elif config.composition == "additive":
        r_corr = (s_name + s_cover + s_param) / 3
    elif config.composition == "iou":
        r_corr = (iou["r_name"] + iou["r_param"] + iou["r_value"]) / 3
    else:
        r_corr = 1.0 if s_name == s_cover == s_param == 1.0 else 0.0
    if config.answer_weight:
        r_corr *= 1.0 - config.answer_weight + config.answer_weight * answer_recall

    if v11:
        r_eff = c.efficiency_score_v11(n_calls, optimal_calls, c.work_score(calls, optimal_calls, s_cover))
        if over_refusal or under_refusal or not answered:
            r_corr, r_eff = 0.0, min(0.0, r_eff)
    else:
        r_eff = c.efficiency_score(n_calls, optimal_calls)

    if config.composition == "binary":
        positive = R_MAX if (r_fmt == 1.0 and r_corr == 1.0) else 0.0
        positive += min(0.0, r_eff) if v11 else 0.0
    else:
        positive = r_fmt + r_corr + r_eff
    total = positive + r_comp - penalty if r_fmt == 1.0 else min(0.0, r_comp - penalty)
    if v11 and not answered:
        total = r_fmt / 2 - NO_ANSWER_COST + min(0.0, r_eff) + r_comp - penalty
    return RewardBreakdown(
        total=_clean(total), R_fmt=r_fmt, R_corr=_clean(r_corr), R_eff=_clean(r_eff), R_comp=r_comp,
        S_name=s_name, S_cover=_clean(s_cover), S_param=_clean(s_param), r_name=_clean(iou["r_name"]),
        r_param=_clean(iou["r_param"]), r_value=_clean(iou["r_value"]), n_calls=n_calls,
        optimal_calls=optimal_calls, violated=violated, error_penalty=penalty,
        composition=config.composition, version=config.version, format=str(config.format), answered=answered,
        over_refusal=over_refusal, under_refusal=under_refusal, unauthorized_writes=writes, infra_errors=sum(1 for x in calls if x.infra_error))


def _clean(x: float) -> float:
    """Round away float noise so identical trajectories report identical, readable numbers."""
    r = round(x, 9)
    return 0.0 if r == 0 or math.isclose(r, 0.0, abs_tol=1e-12) else r
