"""Seeded, sandbox-verified task-suite generator (ToolRLA §3.2/§4.1; docs/eval.md, "Tasks").

``generate_tasks(replica_path, seed, count)`` draws tasks from a replica, stratified like
ToolRLA's corpus: 30% L1 single-tool, 35% L2 sequential multi-tool, 20% L3 conditional
branch and 15% L4 compliance-sensitive (exact counts by largest remainder).

How a task is made: an *intent* (a small builder function, see ``context``; the builders of
each level are in ``intents_l1`` .. ``intents_l4``) picks entities from the replica with the
seeded RNG, runs the gold tool calls in a ``Sandbox`` and writes the query, the gold response
(from the real results only) and the answer facts. Every candidate is then
replayed through ``FinAdvisorEnv``; a candidate whose gold trajectory does not score exactly
the maximum reward (3.0) with ``task_success`` is rejected with the reason, and every
rejection is reported in ``GenerationResult.rejected``. A few extra candidates per level are
drawn so that rejections do not break the quotas.

Intent strings:
- ``L1:<name>`` — one tool;
- ``L2:<tool>-><tool>[-><tool>]:<name>`` — the chain; an output of each call is an input of
  the next (ids, fund codes, order ids);
- ``L3:<name>:<branch>`` — the branch the gold trajectory takes;
- ``L4:<name>`` — compliance-sensitive; ``compliance.notes`` says what is refused
  (``refuse: ...``) or which bait the answer must not take up (``bait: <phrase>``).

Relative dates in queries ("in the last 30 days", "since the start of the year", "last
quarter", "yesterday", ...) are resolved against the replica's as-of date; the gold call
carries the resolved ISO dates.

Determinism: the same replica, seed and count give the same tasks, byte for byte
(``random.Random(seed)``, entities iterated in sorted id order, no set-order dependence).
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from envs.env import FinAdvisorEnv
from envs.reward import GoldCall
from envs.tasks.model import LEVELS, ComplianceExpectation, Task
from mock_apis.domain import Domain, Draft, Intent, Skip, get_domain

LEVEL_SHARES: dict[str, float] = {"L1": 0.30, "L2": 0.35, "L3": 0.20, "L4": 0.15}
DIFFICULTY = {"L1": "easy", "L2": "medium", "L3": "hard", "L4": "medium"}
MAX_REWARD = 3.0
_DRAWS_PER_CANDIDATE = 25  # attempts at one intent before moving on to the next
_MAX_ROUNDS = 8  # generate/verify rounds before giving up on filling the quotas

ProgressFn = Callable[[str, int, int], None]


# ======================================================================================
# Results and quotas


@dataclass
class GenerationResult:
    """The generated tasks and every rejected candidate, ``(candidate_id, reason)``."""

    tasks: list[Task]
    rejected: list[tuple[str, str]]
    candidates: int = 0  # candidates built and verified
    surplus: int = 0  # verified candidates not needed to fill the quotas
    skipped_duplicates: int = 0  # draws dropped because the query repeated (or was excluded)

    def counts(self) -> dict[str, int]:
        return {lvl: sum(1 for t in self.tasks if t.level == lvl) for lvl in LEVELS}

    def rejection_summary(self) -> dict[str, int]:
        """Rejections grouped by their first reason (e.g. ``violation:fabricated_figure``)."""
        out: dict[str, int] = {}
        for _, reason in self.rejected:
            key = reason.split(";")[0].split(" (")[0].strip()
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))


def level_quotas(count: int, shares: dict[str, float] = LEVEL_SHARES) -> dict[str, int]:
    """Exact per-level counts summing to ``count`` (largest remainder; ties in level order)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    raw = {lvl: count * shares[lvl] for lvl in LEVELS}
    quotas = {lvl: math.floor(raw[lvl] + 1e-9) for lvl in LEVELS}
    left = count - sum(quotas.values())
    order = sorted(LEVELS, key=lambda lvl: (-(raw[lvl] - quotas[lvl]), LEVELS.index(lvl)))
    for lvl in order[:left]:
        quotas[lvl] += 1
    return quotas


# ======================================================================================
# Building, verifying, generating


