"""One configuration for an environment: ``EnvConfig``, read by ``gymnasium.make`` and
``FinAdvisorEnv(config=...)``, the ``advisorgym eval`` command (its flags and ``--config
FILE.yaml``), ``run_eval`` and the trainer YAML's ``env:`` section.

Every source goes through ``EnvConfig.from_dict`` (YAML, the CLI) or ``EnvConfig.with_options``
(keyword arguments), and each dataclass checks its own fields when it is built, so the same
options give the same (equal) config whichever way they came, and a bad one is a one-line
``ConfigError`` naming its key::

    domain: finance                    # the back office (mock_apis.domains.<name>, or a registered one)
    tasks: fixtures/tasks/suite.jsonl   # a task suite (JSONL); null: the domain's frozen suite
    max_steps: 12                      # agent turns before truncation
    max_calls_per_turn: 16             # tool calls run per turn; the rest get too_many_calls
    prompt_mode: full                  # or tools_via_template
    audit_log: null                    # a hash-chained log of every call and episode end
    backend: {kind: inprocess, replica: null, base_url: null, token: null,
              check_replica: true, contract: null, allow_drift: false}
    faults: {rate: 0.0, kinds: [latency, timeout, server_error, empty_result], latency_s: 0.02}
    reward: {version: toolrla-1.2.0, composition: multiplicative, ...}   # envs.reward.RewardConfig

Objects that are not options (tasks held in memory, a ``Backend`` instance, a compliance
checker) are passed to ``FinAdvisorEnv`` beside the config.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from envs.reward.config import RewardConfig
from mock_apis.domain import DEFAULT_DOMAIN, Domain, domain_names, get_domain
from mock_apis.errors import AdvisorGymError

FAULT_KINDS = ("latency", "timeout", "server_error", "empty_result")
PROMPT_MODES = ("full", "tools_via_template")
BACKEND_KINDS = ("inprocess", "http", "docker")


class ConfigError(AdvisorGymError, ValueError):
    """An option that cannot run: one line naming the key and what it allows."""


def check_value(key: str, value: Any, kinds: tuple[type, ...], minimum: float | None = None) -> None:
    """``value`` is of ``kinds`` (an int counts as a float, a bool as neither) and at least ``minimum``."""
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok and float in kinds and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        names = {bool: "true/false", int: "an integer", float: "a number", str: "a string", type(None): "null"}
        allowed = " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
        raise ConfigError(f"`{key}` must be {allowed}, not {value!r}")
    if minimum is not None and isinstance(value, (int, float)) and not isinstance(value, bool) and value < minimum:
        raise ConfigError(f"`{key}` must be at least {minimum:g}, not {value!r}")


def choice(key: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"`{key}` must be one of {', '.join(allowed)}, not {value!r}")


def _path(value: Any) -> Any:
    """A path option as text (a ``Path`` and its string give the same config)."""
    return str(value) if isinstance(value, PathLike) else value


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def known_keys(where: str, raw: Any, allowed: Sequence[str]) -> dict[str, Any]:
    """``raw`` as a dict, refusing anything but a mapping whose keys are ``allowed``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"`{where or 'config'}` must be a mapping of options, not {type(raw).__name__}")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        guesses = [g for k in unknown for g in difflib.get_close_matches(str(k), allowed, n=1)]
        raise ConfigError(f"unknown key(s) {unknown} in `{where or 'config'}`; allowed: {sorted(allowed)}"
                          + (f" (did you mean {guesses}?)" if guesses else ""))
    return dict(raw)


