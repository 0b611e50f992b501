"""The training configuration: one YAML file for the three stages.

Each stage's section is passed to TRL's own config class (``SFTConfig``, ``GRPOConfig``,
``DPOConfig``), so any TRL option (``use_vllm``, ``vllm_mode``, ``gradient_checkpointing``,
``report_to``, ...) can be set there; the keys below that are ours are taken out first.
The defaults are the ToolRLA paper's (§3.3–3.4): GRPO groups of 8 with clip 0.2, DPO β 0.2.

    model: tiny              # "tiny" (built locally from the suite's text) or a local model directory
    output_dir: runs/advisorgym
    tasks: null              # the training suite (JSONL); null: the env domain's frozen suite (finance: 500 tasks)
    generated_tasks: null    # {seed: 2, count: 1500}: more training tasks, generated from that seed
                             # (never the held-out one), none repeating a query of the suite or the held-out split
    heldout: null            # the held-out suite the stages are evaluated on; null: the domain's heldout.jsonl
    seed: 0
    grounded_numbers: false  # every generation of the recipe (held-out eval, GRPO rollouts, DPO samples)
                             # writes a number or entity id only when the conversation shows it
                             # (envs.evaluation.grounded_decoding); transformers generation only, not vLLM
    sft:  {learning_rate: 1.0e-4, num_train_epochs: 2}
    grpo: {num_generations: 8, epsilon: 0.2, learning_rate: 1.0e-6, max_steps: 500,
           turn_credit: {enabled: false, alpha: 0.5}}
    dpo:  {beta: 0.2, learning_rate: 5.0e-7, num_train_epochs: 1, samples_per_prompt: 4,
           prompts: null,    # training tasks whose sampled answers make pairs (evenly spaced; null: all)
           over_caution_pairs: true}  # add the gold answer vs a refusal of it, for those tasks
    eval: {max_new_tokens: 192, max_steps: 6, limit: null}   # held-out episodes (limit: evenly spaced)
    tiny: {hidden_size: 64, layers: 2, vocab_size: 4096,     # the tiny model built when model is "tiny"
           compact_tools: false,    # its template lists the tools as name(argument, optional?) lines
           tool_result_chars: null, # and cuts each tool result to this many characters (both shorten a step)
           name_tokens: false}      # one token per full name of the replica's clients and advisors
    env: {domain: finance, max_steps: 12, faults: {rate: 0.0}, reward: {version: toolrla-1.2.0}}
                             # the environments' options (envs.config.EnvConfig; the eval's `env:` too):
                             # the rollouts' and the held-out eval's reward, faults, back-end...; not
                             # `tasks` (the suites above), `prompt_mode` (the trainer passes the tools
                             # through the chat template) nor `audit_log` (many envs run at once);
                             # the held-out eval's horizon is `eval.max_steps`

A stage starts from the previous stage's final checkpoint in ``output_dir`` when there is
one (``sft/final`` for GRPO, ``grpo/final`` for DPO), else from ``model``; ``init_from`` in
a section overrides that.

Everything is checked when the file is loaded, before any model or data is built, and a
problem is one ``ConfigError`` line: unknown keys (each stage's against its TRL config
class's fields and ours), a model directory or ``init_from`` without ``config.json``, missing
task files, values of the wrong type (``1e-4`` without a dot is a string in YAML) or out of
range, and whatever TRL's own config class refuses.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from envs.config import ConfigError as EnvConfigError
from envs.config import EnvConfig

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
    "sft": {"init_from": None, "relabel_ids": 0, "first_call_drill_steps": 0,
            "first_call_drill_batch_size": 32, "visible_figures_only": False},
    "grpo": {"init_from": None, "turn_credit": {"enabled": False, "alpha": 0.5}},
    "dpo": {"init_from": None, "samples_per_prompt": 4, "max_new_tokens": 192, "margin": 0.25, "prompts": None,
            "over_caution_pairs": True},
}
TOP_LEVEL = {"model": "tiny", "output_dir": "runs/advisorgym", "tasks": None, "generated_tasks": None,
             "heldout": None, "seed": 0, "grounded_numbers": False,
             "use_cpu": None, "tiny": {"hidden_size": 64, "layers": 2, "vocab_size": 4096, "compact_tools": False,
                                       "tool_result_chars": None, "name_tokens": False},
             "eval": {"max_new_tokens": 192, "max_steps": 6, "limit": None}, "env": None}
# The reward the stages train and evaluate with, unless the YAML's `env.reward` says otherwise:
# the default (1.2: the answer counts in R_corr with RewardConfig's ANSWER_WEIGHT), the same
# reward as the eval's.
TRAIN_REWARD: dict[str, Any] = {}
# Keys of the `env` section the trainer sets itself (TOP_LEVEL's doc says why).
TRAINER_ENV_KEYS = ("tasks", "prompt_mode", "audit_log")


class ConfigError(EnvConfigError):
    """A configuration that cannot run: the message names the key and what is allowed."""


# Our own keys' types and lower bounds (None: no bound); "path" is a model directory.
_OUR_TYPES: dict[str, tuple[tuple[type, ...], float | None]] = {
    "samples_per_prompt": ((int,), 1), "max_new_tokens": ((int,), 1), "margin": ((int, float), 0),
    "prompts": ((int, type(None)), 1), "max_steps": ((int,), 1), "limit": ((int, type(None)), 1),
    "hidden_size": ((int,), 8), "layers": ((int,), 1), "vocab_size": ((int,), 300), "alpha": ((int, float), 0),
    "enabled": ((bool,), None), "guard": ((bool,), None), "compact_tools": ((bool,), None), "name_tokens": ((bool,), None),
    "tool_result_chars": ((int, type(None)), 1), "relabel_ids": ((int,), 0),
    "first_call_drill_steps": ((int,), 0), "first_call_drill_batch_size": ((int,), 1),
    "visible_figures_only": ((bool,), None), "over_caution_pairs": ((bool,), None),
}
# TRL options that must be positive (or at least the bound) when set.
_TRL_BOUNDS: dict[str, float] = {"learning_rate": 0.0, "num_train_epochs": 0.0, "per_device_train_batch_size": 1,
                                 "gradient_accumulation_steps": 1, "num_generations": 2, "temperature": 0.0,
                                 "max_length": 1, "max_completion_length": 1, "beta": 0.0, "epsilon": 0.0}
_STRICTLY_POSITIVE = {"learning_rate", "num_train_epochs", "temperature", "epsilon"}


def _type_name(kinds: tuple[type, ...]) -> str:
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string", type(None): "null",
             list: "a list", dict: "a mapping"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _check_value(where: str, value: Any, kinds: tuple[type, ...], bound: float | None = None,
                 strict: bool = False) -> None:
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok and float in kinds and isinstance(value, int) and not isinstance(value, bool):
        ok = True  # an integer is a number
    if not ok:
        hint = ""
        if isinstance(value, str) and float in kinds:
            hint = " (YAML reads 1e-4 as text: write 1.0e-4)"
        raise ConfigError(f"`{where}` must be {_type_name(kinds)}, not {value!r}{hint}")
    if bound is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < bound or (strict and value <= bound):
            raise ConfigError(f"`{where}` must be {'>' if strict else '>='} {bound:g}, not {value!r}")


def _scalar_kinds(annotation: Any) -> tuple[type, ...] | None:
    """The plain types an annotation allows (``int | None`` -> (int, NoneType)); None when it
    allows anything else (enums, lists, dicts), which TRL checks itself."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) or \
        typing.get_origin(annotation) is typing.Union else (annotation,)
    if all(a in (bool, int, float, str, type(None)) for a in args):
        return tuple(args)
    return None


