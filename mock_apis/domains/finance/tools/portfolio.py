"""Account, holding and transaction tools.

``get_holdings`` is served in two versions side by side: version 1 (the default) and
version 2, whose positions name the units held ``quantity``; version 2 is an adapter of
version 1's result (``ToolRegistry.tool_version``), not a second implementation.
"""

from __future__ import annotations

from typing import Any

from mock_apis.domains.finance.registry import tool, tool_version
from mock_apis.sandbox import Sandbox
from mock_apis.domains.finance.tools.common import (ACCOUNT_ID, CLIENT_ID, DATE_PARAM, ISO_DATE, LIMIT, MONEY, NULLABLE_STRING,
                                    array_of, date_window, money, params, record, require)

ACCOUNT = record({"account_id": {"type": "string"}, "account_type": {"type": "string"},
                  "currency": {"type": "string"}, "opened_on": ISO_DATE,
                  "status": {"type": "string", "enum": ["active", "closed"]}, "cash_balance": MONEY})


def accounts_of(sb: Sandbox, client_id: str) -> list[dict[str, Any]]:
    require(sb, "clients", "client_id", client_id, "client")
    return sb.query("SELECT account_id, account_type, currency, opened_on, status, cash_balance FROM accounts "
                    "WHERE client_id = ? ORDER BY account_id", (client_id,))


@tool(
    name="list_accounts",
    description="All accounts of a client, with type, status and cash balance.",
    parameters=params({"client_id": CLIENT_ID}, ["client_id"]),
    returns=record({"client_id": {"type": "string"}, "accounts": array_of(ACCOUNT)}),
)
def list_accounts(sb: Sandbox, client_id: str) -> dict[str, Any]:
    return {"client_id": client_id, "accounts": accounts_of(sb, client_id)}


HOLDING = record({"fund_code": {"type": "string"}, "fund_name": {"type": "string"}, "category": {"type": "string"},
                  "units": {"type": "number"}, "avg_cost": {"type": "number"}, "nav": {"type": "number"},
                  "market_value": MONEY, "unrealized_gain": MONEY})
HOLDINGS = record({"account_id": {"type": "string"}, "as_of": ISO_DATE, "holdings": array_of(HOLDING),
                   "total_market_value": MONEY})

HOLDINGS_SQL = """
SELECT h.fund_code, f.name AS fund_name, f.category, h.units, h.avg_cost,
       (SELECT nav FROM nav_history n WHERE n.fund_code = h.fund_code AND n.nav_date <= ?
        ORDER BY n.nav_date DESC LIMIT 1) AS nav
FROM holdings h JOIN funds f ON f.fund_code = h.fund_code
WHERE h.account_id = ? ORDER BY h.fund_code
"""


def holdings_of(sb: Sandbox, account_id: str) -> dict[str, Any]:
    require(sb, "accounts", "account_id", account_id, "account")
    rows = sb.query(HOLDINGS_SQL, (sb.as_of, account_id))
    for row in rows:
        row["market_value"] = money(row["units"] * row["nav"])
        row["unrealized_gain"] = money(row["units"] * (row["nav"] - row["avg_cost"]))
    return {"account_id": account_id, "as_of": sb.as_of, "holdings": rows,
            "total_market_value": money(sum(r["market_value"] for r in rows))}


@tool(
    name="get_holdings",
    description="The fund positions of an account, valued at the latest NAV, with unrealised gain and the account total.",
    parameters=params({"account_id": ACCOUNT_ID}, ["account_id"]),
    returns=HOLDINGS,
    criticality=1.5,
)
def get_holdings(sb: Sandbox, account_id: str) -> dict[str, Any]:
    return holdings_of(sb, account_id)


HOLDING_V2 = record({("quantity" if key == "units" else key): schema for key, schema in HOLDING["properties"].items()})
HOLDINGS_V2 = record({**HOLDINGS["properties"], "holdings": array_of(HOLDING_V2)})


@tool_version(
    "get_holdings",
    version="2.0.0",
    description=("The fund positions of an account (units held as `quantity`), valued at the latest NAV, with "
                 "unrealised gain and the account total."),
    returns=HOLDINGS_V2,
)
def get_holdings_v2(result: dict[str, Any]) -> dict[str, Any]:
    """Version 2: each position's ``units`` renamed ``quantity`` (in place, keeping the field order)."""
    holdings = [{("quantity" if key == "units" else key): value for key, value in row.items()}
                for row in result["holdings"]]
    return {**result, "holdings": holdings}


TXN_TYPES = ["buy", "sell", "deposit", "withdrawal", "dividend"]
TRANSACTION = record({"txn_id": {"type": "string"}, "txn_date": ISO_DATE,
                      "txn_type": {"type": "string", "enum": TXN_TYPES}, "fund_code": NULLABLE_STRING,
                      "units": {"type": ["number", "null"]}, "amount": MONEY})


def transactions_of(sb: Sandbox, account_id: str, start: str, end: str, txn_type: str | None,
                    limit: int) -> list[dict[str, Any]]:
    sql = ("SELECT txn_id, txn_date, txn_type, fund_code, units, amount FROM transactions "
           "WHERE account_id = ? AND txn_date BETWEEN ? AND ?")
    args: tuple = (account_id, start, end)
    if txn_type is not None:
        sql += " AND txn_type = ?"
        args += (txn_type,)
    return sb.query(sql + " ORDER BY txn_date DESC, txn_id DESC LIMIT ?", (*args, limit))


@tool(
    name="get_transactions",
    description=("Transactions of an account between start_date and end_date inclusive (default: the 90 days up to "
                 "today), newest first, optionally of one type, at most `limit` (default 50)."),
    parameters=params({"account_id": ACCOUNT_ID, "start_date": DATE_PARAM, "end_date": DATE_PARAM,
                       "txn_type": {"type": "string", "enum": TXN_TYPES}, "limit": LIMIT}, ["account_id"]),
    returns=record({"account_id": {"type": "string"}, "start_date": ISO_DATE, "end_date": ISO_DATE,
                    "transactions": array_of(TRANSACTION), "count": {"type": "integer"},
                    "total_amount": MONEY}),
)
def get_transactions(sb: Sandbox, account_id: str, start_date: str | None = None, end_date: str | None = None,
                     txn_type: str | None = None, limit: int = 50) -> dict[str, Any]:
    require(sb, "accounts", "account_id", account_id, "account")
    start, end = date_window(sb, start_date, end_date, default_days=90)
    rows = transactions_of(sb, account_id, start, end, txn_type, limit)
    return {"account_id": account_id, "start_date": start, "end_date": end, "transactions": rows,
            "count": len(rows), "total_amount": money(sum(r["amount"] for r in rows))}
