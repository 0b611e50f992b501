"""Market data tools."""

from __future__ import annotations

from typing import Any

from mock_apis.catalogue import ToolError
from mock_apis.domains.finance.registry import tool
from mock_apis.sandbox import Sandbox
from mock_apis.domains.finance.tools.common import DATE_PARAM, INDEX_REF, ISO_DATE, params, parse_date, record, resolve_index

QUOTE = record({"index_code": {"type": "string"}, "name": {"type": "string"}, "region": {"type": "string"},
                "quote_date": ISO_DATE, "close": {"type": "number"}, "change_pct": {"type": "number"}})


def index_quote(sb: Sandbox, code: str, on: str) -> dict[str, Any]:
    row = sb.query_one("SELECT q.index_code, m.name, m.region, q.quote_date, q.close, q.change_pct "
                       "FROM index_quotes q JOIN market_indices m ON m.index_code = q.index_code "
                       "WHERE q.index_code = ? AND q.quote_date <= ? ORDER BY q.quote_date DESC LIMIT 1", (code, on))
    if row is None:
        raise ToolError("not_found", f"no quote for {code} on or before {on}")
    return row


@tool(
    name="get_market_index",
    description="The closing level and daily change (%) of a market index on a date (default today); if the market was closed that day, the last close before it. Accepts the index code or name.",
    parameters=params({"index": INDEX_REF, "date": DATE_PARAM}, ["index"]),
    returns=QUOTE,
    criticality=0.5,
)
def get_market_index(sb: Sandbox, index: str, date: str | None = None) -> dict[str, Any]:
    code = resolve_index(sb, index)
    return index_quote(sb, code, parse_date(date, "date") if date else sb.as_of)
