"""The reward's components: small pure functions of the calls and the gold trajectory."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from envs.reward.records import CallRecord, GoldCall
from mock_apis.toolkit import lenient_date

# v1.1 parameter credit of a call of the right tool whose result differs from the gold's:
# NAME_CREDIT for choosing the tool, then the argument names (key IoU) and values.
NAME_CREDIT, KEY_CREDIT, VALUE_CREDIT = 0.1, 0.3, 0.6
# v1.1 efficiency: the share of R_eff earned by attempting the work with real tools even when
# they are the wrong ones, so that trying never scores below doing nothing.
ATTEMPT_CREDIT = 0.25
# v1.1 efficiency: R_eff → −EFF_FLOOR as needless calls grow (never reached).
EFF_FLOOR = 1.0
_MAX_NORMALISE_DEPTH = 32


def counted_calls(calls: Sequence[CallRecord]) -> list[CallRecord]:
    """The calls the agent is accountable for: injected faults and back-end failures are not."""
    return [c for c in calls if c.counted]


def _called_names(calls: Sequence[CallRecord]) -> set[str]:
    return {c.name for c in calls if isinstance(c.name, str)}


def format_score(turn_ok: Sequence[bool]) -> float:
    return 1.0 if turn_ok and all(turn_ok) else 0.0


def name_score(calls: Sequence[CallRecord]) -> float:
    return 0.0 if any(not c.known_tool for c in calls) else 1.0


def coverage_score(calls: Sequence[CallRecord], required: Sequence[str]) -> float:
    if not required:
        return 1.0
    called = _called_names([c for c in counted_calls(calls) if c.known_tool])
    return len(set(required) & called) / len(set(required))


def parameter_accuracy(predicted: Any, gold: Mapping[str, Any], predicted_result: Any = None,
                       gold_result: Any = None, executed: bool = False) -> float:
    """The v1.0 accuracy of one predicted call's arguments against a gold call of the same tool.

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


def key_iou(predicted: Any, gold: Mapping[str, Any]) -> float:
    """IoU of the argument-name sets (the enterprise guide's r_param)."""
    if not isinstance(predicted, Mapping):
        return 0.0
    pk, gk = set(predicted), set(gold)
    return len(pk & gk) / len(pk | gk) if pk | gk else 1.0


