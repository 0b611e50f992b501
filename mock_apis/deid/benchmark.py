"""The scrubber's benchmark: recall per form of PII, and false positives on PII-free finance text.

A labelled set (``fixtures/pii/public.jsonl``, made by ``fixtures/pii/make_pii_set.py``) holds
one note or query per line: its ``form``, ``text``, the ``people`` the pipeline would have
registered, the ``pii`` strings that must not survive and the ``name_words`` that must not
survive as words (compared case- and accent-blind). A line of form ``none`` is PII-free finance
text: it must come out unchanged. ``measure`` scrubs each line with one ``Pseudonymiser`` that
has every line's people registered, as ``replay ingest --names-from`` registers a whole client
book, and reports per form the lines, the lines that leaked and the recall.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mock_apis.deid.pseudonymise import _WORD, Pseudonymiser, _fold

PUBLIC_SET = Path(__file__).resolve().parents[2] / "fixtures" / "pii" / "public.jsonl"
#: The recall every form must reach (issue 26's target).
TARGET_RECALL = 0.99


def load_set(path: str | Path = PUBLIC_SET) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def leaks(record: Mapping[str, Any], scrubbed: str) -> list[str]:
    """What of the record's PII survives in ``scrubbed``: a ``pii`` string anywhere, a name word as a
    word that is not all lower case (accent- and case-blind otherwise: "GARCIA" is "García", but the
    "bond" of "bond ladder" is not Mr. Bond)."""
    words = {_fold(m.group()) for m in _WORD.finditer(scrubbed)
             if not m.group().islower()}
    return [v for v in record["pii"] if v in scrubbed] + \
        [w for w in record["name_words"] if _fold(w) in words or any(_fold(w) in x.split("-") for x in words)]


def measure(records: Iterable[Mapping[str, Any]], key: bytes = b"advisorgym-pii-benchmark-key") -> dict[str, Any]:
    """``{"forms": {form: {"lines", "leaked", "recall"}}, "false_positives": {"lines", "changed"},
    "examples": [a few leaks and changed PII-free lines]}``."""
    records = list(records)
    p = Pseudonymiser(key)
    p.register_names(name for r in records for name in r["people"])
    forms: dict[str, dict[str, Any]] = {}
    negatives = {"lines": 0, "changed": 0}
    examples: list[dict[str, Any]] = []
    for record in records:
        scrubbed = p.scrub(record["text"])
        if record["form"] == "none":
            negatives["lines"] += 1
            if scrubbed != record["text"]:
                negatives["changed"] += 1
                examples.append({"form": "none", "text": record["text"], "scrubbed": scrubbed})
            continue
        found = leaks(record, scrubbed)
        stats = forms.setdefault(record["form"], {"lines": 0, "leaked": 0})
        stats["lines"] += 1
        if found:
            stats["leaked"] += 1
            examples.append({"form": record["form"], "text": record["text"], "scrubbed": scrubbed, "leaked": found})
    for stats in forms.values():
        stats["recall"] = round(1 - stats["leaked"] / stats["lines"], 4)
    return {"forms": dict(sorted(forms.items())), "false_positives": negatives, "examples": examples[:20]}