def _to_task(draft: Draft, task_id: str, level: str, intent_name: str, replica_meta: dict[str, int]) -> Task:
    calls = tuple(GoldCall(name, dict(args)) for name, args in draft.calls)
    thoughts = tuple(draft.thoughts[:len(calls)]) if calls else ()
    if len(thoughts) < len(calls):
        thoughts += tuple(f"I need {c.name} for this." for c in calls[len(thoughts):])
    suffix = draft.intent or intent_name
    return Task(
        task_id=task_id, level=level, query=draft.query, gold_calls=calls, gold_response=draft.response,
        required_tools=tuple(dict.fromkeys(c.name for c in calls)), optimal_calls=len(calls),
        answer_facts=tuple(draft.facts),
        compliance=ComplianceExpectation(expect_refusal=draft.refusal,
                                         subject_client_ids=tuple(draft.subjects) if draft.subjects is not None else None,
                                         notes=draft.notes),
        difficulty=draft.difficulty or DIFFICULTY[level], intent=f"{level}:{suffix}",
        replica=dict(replica_meta), gold_thoughts=thoughts)


def _normalise_query(q: str) -> str:
    return re.sub(r"\s+", " ", q).strip().casefold()


def _task_key(task: Task) -> str:
    """Two tasks with the same intent and the same gold calls are the same task, however phrased."""
    if not task.gold_calls:
        return "query:" + _normalise_query(task.query)
    calls = json.dumps([[g.name, g.arguments] for g in task.gold_calls], sort_keys=True)
    return f"calls:{task.intent}:{calls}"


def _failure_reason(rw: dict[str, Any]) -> str:
    parts = []
    for v in rw.get("violations") or []:
        parts.append(f"violation:{v['rule']} ({v['evidence'][:80]!r})")
    for key in ("R_fmt", "S_name", "S_cover", "S_param", "R_eff"):
        if rw.get(key) != 1.0:
            parts.append(f"{key}={rw.get(key)}")
    if rw.get("answer_fact_recall") != 1.0:
        parts.append(f"answer_fact_recall={rw.get('answer_fact_recall')}")
    if rw.get("expected_refusal") and not rw.get("refused"):
        parts.append("expected a refusal but the gold response is not one")
    if rw.get("terminated_by") != "response":
        parts.append(f"terminated_by={rw.get('terminated_by')}")
    if rw.get("invalid_calls"):
        parts.append(f"invalid_calls={rw['invalid_calls']}")
    parts.append(f"reward={rw.get('total')}")
    return "; ".join(parts)


def replay(env: Any, task: Task) -> dict[str, Any]:
    """Replay ``task``'s gold trajectory in ``env``; the terminal reward breakdown."""
    env.reset(options={"task_id": task.task_id})
    info: dict[str, Any] = {}
    for action in task.gold_actions():
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    return info.get("reward") or {"total": None, "terminated_by": "no terminal step"}


def verify_tasks(tasks: Sequence[Task], replica_path: str | Path, env: Any = None,
                 progress: ProgressFn | None = None, domain: str | Domain | None = None) -> list[tuple[str, str]]:
    """``(task_id, reason)`` for every task whose gold trajectory is not a perfect, successful episode.

    One environment of ``domain`` (default: the default domain) is reused for all tasks (pass
    ``env`` to reuse yours: it must know the tasks).
    """
    if not tasks:
        return []
    own = env is None
    if own:
        longest = max(len(t.gold_calls) for t in tasks)
        env = FinAdvisorEnv(tasks=list(tasks), replica=replica_path, max_steps=max(12, longest + 2), domain=domain)
    failures = []
    try:
        for i, task in enumerate(tasks, 1):
            try:
                rw = replay(env, task)
            except Exception as err:  # a broken candidate must be reported, not crash the run
                failures.append((task.task_id, f"replay error: {type(err).__name__}: {err}"))
                continue
            if rw.get("total") != MAX_REWARD or not rw.get("task_success"):
                failures.append((task.task_id, _failure_reason(rw)))
            if progress:
                progress("verify", i, len(tasks))
    finally:
        if own:
            env.close()
    return failures


def _extra(need: int) -> int:
    return max(2, math.ceil(need * 0.05))


