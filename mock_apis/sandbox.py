"""Episode sandboxes over a read-only replica, with a copy-on-write overlay for writes.

Each ``Sandbox`` owns one SQLite connection that opens the replica file read-only and
attaches a private in-memory database ``ep``. For every writable table it creates
``ep.<table>`` and a temporary view named like the table, so unqualified SQL sees
``overlay rows ∪ (base rows not shadowed by the overlay)``. Tools therefore read with plain
table names and write only through ``insert``/``update``, which touch the overlay alone.

``reset()`` empties the overlay: a few microseconds, whatever the replica's size, and the
base file is never written, so any number of sandboxes (threads or processes) can share
one replica without seeing each other's writes.

New ids (``next_id``) never read through the views: the view's ``UNION ALL ... NOT IN``
defeats SQLite's min/max optimisation, so ``MAX`` over it scans the whole base table. The
base table's largest id is read once per sandbox (the replica is immutable) and the
overlay's from its primary-key index, so a write costs O(log n) whatever the replica's
size, and the id is the same as the view's ``MAX`` would give (the view's keys are exactly
the overlay's keys and the base's).
"""

from __future__ import annotations

import sqlite3
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_apis.domain_table import DEFAULT_DOMAIN, lookup

if TYPE_CHECKING:
    from mock_apis.domain import ReplicaSchema

OVERLAY_PAGE_BYTES = 1024


class ReplicaError(ValueError):
    """A replica file that cannot be served: not SQLite, damaged, or not of this schema. The
    message is one line naming the file and the problem."""


# Replicas that passed ``check_replica``, by (path, size, mtime): the envs of one process (a
# vector env, an eval's workers) share a replica file, which is read whole only once.
_CHECKED: set[tuple[str, int, int, str]] = set()


def default_schema() -> ReplicaSchema:
    """The default domain's replica schema (what a sandbox opened without one serves)."""
    schema: ReplicaSchema = lookup(DEFAULT_DOMAIN).schema
    return schema


def check_replica(replica_path: str | Path, schema: ReplicaSchema | None = None) -> None:
    """Check a replica before serving it: SQLite's ``quick_check``, every table and column of
    the schema (``schema``, default: the default domain's), and that every row reads back (a flipped bit inside a
    text value leaves the b-tree whole but the text not UTF-8, which ``quick_check`` does not
    see); ``ReplicaError`` (one line) on the first problem. ~40 ms on the default replica (it
    reads every row once); a file that passed is not read again in this process until it changes."""
    path = Path(replica_path)
    if not path.is_file():
        raise FileNotFoundError(f"replica not found: {path}")
    stat = path.stat()
    schema = schema or default_schema()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, schema.version)
    if key in _CHECKED:
        return
    try:
        con = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA quick_check(1)").fetchone()[0]
            if result != "ok":
                raise ReplicaError(f"replica {path}: SQLite integrity check failed ({result.splitlines()[0]})")
            for name, table in schema.metadata.tables.items():
                columns = {row[1] for row in con.execute(f"PRAGMA table_info({name})")}
                if not columns:
                    raise ReplicaError(f"replica {path}: no table {name} (not an advisorgym replica?)")
                missing = [c.name for c in table.columns if c.name not in columns]
                if missing:
                    raise ReplicaError(f"replica {path}: table {name} lacks column(s) {', '.join(missing)}")
                try:
                    for _ in con.execute(f"SELECT * FROM {name}"):
                        pass
                except sqlite3.OperationalError as err:  # "Could not decode to UTF-8 column ..."
                    detail = " ".join(str(err).split())[:200]
                    raise ReplicaError(f"replica {path}: table {name} holds a damaged value ({detail})") from None
        finally:
            con.close()
    except sqlite3.Error as err:
        raise ReplicaError(f"replica {path}: not a readable SQLite database ({err})") from None
    _CHECKED.add(key)


