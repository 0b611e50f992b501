"""The training configuration: one YAML file for the three stages.

Each stage's section is passed to TRL's own config class (``SFTConfig``, ``GRPOConfig``,
``DPOConfig``), so any TRL option (``use_vllm``, ``vllm_mode``, ``gradient_checkpointing``,
``report_to``, ...) can be set there; the keys below that are ours are taken out first.
The defaults are the ToolRLA paper's (§3.3–3.4): GRPO groups of 8 with clip 0.2, DPO β 0.2.

    model: tiny              # "tiny" (built locally from the suite's text) or a local model directory
    output_dir: runs/advisorgym
    tasks: null              # the training suite (JSONL); null: the frozen 500-task suite
    heldout: null            # the held-out suite the stages are evaluated on; null: the 150-task heldout.jsonl
    seed: 0
    sft:  {learning_rate: 1.0e-4, num_train_epochs: 2}
    grpo: {num_generations: 8, epsilon: 0.2, learning_rate: 1.0e-6, max_steps: 500,
           turn_credit: {enabled: false, alpha: 0.5}}
    dpo:  {beta: 0.2, learning_rate: 5.0e-7, num_train_epochs: 1, samples_per_prompt: 4,
           prompts: null}    # training tasks whose sampled answers make pairs (evenly spaced; null: all)
    eval: {max_new_tokens: 192, max_steps: 6, limit: null}   # held-out episodes (limit: evenly spaced)

A stage starts from the previous stage's final checkpoint in ``output_dir`` when there is
one (``sft/final`` for GRPO, ``grpo/final`` for DPO), else from ``model``; ``init_from`` in
a section overrides that.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STAGES = ("sft", "grpo", "dpo")

# The defaults every stage shares; a section overrides any of them.
COMMON_DEFAULTS: dict[str, Any] = {
    "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1, "logging_steps": 1,
    "save_strategy": "steps", "save_steps": 50, "save_total_limit": 2, "report_to": ["tensorboard"],
    "seed": 0,
}
STAGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "sft": {"learning_rate": 1e-4, "num_train_epochs": 2, "max_length": 8192},
    "grpo": {"num_generations": 8, "epsilon": 0.2, "learning_rate": 1e-6, "max_steps": 500, "beta": 0.0,
             "max_completion_length": 1024, "temperature": 1.0, "loss_type": "dapo",
             "max_tool_calling_iterations": 6},
    "dpo": {"beta": 0.2, "learning_rate": 5e-7, "num_train_epochs": 1, "max_length": 8192},
}
# Keys of ours, per stage, with their defaults (not TRL options).
OUR_KEYS: dict[str, dict[str, Any]] = {
    "sft": {"init_from": None},
    "grpo": {"init_from": None, "turn_credit": {"enabled": False, "alpha": 0.5}},
    "dpo": {"init_from": None, "samples_per_prompt": 4, "max_new_tokens": 192, "margin": 0.25, "prompts": None},
}
TOP_LEVEL = {"model": "tiny", "output_dir": "runs/advisorgym", "tasks": None, "heldout": None, "seed": 0,
             "use_cpu": None, "tiny": {"hidden_size": 64, "layers": 2, "vocab_size": 4096},
             "eval": {"max_new_tokens": 192, "max_steps": 6, "limit": None}}


class ConfigError(ValueError):
    """A configuration that cannot run: the message names the key and what is allowed."""


@dataclass
class TrainConfig:
    """A training run's configuration, as the YAML gives it: the model (``tiny`` or a local
    directory), output directory, task suites, seed, CPU use, the tiny model's and the
    evaluation's settings, and each stage's raw section (checked when the stage is built).
    """
    model: str = "tiny"
    output_dir: str = "runs/advisorgym"
    tasks: str | None = None
    heldout: str | None = None
    seed: int = 0
    use_cpu: bool | None = None
    tiny: dict[str, Any] = field(default_factory=lambda: dict(TOP_LEVEL["tiny"]))
    eval: dict[str, Any] = field(default_factory=lambda: dict(TOP_LEVEL["eval"]))
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # each stage's raw section

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TrainConfig:
        raw = copy.deepcopy(raw or {})
        unknown = set(raw) - set(TOP_LEVEL) - set(STAGES)
        if unknown:
            raise ConfigError(f"unknown top-level key(s) {sorted(unknown)}; allowed: "
                              f"{sorted(set(TOP_LEVEL) | set(STAGES))}")
        for stage in STAGES:
            if raw.get(stage) is not None and not isinstance(raw[stage], dict):
                raise ConfigError(f"`{stage}` must be a mapping of options, not {type(raw[stage]).__name__}")
        top = {k: raw.get(k, copy.deepcopy(v)) for k, v in TOP_LEVEL.items()}
        for key in ("tiny", "eval"):
            top[key] = {**TOP_LEVEL[key], **(raw.get(key) or {})}
        return cls(**top, stages={s: dict(raw.get(s) or {}) for s in STAGES})

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        import yaml

        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
        if raw is not None and not isinstance(raw, dict):
            raise ConfigError(f"{path} must hold a mapping at the top level")
        return cls.from_dict(raw)

    def ours(self, stage: str) -> dict[str, Any]:
        """The stage's own (non-TRL) settings, defaults filled in."""
        section = self.stages.get(stage, {})
        out = copy.deepcopy(OUR_KEYS[stage])
        for key in OUR_KEYS[stage]:
            if key in section:
                out[key] = {**out[key], **section[key]} if isinstance(out[key], dict) else section[key]
        return out

    def trl_args(self, stage: str) -> dict[str, Any]:
        """Keyword arguments for the stage's TRL config class: defaults, then the section."""
        section = {k: v for k, v in self.stages.get(stage, {}).items() if k not in OUR_KEYS[stage]}
        args = {**COMMON_DEFAULTS, "seed": self.seed, **STAGE_DEFAULTS[stage], **section}
        args["output_dir"] = str(Path(self.output_dir) / stage)
        if self.use_cpu is not None:
            args.setdefault("use_cpu", self.use_cpu)
        if args.get("use_cpu"):
            args.setdefault("bf16", False)
        return args
