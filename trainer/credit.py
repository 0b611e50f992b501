"""Per-turn credit (TRM-style turn-level advantages), off by default.

GRPO gives every token of a rollout the same advantage, the group-normalised outcome reward.
With ``turn_credit`` on, each assistant turn's tokens get that advantage plus ``alpha`` times
the turn's own signal, taken from the env's per-step info:

- a tool-call turn: the mean over its calls' own outcomes: +1 the call ran and its result
  equals a gold call's (the first time: a repeat of a call already made earns 0); 0 it ran
  but the task does not need it, or a read of the right tool with a wrong value; −1 an
  unknown tool, invalid arguments, any other error the agent caused, a write with a wrong
  value, or an unauthorised write (``envs.reward.writes``); back-end failures count 0;
- a malformed turn: −1; the answer turn: 0.

**The guard.** Added as is, such process signals pay a policy to stop calling tools: every
error costs, and an episode that calls nothing is never penalised (the reward hacking the TRM
abstract names, "minimizing tool calls to avoid penalties"). So the signals are centred on
the mean over the rollout's turns, and each turn's term is spread over its own tokens
(weight L̄/len, L̄ the rollout's mean turn length): every turn gets the same share of the
per-turn credit however long it is, and the per-turn terms sum to zero over the rollout's
tokens. A rollout's total per-turn credit is therefore 0 and its mean credit per token its
outcome advantage, whatever it did turn by turn: padding a turn, repeating calls (which earn
0) or calling fewer tools can never raise it; an episode of one turn (an answer without
tools) gets exactly its outcome advantage. ``guard=False`` gives the naive sum, kept for the
test that shows why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def turn_signals(step_infos: Sequence[Mapping[str, Any]]) -> list[float]:
    """One signal in [-1, 1] per assistant turn, from the env's step infos (see the module doc)."""
    signals = []
    for info in step_infos:
        calls = info.get("calls") or []
        if info.get("action_kind") == "malformed":
            signals.append(-1.0)
        elif calls:
            signals.append(sum(_call_signal(c) for c in calls) / len(calls))
        else:
            signals.append(0.0)
    return signals


def _call_signal(call: Mapping[str, Any]) -> float:
    if call.get("outcome") in ("infra_error", "injected_fault"):
        return 0.0
    if call.get("outcome") != "ok" or call.get("unauthorized_write"):
        return -1.0
    accuracy = call.get("param_accuracy")
    if accuracy is None or call.get("repeat"):
        return 0.0
    if accuracy >= 1.0:
        return 1.0
    return -1.0 if call.get("writes") else 0.0


def token_turns(tool_mask: Sequence[int]) -> list[int]:
    """Each completion token's assistant turn (0, 1, ...), or -1 for tool-result tokens.

    ``tool_mask`` is TRL's: 1 for tokens the model generated, 0 for the tool results spliced
    in between its turns; a new turn starts after each run of zeros.
    """
    turns, turn, in_result = [], 0, False
    for keep in tool_mask:
        if keep:
            if in_result:
                turn, in_result = turn + 1, False
            turns.append(turn)
        else:
            in_result = True
            turns.append(-1)
    return turns


def turn_advantages(advantage: float, signals: Sequence[float], turns: Sequence[int], alpha: float,
                    guard: bool = True, valid: Sequence[int] | None = None) -> list[float]:
    """Per-token advantages for one rollout: ``advantage`` plus ``alpha`` × its turn's signal
    (when ``guard``: centred on the mean over the rollout's turns and weighted by the mean
    turn length over the turn's own, see the module doc). Tool-result tokens, and tokens with
    ``valid`` 0 (padding), keep the plain advantage (they are masked out of the loss anyway);
    turns beyond ``signals`` (generation cut before the env saw them) get 0."""
    valid = valid if valid is not None else [1] * len(turns)

    def signal(turn: int) -> float:
        return signals[turn] if 0 <= turn < len(signals) else 0.0

    lengths: dict[int, int] = {}
    for t, v in zip(turns, valid, strict=True):
        if t >= 0 and v:
            lengths[t] = lengths.get(t, 0) + 1
    if not guard or not lengths:
        return [advantage + alpha * signal(t) if t >= 0 and v else advantage for t, v in zip(turns, valid, strict=True)]
    centre = sum(signal(t) for t in lengths) / len(lengths)
    mean_length = sum(lengths.values()) / len(lengths)
    term = {t: alpha * (signal(t) - centre) * mean_length / n for t, n in lengths.items()}
    return [advantage + term[t] if t >= 0 and v else advantage for t, v in zip(turns, valid, strict=True)]

