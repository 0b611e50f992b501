"""Entity-id relabelling of SFT conversations, so that copying an id is the only way to get it right.

Trained on the gold conversations as they are, a small model learns the few ids it sees most
often and writes them whatever the query names (the tool and the kind of id follow the query
long before the id does). Here each conversation is shown ``copies`` times, and each time
every entity id in it (the query, the calls, the tool results, the answer) is replaced by a
random other id of the same kind from the replica, the same replacement everywhere in that
conversation. A person's name follows their id (given ``names``, the replica's names by id):
where client ``C000179`` becomes ``C000052``, her name becomes ``C000052``'s. The conversation
stays coherent, the figures are untouched, and no id or name can be predicted from anything but
the turn it is copied from.

Kinds are what an id looks like: its letters and its number of digits (clients ``C000179``,
accounts ``A0000294``, equity funds ``EQ012`` and bond funds ``BD009`` apart).
"""

from __future__ import annotations

import copy
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

# An entity id: a capital prefix and digits (C000179, A0000294, V00002, BD009, IX025, O000000024).
ENTITY_ID = re.compile(r"\b[A-Z]{1,3}\d{3,}\b")
# The kind the tiny tokenizer's name tokens share (trainer.tiny): no id has a space.
NAME_KIND = "full name"


def id_kind(entity_id: str) -> str:
    """``C000179`` → ``C9999999``-style shape: the letters and the digit count (``C#6``)."""
    letters = entity_id.rstrip("0123456789")
    return f"{letters}#{len(entity_id) - len(letters)}"


def ids_by_kind(ids: Iterable[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for entity_id in sorted(set(ids)):
        groups[id_kind(entity_id)].append(entity_id)
    return dict(groups)


def _replace_in(value: Any, pattern: re.Pattern[str], mapping: dict[str, str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda m: mapping.get(m.group(0), m.group(0)), value)
    if isinstance(value, list):
        return [_replace_in(v, pattern, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _replace_in(v, pattern, mapping) for k, v in value.items()}
    return value


def _ids_in(value: Any, known: set[str]) -> list[str]:
    if isinstance(value, str):
        return [m for m in ENTITY_ID.findall(value) if m in known]
    if isinstance(value, list):
        return [i for v in value for i in _ids_in(v, known)]
    if isinstance(value, dict):
        return [i for v in value.values() for i in _ids_in(v, known)]
    return []


def relabel_conversation(messages: list[dict[str, Any]], pools: dict[str, list[str]],
                         rng: random.Random, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """``messages`` with each replica id replaced by a random distinct id of its kind, and the
    name of each person whose id is replaced (``names``: full names by id) by the new id's."""
    known = {i for pool in pools.values() for i in pool}
    present = sorted(set(_ids_in(messages, known)))
    mapping: dict[str, str] = {}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for entity_id in present:
        by_kind[id_kind(entity_id)].append(entity_id)
    for kind, originals in by_kind.items():
        mapping.update(zip(originals, rng.sample(pools[kind], len(originals))))
    relabelled = _replace_in(copy.deepcopy(messages), ENTITY_ID, mapping)
    names = names or {}
    renamed = {names[old]: names[new] for old, new in mapping.items() if old in names and new in names}
    if not renamed:
        return relabelled
    # every name at once, longest first, so that swapped names do not undo each other
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(renamed, key=len, reverse=True))) + r")(?!\w)")
    return _replace_in(relabelled, pattern, renamed)


def first_call_drill(row: dict[str, Any]) -> dict[str, Any] | None:
    """The row's query and its first assistant turn when that turn is a call, nothing else (no
    system prompt, no tool listing): a sequence of a few dozen tokens whose one lesson is the
    call the query asks for (None when the first turn is not a call)."""
    messages = row["messages"]
    first = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), None)
    if first is None or not messages[first].get("tool_calls"):
        return None
    turns = [m for m in messages[:first + 1] if m["role"] != "system"]
    return {**row, "messages": turns, "tools": [], "kind": f"{row['kind']}_first_call"}


def relabelled_rows(rows: Sequence[dict[str, Any]], replica_ids: Iterable[str], copies: int,
                    seed: int, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """``copies`` relabelled copies of every row (``messages`` relabelled, the rest as is)."""
    pools = ids_by_kind(replica_ids)
    rng = random.Random(f"relabel-{seed}")
    return [{**row, "messages": relabel_conversation(row["messages"], pools, rng, names)}
            for _ in range(copies) for row in rows]


def first_call_drills(rows: Sequence[dict[str, Any]], replica_ids: Iterable[str], copies: int,
                      seed: int, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The ``first_call_drill`` of ``copies`` relabelled copies of every row that has one."""
    drills = (first_call_drill(row) for row in relabelled_rows(rows, replica_ids, copies, seed, names))
    return [drill for drill in drills if drill is not None]
