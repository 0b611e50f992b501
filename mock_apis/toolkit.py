"""Helpers for writing a domain's tools, shared by every domain: JSON Schema builders
(``params``, ``record``, ``array_of`` and common field schemas), lenient date parsing
(``lenient_date``, ``parse_date``, ``date_window``), ``require`` (a row by id or
``not_found``) and ``money`` (rounded to cents).

Parsers are deliberately lenient where a human would be (``"Jan 5, 2025"`` and
``"2025-01-05"`` name the same day), so that the reward's sandbox re-execution can credit
equivalent arguments that return the same data.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from dateutil import parser as date_parser

from mock_apis.catalogue import ToolError
from mock_apis.sandbox import Sandbox

DATE_PARAM = {"type": "string", "minLength": 1, "maxLength": 40,
              "description": "A calendar date, e.g. 2025-01-05 or 'Jan 5, 2025'."}
LIMIT = {"type": "integer", "minimum": 1, "maximum": 200}

ISO_DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
MONEY = {"type": "number"}
NULLABLE_STRING = {"type": ["string", "null"]}


def params(properties: dict[str, Any], required: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """A closed JSON Schema object for tool parameters."""
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def record(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A closed JSON Schema object whose properties are all required, except ``optional``."""
    return {"type": "object", "properties": properties,
            "required": [k for k in properties if k not in optional], "additionalProperties": False}


def array_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


@lru_cache(maxsize=4096)
def lenient_date(text: str) -> date | None:
    """The day a human-written date names, or None."""
    try:
        parsed = date_parser.parse(text.strip(), default=date_parser.parse("2000-01-01"), dayfirst=False)
    except (ValueError, OverflowError, TypeError):
        return None
    return parsed.date()


def parse_date(text: str, field: str) -> str:
    """Normalise a human date to ISO ``YYYY-MM-DD`` or raise ``invalid_arguments``."""
    parsed = lenient_date(text)
    if parsed is None:
        raise ToolError("invalid_arguments", f"{field}: cannot read {text!r} as a date",
                        [{"path": field, "message": "not a recognisable date"}])
    return parsed.isoformat()


def date_window(sb: Sandbox, start: str | None, end: str | None, default_days: int) -> tuple[str, str]:
    """Resolve an optional [start, end] window; defaults end at the replica's as-of date."""
    end_iso = parse_date(end, "end_date") if end else sb.as_of
    if start:
        start_iso = parse_date(start, "start_date")
    else:
        end_day = date.fromisoformat(end_iso)
        start_iso = (end_day - timedelta(days=min(default_days, end_day.toordinal() - 1))).isoformat()
    if start_iso > end_iso:
        raise ToolError("invalid_arguments", f"start_date {start_iso} is after end_date {end_iso}",
                        [{"path": "start_date", "message": "must not be after end_date"}])
    return start_iso, end_iso


def require(sb: Sandbox, table: str, column: str, value: str, what: str) -> dict[str, Any]:
    row = sb.query_one(f"SELECT * FROM {table} WHERE {column} = ?", (value,))
    if row is None:
        raise ToolError("not_found", f"no {what} with id {value!r}")
    return row


def money(x: float) -> float:
    return round(x + 0.0, 2)
