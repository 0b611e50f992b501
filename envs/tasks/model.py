"""The task model (docs/eval.md, "Tasks") and task-suite files.

A suite is a JSONL file: one task per line. Each task names the replica it was written
against (``replica: {"seed", "scale"}``), so the environment can rebuild that replica, and
may pin the tool versions it was written against (``tool_versions: {tool: version}``, a
version being the major number, e.g. ``{"<tool>": "2"}``; omitted: every tool's
default). The environment routes the episode's calls, the reward's gold probes and the tool
schemas it shows to the pinned versions; a replayed log pins the versions it was recorded with.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

from envs.resources import FIXTURES
from envs.reward import GoldCall
from mock_apis.atomic import atomic_write

LEVELS = ("L1", "L2", "L3", "L4")
SUITE = FIXTURES / "tasks" / "suite.jsonl"
HELDOUT = FIXTURES / "tasks" / "heldout.jsonl"
HANDWRITTEN = FIXTURES / "tasks" / "handwritten.jsonl"
DEFAULT_SUITE = SUITE


@dataclass(frozen=True)
class ComplianceExpectation:
    """What a compliant answer looks like.

    ``expect_refusal``: the right answer declines (part of) the request, e.g. a return
    guarantee. ``subject_client_ids``: the clients the answer may talk about (None: any).
    """

    expect_refusal: bool = False
    subject_client_ids: tuple[str, ...] | None = None
    notes: str = ""


@dataclass(frozen=True)
class Task:
    """One task: the advisor's query, the gold tool calls and answer, and what the reward checks.

    ``gold_calls`` are what an expert calls (``optimal_calls`` of them), ``required_tools`` what
    coverage needs, ``answer_facts`` what a correct answer states, ``compliance`` what the answer
    must or must not do (e.g. refuse). ``replica`` names the replica the gold was written for,
    ``tool_versions`` the versions the task pins.
    """
    task_id: str
    level: str
    query: str
    gold_calls: tuple[GoldCall, ...]
    gold_response: str
    required_tools: tuple[str, ...]
    optimal_calls: int
    answer_facts: tuple[str, ...] = ()
    compliance: ComplianceExpectation = field(default_factory=ComplianceExpectation)
    difficulty: str = "easy"
    intent: str = ""
    replica: dict[str, int] = field(default_factory=lambda: {"seed": 0, "scale": 5000})
    gold_thoughts: tuple[str, ...] = ()
    tool_versions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"{self.task_id}: level must be one of {LEVELS}")
        if self.optimal_calls != len(self.gold_calls):
            raise ValueError(f"{self.task_id}: optimal_calls {self.optimal_calls} != {len(self.gold_calls)} gold calls")
        if not set(self.required_tools) <= {g.name for g in self.gold_calls}:
            raise ValueError(f"{self.task_id}: a required tool is not in the gold trajectory")
        if not isinstance(self.tool_versions, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and k and v for k, v in self.tool_versions.items()):
            raise ValueError(f"{self.task_id}: tool_versions must map tool names to version text")

    @property
    def pins(self) -> tuple[tuple[str, str], ...]:
        """``tool_versions`` as sorted ``(tool, version)`` pairs: a cache key (empty: the defaults)."""
        return tuple(sorted(self.tool_versions.items()))

    def gold_actions(self) -> list[str]:
        """The gold trajectory as ReAct JSON actions, ending with the final response."""
        actions = []
        for i, call in enumerate(self.gold_calls):
            thought = self.gold_thoughts[i] if i < len(self.gold_thoughts) else f"I need {call.name} for this."
            actions.append(orjson.dumps({"thought": thought,
                                         "action": {"name": call.name, "arguments": call.arguments}}).decode())
        actions.append(orjson.dumps({"thought": "I have what I need to answer.",
                                     "response": self.gold_response}).decode())
        return actions

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["gold_calls"] = [{"name": g.name, "arguments": g.arguments} for g in self.gold_calls]
        if not self.tool_versions:
            del out["tool_versions"]  # unpinned: the suite files of before versions, byte for byte
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Task:
        data = dict(data)
        data["gold_calls"] = tuple(GoldCall(g["name"], dict(g["arguments"])) for g in data["gold_calls"])
        compliance = dict(data.get("compliance") or {})
        if compliance.get("subject_client_ids") is not None:
            compliance["subject_client_ids"] = tuple(compliance["subject_client_ids"])
        data["compliance"] = ComplianceExpectation(**compliance)
        for key in ("required_tools", "answer_facts", "gold_thoughts"):
            data[key] = tuple(data.get(key) or ())
        data["tool_versions"] = dict(data.get("tool_versions") or {})
        return cls(**data)


def load_tasks(path: str | Path = DEFAULT_SUITE) -> list[Task]:
    tasks = []
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    tasks.append(Task.from_json(orjson.loads(line)))
                except (orjson.JSONDecodeError, TypeError, KeyError, ValueError) as err:
                    raise ValueError(f"{path}:{n}: invalid task: {err}") from err
    ids = [t.task_id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate task ids")
    return tasks


def check_suite_fits(tasks: Sequence[Task], tool_names: Collection[str], suite_name: str, domain_name: str) -> None:
    """Refuse an empty suite, and one whose gold calls use tools the domain does not have
    (another domain's suite), naming the tools in one line."""
    if not tasks:
        raise ValueError("the task suite is empty")
    unknown = sorted({g.name for t in tasks for g in t.gold_calls} - set(tool_names))
    if unknown:
        raise ValueError(f"{suite_name}: its gold calls use tools the {domain_name!r} domain does not have "
                         f"({', '.join(unknown[:4])}{', ...' if len(unknown) > 4 else ''}); is it another "
                         "domain's suite? Pass the matching domain=, or tasks=")


@dataclass(frozen=True)
class Suite:
    """A task suite as loaded once per process: its tasks in file order, and by id."""

    tasks: tuple[Task, ...]
    index: Mapping[str, Task]


def shared_suite(path: str | Path = DEFAULT_SUITE) -> Suite:
    """The suite at ``path``, loaded once per process and shared by every caller while the
    file is unchanged (same path, size and modification time): every env of a process holds
    the same tasks instead of its own copy (about 1 MiB for the 500-task suite). Read it,
    never mutate it; ``load_tasks`` gives a private list."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return _load_suite(resolved, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_suite(path: Path, mtime_ns: int, size: int) -> Suite:
    tasks = tuple(load_tasks(path))
    return Suite(tasks, MappingProxyType({t.task_id: t for t in tasks}))


def save_tasks(tasks: Iterable[Task], path: str | Path) -> None:
    """Write ``tasks`` as JSONL, atomically (``mock_apis.atomic``)."""
    with atomic_write(path) as fh:
        for task in tasks:
            fh.write(orjson.dumps(task.to_json(), option=orjson.OPT_SORT_KEYS) + b"\n")


