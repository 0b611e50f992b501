"""A tamper-evident audit trail: hash-chained JSONL, one record per tool call and per episode end.

Each line is one record, the canonical JSON (sorted keys, no spaces) of ``{"kind", "payload",
"prev", "seq"}`` with ``"hash"`` appended last: ``hash`` is the SHA-256 of the record's bytes
without it (the line up to ``,"hash":``, closed by ``}``), ``prev`` the previous record's hash
(64 zeros for the first) and ``seq`` its position from 0. ``verify`` recomputes the chain from
the bytes as written, so an edited byte, a removed, reordered or inserted line breaks it at the
first record concerned. Truncating the tail keeps the chain whole: pass the head a run report
recorded (``AuditLog.head`` after the last record) to ``verify`` to catch that too.

One writer per file, and one thread per ``AuditLog``: two writers would fork the chain (an
env is not thread-safe either; vector envs in processes each need their own file).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from mock_apis import package_version

GENESIS = "0" * 64
_TAIL = re.compile(rb',"hash":"([0-9a-f]{64})"\}\n\Z')
#: Records kept in memory before they are written (a write per record would cost more than
#: the record itself).
BUFFERED_RECORDS = 256
#: Bytes read per step when looking for the last record of an existing log.
_TAIL_CHUNK = 1 << 16


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes of ``value``: sorted keys, no spaces. Values orjson refuses (integers
    beyond 64 bits, non-string keys, lone surrogates) go through the standard library instead."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr).encode()


def result_hash(payload: Any) -> str:
    """The SHA-256 of a tool result's canonical JSON, as recorded for each call."""
    return hashlib.sha256(canonical(payload)).hexdigest()


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:  # NaN or a big integer written by the standard library
        return json.loads(body)


def _parse(line: bytes) -> tuple[dict[str, Any], str, bytes] | str:
    """A line's record, stored hash and hashed bytes; or why it is not a record."""
    match = _TAIL.search(line)
    if match is None:
        return "not a record: it does not end with its hash" if line.endswith(b"\n") else "torn record (no newline)"
    body = line[:match.start()] + b"}"
    try:
        record = _loads(body)
    except ValueError:
        return "not a record: invalid JSON"
    if not isinstance(record, dict) or not isinstance(record.get("seq"), int) or not isinstance(record.get("prev"), str):
        return "not a record: seq or prev missing"
    return record, match.group(1).decode(), body


def _last_line(path: Path) -> bytes | None:
    """The file's last line (with its newline), read from the end; None for an empty file."""
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        if end == 0:
            return None
        tail, pos = b"", end
        while pos > 0:
            step = min(_TAIL_CHUNK, pos)
            pos -= step
            fh.seek(pos)
            tail = fh.read(step) + tail
            cut = tail.rfind(b"\n", 0, len(tail) - 1)
            if cut >= 0:
                return tail[cut + 1:]
        return tail


def verify(path: str | Path, expect_head: str | None = None) -> tuple[bool, int | None, str]:
    """Check a log's whole chain: ``(True, None, summary)``, or ``(False, seq, reason)`` naming
    the first record (by its position) that is not what the chain says it must be."""
    prev, seq = GENESIS, 0
    with open(path, "rb") as fh:
        for line in fh:
            parsed = _parse(line)
            if isinstance(parsed, str):
                return False, seq, parsed
            record, stored, body = parsed
            if record["seq"] != seq:
                return False, seq, (f"found seq {record['seq']} where seq {seq} belongs: a record was "
                                    "removed, reordered or inserted here")
            if record["prev"] != prev:
                return False, seq, "prev is not the previous record's hash: the chain is broken here"
            if hashlib.sha256(body).hexdigest() != stored:
                return False, seq, "the hash does not match the record's bytes: it was edited"
            prev, seq = stored, seq + 1
    if expect_head is not None and expect_head != prev:
        return False, seq, f"the log ends at head {prev[:16]}... after {seq} records, not at the expected head"
    return True, None, f"{seq} records, head {prev}"


