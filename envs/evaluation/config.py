"""An evaluation's configuration: ``EvalConfig``, what ``run_eval`` runs and what the
``advisorgym eval`` command builds from its flags and ``--config FILE.yaml`` (flags override
the file). The environment's options are an ``EnvConfig`` (``envs.config``) under ``env:``,
the same section the trainer YAML has::

    agent: openai                 # oracle, a baseline or hack, openai or hf
    agent_options: {base_url: http://127.0.0.1:8000/v1, model: qwen, temperature: 0.0}
    out: report                   # the output directory (resumed if it holds the same run)
    limit: null                   # only the first N tasks
    seed: 0                       # episode i (suite order) is reset with seed + i
    trials: 1                     # runs of each task
    concurrency: 1                # episodes at once
    ray: null                     # a Ray cluster's address: the episodes run there
    env: {tasks: fixtures/tasks/handwritten.jsonl, max_steps: 12, backend: {kind: inprocess},
          reward: {composition: multiplicative}}

Every field is checked when the config is built; a bad one is a one-line ``ConfigError``
naming its key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from envs.config import ConfigError, EnvConfig, check_value, known_keys, load_yaml
from envs.evaluation.agents import AGENT_SPECS
from envs.reward import RewardConfig
from envs.evaluation.model_agents import RateLimiter

# Consecutive episodes with an infrastructure failure before the eval stops.
INFRA_STOP_AFTER = 3
# Each transcript entry (an observation or an agent turn) is cut past this many characters.
TRANSCRIPT_CHARS = 20_000
# The options of the agents that take some (``make_agent``'s keyword arguments; ``rate_limit``:
# requests per second over all workers, one ``RateLimiter``).
AGENT_OPTIONS: dict[str, tuple[str, ...]] = {
    "openai": ("base_url", "model", "api_key", "temperature", "timeout", "max_retries", "rate_limit"),
    "hf": ("model_path", "max_new_tokens", "device", "grounded_numbers"),
}
# Options that are secrets: never written out (``EvalConfig.to_dict(redact=True)``).
SECRETS = ("api_key", "token")


@dataclass(frozen=True)
class EvalConfig:
    """What an evaluation runs (the module doc shows it as YAML): the ``agent`` by name and its
    ``agent_options``, where the results go (``out``), which episodes (``limit``, ``seed``,
    ``trials``), how (``concurrency``, ``ray``, ``transcript_chars``, ``infra_stop_after``,
    ``overwrite``, ``progress``, ``plots``) and the environment (``env``: an ``EnvConfig``).
    """

    agent: str = "oracle"
    agent_options: Mapping[str, Any] = field(default_factory=dict)
    out: str = "report"
    limit: int | None = None
    seed: int = 0
    trials: int = 1
    concurrency: int = 1
    ray: str | None = None
    transcript_chars: int = TRANSCRIPT_CHARS
    infra_stop_after: int = INFRA_STOP_AFTER
    overwrite: bool = False
    progress: bool = True
    plots: bool = True
    env: EnvConfig = field(default_factory=EnvConfig)

    def __post_init__(self) -> None:
        if self.agent not in AGENT_SPECS:
            raise ConfigError(f"unknown agent {self.agent!r}; choose one of {', '.join(AGENT_SPECS)}")
        options = known_keys("agent_options", self.agent_options, AGENT_OPTIONS.get(self.agent, ()))
        for key in ("model_path",):
            if isinstance(options.get(key), PathLike):
                options[key] = str(options[key])
        check_value("agent_options.grounded_numbers", options.get("grounded_numbers", False), (bool,))
        object.__setattr__(self, "agent_options", options)
        object.__setattr__(self, "out", str(self.out) if isinstance(self.out, PathLike) else self.out)
        check_value("out", self.out, (str,))
        check_value("limit", self.limit, (int, type(None)), 1)
        check_value("seed", self.seed, (int,))
        for key in ("trials", "concurrency", "infra_stop_after"):
            check_value(key, getattr(self, key), (int,), 1)
        check_value("transcript_chars", self.transcript_chars, (int,), 0)
        check_value("ray", self.ray, (str, type(None)))
        for key in ("overwrite", "progress", "plots"):
            check_value(key, getattr(self, key), (bool,))
        if not isinstance(self.env, EnvConfig):
            raise ConfigError(f"`env` must be an EnvConfig, not {type(self.env).__name__}")
        if self.ray is not None and self.agent_options.get("rate_limit"):
            raise ConfigError("`agent_options.rate_limit` (--rate-limit) is one limiter in one process: it cannot "
                              "span the actors of `ray` (--ray)")
        if (self.concurrency > 1 or self.ray is not None) and self.env.audit_log is not None:
            raise ConfigError("`env.audit_log`: an audit log is one hash chain written by one environment: use "
                              "concurrency 1 (--concurrency 1) and no ray (--ray) with it")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> EvalConfig:
        """The config a mapping describes (a YAML file, the CLI's flags); unset keys keep their defaults."""
        top = known_keys("", raw, [f.name for f in dataclasses.fields(cls)])
        env = EnvConfig.from_dict(top.pop("env", None), where="env")
        return cls(**top, env=env)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> EvalConfig:
        return cls.from_dict(load_yaml(path))

    def to_dict(self, redact: bool = False) -> dict[str, Any]:
        """The config as ``from_dict`` reads it; ``redact``: secrets (API keys, tokens) as ``"***"``."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "env"}
        out["agent_options"] = dict(self.agent_options)
        out["env"] = self.env.to_dict()
        if redact:
            for options in (out["agent_options"], out["env"]["backend"]):
                options.update({k: "***" for k in SECRETS if options.get(k) is not None})
        return out

    def agent_kwargs(self) -> dict[str, Any]:
        """``make_agent``'s keyword arguments for ``agent``: its options, ``rate_limit`` as one
        shared ``RateLimiter``."""
        kwargs = dict(self.agent_options)
        rate = kwargs.pop("rate_limit", None)
        if rate:
            kwargs["rate_limiter"] = RateLimiter(rate)
        return kwargs

    def with_run_eval_options(self, tasks: Any = None, out: Any = None, *, backend: str | None = None,
                              url: Any = None, token: str | None = None, composition: str | None = None,
                              reward_config: RewardConfig | None = None, max_steps: int | None = None,
                              domain: Any = None, env_kwargs: Mapping[str, Any] | None = None,
                              **options: Any) -> EvalConfig:
        """This config with ``run_eval``'s keyword options applied (its loose parameters before
        it took a config): ``tasks``, ``out``, ``backend``, ``url``, ``token``, ``composition``,
        ``reward_config``, ``max_steps``, ``domain`` (a name or a ``Domain``), ``env_kwargs`` (``FinAdvisorEnv`` options), and the
        fields of this class by name."""
        env_options = {k: v for k, v in (("tasks", tasks), ("backend", backend), ("base_url", url), ("token", token),
                                         ("max_steps", max_steps), ("reward_config", reward_config), ("domain", domain))
                       if v is not None}
        if composition is not None and reward_config is None:
            env_options["reward_config"] = RewardConfig(composition=composition)
        env = self.env.with_options(**env_options, **dict(env_kwargs or {}))
        unknown = set(options) - {f.name for f in dataclasses.fields(self)} - {"env"}
        if unknown:
            raise TypeError(f"run_eval() got unexpected keyword argument(s) {sorted(unknown)}")
        return dataclasses.replace(self, **options, **({"out": out} if out is not None else {}), env=env)


# Each `advisorgym eval` option's place in the config: a path of keys.
COMMAND_LINE_KEYS: dict[str, tuple[str, ...]] = {
    "agent": ("agent",), "out": ("out",), "limit": ("limit",), "seed": ("seed",), "overwrite": ("overwrite",),
    "progress": ("progress",), "transcript_chars": ("transcript_chars",), "concurrency": ("concurrency",),
    "trials": ("trials",), "ray_address": ("ray",),
    "base_url": ("agent_options", "base_url"), "model": ("agent_options", "model"),
    "api_key": ("agent_options", "api_key"), "temperature": ("agent_options", "temperature"),
    "request_timeout": ("agent_options", "timeout"), "max_retries": ("agent_options", "max_retries"),
    "rate_limit": ("agent_options", "rate_limit"), "model_path": ("agent_options", "model_path"),
    "max_new_tokens": ("agent_options", "max_new_tokens"), "device": ("agent_options", "device"),
    "grounded_numbers": ("agent_options", "grounded_numbers"),
    "domain": ("env", "domain"), "tasks": ("env", "tasks"), "max_steps": ("env", "max_steps"), "audit_log": ("env", "audit_log"),
    "backend": ("env", "backend", "kind"), "url": ("env", "backend", "base_url"),
    "token": ("env", "backend", "token"), "replica": ("env", "backend", "replica"),
    "check_replica": ("env", "backend", "check_replica"), "allow_drift": ("env", "backend", "allow_drift"),
    "composition": ("env", "reward", "composition"), "reward_version": ("env", "reward", "version"),
}


def from_command_line(given: Mapping[str, Any], config_file: str | PathLike[str] | None = None) -> EvalConfig:
    """The config of an `advisorgym eval` command line: the ``--config`` file's, with the
    options ``given`` on the command line (by parameter name, ``COMMAND_LINE_KEYS``) on top.
    An agent option given for another agent than the one run is ignored, as without a file."""
    raw = load_yaml(config_file) if config_file is not None else {}
    flags: dict[str, Any] = {}
    for name, value in given.items():
        *parents, leaf = COMMAND_LINE_KEYS[name]
        node = flags
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = str(value) if isinstance(value, PathLike) else value
    merged = merge(raw, flags)
    options = merged.get("agent_options")
    if isinstance(options, Mapping):
        applies = AGENT_OPTIONS.get(merged.get("agent", "oracle"), ())
        merged["agent_options"] = {k: v for k, v in options.items()
                                   if k in applies or k not in flags.get("agent_options", {})}
    backend = (merged.get("env") or {}).get("backend")
    if isinstance(backend, Mapping) and backend.get("kind") == "http" and not backend.get("base_url"):
        raise ConfigError("--backend http needs --url (the advisorgym service, e.g. http://127.0.0.1:8080), "
                          "or `env.backend.base_url` in the --config file")
    return EvalConfig.from_dict(merged)


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` on top, mappings merged key by key (a YAML file under flags)."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


__all__ = ["AGENT_OPTIONS", "COMMAND_LINE_KEYS", "ConfigError", "EvalConfig", "INFRA_STOP_AFTER", "TRANSCRIPT_CHARS",
           "from_command_line", "merge"]
