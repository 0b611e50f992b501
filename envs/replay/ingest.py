"""``replay ingest``: production logs in, one session record per line out, every line accounted for.

Each input line is either ingested (``DIR/sessions.jsonl``: the session records of
``envs.replay.logformat``, with ``source: {"file", "line"}``) or rejected into
``DIR/rejects.jsonl`` with its file, line number, a reason code (``REASONS``) and a message.
``DIR/summary.json`` holds ``total`` (lines read), ``ingested``, ``rejected`` and the count per
reason, overall and per file; ``ingested + rejected == total`` always.

Duplicates: a session whose id, or whose content (``content_hash``: the same session in the
other format or under another id), was already ingested is rejected as ``duplicate_session``,
pointing at the first copy; a known id with different content is ``conflicting_session``. So
a session counts once, in ``ingested``, and every further copy is one rejected line.

With a key (``key_file``), sessions are de-identified with the same keyed mapping as the
replica (``mock_apis.deid.pseudonymise``): fields of tool results and arguments named like a
PII column (``full_name``, ``email``, ``phone``, ...) get the replica's pseudonym of their value,
so names and contacts in logs match those a replica built with the same key holds (ids are
not PII and are kept, so they still resolve), a searched-for name (``DomainRules.pii_arguments``) gets
its pseudonym, and every other text (queries, thoughts, answers, notes, raw turns) is
scrubbed. Scrubbing finds the names registered before any text is scrubbed: those in every
session's tool results, and, with ``names_from`` (the source database's URL, as
``replica build --source``), every person's name in the source, so that a name only an
answer or a query mentions is found too. Rejected lines then keep only their SHA-256 and size (the raw
line stays in the source file). Ingest never raises on bad input.

Files are read as streams and sessions written as they are accepted; what stays in memory is
one verdict per session (its content hash, id and place, for duplicates). De-identification
needs every session's names before it scrubs any, so it reads the accepted lines a second time.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from envs.replay.logformat import REASONS, LogError, classify_json_error, content_hash, parse_session
from mock_apis.atomic import atomic_write, check_outputs, marker_outputs, write_json_atomic
from mock_apis.domain import Domain, get_domain

SESSIONS = "sessions.jsonl"
REJECTS = "rejects.jsonl"
SUMMARY = "summary.json"
#: The longest line ingest reads (bytes); a longer one is rejected as ``line_too_long`` without
#: being held in memory.
MAX_LINE_BYTES = 8 << 20
#: What a PII field holds after de-identification when its value could not be pseudonymised.
WITHHELD = "[withheld]"


def log_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files to read: each path, a directory standing for its ``*.jsonl`` files (sorted)."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    return files


class LongLine(NamedTuple):
    """A line over ``MAX_LINE_BYTES``, read past rather than held: its size and SHA-256 (without its newline)."""

    size: int
    sha256: str


def _lines(path: Path, cap: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | LongLine]]:
    """The file's lines, numbered from 1, without their ``\n``, read as a stream (a file's final
    newline ends its last line; it does not start another). A line over ``cap`` bytes is never
    held whole: it is a ``LongLine``."""
    with open(path, "rb") as fh:
        n = 0
        while line := fh.readline(cap + 1):
            n += 1
            body = line.removesuffix(b"\n")
            if len(body) <= cap:
                yield n, body
                continue
            digest, size = hashlib.sha256(body), len(body)
            while not line.endswith(b"\n") and (line := fh.readline(1 << 20)):
                body = line.removesuffix(b"\n")
                digest.update(body)
                size += len(body)
            yield n, LongLine(size, digest.hexdigest())


def read_line(raw: bytes, tools: dict[str, Any]) -> dict[str, Any]:
    """The session record of one raw line, or ``LogError`` (never anything else)."""
    raw = raw.removesuffix(b"\r")
    if not raw.strip():
        raise LogError("empty_line", "a blank line")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LogError("invalid_encoding", f"not UTF-8 at byte {err.start} (0x{raw[err.start]:02x}): "
                                           "a line in another encoding (e.g. Latin-1)") from None
    text = text.removeprefix("\ufeff")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise classify_json_error(text, err) from None
    try:
        return parse_session(value, tools)
    except LogError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError) as err:  # a shape no check above foresaw
        raise LogError("invalid_value", f"the session could not be read ({type(err).__name__}: {str(err)[:200]})") \
            from None


class Deidentifier:
    """De-identifies session records with part A's keyed ``Pseudonymiser`` (see the module doc)."""

    def __init__(self, key_file: str | os.PathLike[str], argument_kinds: Mapping[tuple[str, str], str] | None = None):
        from mock_apis.deid.pseudonymise import PII_COLUMNS, Pseudonymiser, load_key

        self.pseudonymiser = Pseudonymiser(load_key(key_file))
        self.kinds = {column: kind for (_, column), kind in PII_COLUMNS.items()}
        # Tool arguments that hold PII, by (tool, argument) (``DomainRules.pii_arguments``)
        self.argument_kinds = dict(get_domain().rules.pii_arguments if argument_kinds is None else argument_kinds)

    def register_source(self, url: str) -> None:
        """Register every person's name in the source database (a SQLAlchemy URL, the one the
        replica is built from), so that names only free text mentions are scrubbed too."""
        from sqlalchemy import create_engine
        from sqlalchemy.exc import SQLAlchemyError

        from mock_apis.deid.build import register_source_names

        try:
            engine = create_engine(url)
        except (SQLAlchemyError, ValueError) as err:
            raise ValueError(f"--names-from: not a usable database URL ({err})") from None
        try:
            with engine.connect() as con:
                register_source_names(con, self.pseudonymiser)
        except SQLAlchemyError as err:
            raise ValueError(f"--names-from: cannot read the names from {engine.url!r}: "
                             f"{str(err).splitlines()[0][:300]}") from None
        finally:
            engine.dispose()

    def register(self, session: dict[str, Any]) -> None:
        """Register the names in the session's tool results, so that ``scrub`` finds them in text."""
        names: list[str] = []
        for turn in session["turns"]:
            for call in turn["calls"]:
                self._names(call["result"], None, names)
        self.pseudonymiser.register_names(names)

    def _names(self, value: Any, key: str | None, names: list[str]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._names(v, k, names)
        elif isinstance(value, list):
            for v in value:
                self._names(v, key, names)
        elif isinstance(value, str) and self.kinds.get(key or "") == "name":
            names.append(value)

    def apply(self, session: dict[str, Any]) -> dict[str, Any]:
        """The session with PII fields pseudonymised and every other text scrubbed."""
        out = {**session, "metadata": self.value(session["metadata"])}
        for key in ("system", "query", "user_id"):  # a user id may be an email: scrubbed the same everywhere
            out[key] = self.value(session[key], key)
        turns = []
        for turn in session["turns"]:
            turn = {**turn, **{k: self.value(turn[k], k) for k in ("thought", "response", "raw", "observation",
                                                                 "reasoning")}}
            turn["calls"] = [{**c, "arguments": self._arguments(c["name"], c["arguments"]),
                              "result": self.value(c["result"])} for c in turn["calls"]]
            turns.append(turn)
        out["turns"] = turns
        return out

    def _arguments(self, tool: Any, arguments: Any) -> Any:
        if isinstance(arguments, str):  # chat: JSON text
            try:
                decoded = orjson.loads(arguments)
            except orjson.JSONDecodeError:
                return self.pseudonymiser.scrub(arguments)
            return orjson.dumps(self._arguments(tool, decoded)).decode()
        if isinstance(arguments, dict):
            kinds = self.argument_kinds
            return {k: self.pseudonymiser.fake(kinds[tool, k], v)
                    if isinstance(v, str) and (tool, k) in kinds else self.value(v, k)
                    for k, v in arguments.items()}
        return self.value(arguments)

    def value(self, value: Any, key: str | None = None) -> Any:
        """``value`` de-identified: a string under a PII field's name gets its pseudonym (one
        that is not of its kind's shape is withheld), any other string is scrubbed."""
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, key) for v in value]
        if not isinstance(value, str):
            return value
        if key in self.kinds:
            try:
                return self.pseudonymiser.fake(self.kinds[key], value)
            except ValueError:  # e.g. a birth_date that is not a date
                return WITHHELD
        return self.pseudonymiser.scrub(value)


