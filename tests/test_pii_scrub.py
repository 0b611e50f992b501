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
from make_pii_set import NAME_FORMS, VALUE_FORMS, make_set  # noqa: E402 - after the sys.path set-up

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
    hard_pattern = re.compile(r"Order #(19|20)\d\d-\d{4}-|Charles Schwab|T\. Rowe Price|Morgan Stanley's|CUSIP \d{9}\b")
    hard = [r for r in records if r["form"] == "none" and hard_pattern.search(r["text"])]
    assert len(hard) >= 20  # the PII-free lines that once read as PII are there
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


def test_the_forms_a_blind_held_out_set_saw_leak_are_scrubbed_and_finance_references_kept() -> None:
    """Alphanumeric and irregularly grouped account numbers after an account cue, a birth date
    several words after its cue, surnames with particles or joined prefixes written "Surname, I.";
    while dated order references, numeric CUSIPs and the project's one-letter ids stay."""
    from mock_apis.deid.pseudonymise import Pseudonymiser

    p = Pseudonymiser(b"k" * 32)
    p.register_names(["Joost van den Akker", "Omar al-Rashidi", "Siobhan O’Keeffe", "Ewan MacLeod",
                      "Petra Lindqvist-Berg", "Minh Le", "Renata dos Anjos",
                      "Bruna da Costa Lima"])
    for text, secret in [("Transfer from account QX 3307215 on Friday.", "3307215"),
                         ("acct #LM0094412 (joint)", "LM0094412"),
                         ("Bank account at the co-op: 7731-0048-215", "7731-0048-215"),
                         ("wire from acct no. 88-40193-3172", "88-40193-3172"),
                         ("Date of birth as the old file shows it - 09/23/1957", "09/23/1957"),
                         ("DOB (page 3 of the trust deed) reads 1949-02-11.", "1949-02-11"),
                         ("Date of birth (see the KYC form of 2022-05-30): 11/02/1948", "11/02/1948")]:
        assert secret not in p.scrub(text), text
    for text, surname in [("van den Akker, J. asked for the 1099.", "Akker"), ("Van den Akker, Joost called", "Akker"),
                          ("al-Rashidi, O. signed.", "Rashidi"), ("van den Akker, J called", "Akker"),
                          ("O'Keeffe, S. wants cash.", "Keeffe"),
                          ("MacLeod, E. - call back", "MacLeod"), ("Lindqvist-Berg, P. moved", "Lindqvist"),
                          ("Mr. van den Akker agreed", "Akker"), ("J. van den Akker agreed", "Akker"),
                          ("Minh Le called; Le agreed.", "Le"), ("dos Anjos, R. phoned", "Anjos"),
                          ("da Costa Lima, B. wrote", "Costa"), ("Ms. da Costa Lima wrote", "Costa")]:
        out = p.scrub(text)
        assert not re.search(rf"\b{surname}\b", out), (text, out)
    for kept in ("Order #2024-0315-0042 filled; Ticket 2023-1107-118; conf. 20240612-087.",
                 "CUSIP 037833100 and reference 552091384471 booked; ABA routing 021000021.",
                 "Account A0000003 of client C000412.",
                 "Account review: 2024-03-15.", "Traded 03/14/2024, settled 03/15/2024."):
        assert p.scrub(kept) == kept, p.scrub(kept)


def test_firms_named_like_people_are_kept_unless_a_person_has_exactly_that_name() -> None:
    """Firm names are public, not PII: "Morgan Stanley's desk" survives a registered Morgan and Stanley.
    A registered person called exactly like a firm is a person: then the name is replaced."""
    from mock_apis.deid.pseudonymise import Pseudonymiser

    p = Pseudonymiser(b"k" * 32)
    p.register_names(["Morgan Reilly", "Ada Stanley", "Charles Ortiz", "Lena Schwab", "Tom Price", "Edward Lee"])
    text = "Morgan Stanley's desk and Charles Schwab custody; T. Rowe Price and Edward Jones funds."
    assert p.scrub(text) == text
    assert "Stanley" not in p.scrub("Morgan Reilly met Ada Stanley; Stanley agreed.")
    p.register_names(["Edward Jones"])
    out = p.scrub(text)
    assert "Edward Jones" not in out and "Morgan Stanley's" in out, out


def test_other_mentions_of_a_name_found_in_the_text_are_scrubbed_and_lone_registered_surnames_kept() -> None:
    """Once a text names a person (full name, title, last name first), the same name words on
    their own elsewhere in it are that person's too: "Wright’s SSN" after "Anna Wright". A
    registered last name never seen as part of a name in the text ("Ford’s earnings") is kept."""
    from mock_apis.deid.pseudonymise import Pseudonymiser

    p = Pseudonymiser(b"k" * 32)
    p.register_names(["Anna Wright", "Kimberly Reynolds", "John Ford"])
    text = "Anna Wright called; sent to her home. Wright’s SSN verified; WRIGHT agreed, and so did Anna."
    out = p.scrub(text)
    assert not re.search(r"Wright|WRIGHT|Anna", out, re.I), out
    assert p.scrub("Anna Wright") in out and out.count("’s SSN") == 1
    out = p.scrub("Reynolds, Kimberly asked; Reynolds’ account and Mrs. Reynolds's file.")
    assert "Reynolds" not in out and "Kimberly" not in out, out
    assert p.scrub("Ford’s earnings beat; Wright Brothers fund.") == "Ford’s earnings beat; Wright Brothers fund."


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