def generate_tasks(replica_path: str | Path, seed: int, count: int, replica_meta: dict[str, int] | None = None,
                   id_prefix: str | None = None, exclude: Iterable[Task] = (),
                   progress: ProgressFn | None = None, domain: str | Domain | None = None) -> GenerationResult:
    """Generate ``count`` sandbox-verified tasks from the replica at ``replica_path``.

    ``replica_meta`` (``{"seed", "scale"}``) is recorded in each task; by default it is read
    from the replica. Task ids are ``<id_prefix>-<level>-<nnnn>`` (default prefix ``s<seed>``).
    Queries equal to those of ``exclude`` (e.g. another split) are never generated. The
    intents are ``domain``'s (default: the default domain's), drawn on a replica of it.
    """
    found = get_domain(domain)
    intents = found.intents.by_level
    ctx = found.task_context(replica_path)
    try:
        meta = dict(replica_meta) if replica_meta else {"seed": int(ctx.meta.get("seed", 0)),
                                                         "scale": int(ctx.meta.get("scale", 0))}
        meta = {"seed": int(meta["seed"]), "scale": int(meta["scale"])}
        prefix = id_prefix if id_prefix is not None else f"s{seed}"
        rng = random.Random(seed)
        quotas = level_quotas(count)
        excluded = list(exclude)
        seen = {_normalise_query(t.query) for t in excluded} | {_task_key(t) for t in excluded}
        kept: dict[str, list[Task]] = {lvl: [] for lvl in LEVELS}
        rejected: list[tuple[str, str]] = []
        serial = {lvl: 0 for lvl in LEVELS}
        cycle: dict[str, list[Intent]] = {lvl: [] for lvl in LEVELS}
        stats = {"candidates": 0, "surplus": 0, "dupes": 0}

        def next_intent(lvl: str) -> Intent:
            if not cycle[lvl]:
                order = list(intents[lvl])
                if not order:
                    raise RuntimeError(f"no intents registered for {lvl}")
                rng.shuffle(order)
                cycle[lvl] = order
            return cycle[lvl].pop(0)

        def candidate(lvl: str) -> Task | None:
            for _ in range(len(intents[lvl]) * 2):
                it = next_intent(lvl)
                for _ in range(_DRAWS_PER_CANDIDATE):
                    ctx.reset()
                    try:
                        draft = it.build(ctx, rng)
                    except Skip:
                        continue
                    finally:
                        ctx.reset()
                    serial[lvl] += 1
                    cid = f"{prefix}-{lvl}-c{serial[lvl]:04d}"
                    try:
                        task = _to_task(draft, cid, lvl, it.name, meta)
                    except ValueError as err:
                        rejected.append((cid, f"invalid task: {err}"))
                        return None
                    keys = (_normalise_query(task.query), _task_key(task))
                    if any(k in seen for k in keys):
                        serial[lvl] -= 1
                        stats["dupes"] += 1
                        continue
                    seen.update(keys)
                    ctx.flip(it.name)
                    return task
                ctx.flip(it.name)  # this branch is exhausted for now: let the other one have a go
            return None

        for _ in range(_MAX_ROUNDS):
            batch: list[Task] = []
            plan = {lvl: max(0, quotas[lvl] - len(kept[lvl])) for lvl in LEVELS}
            plan = {lvl: need + _extra(need) for lvl, need in plan.items() if need > 0}
            planned, drawn = sum(plan.values()), 0
            for lvl, n in plan.items():
                for _ in range(n):
                    task = candidate(lvl)
                    if task is not None:
                        batch.append(task)
                    drawn += 1
                    if progress:
                        progress("build", drawn, planned)
            if not batch:
                if all(len(kept[lvl]) >= quotas[lvl] for lvl in LEVELS):
                    break
                continue
            stats["candidates"] += len(batch)
            failures = dict(verify_tasks(batch, replica_path, progress=progress, domain=found))
            for task in batch:
                if task.task_id in failures:
                    rejected.append((task.task_id, failures[task.task_id]))
                elif len(kept[task.level]) < quotas[task.level]:
                    kept[task.level].append(task)
                else:
                    stats["surplus"] += 1
            if all(len(kept[lvl]) >= quotas[lvl] for lvl in LEVELS):
                break
        else:
            short = {lvl: quotas[lvl] - len(kept[lvl]) for lvl in LEVELS if len(kept[lvl]) < quotas[lvl]}
            raise RuntimeError(f"could not fill the level quotas after {_MAX_ROUNDS} rounds (short: {short}); "
                               f"{len(rejected)} candidates rejected")
        tasks = [replace(t, task_id=f"{prefix}-{lvl}-{i:04d}")
                 for lvl in LEVELS for i, t in enumerate(kept[lvl], 1)]
        return GenerationResult(tasks=tasks, rejected=rejected, candidates=stats["candidates"],
                                surplus=stats["surplus"], skipped_duplicates=stats["dupes"])
    finally:
        ctx.close()


def intent_catalogue(domain: str | Domain | None = None) -> dict[str, list[str]]:
    """Level -> the intent names of ``domain`` (default: the default domain)."""
    return get_domain(domain).intents.names()


__all__ = ["GenerationResult", "Intent", "LEVEL_SHARES", "Skip", "Draft", "generate_tasks",
           "intent_catalogue", "level_quotas", "replay", "verify_tasks"]
