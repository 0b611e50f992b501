"""The episode and call machinery of ``FinAdvisorEnv``: an episode's state (``Episode``), and
the ``CallRunner`` that runs the agent's tool calls on the back-end with fault injection and
the gold probes around them, and scores each call as it runs; ``AuditTrail``, the audit log
around the calls and episode ends.

A turn's calls run in three passes, so that a remote back-end gets the whole turn in one
request: plan each call (its signal, fault draw and probes), run every operation in one
``run_ops``, then score each call in order. Gold probes that meet the replica's own state
(before an episode's first write) are run once per runner and task, then reused.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envs.actions import ToolCall
from envs.backends import Backend, Op, run_ops
from envs.config import FaultConfig
from envs.reward import (INFRA_ERROR_CODES, CallRecord, GoldCall, RewardConfig, key_iou, parameter_accuracy,
                         says_unavailable, tool_label)
from envs.reward.components import information_contained, recent_window, result_leaves, uninformative_calls
from envs.reward.writes import unauthorized_call_indices
from envs.tasks import Task
from mock_apis.audit import AuditLog, canonical, result_hash, run_versions
from mock_apis.catalogue import ToolOutcome, ToolRef, ToolSpec
from mock_apis.domain import DomainRules

#: Gold probes kept per runner for the replica's own state (``CallRunner._remember_pristine_probe``).
PRISTINE_PROBES_KEPT = 4096

FAULT_PAYLOADS = {
    "timeout": {"error": "timeout", "message": "the upstream service did not answer in time; the call may be retried"},
    "server_error": {"error": "service_unavailable", "message": "the upstream service returned HTTP 503; the call may be retried"},
    "empty_result": {"error": "empty_result", "message": "the upstream service returned an empty body; the call may be retried"},
}


@dataclass
class Episode:
    """One episode's state: its task, the RNG its faults are drawn from, the pinned tool
    versions, each turn's format verdict, the calls (``CallRecord``) and observations, the
    results that informed gold calls, the final answer and the terminal reward info."""

    task: Task
    rng: random.Random
    faults: FaultConfig
    routes: dict[str, ToolRef] | None = None  # the task's pinned tools by name (None: all defaults)
    pristine: bool = True  # no write tool has been planned yet: the state is the replica's own
    steps: int = 0
    turn_ok: list[bool] = field(default_factory=list)
    call_turns: list[bool] = field(default_factory=list)  # per turn: a tool-call turn
    calls: list[CallRecord] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)
    returned: dict[int, Any] = field(default_factory=dict)  # index in calls -> result, for the calls that succeeded
    gold_results: dict[int, Any] = field(default_factory=dict)  # gold call index -> its result, once known
    response: str | None = None
    done: bool = False
    final: dict[str, Any] | None = None


@dataclass
class PlannedCall:
    """A call of a turn, planned before the turn's operations run (``CallRunner.run_calls``).

    ``fault``: an injected fault that replaces the call (None: it runs). ``same_tool``: the
    gold calls of its tool; ``probed``: those with other arguments, whose results the score
    needs; ``known_probes``: those of them already known (``CallRunner._pristine_probes``),
    the others are executed as probes. ``pristine``: the probes meet the replica's own state.
    ``key``: what the back-end runs, for the call and its probes alike: the tool's name, or
    the ``ToolRef`` of the episode's pinned version.
    """

    call: ToolCall
    key: Any
    signal: dict[str, Any]
    known: bool
    writes: bool
    fault: str | None
    same_tool: list[int]
    probed: list[int]
    pristine: bool = False
    known_probes: dict[int, ToolOutcome] = field(default_factory=dict)

    def ops(self, gold: Sequence[GoldCall]) -> list[Op]:
        """The back-end operations: each probe not known already, then the call (the probes'
        gold calls are of the call's tool: ``same_tool``)."""
        return [*((self.key, gold[i].arguments, True) for i in self.probed if i not in self.known_probes),
                (self.key, self.call.arguments, False)]


class CallRunner:
    """Runs an episode's tool calls on ``backend`` (a domain's ``tools``, read with its
    ``rules``): the fault injection the episode draws (``FaultConfig``), the gold probes each
    call needs to be scored, the per-turn cap on calls, and each call's record (``CallRecord``)
    and observation. Also finds, at the episode's
    end, the gold calls the agent's results informed and those a reported failure excuses.
    """

    def __init__(self, backend: Backend, tools: Mapping[str, ToolSpec], rules: DomainRules,
                 reward_config: RewardConfig, max_calls_per_turn: int):
        self.backend, self.tools, self.rules = backend, tools, rules
        self.recent_window = recent_window(rules.as_of, rules.recent_days)  # a composite's recent_<items>
        self.reward_config, self.max_calls_per_turn = reward_config, max_calls_per_turn
        # (key, task id, gold index) -> (the gold arguments, the probe's outcome in the replica's own state)
        self._pristine_probes: dict[tuple[Any, str, int], tuple[Any, ToolOutcome]] = {}
        # task id -> the records its subjects own (finance: accounts; no tool opens or moves one)
        self._subject_owned: dict[str, frozenset[str]] = {}

    def run_calls(self, ep: Episode, calls: Sequence[ToolCall], info: dict[str, Any]) -> list[Any]:
        """Run a turn's calls, each with the gold calls of its tool probed in the state it meets.

        In three passes, so that a remote back-end gets the whole turn in one request: plan
        each call in order (its signal, its fault draw, its probes), run every operation in
        one ``run_ops`` (probes then call, call after call: the states are those of running
        them one by one), then score each call in order. The results equal running the calls
        one after the other.
        """
        plans = [self._plan_call(ep, call, info) for call in calls]
        ops = [op for plan in plans if plan.fault is None for op in plan.ops(ep.task.gold_calls)]
        try:
            outcomes = iter(run_ops(self.backend, ops) if ops else ())
        except Exception as exc:  # noqa: BLE001 - a back-end bug must not end the episode; it is not the agent's
            failed = f"the back-end failed ({type(exc).__name__})"
            outcomes = iter([ToolOutcome(False, {"error": "internal_error", "message": failed}) for _ in ops])
        return [self._finish_call(ep, plan, outcomes) for plan in plans]

    def _plan_call(self, ep: Episode, call: ToolCall, info: dict[str, Any]) -> PlannedCall:
        """A call's signal (in ``info``), fault draw (a latency fault sleeps now) and probes."""
        known = isinstance(call.name, str) and call.name in self.tools
        signal: dict[str, Any] = {"name": tool_label(call.name), "valid_tool": known, "outcome": "error",
                                  "error": None, "param_accuracy": None}
        info["calls"].append(signal)
        fault = self._draw_fault(ep) if known else None
        if fault == "latency":
            signal["fault"] = "latency"
            time.sleep(ep.faults.latency_s)
            fault = None
        gold = ep.task.gold_calls
        same_tool = [i for i, g in enumerate(gold) if g.name == call.name] if known else []
        key = ep.routes.get(call.name, call.name) if ep.routes and known else call.name
        writes = known and self.tools[call.name].writes
        plan = PlannedCall(call, key, signal, known, writes, fault, same_tool,
                            [i for i in same_tool if gold[i].arguments != call.arguments], ep.pristine)
        if plan.probed and ep.pristine:
            for i in plan.probed:
                known_outcome = self._pristine_probes.get((key, ep.task.task_id, i))
                if known_outcome is not None and known_outcome[0] is gold[i].arguments:
                    plan.known_probes[i] = known_outcome[1]
        if writes and fault is None:
            ep.pristine = False  # this call runs before every later one
        return plan

    def _remember_pristine_probe(self, plan: PlannedCall, ep: Episode, i: int, outcome: ToolOutcome) -> None:
        """Keep a probe's outcome in the replica's own state: the same gold call in that state
        (the next episode of the task, before any write) gives the same outcome, so it is not
        run again. Failures of the back-end itself are never kept."""
        if plan.pristine and (outcome.ok or outcome.error not in INFRA_ERROR_CODES):
            if len(self._pristine_probes) >= PRISTINE_PROBES_KEPT:
                self._pristine_probes.clear()
            self._pristine_probes[(plan.key, ep.task.task_id, i)] = (ep.task.gold_calls[i].arguments, outcome)

    def _finish_call(self, ep: Episode, plan: PlannedCall, outcomes: Iterator[ToolOutcome]) -> Any:
        """Score a planned call from its outcomes (its probes', then its own); the observation."""
        call, signal, writes = plan.call, plan.signal, plan.writes
        if plan.fault is not None:
            payload = FAULT_PAYLOADS[plan.fault]
            signal.update(outcome="injected_fault", error=payload["error"], fault=plan.fault)
            ep.calls.append(CallRecord(call.name, call.arguments, True, False, payload["error"], {}, True,
                                       writes=writes, turn=ep.steps - 1, after_answer=ep.done))
            return payload
        ran = {}
        for i in plan.probed:
            ran[i] = plan.known_probes.get(i)
            if ran[i] is None:
                ran[i] = next(outcomes)
                self._remember_pristine_probe(plan, ep, i, ran[i])
        outcome = next(outcomes)
        gold = ep.task.gold_calls
        # None where the arguments are the gold's: nothing was executed, they score 1
        gold_runs = {i: ran.get(i) for i in plan.same_tool}
        accuracy = {i: parameter_accuracy(call.arguments, gold[i].arguments, outcome.payload,
                                          run.payload if run else None,
                                          executed=run is not None and run.ok and outcome.ok)
                    for i, run in gold_runs.items()}
        infra = not outcome.ok and outcome.error in INFRA_ERROR_CODES
        signal.update(outcome="infra_error" if infra else "ok" if outcome.ok else "error", error=outcome.error,
                      param_accuracy=max(accuracy.values()) if accuracy else None)
        if outcome.ok:
            if any(r.ok and r.name == call.name and r.arguments == call.arguments for r in ep.calls):
                signal["repeat"] = True  # the same call again: nothing new
            ep.returned[len(ep.calls)] = outcome.payload
            for i, run in gold_runs.items():
                if run is None or (run.ok and accuracy[i] >= 1.0):
                    ep.gold_results.setdefault(i, outcome.payload if run is None else run.payload)
        ep.calls.append(CallRecord(call.name, call.arguments, plan.known, outcome.ok, outcome.error, accuracy,
                                   infra_error=infra, writes=writes,
                                   gold_key_iou={i: key_iou(call.arguments, gold[i].arguments) for i in accuracy},
                                   turn=ep.steps - 1, after_answer=ep.done,
                                   foreign_client=outcome.ok and not writes and self._foreign(ep, call, outcome)))
        if writes:
            signal["writes"] = True
            signal["unauthorized_write"] = len(ep.calls) - 1 in unauthorized_call_indices(
                ep.calls, gold, attempts=self.reward_config.v12, target_keys=self.rules.write_target_keys)
        ep.observations.append(outcome.payload)
        return outcome.payload

    def _foreign(self, ep: Episode, call: ToolCall, outcome: ToolOutcome) -> bool:
        """A read of a person the task is not about (``DomainRules``; finance: a client): named
        by the call's ``subject_key`` or ``owned_key`` (finance ``client_id``, ``account_id``), or
        by the result's (its own, or a ``subject_nested`` record's, finance ``profile``). A task
        is about its subjects and the records they own, and the people and records its gold
        calls name; a task with no subject (in finance funds, markets, an advisor's book) is
        about no one person. Searches and lists of people are not reads of one."""
        task, rules = ep.task, self.rules
        person, owned_key = rules.subject_key, rules.owned_key
        arguments = call.arguments if isinstance(call.arguments, Mapping) else {}
        payload = outcome.payload if isinstance(outcome.payload, Mapping) else {}
        nested = [payload[k] for k in rules.subject_nested if isinstance(payload.get(k), Mapping)]
        people = {c for c in (arguments.get(person), payload.get(person), *(n.get(person) for n in nested))
                  if isinstance(c, str)}
        records = {a for a in (arguments.get(owned_key), payload.get(owned_key)) if isinstance(a, str)}
        named = [g.arguments for g in task.gold_calls]
        if people - {*(task.compliance.subject_client_ids or ()), *(a.get(person) for a in named)}:
            return True
        records -= {a.get(owned_key) for a in named}
        if not records:
            return False
        owned = self._owned_by_subjects(ep)
        return owned is not None and bool(records - owned)

    def _owned_by_subjects(self, ep: Episode) -> frozenset[str] | None:
        """The records the task's subjects own (``DomainRules.owned_ids_tool``; finance: their
        accounts), asked of the back-end once per task (None when it could not say: a read is
        then not taken for a foreign one)."""
        task, rules = ep.task, self.rules
        known = self._subject_owned.get(task.task_id)
        if known is not None:
            return known
        subjects = task.compliance.subject_client_ids or ()
        lister = rules.owned_ids_tool
        key = ep.routes.get(lister, lister) if ep.routes else lister
        try:
            outcomes = run_ops(self.backend, [(key, {rules.subject_key: c}, True) for c in subjects])
        except Exception:  # noqa: BLE001 - a back-end failure says nothing about the agent
            return None
        if len(outcomes) != len(subjects) or any(not o.ok for o in outcomes):
            return None
        leaves: set[tuple[str, Any]] = set()
        for o in outcomes:
            result_leaves(o.payload, leaves)
        owned = frozenset(v for k, v in leaves if k == rules.owned_key and isinstance(v, str))
        self._subject_owned[task.task_id] = owned
        return owned

    def refuse_call(self, ep: Episode, call: ToolCall, info: dict[str, Any], extra: int) -> dict[str, Any]:
        """A call beyond ``max_calls_per_turn``: not run, answered with ``too_many_calls`` and
        billed to the agent as an invalid call; the episode goes on."""
        known = isinstance(call.name, str) and call.name in self.tools
        payload = {"error": "too_many_calls", "message": f"at most {self.max_calls_per_turn} tool calls per turn; "
                                                         f"{extra} were not run", "details": [{"limit": self.max_calls_per_turn}]}
        info["calls"].append({"name": tool_label(call.name), "valid_tool": known, "outcome": "error",
                              "error": "too_many_calls", "param_accuracy": None})
        ep.calls.append(CallRecord(call.name, call.arguments, known, False, "too_many_calls",
                                   writes=known and self.tools[call.name].writes, turn=ep.steps - 1,
                                   after_answer=ep.done))
        ep.observations.append(payload)
        return payload

    def informed_gold(self, ep: Episode) -> frozenset[int]:
        """The gold read calls whose result is contained in what the agent's calls returned
        (reward 1.2's coverage by information). Gold results not seen yet are probed now, in
        the episode's final state (rolled back), once per env and task while it is pristine."""
        gold = ep.task.gold_calls
        if not ep.returned:
            return frozenset()
        informed = {i for i in ep.gold_results
                    if any(r.ok and r.counted and r.gold_accuracy.get(i, 0.0) >= 1.0 for r in ep.calls)}
        missing = [i for i, g in enumerate(gold)
                   if i not in informed and g.name in self.tools and not self.tools[g.name].writes]
        if not missing:
            return frozenset(informed)
        unknown = [i for i in missing if i not in ep.gold_results]
        if unknown:
            self._probe_gold_results(ep, unknown)
        returned: set[tuple[str, Any]] = set()
        for payload in ep.returned.values():
            result_leaves(payload, returned)
        informed.update(i for i in missing if i in ep.gold_results
                        and information_contained(gold[i], ep.gold_results[i], returned, self.recent_window))
        return frozenset(informed)

    def _probe_gold_results(self, ep: Episode, indices: Sequence[int]) -> None:
        """Run the gold calls ``indices`` as probes (known ones in the replica's own state are
        reused) and keep the results of those that succeed in ``ep.gold_results``."""
        gold = ep.task.gold_calls
        outcomes: dict[int, ToolOutcome] = {}
        to_run = []
        for i in indices:
            key = ep.routes.get(gold[i].name, gold[i].name) if ep.routes else gold[i].name
            known = self._pristine_probes.get((key, ep.task.task_id, i)) if ep.pristine else None
            if known is not None and known[0] is gold[i].arguments:
                outcomes[i] = known[1]
            else:
                to_run.append((i, key))
        if to_run:
            try:
                ran = run_ops(self.backend, [(key, gold[i].arguments, True) for i, key in to_run])
            except Exception:  # noqa: BLE001 - a back-end failure informs nothing; it is not the agent's
                ran = []
            outcomes.update((i, outcome) for (i, _), outcome in zip(to_run, ran))
        for i, outcome in outcomes.items():
            if outcome.ok:
                ep.gold_results[i] = outcome.payload

    def uninformative_reads(self, ep: Episode) -> frozenset[int]:
        """The agent's reads that returned none of the task's information (reward 1.2's noise),
        measured against the gold reads' results (``informed_gold`` has probed them)."""
        gold = ep.task.gold_calls
        writes = [i for i, g in enumerate(gold) if g.name in self.tools and self.tools[g.name].writes]
        gold_reads = {i: r for i, r in ep.gold_results.items() if gold[i].name in self.tools and i not in writes}
        return uninformative_calls(ep.calls, ep.returned, gold, gold_reads, writes)

    def excused_gold(self, ep: Episode, informed: frozenset[int]) -> frozenset[int]:
        """Reward 1.2's graceful degradation: the gold calls the agent could not get because
        their tool failed on the back-end's side (an injected fault, an outage) every time it
        was tried, when the answer says plainly that the information could not be retrieved."""
        if ep.response is None or not says_unavailable(ep.response):
            return frozenset()
        excused = set()
        for i, g in enumerate(ep.task.gold_calls):
            tried = [r for r in ep.calls if r.name == g.name]
            if i not in informed and tried and all(not r.counted for r in tried):
                excused.add(i)
        return frozenset(excused)

    def _draw_fault(self, ep: Episode) -> str | None:
        if ep.faults.rate <= 0.0 or ep.rng.random() >= ep.faults.rate:
            return None
        return ep.rng.choice(ep.faults.kinds)


class AuditTrail:
    """The hash-chained audit log (``envs.audit``) of one env: every agent call and episode end,
    each end with the versions it was scored under (the suite's SHA-256: of its file, or of the
    tasks passed in memory; the reward config; the replica; the contract)."""

    def __init__(self, path: str | Path, tasks: Sequence[Task], suite_file: Path | None,
                 reward_config: RewardConfig, replica_meta: Mapping[str, Any], contract: str | Path | None):
        data = suite_file.read_bytes() if suite_file is not None else canonical([t.to_json() for t in tasks])
        self.log = AuditLog(path)
        self.versions = run_versions(reward_config.describe(), hashlib.sha256(data).hexdigest(), replica_meta,
                                     contract)

    @property
    def head(self) -> str:
        return self.log.head

    def record_calls(self, ep: Episode, calls: Sequence[ToolCall], results: Sequence[Any],
                     signals: Sequence[dict[str, Any]]) -> None:
        for call, result, signal in zip(calls, results, signals, strict=True):
            pinned = ep.routes.get(call.name) if ep.routes and isinstance(call.name, str) else None
            self.log.record_call(call.name, call.arguments, result_hash(result), ok=signal["outcome"] == "ok",
                                 error=signal["error"], task_id=ep.task.task_id, step=ep.steps,
                                 tool_version=pinned.version if pinned is not None else None)

    def record_episode_end(self, ep: Episode) -> None:
        self.log.record_episode_end(ep.task.task_id, ep.final, self.versions)

    def close(self) -> None:
        self.log.close()
