"""Production log ingest: every line accounted for, one reason code per kind of damage, the
simulator's determinism, and de-identification with the replica's key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson
import pytest

from envs.replay.ingest import REJECTS, SESSIONS, SUMMARY, ingest_logs, load_sessions
from envs.replay.logformat import REASONS, render_line
from envs.replay.simulate import FAULTS, simulate_logs

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "fixtures" / "logs"
# The command in fixtures/logs/README.md.
FIXTURE_ARGS = {"sessions": 32, "seed": 0, "faults": FAULTS, "task_pool": 6,
                "agents": ["oracle", "non_compliant", "wrong_tool", "oracle", "noisy_params", "redundant_calls",
                           "hallucinated_tool", "malformed_json"]}


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.mark.determinism
def test_the_sample_logs_are_the_simulators_output_byte_for_byte(tmp_path):
    simulate_logs(tmp_path, **FIXTURE_ARGS)
    for name in ("chat.jsonl", "react.jsonl", "manifest.json"):
        assert (tmp_path / name).read_bytes() == (LOGS / name).read_bytes(), name
    readme = (LOGS / "README.md").read_text()
    assert "--sessions 32 --seed 0 --faults all --task-pool 6" in readme


def test_ingesting_the_sample_logs_accounts_for_every_line_and_names_each_reject_reason(tmp_path):
    summary = ingest_logs([LOGS], tmp_path)
    lines = {f"{LOGS / n}": len((LOGS / n).read_bytes().splitlines()) for n in ("chat.jsonl", "react.jsonl")}
    assert summary["total"] == sum(lines.values()) == 34
    assert summary["ingested"] + summary["rejected"] == summary["total"]
    assert {f: c["total"] for f, c in summary["files"].items()} == lines
    rejects = read_jsonl(tmp_path / REJECTS)
    sessions = load_sessions(tmp_path)
    assert len(rejects) == summary["rejected"] and len(sessions) == summary["ingested"]
    # exactly the lines the simulator damaged are rejected, each with the fault's reason
    manifest = json.loads((LOGS / "manifest.json").read_text())
    expected = {(str(LOGS / f["file"]), f["line"]): f["reason"] for f in manifest["faults"] if f["reason"]}
    assert {(r["file"], r["line"]): r["reason"] for r in rejects} == expected
    assert set(expected.values()) == {"truncated_line", "bad_json", "unknown_tool", "duplicate_session",
                                      "invalid_encoding", "renamed_field", "missing_field"}
    assert summary["reasons"] == {r: list(expected.values()).count(r) for r in REASONS if r in expected.values()}
    for r in rejects:
        assert r["message"] and len(r["sha256"]) == 64 and r["text"]  # without a key, the raw line is kept
    # every other line is a session, read from where it was; a duplicate's copy counts once
    ingested_at = {(s["source"]["file"], s["source"]["line"]) for s in sessions}
    assert ingested_at.isdisjoint(expected) and len(ingested_at) == len(sessions)
    assert len({s["session_id"] for s in sessions}) == len(sessions)
    no_task = [f["session_id"] for f in manifest["faults"] if f["fault"] == "no_task"]
    assert sorted(s["session_id"] for s in sessions if s["task_id"] is None) == sorted(no_task)
    assert summary["without_task_id"] == len(no_task)
    assert summary["formats"] == {name: summary["files"][str(LOGS / f"{name}.jsonl")]["ingested"]
                                  for name in ("chat", "react")}
    assert min(summary["formats"].values()) > 0


def _chat_line(session_id: str = "s-1", **extra) -> dict:
    line = {"session_id": session_id, "started_at": "2026-11-23T08:00:00Z", "ended_at": "2026-11-23T08:00:05Z",
            "metadata": {"task_id": "hw-L1-01", "user_id": "U1"},
            "messages": [{"role": "user", "content": "What is the risk profile of client C000002?"},
                         {"role": "assistant", "content": None, "tool_calls": [
                             {"id": "c0", "type": "function", "function": {
                                 "name": "get_risk_assessment", "arguments": "{\"client_id\": \"C000002\"}"}}]},
                         {"role": "tool", "tool_call_id": "c0", "content": "{\"risk_level\": 5}"},
                         {"role": "assistant", "content": "Aggressive."}]}
    line.update(extra)
    return line


def _bytes(value) -> bytes:
    return value if isinstance(value, bytes) else orjson.dumps(value)


def test_each_kind_of_bad_line_gets_its_own_reason_and_ingest_never_raises(tmp_path):
    good = _chat_line()
    hallucinated = _chat_line("s-hallucinated")
    hallucinated["messages"][1]["tool_calls"][0]["function"]["name"] = "get_risk_details"
    hallucinated["messages"][2]["content"] = '{"error": "unknown_tool", "message": "no tool named get_risk_details"}'
    foreign = _chat_line("s-foreign")
    foreign["messages"][1]["tool_calls"][0]["function"]["name"] = "get_tax_lot_report"
    orphan = _chat_line("s-orphan")
    orphan["messages"][2]["tool_call_id"] = "c9"
    unanswered = _chat_line("s-unanswered")
    del unanswered["messages"][2]
    renamed_inside = _chat_line("s-renamed-inside")
    renamed_inside["messages"][2]["toolCallId"] = renamed_inside["messages"][2].pop("tool_call_id")
    legacy = _chat_line("s-legacy")
    legacy["messages"][1]["function_call"] = {"name": "get_risk_assessment"}
    react = render_line({**_parsed(_chat_line("s-react")), "format": "react"})
    react["steps"][-1]["answer"] = react["steps"][-1].pop("final_answer")
    deep = _chat_line("s-deep")
    deep["messages"][1]["tool_calls"][0]["function"]["arguments"] = {"a": [[[[{"b": 1}]]]]}
    for _ in range(120):
        deep["messages"][1]["tool_calls"][0]["function"]["arguments"] = [
            deep["messages"][1]["tool_calls"][0]["function"]["arguments"]]
    cases = [
        (good, None),
        (hallucinated, None),  # the agent's mistake, answered by the env: replayable
        (b"", "empty_line"),
        (orjson.dumps(_chat_line("s-latin")).replace(b"risk", "risqu\u00e9".encode("latin-1")), "invalid_encoding"),
        (orjson.dumps(_chat_line("s-cut"))[:70], "truncated_line"),
        (b"{'session_id': 's-x'}", "bad_json"),
        (b'{"session_id": "s-y",}', "bad_json"),
        (b"[" * 5000 + b"]" * 5000, "bad_json"),  # nested past the decoder's limit
        (b"[1, 2]", "not_an_object"),
        ({"session_id": "s-z", "turns": []}, "unknown_format"),
        ({k: v for k, v in _chat_line("s-m").items() if k != "ended_at"}, "missing_field"),
        ({("sessionId" if k == "session_id" else k): v for k, v in _chat_line().items()}, "renamed_field"),
        (_chat_line("s-u", channel="desk"), "unknown_field"),
        (_chat_line("s-t", started_at="yesterday"), "invalid_value"),
        (_chat_line("s-r", ended_at="2026-11-23T07:00:00Z"), "invalid_value"),
        (_chat_line("s-n", messages="not a list"), "invalid_value"),
        (renamed_inside, "renamed_field"),
        (react, "renamed_field"),
        (legacy, "unknown_field"),
        (deep, "invalid_value"),
        (_chat_line("s-sys", messages=[*_chat_line()["messages"], {"role": "system", "content": "x"}]),
         "invalid_value"),
        (orphan, "inconsistent_session"),
        (unanswered, "inconsistent_session"),
        (foreign, "unknown_tool"),
        (good, "duplicate_session"),
        ({**render_line({**_parsed(good), "format": "react"}), "session_id": "s-1-again"}, "duplicate_session"),
        (_chat_line(metadata={"task_id": "hw-L1-02"}), "conflicting_session"),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(_bytes(line) for line, _ in cases) + b"\n")
    summary = ingest_logs([path], tmp_path / "out")
    rejects = {r["line"]: r for r in read_jsonl(tmp_path / "out" / REJECTS)}
    for n, (_, reason) in enumerate(cases, 1):
        assert (rejects[n]["reason"] if n in rejects else None) == reason, (n, rejects.get(n))
    assert summary["total"] == len(cases) and summary["ingested"] == 2
    assert summary["ingested"] + summary["rejected"] == summary["total"]
    duplicates = [r for r in rejects.values() if r["reason"] == "duplicate_session"]
    assert all("'s-1'" in r["message"] and f"{path}:1" in r["message"] for r in duplicates)  # the first copy


def _parsed(line: dict) -> dict:
    from envs.replay.logformat import parse_session
    from mock_apis.catalogue import catalogue

    return parse_session(line, catalogue())


# -- de-identification ---------------------------------------------------------------------

PII_FIELDS = ("full_name", "email", "phone", "address", "birth_date", "manager")


def _pii_values(value, out: set[str], key: str | None = None) -> None:
    """The PII values in a tool result, and the words of the names in it."""
    if isinstance(value, dict):
        for k, v in value.items():
            _pii_values(v, out, k)
    elif isinstance(value, list):
        for v in value:
            _pii_values(v, out, key)
    elif isinstance(value, str) and key in PII_FIELDS:
        out.add(value)
        if key in ("full_name", "manager"):
            out.update(w for w in value.split() if len(w) > 3)


@pytest.fixture(scope="module")
def pii_logs(tmp_path_factory):
    """Simulated logs of tasks whose tool results are full of PII (profiles, overviews, books)."""
    from envs.tasks import SUITE, load_tasks, save_tasks

    out = tmp_path_factory.mktemp("pii")
    tasks = [t for t in load_tasks(SUITE) if {g.name for g in t.gold_calls} & {
        "get_client_profile", "get_client_overview", "search_clients", "get_advisor_book", "get_fund_info"}][:12]
    save_tasks(tasks, out / "tasks.jsonl")
    simulate_logs(out / "logs", ["oracle", "noisy_params"], 24, seed=3, tasks=out / "tasks.jsonl")
    return out


def test_deidentified_ingest_leaves_no_source_pii_and_ids_still_resolve_in_the_keyed_replica(pii_logs, tmp_path):
    from envs.replay.rescore import score_logs
    from envs.replica import default_replica
    from mock_apis.deid.build import build_replica
    from mock_apis.deid.pseudonymise import key_fingerprint

    key = bytes(range(32))
    (tmp_path / "k.key").write_bytes(key)
    raw = ingest_logs([pii_logs / "logs"], tmp_path / "raw")
    source: set[str] = set()
    for session in load_sessions(tmp_path / "raw"):
        for turn in session["turns"]:
            for call in turn["calls"]:
                _pii_values(call["result"], source)
    assert len(source) > 30  # the check below has something to find
    production = f"sqlite:///{default_replica(0, 5000)}"  # the source both the logs and the replica come from
    summary = ingest_logs([pii_logs / "logs"], tmp_path / "deid", key_file=tmp_path / "k.key", names_from=production)
    assert summary["deidentified"] and summary["key_fingerprint"] == key_fingerprint(key)
    assert {k: summary[k] for k in ("total", "ingested", "rejected")} == \
        {k: raw[k] for k in ("total", "ingested", "rejected")}
    for name in (SESSIONS, REJECTS, SUMMARY):  # a scan of everything ingest wrote
        data = (tmp_path / "deid" / name).read_text(encoding="utf-8")
        leaked = sorted(v for v in source if (re.search(rf"\b{re.escape(v)}\b", data) if " " not in v else v in data))
        assert not leaked, (name, leaked[:5])
    deid = load_sessions(tmp_path / "deid")
    assert {s["session_id"] for s in deid} == {s["session_id"] for s in load_sessions(tmp_path / "raw")}
    ids = set(re.findall(r"\b[CA]\d{6,7}\b", (tmp_path / "deid" / SESSIONS).read_text()))
    assert ids  # ids are not PII: kept, so that they resolve in the replica
    # A replica built from the same source with the same key answers every call as the
    # de-identified log recorded it: names, emails, phones, addresses, birth dates all match.
    replica = tmp_path / "deid.sqlite"
    build_replica(production, replica, key, allow_extra=True)
    scored = score_logs(tmp_path / "deid", "lenient", tasks=pii_logs / "tasks.jsonl", replica=replica,
                        check_replica=False)
    assert scored["status"] == {"scored": summary["ingested"]}
    assert scored["drift"]["get_client_profile"] == {"national_id_last4": 2}
    sessions = {s["session_id"]: s for s in deid}
    for record in read_jsonl(tmp_path / "deid" / "scores.jsonl"):
        for d in record["diff"]:
            if d["path"].endswith("national_id_last4"):
                continue  # the masked id's last 4 digits: the replica masks its pseudonymous id, the log
                # holds the source id's digits, which cannot be mapped without the full id
            # else only a search for a name no client has (noisy_params writes it last name
            # first) that, pseudonymised, collides with another client's pseudonym
            call = next(c for t in sessions[record["session_id"]]["turns"] for c in t["calls"] if c["id"] == d["call"])
            assert d["tool"] == "search_clients" and call["result"]["count"] == 0, d


def test_a_line_over_the_cap_is_streamed_past_hashed_and_recorded_never_held(tmp_path):
    """A log whose middle line is 64 MiB (8× the cap): the line is rejected as ``line_too_long``
    with its size and SHA-256, the lines around it are ingested, and the ingest's peak Python
    allocation (tracemalloc) grows by less than 2.5× the cap over the same ingest without the long
    line (a chunk of the cap and the reader's copy of it: 16 MiB measured; holding the line once
    would take 64 MiB, and did take 130 MiB when the reader was given no limit)."""
    import hashlib
    import tracemalloc

    from envs.replay.ingest import MAX_LINE_BYTES

    size = 64 << 20
    assert size > 4 * MAX_LINE_BYTES
    head = b'{"session_id": "s-big", "messages": [{"role": "user", "content": "'
    long_line = head + b"x" * (size - len(head) - 4) + b'"}]}'
    other = _chat_line("s-b")
    other["messages"][-1]["content"] = "Aggressive (level 5)."  # another session, not a copy of s-a
    before, after = orjson.dumps(_chat_line("s-a")), orjson.dumps(other)
    (tmp_path / "long").mkdir()
    (tmp_path / "short").mkdir()
    (tmp_path / "long" / "log.jsonl").write_bytes(before + b"\n" + long_line + b"\n" + after + b"\n")
    (tmp_path / "short" / "log.jsonl").write_bytes(before + b"\n" + after + b"\n")
    expected_digest = hashlib.sha256(long_line).hexdigest()
    del long_line

    def peak_of_ingest(folder: str) -> int:
        ingest_logs([tmp_path / folder], tmp_path / f"out-{folder}")  # warm: imports, catalogue
        tracemalloc.start()
        try:
            ingest_logs([tmp_path / folder], tmp_path / f"out-{folder}")
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak_short, peak_long = peak_of_ingest("short"), peak_of_ingest("long")
    rejects = read_jsonl(tmp_path / "out-long" / REJECTS)
    assert [(r["line"], r["reason"], r["bytes"], r["sha256"]) for r in rejects] == [
        (2, "line_too_long", size, expected_digest)]
    assert "text" not in rejects[0] and f"more than the {MAX_LINE_BYTES}" in rejects[0]["message"]
    summary = json.loads((tmp_path / "out-long" / SUMMARY).read_text())
    assert (summary["total"], summary["ingested"], summary["rejected"]) == (3, 2, 1)
    assert summary["reasons"] == {"line_too_long": 1}, summary
    assert [s["session_id"] for s in load_sessions(tmp_path / "out-long")] == ["s-a", "s-b"]
    assert peak_long - peak_short < 2.5 * MAX_LINE_BYTES, (peak_short, peak_long)