@dataclass(frozen=True)
class FaultConfig:
    """Per-call fault injection, drawn from the episode's seeded RNG.

    ``rate`` is the probability that a call to a known tool is faulted; the fault's kind is
    drawn from ``kinds``. A latency fault delays the call by ``latency_s`` and then runs it;
    the others replace its result with an error observation and do not run it. Faulted calls
    are the sandbox's doing, so they do not count against the agent's efficiency.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    latency_s: float = 0.02

    def __post_init__(self) -> None:
        check_value("faults.rate", self.rate, (float,))
        if not 0.0 <= self.rate <= 1.0:
            raise ConfigError(f"`faults.rate` must be in [0, 1], not {self.rate!r}")
        if isinstance(self.kinds, str) or not isinstance(self.kinds, Sequence):
            raise ConfigError(f"`faults.kinds` must be a list of fault kinds, not {self.kinds!r}")
        object.__setattr__(self, "kinds", tuple(self.kinds))
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ConfigError(f"`faults.kinds` must be a non-empty subset of {FAULT_KINDS}, not {list(self.kinds)}")
        check_value("faults.latency_s", self.latency_s, (float,), 0)

    @classmethod
    def coerce(cls, value: FaultConfig | Mapping[str, Any] | None) -> FaultConfig:
        if isinstance(value, FaultConfig):
            return value
        return cls(**known_keys("faults", value, _fields(cls)))


@dataclass(frozen=True)
class BackendConfig:
    """Where the tools run. ``kind``: ``inprocess`` (the replica in this process: ``replica``,
    by default the one the tasks were written for), ``http`` (the service at ``base_url``;
    several URLs, a list or comma-separated, share the episodes round-robin), or ``docker`` (a
    container the env starts and removes). ``token``: the service's bearer token.
    ``check_replica``: refuse a replica other than the tasks'. ``contract``: the tool contract
    the back-end is checked against at start-up (default: the shipped one); ``allow_drift``:
    run even if it has drifted.
    """

    kind: str = "inprocess"
    replica: str | None = None
    base_url: str | tuple[str, ...] | None = None
    token: str | None = None
    check_replica: bool = True
    contract: str | None = None
    allow_drift: bool = False

    def __post_init__(self) -> None:
        choice("backend.kind", self.kind, BACKEND_KINDS)
        for key in ("replica", "contract"):
            object.__setattr__(self, key, _path(getattr(self, key)))
            check_value(f"backend.{key}", getattr(self, key), (str, type(None)))
        if isinstance(self.base_url, Sequence) and not isinstance(self.base_url, str):
            object.__setattr__(self, "base_url", tuple(self.base_url))
            for url in self.base_url:
                check_value("backend.base_url", url, (str,))
        else:
            check_value("backend.base_url", self.base_url, (str, type(None)))
        if self.kind == "http" and not self.base_url:
            raise ConfigError("`backend.base_url` is needed with backend kind 'http' (backend='http' needs base_url)")
        check_value("backend.token", self.token, (str, type(None)))
        check_value("backend.check_replica", self.check_replica, (bool,))
        check_value("backend.allow_drift", self.allow_drift, (bool,))


# FinAdvisorEnv's keyword arguments that are back-end options, by EnvConfig path.
_BACKEND_OPTIONS = {"replica": "replica", "base_url": "base_url", "token": "token", "check_replica": "check_replica",
                    "contract": "contract", "allow_drift": "allow_drift"}


@dataclass(frozen=True)
class EnvConfig:
    """An environment's options (the module doc shows them as YAML).

    ``domain``: the back office, by name (a ``Domain`` that is not registered under its name
    stays an object). ``tasks``: a task suite file (None: the domain's frozen suite). ``max_steps``: agent turns before
    truncation. ``max_calls_per_turn``: tool calls run in one turn. ``prompt_mode``: ``full``
    (tools and formats in the system prompt) or ``tools_via_template`` (passed through the chat
    template). ``audit_log``: a hash-chained log of every call and episode end. ``backend``,
    ``faults``, ``reward``: ``BackendConfig``, ``FaultConfig``, ``RewardConfig``.
    """

    domain: str | Domain = DEFAULT_DOMAIN
    tasks: str | None = None
    max_steps: int = 12
    max_calls_per_turn: int = 16
    prompt_mode: str = "full"
    audit_log: str | None = None
    backend: BackendConfig = field(default_factory=BackendConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)

    def __post_init__(self) -> None:
        if isinstance(self.domain, Domain):
            if self.domain.name in domain_names() and get_domain(self.domain.name) is self.domain:
                object.__setattr__(self, "domain", self.domain.name)  # a registered domain: by its name
        else:
            check_value("domain", self.domain, (str,))
            choice("domain", self.domain, domain_names())
        for key in ("tasks", "audit_log"):
            object.__setattr__(self, key, _path(getattr(self, key)))
            check_value(key, getattr(self, key), (str, type(None)))
        check_value("max_steps", self.max_steps, (int,), 1)
        check_value("max_calls_per_turn", self.max_calls_per_turn, (int,), 1)
        choice("prompt_mode", self.prompt_mode, PROMPT_MODES)
        for key, kind in (("backend", BackendConfig), ("faults", FaultConfig), ("reward", RewardConfig)):
            if not isinstance(getattr(self, key), kind):
                raise ConfigError(f"`{key}` must be a {kind.__name__}, not {type(getattr(self, key)).__name__}")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, where: str = "") -> EnvConfig:
        """The config a mapping (a YAML section, the CLI's options) describes; unset keys keep
        their defaults. ``where``: the section's name in error messages (``env`` gives
        ``env.max_steps``)."""
        try:
            top = known_keys(where, raw, _fields(cls))
            backend = BackendConfig(**known_keys("backend", top.pop("backend", None), _fields(BackendConfig)))
            faults = FaultConfig.coerce(top.pop("faults", None))
            reward = reward_from_dict(top.pop("reward", None))
            return cls(**top, backend=backend, faults=faults, reward=reward)
        except ConfigError as err:
            raise ConfigError(_under(where, str(err))) from None

    def with_options(self, **options: Any) -> EnvConfig:
        """This config with ``FinAdvisorEnv``'s keyword options applied: ``domain`` (a name or a
        ``Domain``; None keeps the config's), ``tasks`` (a file), ``max_steps``, ``max_calls_per_turn``, ``prompt_mode``, ``audit_log``, ``backend`` (a
        kind), ``replica``, ``base_url``, ``token``, ``check_replica``, ``contract``,
        ``allow_drift``, ``faults`` and ``reward_config`` (configs or mappings)."""
        top: dict[str, Any] = {}
        backend: dict[str, Any] = {}
        for key, value in options.items():
            if key in _BACKEND_OPTIONS:
                backend[_BACKEND_OPTIONS[key]] = value
            elif key == "backend":
                backend["kind"] = value
            elif key == "reward_config":
                top["reward"] = RewardConfig.coerce(value)
            elif key == "faults":
                top["faults"] = FaultConfig.coerce(value)
            elif key == "domain":
                if value is not None:  # None: the config's own
                    top[key] = value
            elif key in ("tasks", "max_steps", "max_calls_per_turn", "prompt_mode", "audit_log"):
                top[key] = value
            else:
                raise TypeError(f"unknown environment option {key!r}; the options are {sorted(OPTION_NAMES)}")
        if backend:
            top["backend"] = dataclasses.replace(self.backend, **backend)
        return dataclasses.replace(self, **top) if top else self

    def to_dict(self) -> dict[str, Any]:
        """The config as ``from_dict`` reads it (plain data: YAML- and JSON-ready)."""
        reward = self.reward.describe()
        if not reward["judges"]:
            del reward["judges"]  # judges are objects: a YAML file cannot name one
        backend = dataclasses.asdict(self.backend)
        if isinstance(backend["base_url"], tuple):
            backend["base_url"] = list(backend["base_url"])
        domain = self.domain.name if isinstance(self.domain, Domain) else self.domain
        return {"domain": domain, **{k: getattr(self, k) for k in ("tasks", "max_steps", "max_calls_per_turn",
                                                                   "prompt_mode", "audit_log")},
                "backend": backend, "faults": {**dataclasses.asdict(self.faults), "kinds": list(self.faults.kinds)},
                "reward": reward}

    @classmethod
    def load(cls, path: str | PathLike[str], section: str | None = None) -> EnvConfig:
        """The config in a YAML file (or in its ``section``, e.g. ``env``)."""
        raw = load_yaml(path)
        if section is not None:
            raw = raw.get(section)
        return cls.from_dict(raw, where=section or "")


OPTION_NAMES = frozenset({"domain", "tasks", "max_steps", "max_calls_per_turn", "prompt_mode", "audit_log", "backend",
                          "faults", "reward_config", *_BACKEND_OPTIONS})


def reward_from_dict(raw: Any) -> RewardConfig:
    """A ``RewardConfig`` from a mapping of its fields (not ``judges``: they are objects)."""
    if isinstance(raw, RewardConfig):
        return raw
    options = known_keys("reward", raw, [f for f in _fields(RewardConfig) if f != "judges"])
    try:
        return RewardConfig(**options)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"`reward`: {err}") from None


def _under(where: str, message: str) -> str:
    """``message``'s first backquoted key put under the section ``where``."""
    if not where or f"`{where}" in message:
        return message
    return message.replace("`", f"`{where}.", 1) if "`" in message else f"`{where}`: {message}"


def load_yaml(path: str | PathLike[str]) -> dict[str, Any]:
    """A YAML file's top-level mapping; ``ConfigError`` when it is missing or not one."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"{path} is not valid YAML: {message}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    return raw
