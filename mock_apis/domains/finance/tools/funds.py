"""Fund catalogue and NAV tools."""

from __future__ import annotations

from typing import Any

from mock_apis.domains.finance.registry import tool
from mock_apis.sandbox import Sandbox
from mock_apis.domains.finance.tools.common import (DATE_PARAM, FUND_REF, ISO_DATE, LIMIT, MONEY, array_of, date_window, params,
                                    record, resolve_fund)

CATEGORIES = ["equity", "bond", "balanced", "money_market", "index"]
FUND = record({
    "fund_code": {"type": "string"}, "name": {"type": "string"}, "category": {"type": "string", "enum": CATEGORIES},
    "risk_level": {"type": "integer", "minimum": 1, "maximum": 5}, "currency": {"type": "string"},
    "inception_date": ISO_DATE, "manager": {"type": "string"}, "expense_ratio": {"type": "number"},
    "aum_musd": {"type": "number"}, "benchmark_index": {"type": "string"}, "min_investment": MONEY,
    "description": {"type": "string"}, "latest_nav": {"type": "number"}, "latest_nav_date": ISO_DATE,
})


def fund_info(sb: Sandbox, fund: str) -> dict[str, Any]:
    code = resolve_fund(sb, fund)
    row = sb.query_one(
        "SELECT f.fund_code, f.name, f.category, f.risk_level, f.currency, f.inception_date, p.manager, "
        "p.expense_ratio, p.aum_musd, p.benchmark_index, p.min_investment, p.description "
        "FROM funds f JOIN fund_profiles p ON p.fund_code = f.fund_code WHERE f.fund_code = ?", (code,))
    latest = sb.query_one("SELECT nav, nav_date FROM nav_history WHERE fund_code = ? AND nav_date <= ? "
                          "ORDER BY nav_date DESC LIMIT 1", (code, sb.as_of))
    row["latest_nav"], row["latest_nav_date"] = latest["nav"], latest["nav_date"]
    return row


@tool(
    name="get_fund_info",
    description="A fund's profile (category, risk level 1-5, manager, expense ratio %, AUM in $m, benchmark, minimum investment) and its latest NAV. Accepts the fund code or the full fund name.",
    parameters=params({"fund": FUND_REF}, ["fund"]),
    returns=FUND,
)
def get_fund_info(sb: Sandbox, fund: str) -> dict[str, Any]:
    return fund_info(sb, fund)


FUND_SUMMARY = record({"fund_code": {"type": "string"}, "name": {"type": "string"},
                       "category": {"type": "string", "enum": CATEGORIES},
                       "risk_level": {"type": "integer"}, "expense_ratio": {"type": "number"}})


@tool(
    name="search_funds",
    description="Funds matching all given filters (category, maximum risk level, maximum expense ratio %), cheapest first.",
    parameters=params({"category": {"type": "string", "enum": CATEGORIES},
                       "max_risk_level": {"type": "integer", "minimum": 1, "maximum": 5},
                       "max_expense_ratio": {"type": "number", "minimum": 0}, "limit": LIMIT}),
    returns=record({"funds": array_of(FUND_SUMMARY), "count": {"type": "integer"}}),
    criticality=0.8,
)
def search_funds(sb: Sandbox, category: str | None = None, max_risk_level: int | None = None,
                 max_expense_ratio: float | None = None, limit: int = 20) -> dict[str, Any]:
    where, args = ["1"], []
    for clause, value in (("f.category = ?", category), ("f.risk_level <= ?", max_risk_level),
                          ("p.expense_ratio <= ?", max_expense_ratio)):
        if value is not None:
            where.append(clause)
            args.append(value)
    rows = sb.query("SELECT f.fund_code, f.name, f.category, f.risk_level, p.expense_ratio FROM funds f "
                    f"JOIN fund_profiles p ON p.fund_code = f.fund_code WHERE {' AND '.join(where)} "
                    "ORDER BY p.expense_ratio, f.fund_code LIMIT ?", (*args, limit))
    return {"funds": rows, "count": len(rows)}


def nav_series(sb: Sandbox, code: str, start: str, end: str) -> list[dict[str, Any]]:
    return sb.query("SELECT nav_date AS date, nav FROM nav_history WHERE fund_code = ? AND nav_date BETWEEN ? AND ? "
                    "ORDER BY nav_date", (code, start, end))


@tool(
    name="get_nav_history",
    description="Daily NAVs of a fund between start_date and end_date inclusive (default: the 30 days up to today), oldest first. Accepts the fund code or name.",
    parameters=params({"fund": FUND_REF, "start_date": DATE_PARAM, "end_date": DATE_PARAM}, ["fund"]),
    returns=record({"fund_code": {"type": "string"}, "start_date": ISO_DATE, "end_date": ISO_DATE,
                    "points": array_of(record({"date": ISO_DATE, "nav": {"type": "number"}}))}),
    criticality=0.8,
)
def get_nav_history(sb: Sandbox, fund: str, start_date: str | None = None, end_date: str | None = None) -> dict[str, Any]:
    code = resolve_fund(sb, fund)
    start, end = date_window(sb, start_date, end_date, default_days=30)
    return {"fund_code": code, "start_date": start, "end_date": end, "points": nav_series(sb, code, start, end)}
