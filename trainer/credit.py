"""Per-turn credit (TRM-style turn-level advantages), off by default.

GRPO gives every token of a rollout the same advantage, the group-normalised outcome reward.
With ``turn_credit`` on, each assistant turn's tokens get that advantage plus ``alpha`` times
the turn's own signal, taken from the env's per-step info:

- a tool-call turn: the mean over its calls of +1 (the call ran and matches a gold call of
  the task), 0 (it ran but is not one the task needs) or −1 (unknown tool, invalid
  arguments, any other error the agent caused); back-end failures count 0;
- a malformed turn: −1; the answer turn: 0.

**The guard.** Added as is, such process signals pay a policy to stop calling tools: every
error costs, and an episode that calls nothing is never penalised (the reward hacking the TRM
abstract names, "minimizing tool calls to avoid penalties"). So the signals are centred on
the rollout's own token-weighted mean before they are added: the per-turn term only moves
credit between the turns of one episode and sums to zero over its tokens. A rollout's total
credit is then its outcome advantage, whatever it did turn by turn, so calling fewer tools
can never raise it; an episode of one turn (an answer without tools) gets exactly its
outcome advantage. ``guard=False`` gives the naive sum, kept for the test that shows why.
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
    if call.get("outcome") != "ok":
        return -1.0
    accuracy = call.get("param_accuracy")
    return 1.0 if accuracy is not None and accuracy > 0 else 0.0


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
    (centred on the rollout's token-weighted mean when ``guard``). Tool-result tokens, and
    tokens with ``valid`` 0 (padding), keep the plain advantage (they are masked out of the
    loss anyway); turns beyond ``signals`` (generation cut before the env saw them) get 0."""
    valid = valid if valid is not None else [1] * len(turns)

    def signal(turn: int) -> float:
        return signals[turn] if 0 <= turn < len(signals) else 0.0

    counted = [signal(t) for t, v in zip(turns, valid, strict=True) if t >= 0 and v]
    centre = sum(counted) / len(counted) if guard and counted else 0.0
    return [advantage + alpha * (signal(t) - centre) if t >= 0 and v else advantage
            for t, v in zip(turns, valid, strict=True)]
