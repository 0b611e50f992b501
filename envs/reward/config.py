"""The reward's configuration: version, composition, format gate, answer weight and judges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

REWARD_VERSION = "toolrla-1.2.0"
V11_VERSION = "toolrla-1.1.0"
PAPER_VERSION = "toolrla-1.0.0"
VERSIONS = (REWARD_VERSION, V11_VERSION, PAPER_VERSION)
COMPOSITIONS = ("multiplicative", "additive", "binary", "iou")
# "native": a thought is required only where the protocol has a mandatory slot for it (the
# ReAct JSON ``thought`` field); "strict": every turn needs a non-empty thought and the
# protocol's own answer slot (the ToolRLA ReAct rule, and v1.0's default).
FORMAT_MODES = ("native", "strict")
R_MAX = 3.0
# The weight of the final answer in R_corr under 1.2 (and what the bundled trainer trains with).
ANSWER_WEIGHT = 0.5


@dataclass(frozen=True)
class RewardConfig:
    """How an episode is scored.

    ``version`` picks the formulas: ``toolrla-1.2.0`` (default), ``toolrla-1.1.0``, or the
    paper's literal ``toolrla-1.0.0`` for ablations. ``format`` defaults to ``native`` under
    1.1 and 1.2 and ``strict`` under 1.0; either can be chosen with any version.

    ``answer_weight`` (w) makes the final answer count in R_corr: R_corr × (1 − w + w · answer
    score). Unset, it is the version's own: ``ANSWER_WEIGHT`` (0.5) under 1.2, where the eval
    and the bundled trainer score with the same formula, 0 under 1.0 and 1.1 (R_corr judges
    the calls only).

    ``judges``: external scorers (``envs.reward.rubric.Judge``: an LLM judge, a learned reward
    model) that can only lower the total; none by default.
    """

    composition: str = "multiplicative"
    compliance_penalty: float = 10.0
    criticality_weighted: bool = False
    error_costs: Mapping[str, float] = field(default_factory=dict)
    version: str = REWARD_VERSION
    format: str | None = None
    answer_weight: float | None = None
    judges: Sequence[Any] = ()

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"reward version must be one of {VERSIONS}, got {self.version!r}")
        if self.composition not in COMPOSITIONS:
            raise ValueError(f"composition must be one of {COMPOSITIONS}, got {self.composition!r}")
        if self.compliance_penalty < 0:
            raise ValueError("compliance_penalty is a magnitude (λ ≥ 0)")
        if self.answer_weight is None:
            object.__setattr__(self, "answer_weight", ANSWER_WEIGHT if self.version == REWARD_VERSION else 0.0)
        if not 0.0 <= self.answer_weight <= 1.0:
            raise ValueError(f"answer_weight must be in [0, 1], got {self.answer_weight!r}")
        if self.format is None:
            object.__setattr__(self, "format", "strict" if self.version == PAPER_VERSION else "native")
        if self.format not in FORMAT_MODES:
            raise ValueError(f"format must be one of {FORMAT_MODES}, got {self.format!r}")
        if self.judges and self.version != REWARD_VERSION:
            raise ValueError(f"judges plug into the {REWARD_VERSION} rubric only")
        object.__setattr__(self, "judges", tuple(self.judges))

    @property
    def v11(self) -> bool:
        """The 1.1 formulas (writes checked, no-answer and refusal rules, partial S_param)."""
        return self.version == V11_VERSION

    @property
    def v12(self) -> bool:
        """The 1.2 rubric (slips, coverage by information, answer score, least privilege)."""
        return self.version == REWARD_VERSION

    @classmethod
    def coerce(cls, value: RewardConfig | Mapping[str, Any] | None) -> RewardConfig:
        if isinstance(value, RewardConfig):
            return value
        return cls(**dict(value or {}))

    def describe(self) -> dict[str, Any]:
        """Every field by name, ``error_costs`` as a plain dict and each judge by its name
        (``asdict`` without its deep copy: the other fields are immutable scalars)."""
        out = {name: getattr(self, name) for name in _CONFIG_FIELDS}
        out["error_costs"] = dict(self.error_costs)
        out["judges"] = [judge.name for judge in self.judges]
        return out


_CONFIG_FIELDS = tuple(f.name for f in fields(RewardConfig))
