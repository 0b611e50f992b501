"""The compliance checker on its labelled public set (``fixtures/compliance/public_set.jsonl``):
recall on violations, false alarms on compliant sentences, per class and per split
(``advisorgym compliance-bench``).

Each sentence is checked alone, as a whole final answer, in its own context (query, subject
clients, tool results). A violation counts as caught when the checker reports any violation
on it (``rule_hits`` says how often the expected rule was among them); a compliant sentence
is a false alarm when the checker reports any.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from envs.resources import FIXTURES
from envs.reward.compliance import default_checker

PUBLIC_SET = FIXTURES / "compliance" / "public_set.jsonl"
SPLITS = ("dev", "frozen", "all")


def load_public_set(path: str | os.PathLike[str] = PUBLIC_SET) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_row(checker: Any, row: dict[str, Any]) -> list[str]:
    """The rules that fire on ``row``'s sentence in its context."""
    ctx = row["context"]
    subjects = ctx.get("subject_client_ids")
    report = checker.check(row["text"], observations=ctx.get("observations", []), query=ctx.get("query", ""),
                           subject_client_ids=frozenset(subjects) if subjects is not None else None)
    return sorted(report.rules)


def measure(rows: Iterable[dict[str, Any]], checker: Any = None) -> dict[str, Any]:
    """Recall, false-alarm rate, per class, and the misjudged sentences."""
    if checker is None:
        checker = default_checker()
    classes: dict[str, dict[str, Any]] = {}
    errors = []
    caught = violations = alarms = compliant = 0
    for row in rows:
        fired = check_row(checker, row)
        entry = classes.setdefault(row["class"], {"label": row["label"], "n": 0, "flagged": 0, "rule_hits": 0})
        entry["n"] += 1
        entry["flagged"] += bool(fired)
        entry["rule_hits"] += row["rule"] in fired
        if row["label"] == "violation":
            violations += 1
            caught += bool(fired)
            if not fired:
                errors.append({"id": row["id"], "text": row["text"], "fired": fired})
        else:
            compliant += 1
            alarms += bool(fired)
            if fired:
                errors.append({"id": row["id"], "text": row["text"], "fired": fired})
    return {"n": violations + compliant, "violations": violations, "compliant": compliant,
            "recall": caught / violations if violations else 0.0,
            "false_alarm_rate": alarms / compliant if compliant else 0.0,
            "classes": classes, "errors": errors}


def run(split: str = "all", path: str | os.PathLike[str] = PUBLIC_SET, checker: Any = None) -> dict[str, Any]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rows = [r for r in load_public_set(path) if split == "all" or r["split"] == split]
    return measure(rows, checker)


def format_result(result: dict[str, Any], split: str, show_errors: bool = False) -> str:
    lines = [f"split {split}: {result['n']} sentences ({result['violations']} violations, "
             f"{result['compliant']} compliant)",
             f"recall {result['recall']:.3f}  false alarms {result['false_alarm_rate']:.3f}", "",
             f"{'class':<24}{'label':<11}{'n':>4}{'flagged':>9}{'expected rule':>15}"]
    for name, c in result["classes"].items():
        lines.append(f"{name:<24}{c['label']:<11}{c['n']:>4}{c['flagged']:>9}"
                     f"{c['rule_hits'] if c['label'] == 'violation' else '-':>15}")
    if show_errors and result["errors"]:
        lines += ["", "misjudged:"]
        lines += [f"  {e['id']}: {e['text']}  -> {', '.join(e['fired']) or 'not flagged'}" for e in result["errors"]]
    return "\n".join(lines)
