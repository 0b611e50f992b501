"""The domain seam: what a back office must supply for the env, the reward, the eval, the
service and the trainer to run on it, and the neutral kit a domain is built from.

A *domain* is one package, ``mock_apis.domains.<name>``, whose ``DOMAIN`` is a ``Domain``:
its tools (``ToolRegistry``), its replica schema and generator, its rules (``DomainRules``:
the system prompt's rules, the write-target keys, how the people a task is about are
named, what compliance needs, the replica's as-of date), its task intents (``IntentRegistry``)
and its fixtures.
``get_domain(name)`` imports the package on first use; ``DEFAULT_DOMAIN`` is ``finance``.

The kit (nothing here names a domain):
- ``ToolRegistry`` (from ``mock_apis.catalogue``): ``@registry.tool(...)``,
  ``@registry.tool_version(...)``;
- ``ReplicaSchema``: the SQLAlchemy metadata of a replica and the tables tools may write;
- task drafting: ``Draft``, ``Intent``, ``IntentRegistry`` (``@intents.intent(level, name,
  tools)``), ``Skip``, ``pick`` and ``TaskContext``, the base of a domain's builder context;
- ``DomainRules`` and ``ScriptedMoves`` (what the eval's scripted baselines and hacks do in
  the domain), plain data.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import MetaData

from mock_apis.catalogue import ToolRegistry, call_tool
from mock_apis.domain_table import DEFAULT_DOMAIN, UnknownDomain, domain_names, lookup, register_domain
from mock_apis.sandbox import Sandbox

#: Task levels: L1 one tool, L2 a chain, L3 a conditional branch, L4 compliance-sensitive.
LEVELS = ("L1", "L2", "L3", "L4")


# ======================================================================================
# Replica schema


@dataclass(frozen=True)
class ReplicaSchema:
    """A domain's replica: every table and column (``metadata``, SQLAlchemy), the tables tools
    may write (``writable_tables``: the sandbox gives each an overlay) and the schema's
    version (recorded in the replica and its cache name)."""

    metadata: MetaData
    writable_tables: tuple[str, ...]
    version: str


# ======================================================================================
# Task drafting


class Skip(Exception):
    """This draw cannot make a task (wrong kind of entity, a tool refused, ...): draw again."""


def pick(rng: random.Random, seq: Sequence[Any]) -> Any:
    """``rng.choice`` that turns an empty pool (a replica without such entities) into a ``Skip``."""
    if not seq:
        raise Skip("empty pool")
    return rng.choice(seq)


@dataclass
class Draft:
    """What an intent builds before verification: query, gold calls, answer, facts and notes."""
    query: str
    calls: list[tuple[str, dict[str, Any]]]
    response: str
    facts: list[str]
    thoughts: list[str]
    subjects: Sequence[str] | None = None
    refusal: bool = False
    notes: str = ""
    intent: str = ""  # the suffix after the level: "name", "a->b:name", "name:branch"
    difficulty: str | None = None


#: An intent's builder: ``(ctx, rng) -> Draft``; ``ctx`` is the domain's ``TaskContext``.
Builder = Callable[[Any, random.Random], Draft]


@dataclass(frozen=True)
class Intent:
    """A task template of one level: its builder and every tool it may call."""
    level: str
    name: str
    build: Builder
    tools: tuple[str, ...]  # every tool the intent may call


class IntentRegistry:
    """One domain's intents, per level in definition order (the seeded draw depends on it):
    register a builder with ``@intents.intent(level, name, tools)``."""

    def __init__(self) -> None:
        self.by_level: dict[str, list[Intent]] = {lvl: [] for lvl in LEVELS}

    def intent(self, level: str, name: str, tools: Sequence[str]) -> Callable[[Builder], Builder]:
        if level not in self.by_level:
            raise ValueError(f"intent level must be one of {LEVELS}, got {level!r}")

        def register(fn: Builder) -> Builder:
            self.by_level[level].append(Intent(level, name, fn, tuple(tools)))
            return fn

        return register

    def names(self) -> dict[str, list[str]]:
        """Level -> the registered intent names."""
        return {lvl: [it.name for it in intents] for lvl, intents in self.by_level.items()}


class TaskContext:
    """The base of a domain's builder context: a sandbox on the replica (``sb``), its as-of
    date and metadata, ``run`` (a tool call that raises ``Skip`` when refused) and the branch
    alternation of L3 intents (``want``/``flip``). A domain's context adds its entities."""

    def __init__(self, replica_path: str | Path, tools: ToolRegistry, schema: ReplicaSchema):
        self.tools = tools
        self.sb = Sandbox(replica_path, schema)
        self._branch: dict[str, bool] = {}
        self.as_of = date.fromisoformat(self.sb.as_of)
        self.meta = dict(self.sb.meta)

    def run(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        outcome = call_tool(self.sb, tool, arguments, self.tools)
        if not outcome.ok:
            raise Skip(f"{tool} failed: {outcome.payload.get('error')}")
        return outcome.payload

    def reset(self) -> None:
        self.sb.reset()

    def want(self, key: str) -> bool:
        """The branch an intent should draw next: alternates per intent, so both branches are balanced."""
        return self._branch.get(key, True)

    def flip(self, key: str) -> None:
        self._branch[key] = not self._branch.get(key, True)

    def close(self) -> None:
        self.sb.close()


# ======================================================================================
# Rules and scripted moves


@dataclass(frozen=True)
class DomainRules:
    """What the framework needs to know about a domain's people, writes and rules (plain data).

    - ``role``: the system prompt's first sentences, up to the date (who the agent is and for
      whom); ``user_role``: who asks (the prompt's "give the <user_role> your final answer");
      ``prompt_rules``: the rules paragraph that ends the system prompt;
    - ``subject_key``: the argument and result key naming the person a task is about
      (finance ``client_id``), ``subject_id_pattern`` a regex of such ids in a query;
      ``subject_nested``: result fields whose own ``subject_key`` also names one;
    - ``listing_tools``: tools whose results list many people, under ``listing_field``
      (reading one is not reading a foreign person's record; on a task answered by one, the
      listed people are the answer's subjects);
    - ``owned_key``: the key of the records the subjects own (finance ``account_id``), and
      ``owned_ids_tool``, the read that lists them given ``{subject_key: id}``;
    - ``write_target_keys``: argument keys naming what a write touches;
    - ``people_query``: SQL returning ``(id, full_name)`` of every person in a replica;
    - ``pii_arguments``: tool arguments that hold PII, ``(tool, argument) -> kind`` (a
      ``mock_apis.deid`` kind, e.g. ``name``), pseudonymised when logs are ingested;
    - ``compliance``: parameters the compliance checkers take from the domain;
    - ``as_of``: the replica's as-of date (its generator's), the "today" of the ages and
      durations an answer derives from observed dates (None: no such figures are derived);
    - ``recent_days``: the days up to ``as_of`` that a composite read's ``recent_<items>`` list
      covers (finance's client overview: its last 30 days of transactions); None when no tool
      returns such a list.
    """

    role: str
    user_role: str
    prompt_rules: str
    subject_key: str
    subject_id_pattern: str
    listing_tools: frozenset[str]
    listing_field: str
    owned_key: str
    owned_ids_tool: str
    write_target_keys: tuple[str, ...]
    people_query: str
    subject_nested: tuple[str, ...] = ()
    pii_arguments: Mapping[tuple[str, str], str] = field(default_factory=dict)
    compliance: Mapping[str, Any] = field(default_factory=dict)
    as_of: date | None = None
    recent_days: int | None = None


@dataclass(frozen=True)
class UnrequestedWrite:
    """A write nobody asked for (the ``unrequested_write`` hack): ``tool`` with ``arguments``,
    aimed at the first value of ``target_key`` the task's gold calls name (else ``fallback_id``,
    when set: the last such move is the fallback)."""

    tool: str
    target_key: str
    arguments: Mapping[str, Any]
    thought: str
    fallback_id: str | None = None


@dataclass(frozen=True)
class ScriptedMoves:
    """What the eval's scripted baselines and hacks do in a domain, as data:
    ``standalone_calls``: read-only calls valid whatever the task (name -> arguments, in order
    of preference); ``reread``: the read-only call ``(name, arguments)`` an agent with nothing
    else to read repeats; ``unknown_tool``: a plausible tool
    the domain does not have; ``any_tool``: a tool to name in a broken turn;
    ``unrequested_writes``: the unrequested-write hack's moves, in order of preference;
    ``non_compliant_additions``: sentences that break the domain's rules."""

    standalone_calls: Mapping[str, Mapping[str, Any]]
    reread: tuple[str, Mapping[str, Any]]
    unknown_tool: str
    any_tool: str
    unrequested_writes: tuple[UnrequestedWrite, ...]
    non_compliant_additions: tuple[str, ...]


# ======================================================================================
# The domain


@dataclass(frozen=True, eq=False)
class Domain:
    """A back office the env runs on: its tools, replica, rules, intents and fixtures.

    Compared and hashed by identity (the env caches prompts and schemas per domain).

    ``generate_replica(path, seed=..., scale=...)`` writes a replica; ``generator_modules``
    are hashed into the replica cache's file name (a cached replica is reused only by the code
    that wrote it); ``fixtures_dir`` holds ``tasks/suite.jsonl``, ``tasks/heldout.jsonl`` and
    ``contracts/contract-v1.json``; ``task_context(replica_path)`` is the context the intents'
    builders take; ``sample_arguments(replica_path)`` gives, by tool name, arguments that make
    each tool succeed on a replica (the contract snapshot's and the drift check's samples; a
    tool the replica has no rows for is left out).
    """

    name: str
    description: str
    tools: ToolRegistry
    schema: ReplicaSchema
    rules: DomainRules
    intents: IntentRegistry
    generate_replica: Callable[..., Any]
    default_seed: int
    default_scale: int
    generator_version: str
    generator_modules: tuple[ModuleType, ...]
    fixtures_dir: Path
    task_context: Callable[[str | Path], TaskContext]
    scripted: ScriptedMoves
    sample_arguments: Callable[[str | Path], dict[str, dict[str, Any]]]

    @property
    def suite_path(self) -> Path:
        return self.fixtures_dir / "tasks" / "suite.jsonl"

    @property
    def heldout_path(self) -> Path:
        return self.fixtures_dir / "tasks" / "heldout.jsonl"

    @property
    def contracts_dir(self) -> Path:
        return self.fixtures_dir / "contracts"


def get_domain(domain: str | Domain | None = None) -> Domain:
    """The ``Domain`` named ``domain`` (imported on first use), ``domain`` itself when it is one,
    the default domain for None. ``UnknownDomain`` (a ``LookupError``) lists the known names."""
    if isinstance(domain, Domain):
        return domain
    found: Domain = lookup(DEFAULT_DOMAIN if domain is None else domain)
    return found


__all__ = ["DEFAULT_DOMAIN", "LEVELS", "Builder", "Domain", "DomainRules", "Draft", "Intent", "IntentRegistry",
           "ReplicaSchema", "ScriptedMoves", "Skip", "TaskContext", "ToolRegistry", "UnknownDomain",
           "UnrequestedWrite", "domain_names", "get_domain", "pick", "register_domain"]
