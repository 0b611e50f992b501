"""A tamper-evident audit trail: hash-chained JSONL, one record per tool call and per episode end.

Each line is one record, the canonical JSON (sorted keys, no spaces) of ``{"kind", "payload",
"prev", "seq"}`` with ``"hash"`` appended last: ``hash`` is the SHA-256 of the record's bytes
without it (the line up to ``,"hash":``, closed by ``}``), ``prev`` the previous record's hash
(64 zeros for the first) and ``seq`` its position from 0. ``verify`` recomputes the chain from
the bytes as written, so an edited byte, a removed, reordered or inserted line breaks it at the
first record concerned. Truncating the tail keeps the chain whole: pass the head a run report
recorded (``AuditLog.head`` after the last record) to ``verify`` to catch that too.

One writer per file: two writers would fork the chain (vector envs in processes each need
their own file). Within a process, writes are serialised by a lock.

Durability. ``flush`` writes the pending records with ``write(2)`` (surviving the process's
death: a kill -9 loses nothing written); ``sync`` (async) then makes them durable with
``fsync``, one ``fsync`` for every record written while the previous one ran (group commit).
A write that fails (a full disk) is undone: the file is cut back to its last whole record and
the records not written are dropped (``AuditUnavailable``), so the log verifies again and the
next write may succeed once there is space. A failed ``fsync`` (an I/O error: space was
allocated by the write) marks the log ``failed``: the service refuses every call after it.
``advisorgym audit repair`` cuts a torn tail (a killed writer, a crashed machine) back to the
last verified record and records the repair in the chain.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from mock_apis import package_version
from mock_apis.atomic import write_atomic
from mock_apis.contracts import contract_sha256
from mock_apis.errors import AdvisorGymError

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


class AuditUnavailable(AdvisorGymError, RuntimeError):
    """The log could not be written or made durable; what was not written was undone."""


class AuditLog:
    """Appends hash-chained records to ``path`` (created, or continued where it ends)."""

    def __init__(self, path: str | Path, fsync: bool = False):
        self.path = Path(path)
        self.fsync = fsync
        self.seq, self.head = 0, GENESIS
        #: Why the log can no longer be trusted to be durable (a failed fsync), or None.
        self.failed: str | None = None
        last = _last_line(self.path) if self.path.is_file() else None
        if last is not None:
            parsed = _parse(last)
            if isinstance(parsed, str) or hashlib.sha256(parsed[2]).hexdigest() != parsed[1]:
                reason = parsed if isinstance(parsed, str) else "its hash does not match"
                raise ValueError(f"{self.path} does not end with a valid record ({reason}); check it with "
                                 f"`advisorgym audit verify {self.path}`, cut a torn tail with "
                                 f"`advisorgym audit repair {self.path}`")
            self.seq, self.head = parsed[0]["seq"] + 1, parsed[1]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._size = os.fstat(self._fd).st_size
        self._pending: list[bytes] = []
        #: Held by a writer for a group of records written as one (re-entrant).
        self.lock = threading.RLock()
        self._written = self._synced = self.seq  # records written; made durable (group commit)
        self._written_head = self.head
        self._sync_task: asyncio.Future[None] | None = None

    def append(self, kind: str, payload: Mapping[str, Any], flush: bool = False) -> str:
        """Write one record; its hash (the new head). Records are buffered in memory until
        ``flush`` (each episode end does), ``BUFFERED_RECORDS`` are pending or the log closes;
        ``fsync=True`` makes every record durable at once, at several times the cost of a step."""
        with self.lock:
            body = canonical({"kind": kind, "payload": payload, "prev": self.head, "seq": self.seq})
            digest = hashlib.sha256(body).hexdigest()
            self._pending.append(b"".join((body[:-1], b',"hash":"', digest.encode(), b'"}\n')))
            self.seq, self.head = self.seq + 1, digest
        if flush or self.fsync or len(self._pending) >= BUFFERED_RECORDS:
            self.flush()
        return digest

    def flush(self) -> None:
        """Write the pending records to the file (and to the disk, with ``fsync=True``). If that
        fails, the file is cut back to its last whole record, the pending records are dropped
        (``seq`` and ``head`` are those of the file again) and ``AuditUnavailable`` is raised."""
        with self.lock:
            data = memoryview(b"".join(self._pending))
            self._pending.clear()
            try:
                done = 0
                while done < len(data):
                    done += os.write(self._fd, data[done:])
                if self.fsync:
                    os.fsync(self._fd)
            except OSError as err:
                self.seq, self.head = self._written, self._written_head
                try:
                    os.ftruncate(self._fd, self._size)
                except OSError as cut:
                    self.failed = f"cutting a failed write back failed: {cut.strerror}"
                raise AuditUnavailable(f"the audit log {self.path} could not be written ({err.strerror}); "
                                       "the call was not executed") from None
            self._size += len(data)
            self._written, self._written_head = self.seq, self.head
            if self.fsync:
                self._synced = self._written

    async def sync(self) -> None:
        """Return once every record written so far is on disk (``fsync`` in a worker thread;
        callers that arrive while one runs share the next). ``AuditUnavailable`` if it fails."""
        target = self._written
        while self._synced < target:
            if self.failed is not None:
                raise AuditUnavailable(f"the audit log {self.path} failed: {self.failed}")
            if self._sync_task is None:
                self._sync_task = asyncio.ensure_future(self._fsync())
            await asyncio.shield(self._sync_task)

    async def _fsync(self) -> None:
        target = self._written
        try:
            await asyncio.get_running_loop().run_in_executor(None, os.fsync, self._fd)
            self._synced = max(self._synced, target)
        except OSError as err:
            self.failed = f"fsync failed ({err.strerror})"
        finally:
            self._sync_task = None

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
        try:
            self.flush()
            if self._synced < self._written:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def repair(path: str | Path, force: bool = False) -> dict[str, Any]:
    """Cut the log at ``path`` back to its last verified record and append a ``repair`` record
    saying what was cut and why; the cut bytes are kept in ``<path>.cut-<time>``. Without
    ``force`` only a bad last line is cut (a torn write); damage further up (an edit) raises
    ``ValueError``, since cutting there would drop verified records after it. The report."""
    path = Path(path)
    ok, bad_seq, reason = verify(path)
    if ok:
        return {"repaired": False, "log": str(path), "summary": reason}
    assert bad_seq is not None  # verify names the first bad record whenever the log does not verify
    keep, lines = 0, 0
    with open(path, "rb") as fh:
        for n, line in enumerate(fh):
            if n < bad_seq:
                keep += len(line)
            else:
                lines += 1
    if lines > 1 and not force:
        raise ValueError(f"{path}: record {bad_seq} is bad ({reason}) and {lines - 1} more line(s) follow it; "
                         "repair cuts only a torn last record unless --force")
    size = path.stat().st_size
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    saved = path.with_name(f"{path.name}.cut-{stamp}")
    with open(path, "rb") as fh:
        fh.seek(keep)
        write_atomic(saved, fh.read())
    os.truncate(path, keep)
    with AuditLog(path, fsync=True) as log:
        head = log.append("repair", {"at": stamp, "first_bad_seq": bad_seq, "reason": reason, "cut_bytes": size - keep,
                                     "cut_lines": lines, "saved_to": saved.name}, flush=True)
    return {"repaired": True, "log": str(path), "kept_records": bad_seq, "cut_lines": lines,
            "cut_bytes": size - keep, "reason": reason, "saved_to": str(saved), "repair_seq": bad_seq, "head": head}


def run_versions(reward_config: Mapping[str, Any], tasks_sha256: str, replica_meta: Mapping[str, Any],
                 contract_path: str | Path | None = None) -> dict[str, Any]:
    """What produced a score: the environment's version, the contract file's SHA-256, the reward
    config (its version and the SHA-256 of all its fields), the task suite's SHA-256 and the
    replica's manifest (its metadata, and their SHA-256)."""

    manifest = dict(sorted(replica_meta.items()))
    return {
        "environment": f"advisorgym {package_version('unknown')}",
        "contract": contract_sha256(contract_path),
        "reward_config": {"version": reward_config.get("version"),
                          "sha256": hashlib.sha256(canonical(dict(reward_config))).hexdigest()},
        "task_suite": tasks_sha256,
        "replica_manifest": {**manifest, "sha256": hashlib.sha256(canonical(manifest)).hexdigest()},
    }