class Sandbox:
    """An episode's view of a replica: the replica read-only, the episode's writes in an in-memory
    overlay, so that episodes never see each other's writes and ``reset`` is cheap.
    """

    def __init__(self, replica_path: str | Path, schema: ReplicaSchema | None = None):
        self.replica_path = Path(replica_path)
        self.schema = schema or default_schema()
        if not self.replica_path.is_file():
            raise FileNotFoundError(f"replica not found: {self.replica_path}")
        uri = f"file:{self.replica_path.resolve()}?mode=ro&immutable=1"
        self.con = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        self.con.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self.con.execute("ATTACH DATABASE ':memory:' AS ep")
        # The overlay holds an episode's few writes: 1 KiB pages instead of 4 KiB make each of its
        # empty tables and indexes a quarter of the size (~90 KiB less per sandbox, per live env).
        self.con.execute(f"PRAGMA ep.page_size={OVERLAY_PAGE_BYTES}")
        self._primary_keys: dict[str, list[str]] = {}
        for name in self.schema.writable_tables:
            table = self.schema.metadata.tables[name]
            pk = [c.name for c in table.primary_key.columns]
            self._primary_keys[name] = pk
            self.con.execute(f"CREATE TABLE ep.{name} AS SELECT * FROM main.{name} WHERE 0")
            self.con.execute(f"CREATE UNIQUE INDEX ep.{name}_pk ON {name} ({', '.join(pk)})")
            pk_tuple = ", ".join(pk)
            self.con.execute(
                f"CREATE TEMP VIEW {name} AS SELECT * FROM ep.{name} UNION ALL "
                f"SELECT * FROM main.{name} WHERE ({pk_tuple}) NOT IN (SELECT {pk_tuple} FROM ep.{name})"
            )
        self._base_max: dict[tuple[str, str], Any] = {}
        self.dirty = False

    @cached_property
    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.con.execute("SELECT key, value FROM meta")}

    @property
    def as_of(self) -> str:
        return self.meta["as_of"]

    def reset(self) -> None:
        """Drop every write made since the last reset."""
        if self.dirty:
            with self.lock:
                for name in self.schema.writable_tables:
                    self.con.execute(f"DELETE FROM ep.{name}")
                self.dirty = False

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.con.execute(sql, params)]

    def query_one(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        row = self.con.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def scalar(self, sql: str, params: tuple | dict = ()) -> Any:
        row = self.con.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    def insert(self, table: str, row: dict[str, Any]) -> None:
        self._check_writable(table)
        cols = ", ".join(row)
        marks = ", ".join("?" * len(row))
        self.con.execute(f"INSERT INTO ep.{table} ({cols}) VALUES ({marks})", tuple(row.values()))
        self.dirty = True

    def update(self, table: str, key: dict[str, Any], changes: dict[str, Any]) -> None:
        """Update one row by primary key, copying it from the base into the overlay first."""
        self._check_writable(table)
        where = " AND ".join(f"{k} = ?" for k in key)
        params = tuple(key.values())
        if self.con.execute(f"SELECT 1 FROM ep.{table} WHERE {where}", params).fetchone() is None:
            self.con.execute(f"INSERT INTO ep.{table} SELECT * FROM main.{table} WHERE {where}", params)
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.con.execute(f"UPDATE ep.{table} SET {sets} WHERE {where}", tuple(changes.values()) + params)
        self.dirty = True

    def next_id(self, table: str, column: str, prefix: str, width: int) -> str:
        """The next free ``prefix + zero-padded number`` id across base and overlay."""
        self._check_writable(table)
        key = (table, column)
        if key not in self._base_max:
            self._base_max[key] = self.scalar(f"SELECT MAX({column}) FROM main.{table}")
        base = self._base_max[key]
        overlay = self.scalar(f"SELECT MAX({column}) FROM ep.{table}")
        last = base if overlay is None else overlay if base is None else max(base, overlay)
        n = int(last[len(prefix):]) + 1 if last else 1
        return f"{prefix}{n:0{width}d}"

    def _check_writable(self, table: str) -> None:
        if table not in self._primary_keys:
            raise ValueError(f"table {table!r} is not writable")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