def _reject(file: str, line: int, raw: bytes | LongLine, err: LogError, keep_text: bool) -> dict[str, Any]:
    if isinstance(raw, LongLine):
        return {"file": file, "line": line, "reason": err.reason, "message": err.message, "bytes": raw.size,
                "sha256": raw.sha256}
    record: dict[str, Any] = {"file": file, "line": line, "reason": err.reason, "message": err.message[:500],
                              "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    if keep_text:
        record["text"] = raw.decode("utf-8", errors="backslashreplace")
    return record


def ingest_logs(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
                key_file: str | os.PathLike[str] | None = None, names_from: str | None = None,
                domain: str | Domain | None = None) -> dict[str, Any]:
    """Ingest the log files ``paths`` (directories: their ``*.jsonl``) into ``out``; the summary.
    ``key_file``: de-identify (see the module doc); ``names_from``: the source database's URL,
    whose people's names are registered for scrubbing first. ``domain``: whose tools the logs
    call (default: the default domain). Bad input never raises; a bad key or database does
    (``ValueError``), before anything is written."""
    if names_from is not None and key_file is None:
        raise ValueError("--names-from only applies with --key-file (names are registered for de-identification)")
    found = get_domain(domain)
    tools = found.tools.tools
    deid = Deidentifier(key_file, found.rules.pii_arguments) if key_file is not None else None
    if deid is not None and names_from is not None:
        deid.register_source(names_from)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # One pass decides every line (and registers the names de-identification must know, from
    # every session, before any is written); only the verdicts stay in memory: a session's
    # content hash, id and place. Sessions are written as they come, or, de-identified, by a
    # second read of the lines kept.
    by_id: dict[str, tuple[str, str]] = {}  # session id -> (content hash, file:line)
    by_hash: dict[str, tuple[str, str]] = {}  # content hash -> (session id, file:line)
    kept: dict[str, set[int]] = {}
    per_file: dict[str, Counter[str]] = {}
    reasons: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    without_task_id = 0
    # Written beside their final names and renamed at the end; summary.json, written last,
    # lists their SHA-256: a folder without it, or whose files differ from it, is incomplete.
    with atomic_write(out / REJECTS) as rejects, atomic_write(out / SESSIONS) as written:
        files = log_files(paths)
        for path in files:
            name = str(path)
            counts = per_file.setdefault(name, Counter())
            for n, raw in _lines(path):
                counts["total"] += 1
                try:
                    if isinstance(raw, LongLine):
                        raise LogError("line_too_long", f"the line has {raw.size} bytes, more than the "
                                                        f"{MAX_LINE_BYTES} ingest reads")
                    session = read_line(raw, tools)
                    digest, session_id = content_hash(session), str(session["session_id"])
                    copy_of = by_hash.get(digest)
                    known = by_id.get(session_id)
                    if known is not None and known[0] != digest:
                        raise LogError("conflicting_session", f"session {session_id[:80]!r} was ingested from "
                                                              f"{known[1]} with different content")
                    if copy_of is not None or known is not None:
                        original = copy_of if copy_of is not None else (session_id, known[1])  # type: ignore[index]
                        raise LogError("duplicate_session", f"a copy of session {original[0]!r} ({original[1]})")
                except LogError as err:
                    counts["rejected"] += 1
                    reasons[err.reason] += 1
                    rejects.write(orjson.dumps(_reject(name, n, raw, err, deid is None)) + b"\n")
                    continue
                by_hash[digest] = (session_id, f"{name}:{n}")
                by_id[session_id] = (digest, f"{name}:{n}")
                counts["ingested"] += 1
                formats[session["format"]] += 1
                without_task_id += session["task_id"] is None
                session["source"] = {"file": name, "line": n}
                if deid is None:
                    written.write(orjson.dumps(session) + b"\n")
                else:
                    deid.register(session)
                    kept.setdefault(name, set()).add(n)
        if deid is not None:
            for path in files:
                lines = kept.get(str(path))
                for n, raw in _lines(path) if lines else ():
                    if n in lines:
                        session = read_line(raw, tools)  # type: ignore[arg-type]  (kept lines are bytes)
                        session["source"] = {"file": str(path), "line": n}
                        written.write(orjson.dumps(deid.apply(session)) + b"\n")
    summary = {
        "total": sum(c["total"] for c in per_file.values()),
        "ingested": sum(c["ingested"] for c in per_file.values()),
        "rejected": sum(c["rejected"] for c in per_file.values()),
        "reasons": {r: reasons[r] for r in REASONS if reasons[r]},
        "files": {f: {k: c[k] for k in ("total", "ingested", "rejected")} for f, c in per_file.items()},
        "formats": dict(sorted(formats.items())),
        "without_task_id": without_task_id,
        "duplicates": "each copy of a session after the first is one rejected line (duplicate_session); the "
                      "session itself counts once, in ingested",
        "deidentified": deid is not None, "key_fingerprint": deid.pseudonymiser.fingerprint if deid is not None else None,
        "max_line_bytes": MAX_LINE_BYTES,
        "outputs": marker_outputs(out, (SESSIONS, REJECTS)),
    }
    assert summary["ingested"] + summary["rejected"] == summary["total"]
    write_json_atomic(out / SUMMARY, summary)
    return summary


def check_ingest(directory: Path) -> dict[str, Any]:
    """The summary of a complete ingest in ``directory``; ``IncompleteOutput`` (one line) otherwise."""
    return check_outputs(directory, SUMMARY, "replay ingest",
                         f"run `advisorgym replay ingest LOGS... --out {directory}` again (or pass --allow-partial)")


def read_records(path: Path, what: str) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file this package wrote; ``ValueError`` naming the line if
    one is not (the file was edited or cut)."""
    records = []
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as err:
                raise ValueError(f"{path}:{n}: not a {what} ({err}); rerun the command that wrote it") from None
            if not isinstance(record, dict) or "session_id" not in record:
                raise ValueError(f"{path}:{n}: not a {what}; rerun the command that wrote it")
            records.append(record)
    return records


def load_sessions(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The session records an ingest wrote to ``directory``."""
    return read_records(Path(directory) / SESSIONS, "session record")