def test_a_deidentified_replay_leaves_no_source_pii_from_sessions_to_sft_and_dpo_rows(tmp_path: Path) -> None:
    """Simulated production logs of tasks whose queries name clients (possessives included) and
    whose answers quote contacts and addresses: ingested with a key and the source's names, scored
    and exported against the replica built with the same key; no source person's name, email,
    phone or address survives in any file, and scoring against any other replica is refused. The
    tasks that ask about another client by name (a refusal is their gold) give DPO pairs, so the
    preference rows are checked on prompts that named someone."""
    import sqlite3

    from envs.replay.export import export_logs
    from envs.replay.ingest import ingest_logs, load_sessions
    from envs.replay.rescore import score_logs
    from envs.replay.simulate import simulate_logs
    from envs.replica import default_replica
    from envs.tasks import SUITE, load_tasks, save_tasks
    from mock_apis.deid.build import build_replica

    chosen = [t for t in load_tasks(SUITE) if re.search(r"\w['’]s client id|address on file|phone number on file",
                                                        t.query + t.gold_response)][:8]
    assert any("'s client id" in t.query for t in chosen) and any("address on file" in t.gold_response for t in chosen)
    others = [t for t in load_tasks(SUITE) if re.search(r"stack up against [A-Z]|what [A-Z]\w+ [A-Z]\w+ paid", t.query)]
    assert len(others) >= 3
    chosen += others
    save_tasks(chosen, tmp_path / "tasks.jsonl")
    simulate_logs(tmp_path / "logs", ["oracle", "non_compliant", "wrong_tool"], 48, seed=5,
                  tasks=tmp_path / "tasks.jsonl", task_pool=len(chosen))
    key = bytes(range(32, 64))
    (tmp_path / "k.key").write_bytes(key)
    source = default_replica(0, 5000)
    production = f"sqlite:///{source}"
    ingest_logs([tmp_path / "logs"], tmp_path / "deid", key_file=tmp_path / "k.key", names_from=production)
    with pytest.raises(ValueError, match=r"de-identified with key sha256:\w+, and the default replica"):
        score_logs(tmp_path / "deid", "lenient", tasks=tmp_path / "tasks.jsonl")
    with pytest.raises(ValueError, match=r"not a de-identified build"):
        score_logs(tmp_path / "deid", "lenient", tasks=tmp_path / "tasks.jsonl", replica=source, check_replica=False)
    replica = tmp_path / "deid.sqlite"
    build_replica(production, replica, key, allow_extra=True)
    score_logs(tmp_path / "deid", "lenient", tasks=tmp_path / "tasks.jsonl", replica=replica, check_replica=False)
    sft = export_logs(tmp_path / "deid", "sft", min_reward=0.0, tasks=tmp_path / "tasks.jsonl", replica=replica,
                      check_replica=False)
    dpo = export_logs(tmp_path / "deid", "dpo", min_reward=2.0, tasks=tmp_path / "tasks.jsonl", replica=replica, check_replica=False)
    # A de-identified session cannot succeed on a task whose gold holds the source's PII (a
    # searched-for name, an email as the answer fact), so the pairs come from the tasks asking
    # about another client by name, whose prompts name that client.
    assert sft["written"] >= 8 and dpo["written"] >= 2, (sft, dpo)

    con = sqlite3.connect(source)
    people = con.execute("SELECT full_name, email, phone, address FROM clients").fetchall()
    con.close()
    raw = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("*.jsonl"))
    mentioned = [p for p in people if p[0] in raw or any(v in raw for v in p[1:])]
    assert len(mentioned) >= 5  # the logs do name people: the check below has something to find
    assert any(re.search(rf"{re.escape(p[0])}['’]s", raw) for p in mentioned)  # a possessive among them
    outputs = {f: (tmp_path / "deid" / f).read_text(encoding="utf-8")
               for f in ("sessions.jsonl", "scores.jsonl", "export/sft.jsonl", "export/dpo.jsonl")}
    assert len(load_sessions(tmp_path / "deid")) == 48
    dpo_prompts = [json.loads(line)["prompt"] for line in outputs["export/dpo.jsonl"].splitlines()]
    assert any(re.search(r"stack up against|paid into", json.dumps(prompt)) for prompt in dpo_prompts)
    for name, text in outputs.items():
        leaked = [v for p in mentioned for v in p if v in text]
        leaked += [w for p in mentioned for w in p[0].split() if len(w) > 3 and re.search(rf"\b{w}\b", text)]
        assert not leaked, (name, leaked[:5])
