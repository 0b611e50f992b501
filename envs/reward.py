"""The ToolRLA reward (SPEC.md §5), as pure functions of a finished trajectory.

R = R_fmt + R_corr + R_eff + R_comp, at most 3.

- R_fmt ∈ {0, 1}: every model turn strictly well-formed (parseable, expected fields,
  non-empty thought, known tool names). R_fmt = 0 makes the trajectory ineligible for
  positive reward: R = min(0, R_comp).
- R_corr = S_name · S_cover · S_param (``multiplicative``, the default). ``additive`` takes
  their mean instead, ``iou`` uses the enterprise guide's name/key/value IoU scores, and
  ``binary`` pays 3 for a fully correct trajectory and 0 otherwise.
- R_eff = clip(1 − (T − T*)/T*, 0, 1); T* = 0 is read as 1 in the denominator.
- R_comp = −λ on any compliance violation (λ = 10 by default).

Every sub-score is always reported, whatever the composition. Parameter accuracy is
measured per call by ``parameter_accuracy`` at step time, against the same sandbox state
(the environment executes the gold call there too); this module only aggregates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mock_apis.tools.common import lenient_date

REWARD_VERSION = "toolrla-1.0.0"
COMPOSITIONS = ("multiplicative", "additive", "binary", "iou")
R_MAX = 3.0


@dataclass(frozen=True)
class RewardConfig:
    composition: str = "multiplicative"
    compliance_penalty: float = 10.0
    criticality_weighted: bool = False
    error_costs: Mapping[str, float] = field(default_factory=dict)
    version: str = REWARD_VERSION

    def __post_init__(self) -> None:
        if self.composition not in COMPOSITIONS:
            raise ValueError(f"composition must be one of {COMPOSITIONS}, got {self.composition!r}")
        if self.compliance_penalty < 0:
            raise ValueError("compliance_penalty is a magnitude (λ ≥ 0)")

    def describe(self) -> dict[str, Any]:
        return {**asdict(self), "error_costs": dict(self.error_costs)}


@dataclass(frozen=True)
class CallRecord:
    """One tool call the agent made, as the reward sees it."""

    name: Any
    arguments: Any
    known_tool: bool
    ok: bool
    error: str | None = None
    gold_accuracy: Mapping[int, float] = field(default_factory=dict)  # gold call index -> accuracy
    injected_fault: bool = False


@dataclass(frozen=True)
class GoldCall:
    name: str
    arguments: dict[str, Any]


def parameter_accuracy(predicted: Any, gold: Mapping[str, Any], predicted_result: Any = None,
                       gold_result: Any = None, executed: bool = False) -> float:
    """Accuracy of one predicted call's arguments against a gold call of the same tool.

    1.0 when the arguments are identical or, if ``executed``, when both calls succeeded in
    the same sandbox state with identical results. Otherwise the fraction of argument keys
    (over the union of both key sets) whose normalised values agree.
    """
    if not isinstance(predicted, Mapping):
        return 0.0
    if predicted == gold:
        return 1.0
    if executed and predicted_result is not None and predicted_result == gold_result:
        return 1.0
    keys = set(predicted) | set(gold)
    if not keys:
        return 1.0
    agree = sum(1 for k in keys if k in predicted and k in gold and normalise_value(predicted[k]) == normalise_value(gold[k]))
    return agree / len(keys)


_DATE_LIKE = re.compile(r"\d.*([-/ ,.]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)


def normalise_value(value: Any) -> Any:
    """A comparison key for one argument value: dates to ISO, text case-folded, numbers rounded."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 6)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 40 and _DATE_LIKE.search(text):
            parsed = lenient_date(text)
            if parsed is not None:
                return parsed.isoformat()
        return text.casefold()
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), normalise_value(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(normalise_value(v) for v in value)
    return repr(value)


def format_score(turn_ok: Sequence[bool]) -> float:
    return 1.0 if turn_ok and all(turn_ok) else 0.0


def counted_calls(calls: Sequence[CallRecord]) -> list[CallRecord]:
    """The calls the agent is accountable for: injected faults are the sandbox's doing."""
    return [c for c in calls if not c.injected_fault]


def name_score(calls: Sequence[CallRecord]) -> float:
    return 0.0 if any(not c.known_tool for c in calls) else 1.0


def coverage_score(calls: Sequence[CallRecord], required: Sequence[str]) -> float:
    if not required:
        return 1.0
    called = {c.name for c in counted_calls(calls) if c.known_tool}
    return len(set(required) & called) / len(set(required))


def param_score(calls: Sequence[CallRecord], gold: Sequence[GoldCall],
                weights: Mapping[str, float] | None = None) -> float:
    """Mean over the gold calls whose tool was called of the best matching call's accuracy.

    Gold calls whose tool was never called are left to S_cover, so one miss is not
    punished twice; but when no gold tool was called at all there are no correct
    parameters, and S_param is 0 (a vacuous 1 would let ``additive`` pay a wrong tool).
    With ``weights`` (tool -> criticality) the mean is weighted.
    """
    if not gold:
        return 1.0
    counted = counted_calls(calls)
    called = {c.name for c in counted}
    total = weight_sum = 0.0
    for i, g in enumerate(gold):
        if g.name not in called:
            continue
        best = max((c.gold_accuracy.get(i, 0.0) for c in counted if c.name == g.name), default=0.0)
        w = weights.get(g.name, 1.0) if weights else 1.0
        total += w * best
        weight_sum += w
    return total / weight_sum if weight_sum else 0.0


def efficiency_score(n_calls: int, optimal: int) -> float:
    return min(1.0, max(0.0, 1.0 - (n_calls - optimal) / max(optimal, 1)))


def iou_scores(calls: Sequence[CallRecord], gold: Sequence[GoldCall]) -> dict[str, float]:
    """The enterprise guide's r_name (name-set IoU), r_param (key-set IoU) and r_value."""
    predicted = counted_calls(calls)
    names_p = {c.name for c in predicted if isinstance(c.name, str)}
    names_g = {g.name for g in gold}
    union = names_p | names_g
    r_name = len(names_p & names_g) / len(union) if union else 1.0
    if not gold:
        return {"r_name": r_name, "r_param": 1.0 if not predicted else 0.0, "r_value": 1.0 if not predicted else 0.0}
    key_iou, value_match = [], []
    for i, g in enumerate(gold):
        candidates = [c for c in predicted if c.name == g.name and isinstance(c.arguments, Mapping)]
        if not candidates:
            key_iou.append(0.0)
            value_match.append(0.0)
            continue
        best = max(candidates, key=lambda c: c.gold_accuracy.get(i, 0.0))
        pk, gk = set(best.arguments), set(g.arguments)
        key_iou.append(len(pk & gk) / len(pk | gk) if pk | gk else 1.0)
        value_match.append(sum(1 for k in gk if k in pk and best.arguments[k] == g.arguments[k])
                           / len(gk) if gk else 1.0)
    return {"r_name": r_name, "r_param": sum(key_iou) / len(key_iou), "r_value": sum(value_match) / len(value_match)}


def error_cost(calls: Sequence[CallRecord], costs: Mapping[str, float]) -> float:
    """Optional extra penalty: the sum of configured costs of the calls' error codes."""
    return sum(costs.get(c.error, 0.0) for c in counted_calls(calls) if c.error)


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_reward(*, turn_ok: Sequence[bool], calls: Sequence[CallRecord], gold: Sequence[GoldCall],
                   required_tools: Sequence[str], optimal_calls: int, violated: bool,
                   config: RewardConfig = RewardConfig(),
                   criticality: Mapping[str, float] | None = None) -> RewardBreakdown:
    r_fmt = format_score(turn_ok)
    s_name = name_score(calls)
    s_cover = coverage_score(calls, required_tools)
    s_param = param_score(calls, gold, criticality if config.criticality_weighted else None)
    n_calls = len(counted_calls(calls))
    r_eff = efficiency_score(n_calls, optimal_calls)
    r_comp = -config.compliance_penalty if violated else 0.0
    iou = iou_scores(calls, gold)
    penalty = error_cost(calls, config.error_costs)

    if config.composition == "multiplicative":
        r_corr = s_name * s_cover * s_param
    elif config.composition == "additive":
        r_corr = (s_name + s_cover + s_param) / 3
    elif config.composition == "iou":
        r_corr = (iou["r_name"] + iou["r_param"] + iou["r_value"]) / 3
    else:
        r_corr = 1.0 if s_name == s_cover == s_param == 1.0 else 0.0

    if config.composition == "binary":
        positive = R_MAX if (r_fmt == 1.0 and r_corr == 1.0) else 0.0
    else:
        positive = r_fmt + r_corr + r_eff
    total = positive + r_comp - penalty if r_fmt == 1.0 else min(0.0, r_comp - penalty)
    return RewardBreakdown(
        total=_clean(total), R_fmt=r_fmt, R_corr=_clean(r_corr), R_eff=_clean(r_eff), R_comp=r_comp,
        S_name=s_name, S_cover=_clean(s_cover), S_param=_clean(s_param), r_name=_clean(iou["r_name"]),
        r_param=_clean(iou["r_param"]), r_value=_clean(iou["r_value"]), n_calls=n_calls,
        optimal_calls=optimal_calls, violated=violated, error_penalty=penalty,
        composition=config.composition, version=config.version)


def _clean(x: float) -> float:
    """Round away float noise so identical trajectories report identical, readable numbers."""
    r = round(x, 9)
    return 0.0 if r == 0 or math.isclose(r, 0.0, abs_tol=1e-12) else r


__all__ = ["REWARD_VERSION", "COMPOSITIONS", "RewardConfig", "CallRecord", "GoldCall", "RewardBreakdown",
           "parameter_accuracy", "compute_reward", "format_score", "name_score", "coverage_score", "param_score",
           "efficiency_score", "iou_scores", "normalise_value"]
