"""Outputs that are complete or absent: atomic writes, their temporary files, completeness markers.

``atomic_write(path)`` writes to a temporary file beside ``path`` (``temp_beside``), fsyncs it,
renames it over ``path`` and fsyncs the folder: a reader sees the old file or the new one,
never a part. A run that is killed leaves only its temporary file (and, for SQLite, its
``-journal``), named ``.<name>.<pid>.<random>.tmp``; ``clean_stale_temps(path)`` removes those
whose process is gone, and every writer calls it first, so the next good run cleans up after a
killed one.

A folder of outputs (an ingest, a score run) is complete when its marker (a summary JSON)
exists and lists the SHA-256 of each output it vouches for (``marker_outputs``); the marker
is written last, so a run killed before it leaves no marker, and one killed between two
renames leaves digests that do not match (``check_outputs`` names the file).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

from mock_apis.errors import AdvisorGymError

_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp(?:-journal|-wal|-shm)?\Z")


class IncompleteOutput(AdvisorGymError, ValueError):
    """A folder's outputs are missing their completeness marker or do not match it."""


def temp_beside(path: str | os.PathLike[str]) -> Path:
    """A fresh temporary path in ``path``'s folder (created if missing), named after ``path``
    and this process, for an atomic replace; nothing is created at it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clean_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files (and SQLite journals) that killed writers of ``path`` left
    beside it; those of live processes are kept. The paths removed."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    removed = []
    for entry in path.parent.iterdir():
        match = _TEMP.match(entry.name)
        if match and match["name"] == path.name and not _alive(int(match["pid"])):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_temp(tmp: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Make a finished temporary file (closed by its writer) ``path``: fsync, rename, fsync the folder."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``path`` when the block ends without an exception (and is
    removed otherwise)."""
    path = Path(path)
    clean_stale_temps(path)
    tmp = temp_beside(path)
    try:
        with open(tmp, "xb") as fh:
            yield fh
        commit_temp(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_write(path) as fh:
        fh.write(data)


def write_jsonl_atomic(path: str | os.PathLike[str], rows: Iterable[Any]) -> None:
    with atomic_write(path) as fh:
        for row in rows:
            fh.write(orjson.dumps(row) + b"\n")


def write_json_atomic(path: str | os.PathLike[str], value: Any) -> None:
    write_atomic(path, orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")


def file_sha256(path: str | os.PathLike[str]) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def marker_outputs(directory: Path, names: Iterable[str]) -> dict[str, str]:
    """``{name: sha256}`` of the outputs a marker vouches for."""
    return {name: file_sha256(directory / name) for name in names}


def check_outputs(directory: Path, marker: str, what: str, rerun: str) -> dict[str, Any]:
    """The marker of a complete folder; ``IncompleteOutput`` (one line: which file, what to run)
    when the marker is missing or unreadable, or an output it lists is missing or differs."""
    path = directory / marker
    if not path.is_file():
        raise IncompleteOutput(f"{directory}: {what} did not finish (no {marker}); {rerun}")
    try:
        value = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        raise IncompleteOutput(f"{path}: not valid JSON; {rerun}") from None
    outputs = value.get("outputs") if isinstance(value, dict) else None
    if not isinstance(outputs, Mapping):
        raise IncompleteOutput(f"{path}: lists no outputs (written by an older version, or not by {what}); {rerun}")
    for name, digest in outputs.items():
        if not (directory / name).is_file():
            raise IncompleteOutput(f"{directory / name}: missing, though {marker} lists it; {rerun}")
        if file_sha256(directory / name) != digest:
            raise IncompleteOutput(f"{directory / name}: does not match {marker} ({what} was interrupted or the "
                                   f"file was changed); {rerun}")
    return value
