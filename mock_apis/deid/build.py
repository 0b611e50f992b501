"""``build_replica``: a de-identified SQLite replica from a production-shaped database.

The source is any SQLAlchemy URL (PostgreSQL in the tests; ``sqlite:///`` works too) whose
tables are those of ``mock_apis.domains.finance.models`` (without ``meta``: the build writes its own). Its
schema is checked first, and every difference (a missing or extra table or column, a column
whose type class changed) is reported as a ``SchemaDrift`` naming the table and column; nothing
is dropped or guessed. ``allow_extra=True`` leaves out extra tables and columns (never missing
or retyped ones) and lists them in the manifest.

Tables are read in primary-key order, in one consistent snapshot (``REPEATABLE READ`` where
the database has it), through a server-side cursor ``batch_rows`` rows at a time, and written
in that order, so the same source and key give a byte-identical file. PII columns
(``PII_COLUMNS``) are pseudonymised and free text scrubbed; everything else is copied as is.

Memory is bounded by ``batch_rows`` rows in flight (plus the driver's fetch buffer of the
same size), the distinct first and last names seen (for scrubbing), and SQLite's page cache
(``CACHE_KIB``): it does not grow with the number of rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, Engine, Float, Integer, MetaData, Numeric, String, Table, create_engine, \
    func, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

from mock_apis import package_version
from mock_apis.deid.pseudonymise import PII_COLUMNS, Pseudonymiser
from mock_apis.atomic import clean_stale_temps, commit_temp, temp_beside, write_atomic
from mock_apis.contracts.check import CONTRACT_FILE, contract_sha256
from mock_apis.contracts.snapshot import CONTRACT_FORMAT
from mock_apis.errors import AdvisorGymError
from mock_apis.domains.finance.generate import create_replica_schema, finish_replica, insert_rows, progress_bar
from mock_apis.domains.finance.models import SCHEMA_VERSION, SOURCE_TABLES, Base

#: Bump when the same source and key would give other bytes.
BUILD_VERSION = "1"
DEFAULT_BATCH_ROWS = 5000
CACHE_KIB = 16 * 1024
_TYPE_CLASSES: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (Boolean, "boolean"), (Integer, "integer"), (Numeric, "number"), (Float, "number"), (Date, "date"),
    (String, "text"))


class BuildError(AdvisorGymError, RuntimeError):
    """The replica cannot be built; the message says why."""


@dataclass(frozen=True)
class SchemaProblem:
    """One difference between the source schema and the model: ``kind`` is ``missing_table``,
    ``extra_table``, ``missing_column``, ``extra_column`` or ``type_changed``."""

    table: str
    column: str | None
    kind: str
    expected: str | None = None
    found: str | None = None

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        parts = [f"{label} {value}" for label, value in (("expected", self.expected), ("found", self.found)) if value]
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"{where}: {self.kind.replace('_', ' ')}{detail}"


class SchemaDrift(BuildError):
    """The source schema differs from the model; ``problems`` names each table and column."""

    def __init__(self, problems: list[SchemaProblem]):
        self.problems = problems
        super().__init__(f"the source schema differs from the model ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}): " + "; ".join(map(str, problems)))


def type_class(type_: TypeEngine[Any]) -> str:
    """The class of a column type the build compares (text, integer, number, date, boolean)."""
    for cls, name in _TYPE_CLASSES:
        if isinstance(type_, cls):
            return name
    return type(type_).__name__.lower()


def check_source_schema(engine: Engine, schema: str | None = None,
                        allow_extra: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The source's schema as a JSON-able dict (tables, columns, type classes, nullability), and
    what is left out of the build (with ``allow_extra``); raises ``SchemaDrift`` on a difference."""
    inspector = inspect(engine)
    present = set(inspector.get_table_names(schema=schema))
    problems: list[SchemaProblem] = []
    described: dict[str, Any] = {}
    for table in SOURCE_TABLES:
        if table.name not in present:
            problems.append(SchemaProblem(table.name, None, "missing_table"))
            continue
        columns = {c["name"]: c for c in inspector.get_columns(table.name, schema=schema)}
        described[table.name] = {name: {"type": type_class(c["type"]), "nullable": bool(c["nullable"])}
                                 for name, c in sorted(columns.items())}
        for column in table.columns:
            found = columns.get(column.name)
            if found is None:
                problems.append(SchemaProblem(table.name, column.name, "missing_column", type_class(column.type)))
            elif type_class(found["type"]) != type_class(column.type):
                problems.append(SchemaProblem(table.name, column.name, "type_changed", type_class(column.type),
                                              type_class(found["type"])))
        problems += [SchemaProblem(table.name, name, "extra_column", None, type_class(c["type"]))
                     for name, c in sorted(columns.items()) if name not in table.columns]
    problems += [SchemaProblem(name, None, "extra_table") for name in sorted(present - {t.name for t in SOURCE_TABLES})]
    left_out = [str(p) for p in problems if p.kind in ("extra_table", "extra_column")]
    blocking = [p for p in problems if not (allow_extra and p.kind in ("extra_table", "extra_column"))]
    if blocking:
        raise SchemaDrift(blocking)
    return {"tables": described}, left_out if allow_extra else []


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, date):  # a datetime too: a Date column read through a driver that widens it
        return value.isoformat()[:10]
    if isinstance(value, Decimal):
        return float(value)
    return value


