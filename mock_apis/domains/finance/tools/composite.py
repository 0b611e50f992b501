"""Composite tools: one round trip that aggregates several atomic lookups (ToolRLA §3.1).

Each is built from the same helpers as the atomic tools, so the two cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mock_apis.catalogue import ToolError
from mock_apis.domains.finance.registry import tool
from mock_apis.sandbox import Sandbox
from mock_apis.domains.finance.tools.clients import COMPLIANCE, PROFILE, RISK, client_profile, compliance_status, latest_risk
from mock_apis.domains.finance.tools.common import (ADVISOR_ID, CLIENT_ID, DATE_PARAM, FUND_REF, ISO_DATE, MONEY, array_of,
                                    date_window, money, params, record, require, resolve_fund)
from mock_apis.domains.finance.tools.funds import FUND, fund_info
from mock_apis.domains.finance.tools.market import index_quote
from mock_apis.domains.finance.tools.portfolio import ACCOUNT, HOLDINGS, TRANSACTION, accounts_of, holdings_of, transactions_of

RECENT_DAYS = 30


@tool(
    name="get_client_overview",
    description=f"One call for a client's profile, accounts, holdings per account and the last {RECENT_DAYS} days of transactions (up to 10 per account).",
    parameters=params({"client_id": CLIENT_ID}, ["client_id"]),
    returns=record({"profile": PROFILE, "accounts": array_of(ACCOUNT), "holdings": array_of(HOLDINGS),
                    "recent_transactions": array_of({**TRANSACTION, "properties": {**TRANSACTION["properties"], "account_id": {"type": "string"}},
                                                     "required": [*TRANSACTION["required"], "account_id"]})}),
    composite=True,
    criticality=1.5,
)
def get_client_overview(sb: Sandbox, client_id: str) -> dict[str, Any]:
    profile = client_profile(sb, client_id)
    accounts = accounts_of(sb, client_id)
    start, end = date_window(sb, None, None, default_days=RECENT_DAYS)
    recent = [{**txn, "account_id": a["account_id"]}
              for a in accounts for txn in transactions_of(sb, a["account_id"], start, end, None, 10)]
    return {"profile": profile, "accounts": accounts,
            "holdings": [holdings_of(sb, a["account_id"]) for a in accounts if a["status"] == "active"],
            "recent_transactions": recent}


def portfolio_summary(sb: Sandbox, client_id: str) -> dict[str, Any]:
    accounts = [a for a in accounts_of(sb, client_id) if a["status"] == "active"]
    by_category: dict[str, float] = defaultdict(float)
    invested = 0.0
    for account in accounts:
        for h in holdings_of(sb, account["account_id"])["holdings"]:
            by_category[h["category"]] += h["market_value"]
            invested += h["market_value"]
    cash = money(sum(a["cash_balance"] for a in accounts))
    invested = money(invested)
    return {
        "client_id": client_id, "as_of": sb.as_of, "active_accounts": len(accounts),
        "invested_value": invested, "cash_balance": cash, "total_value": money(invested + cash),
        "allocation": [{"category": c, "market_value": money(v), "weight_pct": round(100 * v / invested, 2) if invested else 0.0}
                       for c, v in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))],
    }


@tool(
    name="get_portfolio_summary",
    description="A client's whole portfolio across active accounts: invested value at the latest NAV, cash, total, and allocation by fund category.",
    parameters=params({"client_id": CLIENT_ID}, ["client_id"]),
    returns=record({"client_id": {"type": "string"}, "as_of": ISO_DATE, "active_accounts": {"type": "integer"},
                    "invested_value": MONEY, "cash_balance": MONEY, "total_value": MONEY,
                    "allocation": array_of(record({"category": {"type": "string"}, "market_value": MONEY,
                                                   "weight_pct": {"type": "number"}}))}),
    composite=True,
    criticality=1.5,
)
def get_portfolio_summary(sb: Sandbox, client_id: str) -> dict[str, Any]:
    return portfolio_summary(sb, client_id)


@tool(
    name="check_suitability",
    description=("Whether a fund is suitable for a client right now: the fund's risk level must not exceed the client's "
                 "current risk level, the risk assessment must be current, KYC verified and buying allowed. Returns the "
                 "verdict with every reason that fails."),
    parameters=params({"client_id": CLIENT_ID, "fund": FUND_REF}, ["client_id", "fund"]),
    returns=record({"client_id": {"type": "string"}, "fund_code": {"type": "string"}, "suitable": {"type": "boolean"},
                    "reasons": array_of({"type": "string"}), "client_risk_level": {"type": "integer"},
                    "fund_risk_level": {"type": "integer"}, "risk": RISK, "compliance": COMPLIANCE}),
    composite=True,
    criticality=2.5,
)
def check_suitability(sb: Sandbox, client_id: str, fund: str) -> dict[str, Any]:
    risk = latest_risk(sb, client_id)
    compliance = compliance_status(sb, client_id)
    code = resolve_fund(sb, fund)
    fund_risk = sb.scalar("SELECT risk_level FROM funds WHERE fund_code = ?", (code,))
    reasons = []
    if fund_risk > risk["risk_level"]:
        reasons.append(f"fund risk level {fund_risk} exceeds the client's risk level {risk['risk_level']}")
    if not risk["is_current"]:
        reasons.append(f"risk assessment expired on {risk['valid_until']}")
    if compliance["kyc_status"] != "verified":
        reasons.append(f"KYC status is {compliance['kyc_status']}")
    if not compliance["can_buy"] and compliance["kyc_status"] == "verified":
        reasons.append(f"buying is restricted ({compliance['restriction']})")
    return {"client_id": client_id, "fund_code": code, "suitable": not reasons, "reasons": reasons,
            "client_risk_level": risk["risk_level"], "fund_risk_level": fund_risk, "risk": risk,
            "compliance": compliance}


@tool(
    name="get_fund_performance",
    description=("A fund's profile plus its NAV return (%) between start_date and end_date (default: the last 365 days), "
                 "and its benchmark index's return over the same window."),
    parameters=params({"fund": FUND_REF, "start_date": DATE_PARAM, "end_date": DATE_PARAM}, ["fund"]),
    returns=record({"fund": FUND, "start_date": ISO_DATE, "end_date": ISO_DATE, "start_nav": {"type": "number"},
                    "end_nav": {"type": "number"}, "return_pct": {"type": "number"},
                    "benchmark_index": {"type": "string"}, "benchmark_return_pct": {"type": "number"}}),
    composite=True,
)
def get_fund_performance(sb: Sandbox, fund: str, start_date: str | None = None,
                         end_date: str | None = None) -> dict[str, Any]:
    info = fund_info(sb, fund)
    start, end = date_window(sb, start_date, end_date, default_days=365)
    navs = sb.query("SELECT nav_date, nav FROM nav_history WHERE fund_code = ? AND nav_date BETWEEN ? AND ? "
                    "ORDER BY nav_date", (info["fund_code"], start, end))
    if len(navs) < 2:
        raise ToolError("not_found", f"fewer than two NAVs for {info['fund_code']} between {start} and {end}")
    first, last = navs[0], navs[-1]
    bench_start = index_quote(sb, info["benchmark_index"], first["nav_date"])
    bench_end = index_quote(sb, info["benchmark_index"], last["nav_date"])
    return {"fund": info, "start_date": first["nav_date"], "end_date": last["nav_date"],
            "start_nav": first["nav"], "end_nav": last["nav"],
            "return_pct": round(100 * (last["nav"] / first["nav"] - 1), 2),
            "benchmark_index": info["benchmark_index"],
            "benchmark_return_pct": round(100 * (bench_end["close"] / bench_start["close"] - 1), 2)}


@tool(
    name="get_advisor_book",
    description="An advisor's book of business: the advisor, each client with their total assets (cash plus holdings at the latest NAV) and the book's total.",
    parameters=params({"advisor_id": ADVISOR_ID}, ["advisor_id"]),
    returns=record({"advisor_id": {"type": "string"}, "full_name": {"type": "string"}, "branch": {"type": "string"},
                    "clients": array_of(record({"client_id": {"type": "string"}, "full_name": {"type": "string"},
                                                "segment": {"type": "string"}, "total_value": MONEY})),
                    "client_count": {"type": "integer"}, "total_assets": MONEY}),
    composite=True,
)
def get_advisor_book(sb: Sandbox, advisor_id: str) -> dict[str, Any]:
    advisor = require(sb, "advisors", "advisor_id", advisor_id, "advisor")
    clients = sb.query("SELECT client_id, full_name, segment FROM clients WHERE advisor_id = ? ORDER BY client_id",
                       (advisor_id,))
    for client in clients:
        client["total_value"] = portfolio_summary(sb, client["client_id"])["total_value"]
    return {"advisor_id": advisor_id, "full_name": advisor["full_name"], "branch": advisor["branch"],
            "clients": clients, "client_count": len(clients),
            "total_assets": money(sum(c["total_value"] for c in clients))}
