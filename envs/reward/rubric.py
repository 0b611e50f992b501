"""The reward as a rubric: a tree of named nodes, each logging its score.

A node scores a ``Trajectory`` (``envs.reward.trajectory``) within one ``Evaluation``, which
computes each node once, on demand, and logs its score under the node's name: the breakdown
(``info["reward"]``) is that log. Node types:

- ``Component``: a leaf, one subclass per reward component (``compute(t, ev)``); it may read
  other nodes' scores through ``ev(node)``;
- ``Sum`` and ``Product`` of their children, in order;
- ``Gate``: ``passed`` when the condition node scores above zero, else ``failed``;
- ``AtMost``: its child, capped (``min(bound, child)``);
- ``Penalty``: minus its child's magnitude (``−|child|``);
- ``Judge``: an external scorer (an LLM judge, a learned reward model such as a tool-call
  reward model) that can only lower the total: see ``Judge``.

Adding a component is one ``Component`` subclass plus one line in a version's tree
(``envs.reward.compose``).
"""

from __future__ import annotations

import math
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any


class Node(ABC):
    """A named, scored part of the reward."""

    name: str = ""

    @abstractmethod
    def score(self, t: Any, ev: Evaluation) -> float:
        """This node's score of ``t`` (children scored through ``ev``)."""


class Component(Node):
    """A leaf: one reward component, a pure function of the trajectory (and other nodes)."""

    def score(self, t: Any, ev: Evaluation) -> float:
        return self.compute(t, ev)

    @abstractmethod
    def compute(self, t: Any, ev: Evaluation) -> float:
        """The component's value for ``t``."""


class _Fold(Node):
    """Its children's scores combined left to right by ``combine``."""

    combine: Callable[[float, float], float]

    def __init__(self, name: str, *children: Node):
        self.name, self.children = name, children

    def score(self, t: Any, ev: Evaluation) -> float:
        return reduce(self.combine, (ev(child) for child in self.children))


class Sum(_Fold):
    """The sum of its children's scores."""

    combine = staticmethod(operator.add)


class Product(_Fold):
    """The product of its children's scores (multiplicative correctness: one zero zeroes it)."""

    combine = staticmethod(operator.mul)


class Gate(Node):
    """``passed`` when ``condition`` scores above zero, else ``failed`` (only one is scored)."""

    def __init__(self, name: str, condition: Node, passed: Node, failed: Node):
        self.name, self.condition, self.passed, self.failed = name, condition, passed, failed

    def score(self, t: Any, ev: Evaluation) -> float:
        return ev(self.passed) if ev(self.condition) > 0 else ev(self.failed)


class AtMost(Node):
    """Its child's score, capped at ``bound``."""

    def __init__(self, name: str, child: Node, bound: float = 0.0):
        self.name, self.child, self.bound = name, child, bound

    def score(self, t: Any, ev: Evaluation) -> float:
        return min(self.bound, ev(self.child))


class Penalty(Node):
    """Minus the magnitude its child scores: a cost, never a gain."""

    def __init__(self, name: str, child: Node):
        self.name, self.child = name, child

    def score(self, t: Any, ev: Evaluation) -> float:
        magnitude = ev(self.child)
        return -abs(magnitude) if magnitude else 0.0


@dataclass(frozen=True)
class JudgeInput:
    """What a judge sees of an episode: the advisor's query, the final answer (None: the
    episode ended without one), the agent's calls (``name``, ``arguments``, ``ok``, ``error``)
    and the tool results it observed, in order."""

    query: str
    response: str | None
    calls: tuple[Mapping[str, Any], ...]
    observations: tuple[Any, ...]


class Judge(Node):
    """An external scorer plugged into the rubric; it can only lower the total.

    ``scorer(JudgeInput) -> float`` returns a quality in [0, 1] (1: nothing wrong; values
    outside are clipped, a non-number or an exception scores 1 and is reported in
    ``judge_errors``, so a broken judge never raises inside ``step``). The node scores
    ``−weight · (1 − quality)``: at most 0, at least −weight. Use it for an LLM judge of the
    answer's helpfulness or a learned tool-call reward model; none ships by default
    (``RewardConfig(judges=[Judge("my_rm", scorer, weight=1.0)])``, reward 1.2 only).
    """

    def __init__(self, name: str, scorer: Callable[[JudgeInput], float], weight: float = 1.0):
        if weight < 0:
            raise ValueError("a judge's weight is a magnitude (≥ 0)")
        self.name, self.scorer, self.weight = name, scorer, weight

    def score(self, t: Any, ev: Evaluation) -> float:
        try:
            quality = float(self.scorer(t.judge_input()))
        except Exception as exc:  # noqa: BLE001 - a user's judge must not make step raise
            ev.errors.append(f"{self.name}: {type(exc).__name__}")
            return 0.0
        if math.isnan(quality):
            ev.errors.append(f"{self.name}: not a number")
            return 0.0
        return -self.weight * (1.0 - min(1.0, max(0.0, quality)))


class Evaluation:
    """One scoring of a trajectory: ``ev(node)`` scores a node once and logs it by name."""

    def __init__(self, trajectory: Any):
        self.trajectory = trajectory
        self.log: dict[str, float] = {}
        self.errors: list[str] = []

    def __call__(self, node: Node) -> float:
        value = self.log.get(node.name)
        if value is None:
            value = self.log[node.name] = node.score(self.trajectory, self)
        return value


def walk(node: Node) -> Sequence[Node]:
    """The tree's nodes, depth first (the order the rubric documents them in)."""
    out: list[Node] = [node]
    for child in (getattr(node, "children", ()) or (getattr(node, "condition", None), getattr(node, "passed", None),
                                                   getattr(node, "failed", None), getattr(node, "child", None))):
        if child is not None:
            out.extend(walk(child))
    return out
