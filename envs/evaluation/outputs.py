"""The eval's output files: their names, and ``episodes.jsonl``'s crash-safe reading and writing.

``episodes.jsonl`` holds one JSON line per finished episode, flushed and fsynced as soon as
the episode ends (episodes that end together, in one fsync). On start the file is read back,
finished tasks are skipped and a truncated last line (a crash mid-write) is dropped, so that
task runs again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson

from mock_apis.errors import AdvisorGymError

EPISODES = "episodes.jsonl"
RUN = "run.json"
METRICS = "metrics.json"
REPORT = "report.md"
PLOT_METRICS = "metrics_by_level.png"
PLOT_REWARDS = "reward_components.png"
OUTPUTS = (EPISODES, RUN, METRICS, REPORT, PLOT_METRICS, PLOT_REWARDS)


LOCK = ".lock"


class EvalConfigError(AdvisorGymError, RuntimeError):
    """The output directory belongs to a different run (or its files are unusable)."""


class EvalLocked(EvalConfigError):
    """Another eval is writing to the output directory."""


class OutLock:
    """An exclusive lock on an output directory, held while an eval writes there.

    ``flock`` on ``OUT/.lock``: the kernel drops it when the process ends, however it ends,
    so a crashed eval never leaves the directory locked. The file holds the holder's pid.
    """

    def __init__(self, out: Path):
        import fcntl  # POSIX only: elsewhere the module still reads runs; only locking needs it

        out.mkdir(parents=True, exist_ok=True)
        self._fh = open(out / LOCK, "a+b")  # noqa: SIM115 - closed in release()
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.seek(0)
            holder = self._fh.read().decode(errors="replace").strip() or "?"
            self._fh.close()
            raise EvalLocked(f"{out} is in use by another eval (pid {holder}); wait for it to finish or use "
                             "another --out") from None
        self._fh.truncate(0)
        self._fh.write(str(os.getpid()).encode())
        self._fh.flush()

    def release(self) -> None:
        self._fh.close()  # closing drops the flock


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file, then a rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()



def load_episodes(path: str | os.PathLike[str], repair: bool = True) -> list[dict[str, Any]]:
    """The records of ``episodes.jsonl``; a truncated last line is dropped (and cut from the
    file when ``repair``). A corrupt line anywhere else is an error: it was not a crash."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # text after the last newline: b"" unless the last write was cut short
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        if not isinstance(record, dict) or "task_id" not in record:
            raise EvalConfigError(f"{path}:{n}: corrupt episode record (not the last line, so not a crash); "
                                  "fix or remove the line, or use --overwrite")
        records.append(record)
    if tail.strip():
        try:
            record = orjson.loads(tail)
        except orjson.JSONDecodeError:
            record = None
        complete = isinstance(record, dict) and "task_id" in record and "reward" in record
        if complete:
            records.append(record)
        if repair:
            with open(path, "r+b") as fh:
                if complete:
                    fh.seek(0, os.SEEK_END)
                    fh.write(b"\n")
                else:
                    fh.truncate(len(data) - len(tail))
                fh.flush()
                os.fsync(fh.fileno())
    return records


class EpisodeWriter:
    """Appends one record per line. ``write`` flushes and fsyncs before it returns unless told
    ``sync=False``; then ``sync`` (or ``close``) does it for every record written since, in one
    fsync (a concurrent eval's episodes that finish together are synced together)."""

    def __init__(self, path: Path):
        self._fh = open(path, "ab")  # noqa: SIM115 - closed in close()
        self._unsynced = False

    def write(self, record: dict[str, Any], sync: bool = True) -> None:
        self._fh.write(orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
        self._unsynced = True
        if sync:
            self.sync()

    def sync(self) -> None:
        if self._unsynced:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._unsynced = False

    def close(self) -> None:
        try:
            self.sync()
        finally:
            self._fh.close()