_DATE_LIKE = re.compile(r"\d.*([-/ ,.]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)


def normalise_value(value: Any, _depth: int = 0) -> Any:
    """A comparison key for one argument value: dates to ISO, text case-folded, numbers rounded."""
    if _depth > _MAX_NORMALISE_DEPTH:
        return ("<too deep>", id(value))  # never equal to a gold value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        try:
            return round(float(value), 6)
        except OverflowError:
            return ("<huge int>", value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 40 and _DATE_LIKE.search(text):
            parsed = lenient_date(text)
            if parsed is not None:
                return parsed.isoformat()
        return text.casefold()
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), normalise_value(v, _depth + 1)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(normalise_value(v, _depth + 1) for v in value)
    return ("<other>", type(value).__name__, id(value))


def call_credit_v11(call: CallRecord, gold_index: int, criticality: float) -> float:
    """v1.1 credit of one call of the gold call's tool, in (0, 1].

    1 when the results (or arguments) are equal; otherwise NAME_CREDIT + KEY_CREDIT·key IoU
    + VALUE_CREDIT·value agreement, raised to the tool's criticality, so that a wrong amount
    on a critical write (criticality 3) costs more than a wrong date on a read.
    """
    accuracy = call.gold_accuracy.get(gold_index, 0.0)
    if accuracy >= 1.0:
        return 1.0
    partial = NAME_CREDIT + KEY_CREDIT * call.gold_key_iou.get(gold_index, 0.0) + VALUE_CREDIT * accuracy
    return partial ** max(criticality, 0.0)


def param_score(calls: Sequence[CallRecord], gold: Sequence[GoldCall], weights: Mapping[str, float] | None = None,
                criticality: Mapping[str, float] | None = None, partial_credit: bool = False) -> float:
    """Mean over the gold calls whose tool was called of the best matching call's credit.

    Gold calls whose tool was never called are left to S_cover, so one miss is not
    punished twice; but when no gold tool was called at all there are no correct
    parameters, and S_param is 0 (a vacuous 1 would let ``additive`` pay a wrong tool).
    With ``weights`` (tool -> criticality) the mean is weighted. ``partial_credit`` selects
    v1.1's :func:`call_credit_v11` instead of v1.0's accuracy.
    """
    if not gold:
        return 1.0
    counted = counted_calls(calls)
    called = _called_names(counted)
    total = weight_sum = 0.0
    for i, g in enumerate(gold):
        if g.name not in called:
            continue
        same_tool = [c for c in counted if c.name == g.name]
        if partial_credit:
            crit = (criticality or {}).get(g.name, 1.0)
            best = max(call_credit_v11(c, i, crit) for c in same_tool)
        else:
            best = max(c.gold_accuracy.get(i, 0.0) for c in same_tool)
        w = weights.get(g.name, 1.0) if weights else 1.0
        total += w * best
        weight_sum += w
    return total / weight_sum if weight_sum else 0.0


def efficiency_score(n_calls: int, optimal: int) -> float:
    """v1.0: R_eff = clip(1 − (T − T*)/T*, 0, 1), with T* = 0 read as 1 in the denominator."""
    return min(1.0, max(0.0, 1.0 - (n_calls - optimal) / max(optimal, 1)))


def work_score(calls: Sequence[CallRecord], optimal: int, s_cover: float, failed_tries_count: bool = False) -> float:
    """v1.1: how much of the required work was done, in [0, 1].

    Mostly S_cover; ATTEMPT_CREDIT of it is the share of the T* calls attempted with real
    tools, right or wrong (``failed_tries_count``, v1.2: calls the back-end failed were
    attempted too). 1 when the gold needs no call.
    """
    if optimal == 0:
        return 1.0
    tried = calls if failed_tries_count else counted_calls(calls)
    attempted = sum(1 for c in tried if c.known_tool)
    return ATTEMPT_CREDIT * min(1.0, attempted / optimal) + (1.0 - ATTEMPT_CREDIT) * s_cover


def efficiency_score_v11(n_calls: float, optimal: int, work: float) -> float:
    """v1.1: R_eff = (W + F)/(1 + x) − F with x = (T − T*)⁺ / max(T*, 1), W the work done, F = EFF_FLOOR.

    W when no call is needless (1 for gold, 0 for doing nothing), and strictly lower with
    every needless call, towards −F: 19 extra calls cost more than 1. Never clipped. One
    needless call on a 2-call task costs 2/3, less than skipping one of its calls (1.0), so
    that calling when unsure never scores below skipping (the TRM warning).
    """
    excess = max(0, n_calls - optimal) / max(optimal, 1)
    return (work + EFF_FLOOR) / (1.0 + excess) - EFF_FLOOR


def iou_scores(calls: Sequence[CallRecord], gold: Sequence[GoldCall]) -> dict[str, float]:
    """The enterprise guide's r_name (name-set IoU), r_param (key-set IoU) and r_value."""
    predicted = counted_calls(calls)
    names_p = _called_names(predicted)
    names_g = {g.name for g in gold}
    union = names_p | names_g
    r_name = len(names_p & names_g) / len(union) if union else 1.0
    if not gold:
        return {"r_name": r_name, "r_param": 1.0 if not predicted else 0.0, "r_value": 1.0 if not predicted else 0.0}
    key_scores, value_match = [], []
    for i, g in enumerate(gold):
        candidates = [c for c in predicted if c.name == g.name and isinstance(c.arguments, Mapping)]
        if not candidates:
            key_scores.append(0.0)
            value_match.append(0.0)
            continue
        best = max(candidates, key=lambda c: c.gold_accuracy.get(i, 0.0))
        pk, gk = set(best.arguments), set(g.arguments)
        key_scores.append(len(pk & gk) / len(pk | gk) if pk | gk else 1.0)
        value_match.append(sum(1 for k in gk if k in pk and best.arguments[k] == g.arguments[k])
                           / len(gk) if gk else 1.0)
    return {"r_name": r_name, "r_param": sum(key_scores) / len(key_scores),
            "r_value": sum(value_match) / len(value_match)}


def error_cost(calls: Sequence[CallRecord], costs: Mapping[str, float]) -> float:
    """Optional extra penalty: the sum of configured costs of the calls' error codes."""
    return sum(costs.get(c.error, 0.0) for c in counted_calls(calls) if c.error)


# --------------------------------------------------------------------------------------
# v1.2

# A recovered slip (a malformed turn, an unknown tool name, then a valid call) costs R_fmt:
# R_fmt = 1 / (1 + SLIP_COST · slips): 1/3 for the first, less for each further one, never
# more than 1 in all, so that trying and recovering always beats not trying.
SLIP_COST = 0.5
# The credit of the right tool with a wrong value is at most this share of a correct call's,
# so that one wrong value costs more than a recovered slip, whatever the task's length.
WRONG_VALUE_SHARE = 0.5
# A read of a client the task is not about counts as this many needless calls beyond itself.
FOREIGN_READ_EXTRA = 1.0


def unrecovered_turns(turn_ok: Sequence[bool], call_turns: Sequence[bool]) -> frozenset[int]:
    """The failed turns no later well-formed tool-call turn recovered (a failed answer, or a
    trajectory that ends on a hallucinated or malformed call)."""
    unrecovered, recovered_after = set(), False
    for i in range(len(turn_ok) - 1, -1, -1):
        if turn_ok[i]:
            recovered_after = recovered_after or (i < len(call_turns) and call_turns[i])
        elif not recovered_after:
            unrecovered.add(i)
    return frozenset(unrecovered)


def format_score_with_slips(turn_ok: Sequence[bool], unrecovered: frozenset[int]) -> float:
    """v1.2 R_fmt: 0 with an unrecovered failed turn, else 1 / (1 + SLIP_COST · recovered slips)."""
    if not turn_ok or unrecovered:
        return 0.0
    return 1.0 / (1.0 + SLIP_COST * sum(1 for ok in turn_ok if not ok))


def gold_credits(calls: Sequence[CallRecord], gold: Sequence[GoldCall], criticality: Mapping[str, float],
                 informed: frozenset[int], excused: frozenset[int]) -> list[float]:
    """v1.2 credit of each gold call: 1 when the agent's calls returned its information
    (``informed``) or a call of its tool equals it; otherwise the best call of its tool scores
    WRONG_VALUE_SHARE × the v1.1 partial credit; 1 when its tool failed on the back-end's side
    and the answer says so (``excused``); else 0."""
    counted = [c for c in counted_calls(calls) if c.known_tool]
    credits = []
    for i, g in enumerate(gold):
        if i in informed:
            credits.append(1.0)
            continue
        same_tool = [c for c in counted if c.name == g.name]
        crit = criticality.get(g.name, 1.0)
        best = max((call_credit_v11(c, i, crit) for c in same_tool), default=0.0)
        if best < 1.0 and i in excused:
            best = 1.0
        credits.append(best if best >= 1.0 else WRONG_VALUE_SHARE * best)
    return credits


def information_coverage(credits: Sequence[float], gold: Sequence[GoldCall], required: Sequence[str]) -> float:
    """v1.2 S_cover: the share of the required tools' gold calls with any credit."""
    needed = [credit for credit, g in zip(credits, gold) if g.name in required]
    return sum(1 for credit in needed if credit > 0) / len(needed) if needed else 1.0


def param_product(credits: Sequence[float], gold: Sequence[GoldCall], weights: Mapping[str, float] | None) -> float:
    """v1.2 S_param: the product of the covered gold calls' credits; with ``weights`` each
    credit is raised to its tool's weight over the mean weight."""
    covered = [(credit, g.name) for credit, g in zip(credits, gold) if credit > 0]
    if not covered:
        return 1.0 if not gold else 0.0
    mean = sum(weights.get(name, 1.0) for _, name in covered) / len(covered) if weights else 1.0
    product = 1.0
    for credit, name in covered:
        product *= credit ** (weights.get(name, 1.0) / mean) if weights else credit
    return product


_LEAVES_DEPTH = 16


def result_leaves(payload: Any, into: set[tuple[str, Any]] | None = None) -> set[tuple[str, Any]]:
    """The (field name, value) pairs of a tool result's scalar fields, at any depth (numbers
    rounded to 6 places; an empty list or object is the value ``"<empty>"``: "no orders" is
    information too): what a result says, whatever its nesting. A list in a record that states
    its window (``start_date``, ``end_date``) is also the value ``("<window>", start, end,
    its items' dates)``: what happened in that window, and that nothing else did."""
    leaves = into if into is not None else set()
    stack: list[tuple[str, Any, int]] = [("", payload, 0)]
    while stack:
        key, value, depth = stack.pop()
        if isinstance(value, (Mapping, list, tuple)):
            if isinstance(value, Mapping) and isinstance(value.get("start_date"), str) \
                    and isinstance(value.get("end_date"), str):
                _window_leaves(value, leaves)
            if not value:
                leaves.add((key, "<empty>"))
            elif depth < _LEAVES_DEPTH:
                items = value.items() if isinstance(value, Mapping) else ((key, v) for v in value)
                stack.extend((str(k), v, depth + 1) for k, v in items)
        elif isinstance(value, float):
            leaves.add((key, round(value, 6)))
        elif isinstance(value, (str, int, bool)) or value is None:
            leaves.add((key, value))
    return leaves


def _window_leaves(record: Mapping[str, Any], leaves: set[tuple[str, Any]]) -> None:
    start, end = record["start_date"], record["end_date"]
    for key, value in record.items():
        if isinstance(value, list):
            dates = tuple(sorted(str(v) for item in value if isinstance(item, Mapping)
                                 for k, v in item.items() if isinstance(k, str) and k.endswith("_date")))
            leaves.add((str(key), ("<window>", start, end, dates)))


def recent_window(as_of: dt.date | None, recent_days: int | None) -> tuple[int, int] | None:
    """The window a composite read's ``recent_<items>`` list covers, as day numbers
    (``date.toordinal``): the last ``recent_days`` days up to the replica's as-of date (a
    domain's ``DomainRules.as_of`` and ``recent_days``: the finance overview's
    ``recent_transactions``); None when the domain has no such list."""
    if as_of is None or recent_days is None:
        return None
    return as_of.toordinal() - recent_days, as_of.toordinal()


def _asked(gold: GoldCall) -> set[Any]:
    """The values a gold call's arguments give: fields of its result that only echo them are
    the question, not the answer."""
    return {v for v in gold.arguments.values() if isinstance(v, (str, int, float))}


def information_contained(gold: GoldCall, gold_result: Any, returned: set[tuple[str, Any]],
                          recent: tuple[int, int] | None = None) -> bool:
    """Whether every field of a gold call's result is among what the agent's calls returned
    (``returned``: the union of their ``result_leaves``): coverage by execution, not by name.
    Fields that only echo the gold call's own arguments are the question, not the answer, and
    are left out; a result that says nothing else is covered only by calling its tool. What a
    list says of a window is said too by the same list over any window that contains it
    (nothing since 2025-04-01 means nothing since 2025-05-31), and a composite's empty
    ``recent_<items>`` by an ``<items>`` list over a window containing its recent one
    (``recent``, from ``recent_window``; None: such a list is covered only as it is), with
    nothing dated in it."""
    asked = _asked(gold)
    leaves = {leaf for leaf in result_leaves(gold_result) if leaf[1] not in asked}
    if not leaves:
        return False
    missing = leaves - returned
    if not missing:
        return True
    windows = [(key, value) for key, value in returned if type(value) is tuple]
    return all(_said_by_a_wider_window(leaf, windows, recent) for leaf in missing)


def _said_by_a_wider_window(leaf: tuple[str, Any], windows: list[tuple[str, tuple[Any, ...]]],
                            recent: tuple[int, int] | None) -> bool:
    key, value = leaf
    if type(value) is tuple:
        wanted, dates = (_day(value[1]), _day(value[2])), value[3]
    elif value == "<empty>" and key.startswith("recent_") and recent is not None:
        key, wanted, dates = key[len("recent_"):], recent, ()
    else:
        return False
    if None in wanted:
        return False
    for name, (_, start, end, seen) in windows:
        have = _day(start), _day(end)
        if name == key and None not in have and have[0] <= wanted[0] and wanted[1] <= have[1] and \
                tuple(d for d in seen if wanted[0] <= (_day(d) or 0) <= wanted[1]) == dates:
            return True
    return False


def _day(text: str) -> int | None:
    try:
        return dt.date.fromisoformat(text[:10]).toordinal()
    except (TypeError, ValueError):
        return None


def noise_cost(noise: int, optimal: int) -> float:
    """v1.2: what needless reads that returned none of the task's information cost on top of
    R_eff's needless-call ratio: u / (u + max(T*, 1)), below 1. Without it R_eff stays above
    −1 however many tools are called, so calling every read tool of a small domain to be sure
    of the answer (tool spam) would score above an honest answer from the wrong tool."""
    return noise / (noise + max(optimal, 1)) if noise > 0 else 0.0


def uninformative_calls(calls: Sequence[CallRecord], results: Mapping[int, Any], gold: Sequence[GoldCall],
                        gold_results: Mapping[int, Any], gold_writes: Sequence[int] = ()) -> frozenset[int]:
    """v1.2: the agent's reads (indices into ``calls``; ``results``: index -> result of those
    that succeeded) that returned none of what the task needs: a successful read that equals no
    gold call and shares no field with a gold read's result (``gold_results``, the gold call's
    own arguments left out) or a gold write's arguments (``gold_writes``: their indices), or
    that read another client (``foreign_client``); and a read the back office refused of a tool
    the task did not need. Flags and empty values say too little to count as shared. Empty
    when there is nothing to measure against."""
    reads = [i for i, call in enumerate(calls) if call.counted and call.known_tool and not call.writes]
    candidates = [i for i in reads if not any(a >= 1.0 for a in calls[i].gold_accuracy.values())]
    if not candidates:
        return frozenset()
    wanted: set[tuple[str, Any]] = set()
    for i, result in gold_results.items():
        asked = _asked(gold[i])
        wanted.update(leaf for leaf in result_leaves(result) if leaf[1] not in asked and _telling(leaf[1]))
    for i in gold_writes:
        wanted.update(leaf for leaf in result_leaves(gold[i].arguments) if _telling(leaf[1]))
    if not wanted:
        return frozenset()
    noise = {i for i in candidates if i in results
             and (calls[i].foreign_client or not (result_leaves(results[i]) & wanted))}
    # A refused read returned nothing; it is noise unless its tool is one the task needs (a
    # gold tool, or one whose results were informative): a retry, not a spray.
    useful = {g.name for g in gold} | {calls[i].name for i in reads if i in results and i not in noise}
    noise.update(i for i in candidates if not calls[i].ok and calls[i].name not in useful)
    return frozenset(noise)


def _telling(value: Any) -> bool:
    return value is not None and not isinstance(value, bool) and value != "<empty>"
