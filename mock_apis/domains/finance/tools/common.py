"""Helpers shared by the finance tools: id schemas and fund/index lookups (a fund may be named
by code or by name). The domain-neutral helpers (schema builders, lenient dates, ``require``,
``money``) are ``mock_apis.toolkit``'s, re-exported here for the finance tools.
"""

from __future__ import annotations

from mock_apis.catalogue import ToolError
from mock_apis.sandbox import Sandbox
from mock_apis.toolkit import (DATE_PARAM, ISO_DATE, LIMIT, MONEY, NULLABLE_STRING, array_of, date_window,
                               lenient_date, money, params, parse_date, record, require)

CLIENT_ID = {"type": "string", "pattern": "^C[0-9]{6}$", "description": "Client id, e.g. C000042."}
ACCOUNT_ID = {"type": "string", "pattern": "^A[0-9]{7}$", "description": "Account id, e.g. A0000042."}
ADVISOR_ID = {"type": "string", "pattern": "^V[0-9]{5}$", "description": "Advisor id, e.g. V00003."}
FUND_REF = {"type": "string", "minLength": 1, "maxLength": 120,
            "description": "A fund code (e.g. EQ001) or the fund's full name."}
INDEX_REF = {"type": "string", "minLength": 1, "maxLength": 80,
             "description": "An index code (e.g. SPX) or the index's name (e.g. 'S&P 500')."}


def _resolve(sb: Sandbox, table: str, code_column: str, ref: str, what: str) -> str:
    """The code of the row whose code or name is ``ref`` (case-insensitive)."""
    ref = ref.strip()
    code = sb.scalar(f"SELECT {code_column} FROM {table} WHERE {code_column} = ? COLLATE NOCASE "
                     "OR name = ? COLLATE NOCASE", (ref, ref))
    if code is None:
        raise ToolError("not_found", f"no {what} with code or name {ref!r}")
    return code


def resolve_fund(sb: Sandbox, ref: str) -> str:
    return _resolve(sb, "funds", "fund_code", ref, "fund")


def resolve_index(sb: Sandbox, ref: str) -> str:
    return _resolve(sb, "market_indices", "index_code", ref, "market index")


__all__ = ["ACCOUNT_ID", "ADVISOR_ID", "CLIENT_ID", "DATE_PARAM", "FUND_REF", "INDEX_REF", "ISO_DATE", "LIMIT", "MONEY",
           "NULLABLE_STRING", "array_of", "date_window", "lenient_date", "money", "params", "parse_date", "record",
           "require", "resolve_fund", "resolve_index"]