class AuditLog:
    """Appends hash-chained records to ``path`` (created, or continued where it ends)."""

    def __init__(self, path: str | Path, fsync: bool = False):
        self.path = Path(path)
        self.fsync = fsync
        self.seq, self.head = 0, GENESIS
        last = _last_line(self.path) if self.path.is_file() else None
        if last is not None:
            parsed = _parse(last)
            if isinstance(parsed, str) or hashlib.sha256(parsed[2]).hexdigest() != parsed[1]:
                reason = parsed if isinstance(parsed, str) else "its hash does not match"
                raise ValueError(f"{self.path} does not end with a valid record ({reason}); "
                                 f"check it with `advisorgym audit verify {self.path}`")
            self.seq, self.head = parsed[0]["seq"] + 1, parsed[1]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "ab")
        self._pending: list[bytes] = []

    def append(self, kind: str, payload: Mapping[str, Any], flush: bool = False) -> str:
        """Write one record; its hash (the new head). Records are buffered in memory until
        ``flush`` (each episode end does), ``BUFFERED_RECORDS`` are pending or the log closes;
        ``fsync=True`` makes every record durable at once, at several times the cost of a step."""
        body = canonical({"kind": kind, "payload": payload, "prev": self.head, "seq": self.seq})
        digest = hashlib.sha256(body).hexdigest()
        self._pending.append(b"".join((body[:-1], b',"hash":"', digest.encode(), b'"}\n')))
        self.seq, self.head = self.seq + 1, digest
        if flush or self.fsync or len(self._pending) >= BUFFERED_RECORDS:
            self.flush()
        return digest

    def flush(self) -> None:
        """Write the pending records to the file (and to the disk, with ``fsync=True``)."""
        self._fh.write(b"".join(self._pending))
        self._pending.clear()
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())

    def record_call(self, name: Any, arguments: Any, result_sha256: str, *, ok: bool, error: str | None = None,
                    task_id: str | None = None, step: int | None = None, tool_version: str | None = None) -> str:
        """One tool call: its name and arguments as the agent sent them, its result's hash
        (``result_hash``), whether it succeeded and its error code; ``tool_version``: the
        version it ran in where the task pins one (the record has no such key otherwise)."""
        body = {"task_id": task_id, "step": step, "name": name, "arguments": arguments,
                "result_sha256": result_sha256, "ok": ok, "error": error}
        if tool_version is not None:
            body["tool_version"] = tool_version
        return self.append("call", body)

    def record_episode_end(self, task_id: str, reward: Mapping[str, Any], versions: Mapping[str, Any]) -> str:
        """One episode's end: its reward breakdown and the versions that produced it (``run_versions``)."""
        return self.append("episode_end", {"task_id": task_id, "reward": reward, "versions": versions}, flush=True)

    def close(self) -> None:
        self.flush()
        self._fh.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_versions(reward_config: Mapping[str, Any], tasks_sha256: str, replica_meta: Mapping[str, Any],
                 contract_path: str | Path | None = None) -> dict[str, Any]:
    """What produced a score: the environment's version, the contract file's SHA-256, the reward
    config (its version and the SHA-256 of all its fields), the task suite's SHA-256 and the
    replica's manifest (its metadata, and their SHA-256)."""
    from mock_apis.contracts import contract_sha256

    manifest = dict(sorted(replica_meta.items()))
    return {
        "environment": f"advisorgym {package_version('unknown')}",
        "contract": contract_sha256(contract_path),
        "reward_config": {"version": reward_config.get("version"),
                          "sha256": hashlib.sha256(canonical(dict(reward_config))).hexdigest()},
        "task_suite": tasks_sha256,
        "replica_manifest": {**manifest, "sha256": hashlib.sha256(canonical(manifest)).hexdigest()},
    }