def trl_config_class(stage: str) -> type:
    from trl import DPOConfig, GRPOConfig, SFTConfig  # optional: the train extra

    return {"sft": SFTConfig, "grpo": GRPOConfig, "dpo": DPOConfig}[stage]


def _env_config(raw: Any) -> EnvConfig:
    """The `env` section as an ``EnvConfig`` (the eval's own parser), without the keys the
    trainer sets itself."""
    if isinstance(raw, dict):
        for key in TRAINER_ENV_KEYS:
            if key in raw:
                raise ConfigError(f"`env.{key}` is the trainer's to set, not the YAML's (see trainer.config's doc)")
        raw = {**raw, "reward": {**TRAIN_REWARD, **(raw.get("reward") or {})}}
    try:
        return EnvConfig.from_dict(raw if raw is not None else {"reward": TRAIN_REWARD}, where="env")
    except EnvConfigError as err:
        raise ConfigError(str(err)) from None


def _check_model_dir(where: str, value: Any) -> None:
    if not isinstance(value, str) or not (Path(value) / "config.json").is_file():
        raise ConfigError(f"`{where}`: {value!r} is not a local model directory (no config.json there; nothing is "
                          "downloaded: use `tiny` or a directory holding config.json, tokenizer and weights)")


@dataclass
class TrainConfig:
    """A training run's configuration, as the YAML gives it: the model (``tiny`` or a local
    directory), output directory, task suites, seed, CPU use, the tiny model's and the
    evaluation's settings, the environments' options (``env``: an ``EnvConfig``, whose reward
    the stages train and evaluate with), and each stage's raw section (checked when the stage
    is built).
    """
    model: str = "tiny"
    output_dir: str = "runs/advisorgym"
    tasks: str | None = None
    generated_tasks: dict[str, int] | None = None
    heldout: str | None = None
    seed: int = 0
    grounded_numbers: bool = False
    use_cpu: bool | None = None
    tiny: dict[str, Any] = field(default_factory=lambda: dict(TOP_LEVEL["tiny"]))
    eval: dict[str, Any] = field(default_factory=lambda: dict(TOP_LEVEL["eval"]))
    env: EnvConfig = field(default_factory=EnvConfig)
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
            if raw.get(key) is not None and not isinstance(raw[key], dict):
                raise ConfigError(f"`{key}` must be a mapping of options, not {type(raw[key]).__name__}")
            unknown = set(raw.get(key) or {}) - set(TOP_LEVEL[key])
            if unknown:
                raise ConfigError(f"unknown key(s) {sorted(unknown)} in `{key}`; allowed: {sorted(TOP_LEVEL[key])}")
            top[key] = {**TOP_LEVEL[key], **(raw.get(key) or {})}
        top["env"] = _env_config(raw.get("env"))
        config = cls(**top, stages={s: dict(raw.get(s) or {}) for s in STAGES})
        config.validate()
        return config

    def validate(self) -> None:
        """Every check the module doc lists; raises ``ConfigError`` (one line) at the first problem."""
        if self.model != "tiny":
            _check_model_dir("model", self.model)
        for key in ("tasks", "heldout"):
            value = getattr(self, key)
            if value is not None and not (isinstance(value, str) and Path(value).is_file()):
                raise ConfigError(f"`{key}`: task file {value!r} not found")
        if self.generated_tasks is not None:
            if not isinstance(self.generated_tasks, dict) or set(self.generated_tasks) != {"seed", "count"}:
                raise ConfigError(f"`generated_tasks` must be null or {{seed: N, count: N}}, not {self.generated_tasks!r}")
            _check_value("generated_tasks.seed", self.generated_tasks["seed"], (int,), 2)
            _check_value("generated_tasks.count", self.generated_tasks["count"], (int,), 1)
        _check_value("seed", self.seed, (int,))
        _check_value("output_dir", self.output_dir, (str,))
        _check_value("use_cpu", self.use_cpu, (bool, type(None)))
        _check_value("grounded_numbers", self.grounded_numbers, (bool,))
        if self.grounded_numbers and self.stages.get("grpo", {}).get("use_vllm"):
            raise ConfigError("`grounded_numbers` runs in transformers' generate; with `grpo.use_vllm` the rollouts "
                              "would not follow it: set one of them to false")
        for block in ("tiny", "eval"):
            for key, value in getattr(self, block).items():
                kinds, bound = _OUR_TYPES[key]
                _check_value(f"{block}.{key}", value, kinds, bound)
        for stage in STAGES:
            self._validate_stage(stage)

    def _validate_stage(self, stage: str) -> None:
        section = self.stages[stage]
        for key, value in section.items():
            if key == "init_from":
                if value is not None:
                    _check_model_dir(f"{stage}.init_from", value)
            elif key == "turn_credit":
                if not isinstance(value, dict):
                    raise ConfigError(f"`{stage}.turn_credit` must be a mapping, not {value!r}")
                unknown = set(value) - {"enabled", "alpha", "guard"}
                if unknown:
                    raise ConfigError(f"unknown key(s) {sorted(unknown)} in `{stage}.turn_credit`; "
                                      "allowed: ['alpha', 'enabled', 'guard']")
                for sub, sub_value in value.items():
                    _check_value(f"{stage}.turn_credit.{sub}", sub_value, *_OUR_TYPES[sub])
            elif key in OUR_KEYS[stage]:
                _check_value(f"{stage}.{key}", value, *_OUR_TYPES[key])
        try:
            config_class = trl_config_class(stage)
        except ImportError:
            return  # without the train extra no stage can run; the CLI says so before loading
        fields = {f.name: f for f in dataclasses.fields(config_class) if f.init}
        hints = typing.get_type_hints(config_class)
        trl_section = {k: v for k, v in section.items() if k not in OUR_KEYS[stage]}
        unknown = sorted(set(trl_section) - set(fields))
        if unknown:
            guesses = [g for k in unknown for g in difflib.get_close_matches(k, [*fields, *OUR_KEYS[stage]], n=1)]
            raise ConfigError(f"unknown key(s) {unknown} in `{stage}` (not a {config_class.__name__} field nor ours"
                              + (f"; did you mean {guesses}?" if guesses else "") + ")")
        for key, value in trl_section.items():
            kinds = _scalar_kinds(hints.get(key))
            if kinds is not None:
                _check_value(f"{stage}.{key}", value, kinds, _TRL_BOUNDS.get(key), key in _STRICTLY_POSITIVE)
        args = self.trl_args(stage)
        args.update(use_cpu=True, bf16=False, fp16=False)  # TRL's own checks, without needing the GPU here
        try:
            config_class(**args)
        except (ValueError, TypeError) as exc:
            message = " ".join(str(exc).split())
            raise ConfigError(f"`{stage}`: {config_class.__name__} refuses these settings: {message}") from None

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
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
