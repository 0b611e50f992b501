"""The reward's configuration: version, composition, format gate and the enterprise options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

REWARD_VERSION = "toolrla-1.1.0"
PAPER_VERSION = "toolrla-1.0.0"
VERSIONS = (REWARD_VERSION, PAPER_VERSION)
COMPOSITIONS = ("multiplicative", "additive", "binary", "iou")
# "native": a thought is required only where the protocol has a mandatory slot for it (the
# ReAct JSON ``thought`` field); "strict": every turn needs a non-empty thought and the
# protocol's own answer slot (the ToolRLA ReAct rule, and v1.0's default).
FORMAT_MODES = ("native", "strict")
R_MAX = 3.0


@dataclass(frozen=True)
class RewardConfig:
    """How an episode is scored.

    ``version`` picks the formulas: ``toolrla-1.1.0`` (default) or the paper's literal
    ``toolrla-1.0.0`` for ablations. ``format`` defaults to ``native`` under 1.1 and
    ``strict`` under 1.0; either can be chosen with either version.

    ``answer_weight`` (w, default 0: the versions' own formulas) makes the final answer count
    in R_corr: R_corr × (1 − w + w · answer-fact recall), the share of the task's answer facts
    the answer states. At 0 an episode with the gold calls scores R_corr = 1 whatever its
    answer says; the bundled trainer sets w = 0.5 so that GRPO cannot learn to call the right
    tools and then write anything.
    """

    composition: str = "multiplicative"
    compliance_penalty: float = 10.0
    criticality_weighted: bool = False
    error_costs: Mapping[str, float] = field(default_factory=dict)
    version: str = REWARD_VERSION
    format: str | None = None
    answer_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"reward version must be one of {VERSIONS}, got {self.version!r}")
        if self.composition not in COMPOSITIONS:
            raise ValueError(f"composition must be one of {COMPOSITIONS}, got {self.composition!r}")
        if self.compliance_penalty < 0:
            raise ValueError("compliance_penalty is a magnitude (λ ≥ 0)")
        if not 0.0 <= self.answer_weight <= 1.0:
            raise ValueError(f"answer_weight must be in [0, 1], got {self.answer_weight!r}")
        if self.format is None:
            object.__setattr__(self, "format", "strict" if self.version == PAPER_VERSION else "native")
        if self.format not in FORMAT_MODES:
            raise ValueError(f"format must be one of {FORMAT_MODES}, got {self.format!r}")

    @property
    def v11(self) -> bool:
        return self.version == REWARD_VERSION

    @classmethod
    def coerce(cls, value: RewardConfig | Mapping[str, Any] | None) -> RewardConfig:
        if isinstance(value, RewardConfig):
            return value
        return cls(**dict(value or {}))

    def describe(self) -> dict[str, Any]:
        """Every field by name, ``error_costs`` as a plain dict (``asdict`` without its deep copy:
        the other fields are immutable scalars)."""
        out = {name: getattr(self, name) for name in _CONFIG_FIELDS}
        out["error_costs"] = dict(self.error_costs)
        return out


_CONFIG_FIELDS = tuple(f.name for f in fields(RewardConfig))
