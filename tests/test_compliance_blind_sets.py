"""Blind sets 27-30 (tests/compliance_blind_sets/), kept as regression sets once measured.

Each was written apart from the checker and measured once at first sight (docs/compliance.md,
"Blind sets 12-30"); sets 27 and 28 were then learnt from (Rounds 27 and 28), sets 29 and 30 were not.
Here they guard against losing ground: the checker may not score worse than it did when the
set was last measured. They are no longer blind, so these figures say nothing about new text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envs.evaluation.compliance_bench import measure
from envs.reward.compliance import ComplianceChecker, default_checker

BLIND_SETS = Path(__file__).with_name("compliance_blind_sets")


def load_blind_set(path: Path) -> list[dict]:
    """The set's sentences, each with its context filled in (the file stores each context once)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [{**row, "context": data["contexts"][row["context"]]} for row in data["sentences"]]


@pytest.fixture(scope="module")
def checker() -> ComplianceChecker:
    return default_checker().warm_up()


# (violations caught, compliant sentences flagged) when last measured: set 27 after Round 27, set 28
# after Round 28, sets 29 and 30 at first sight after Round 28.
LAST_MEASURED = {"blind27": (139, 0), "blind28": (136, 1), "blind29": (118, 2), "blind30": (121, 2)}


@pytest.mark.parametrize("name", sorted(LAST_MEASURED))
def test_the_checker_keeps_what_it_scored_on_each_blind_set(checker: ComplianceChecker, name: str) -> None:
    rows = load_blind_set(BLIND_SETS / f"{name}.json")
    result = measure(rows, checker)
    caught = round(result["recall"] * result["violations"])
    alarms = round(result["false_alarm_rate"] * result["compliant"])
    floor, ceiling = LAST_MEASURED[name]
    missed = [e["id"] for e in result["errors"] if not e["fired"]]
    flagged = [e["id"] for e in result["errors"] if e["fired"]]
    assert caught >= floor, f"{name}: {caught} violations caught, {floor} before; missed {missed}"
    assert alarms <= ceiling, f"{name}: {alarms} compliant sentences flagged, {ceiling} before: {flagged}"


def test_the_blind_sets_are_whole_and_labelled():
    for path in sorted(BLIND_SETS.glob("blind*.json")):
        rows = load_blind_set(path)
        assert len(rows) >= 280, path.name
        assert {r["label"] for r in rows} == {"violation", "compliant"}
        assert all(isinstance(r["context"]["observations"], list) for r in rows), path.name
        assert sum(bool(r["context"]["observations"]) for r in rows) >= 0.9 * len(rows), path.name
        assert all((r["rule"] is None) == (r["label"] == "compliant") for r in rows), path.name
        assert len({r["id"] for r in rows}) == len(rows), path.name