def _row_mapper(table: Table, pseudonymiser: Pseudonymiser) -> Callable[[Iterable[Any]], tuple[Any, ...]]:
    kinds = [PII_COLUMNS.get((table.name, c.name)) for c in table.columns]

    def convert(row: Iterable[Any]) -> tuple[Any, ...]:
        return tuple(v if v is None else (pseudonymiser.fake(k, str(_sqlite_value(v))) if k else _sqlite_value(v))
                     for v, k in zip(row, kinds))

    return convert


def register_source_names(con: Any, pseudonymiser: Pseudonymiser, schema: str | None = None,
                          batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
    """Register every person's name in the source (``PII_COLUMNS`` of kind name) with
    ``pseudonymiser``, so that ``scrub`` finds them in free text."""
    for (table, column), kind in sorted(PII_COLUMNS.items()):
        if kind == "name":
            col = _source_table(Base.metadata.tables[table], schema).c[column]
            for part in con.execute(select(col).distinct()).partitions(batch_rows):
                pseudonymiser.register_names(v for (v,) in part if v is not None)


def _source_table(table: Table, schema: str | None) -> Table:
    return table.to_metadata(MetaData(), schema=schema) if schema else table


def _as_of(con: Any, schema: str | None) -> str:
    nav = _source_table(Base.metadata.tables["nav_history"], schema)
    latest = con.execute(select(func.max(nav.c.nav_date))).scalar()
    if latest is None:
        raise BuildError("nav_history is empty: the replica's as-of date is the latest NAV date")
    return str(_sqlite_value(latest))


def manifest_path(out: str | os.PathLike[str]) -> Path:
    """Where the manifest of the replica at ``out`` goes: ``<out>.manifest.json``."""
    return Path(f"{out}.manifest.json")


def _contract() -> dict[str, Any]:
    return {"file": CONTRACT_FILE, "format": CONTRACT_FORMAT, "sha256": contract_sha256(),
            "schema_version": SCHEMA_VERSION}


def build_replica(source_url: str, out: str | os.PathLike[str], key: bytes, *,
                  batch_rows: int = DEFAULT_BATCH_ROWS, progress: bool = False, schema: str | None = None,
                  allow_extra: bool = False) -> dict[str, Any]:
    """Build the de-identified replica of ``source_url`` at ``out`` (atomically) and write its
    manifest beside it (``manifest_path(out)``); return the manifest.

    ``schema``: the source's schema (PostgreSQL: default ``public``). The replica's as-of date
    (its "today") is the source's latest NAV date. Raises ``SchemaDrift`` or ``BuildError``.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    started = time.monotonic()
    pseudonymiser = Pseudonymiser(key)
    out = Path(out)
    try:
        engine = create_engine(source_url)
    except SQLAlchemyError as err:
        raise BuildError(f"not a usable SQLAlchemy URL: {err}") from None
    except ImportError as err:
        raise BuildError(f"the database driver is not installed ({err}); for PostgreSQL: "
                         "pip install -e '.[postgres]'") from None
    database = engine.url.database or ""
    if engine.dialect.name == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:") \
            and not Path(database).is_file():
        raise BuildError(f"source database not found: {database}")  # SQLite would create an empty one
    clean_stale_temps(out)  # a killed build's file and journal
    clean_stale_temps(manifest_path(out))
    tmp = temp_beside(out)
    try:
        source_schema, left_out = check_source_schema(engine, schema, allow_extra)
        schema_sha256 = hashlib.sha256(json.dumps(source_schema, sort_keys=True).encode()).hexdigest()
        counts = _copy(engine, str(tmp), pseudonymiser, schema, batch_rows, progress, schema_sha256)
        manifest_path(out).unlink(missing_ok=True)  # a replica is never beside another build's manifest
        commit_temp(tmp, out)
    except SQLAlchemyError as err:
        raise BuildError(f"reading the source failed: {str(err).splitlines()[0]}") from None
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}-journal").unlink(missing_ok=True)
        engine.dispose()
    with out.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    manifest = {
        "replica": out.name,
        "sha256": digest,
        "source": {"url": engine.url.render_as_string(hide_password=True), "schema_sha256": schema_sha256,
                   "left_out": left_out},
        "row_counts": counts,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(time.monotonic() - started, 3),
        "key_fingerprint": pseudonymiser.fingerprint,
        "contract": _contract(),
        "builder": {"package": "advisorgym", "version": package_version("unknown (not installed)"),
                    "build_version": BUILD_VERSION},
        "pii_columns": sorted(f"{t}.{c}:{k}" for (t, c), k in PII_COLUMNS.items()),
    }
    write_atomic(manifest_path(out), (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest


def _copy(engine: Engine, path: str, pseudonymiser: Pseudonymiser, schema: str | None, batch_rows: int,
          progress: bool, schema_sha256: str) -> dict[str, int]:
    options: dict[str, Any] = {"stream_results": True, "yield_per": batch_rows}
    if engine.dialect.name in ("postgresql", "mysql", "mariadb"):
        options["isolation_level"] = "REPEATABLE READ"
    target = create_replica_schema(path)
    try:
        target.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        with engine.connect().execution_options(**options) as con:
            totals = {t.name: con.execute(select(func.count()).select_from(_source_table(t, schema))).scalar_one()
                      for t in SOURCE_TABLES}
            register_source_names(con, pseudonymiser, schema, batch_rows)  # first: notes mention anyone
            advance, stop = progress_bar(progress, sum(totals.values()), "building the replica")
            counts: dict[str, int] = {}
            try:
                for table in SOURCE_TABLES:
                    source = _source_table(table, schema)
                    convert, n = _row_mapper(table, pseudonymiser), 0
                    query = select(*source.columns).order_by(*source.primary_key.columns)
                    for part in con.execute(query).partitions(batch_rows):
                        insert_rows(target, table.name, [convert(row) for row in part])
                        n += len(part)
                        advance(len(part))
                    counts[table.name] = n
                    if n != totals[table.name]:
                        raise BuildError(f"{table.name}: counted {totals[table.name]} rows but read {n} "
                                         "(the source changed during the build, outside a snapshot)")
            finally:
                stop()
            as_of = _as_of(con, schema)
        meta = {"as_of": as_of, "builder": f"advisorgym deid build {BUILD_VERSION}",
                "deid_key_fingerprint": pseudonymiser.fingerprint, "scale": str(counts["transactions"]),
                "schema_version": SCHEMA_VERSION, "source_schema_sha256": schema_sha256}
        insert_rows(target, "meta", sorted(meta.items()))
        target.commit()
        broken = target.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            examples = ", ".join(f"{t} row {rowid} -> {parent}" for t, rowid, parent, _ in broken[:5])
            raise BuildError(f"{len(broken)} foreign keys do not resolve in the source ({examples})")
        finish_replica(target)
    except sqlite3.IntegrityError as err:
        raise BuildError(f"a source row breaks the model's constraints: {err}") from None
    finally:
        target.close()
    return dict(sorted(counts.items()))

