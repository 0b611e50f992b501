"""The PII scrubber's benchmark (issue 26): recall per form on the public labelled set
(fixtures/pii/public.jsonl) and on a held-out set made here, never committed; PII-free finance
text unchanged; and a de-identified replay leaves no source PII from sessions to SFT and DPO rows."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from mock_apis.deid.benchmark import PUBLIC_SET, TARGET_RECALL, load_set, measure

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fixtures" / "pii"))
from make_pii_set import NAME_FORMS, VALUE_FORMS, make_set  # noqa: E402

FORMS = set(NAME_FORMS) | set(VALUE_FORMS)


def _check(result: dict) -> None:
    assert set(result["forms"]) == FORMS
    low = {f: s for f, s in result["forms"].items() if s["recall"] < TARGET_RECALL}
    assert not low, (low, result["examples"])
    assert result["false_positives"]["changed"] == 0, result["examples"]


def test_the_public_set_covers_every_form_and_the_scrubber_meets_the_target_on_it() -> None:
    records = load_set(PUBLIC_SET)
    assert min(sum(r["form"] == f for r in records) for f in FORMS) >= 40
    assert sum(r["form"] == "none" for r in records) >= 160
    _check(measure(records))


def test_the_public_set_is_what_its_script_makes() -> None:
    expected = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in make_set(0, False))
    assert PUBLIC_SET.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("seed", [7, 1234])
def test_a_held_out_set_meets_the_target_too(seed: int) -> None:
    _check(measure(make_set(seed, heldout=True)))


def test_the_forms_the_issue_saw_leak_are_scrubbed() -> None:
    from mock_apis.deid.pseudonymise import Pseudonymiser

    p = Pseudonymiser(b"k" * 32)
    p.register_names(["Anna Chapman", "Kimberly Reynolds", "José García"])
    text = ("What's Kimberly Reynolds's client id? Anna Chapman’s file; Mrs. Chapman's SSN 123456789; "
            "Jose Garcia lives at 1910 Lake Parkway Apt. 938, New York, NY 10059.")
    out = p.scrub(text)
    for leaked in ("Reynolds", "Kimberly", "Chapman", "Anna", "123456789", "Garcia", "1910 Lake Parkway", "10059"):
        assert leaked not in out, out
    assert out.count("'s") == 3 and "’s" in out  # possessives kept, on the pseudonyms
    assert p.scrub(text) == out  # deterministic


def test_project_text_without_pii_is_left_alone() -> None:
    """Every query, gold answer and thought of the shipped task suites, scrubbed with no names
    registered: only the lines quoting a client's email, phone or address change."""
    from mock_apis.deid.pseudonymise import Pseudonymiser

    p = Pseudonymiser(b"k" * 32)
    changed = []
    for name in ("suite", "heldout", "handwritten"):
        for line in (ROOT / "fixtures" / "tasks" / f"{name}.jsonl").read_text().splitlines():
            task = json.loads(line)
            for text in (task.get("query", ""), task.get("gold_response", ""), *task.get("gold_thoughts", ())):
                if p.scrub(text) != text:
                    changed.append(text)
    assert changed and all(re.search(r"(email address|phone number|address) on file is", t) for t in changed), changed
