"""Order tools. ``place_order`` and ``cancel_order`` write, so they enforce the domain rules."""

from __future__ import annotations

from typing import Any

from mock_apis.catalogue import ToolError
from mock_apis.domains.finance.registry import tool
from mock_apis.sandbox import Sandbox
from mock_apis.domains.finance.tools.clients import compliance_status
from mock_apis.domains.finance.tools.common import ACCOUNT_ID, FUND_REF, ISO_DATE, MONEY, array_of, money, params, record, require, resolve_fund

ORDER_STATUSES = ["pending", "executed", "cancelled"]
ORDER = record({"order_id": {"type": "string"}, "account_id": {"type": "string"}, "fund_code": {"type": "string"},
                "side": {"type": "string", "enum": ["buy", "sell"]}, "amount": MONEY,
                "status": {"type": "string", "enum": ORDER_STATUSES}, "placed_on": ISO_DATE})
ORDER_WITH_CASH = {**ORDER, "properties": {**ORDER["properties"], "cash_balance": MONEY},
                   "required": [*ORDER["required"], "cash_balance"]}


@tool(
    name="list_orders",
    description="Orders of an account, newest first, optionally only those with a given status.",
    parameters=params({"account_id": ACCOUNT_ID, "status": {"type": "string", "enum": ORDER_STATUSES}}, ["account_id"]),
    returns=record({"account_id": {"type": "string"}, "orders": array_of(ORDER)}),
)
def list_orders(sb: Sandbox, account_id: str, status: str | None = None) -> dict[str, Any]:
    require(sb, "accounts", "account_id", account_id, "account")
    sql = "SELECT order_id, account_id, fund_code, side, amount, status, placed_on FROM orders WHERE account_id = ?"
    args: tuple = (account_id,)
    if status is not None:
        sql += " AND status = ?"
        args += (status,)
    return {"account_id": account_id, "orders": sb.query(sql + " ORDER BY placed_on DESC, order_id DESC", args)}


@tool(
    name="place_order",
    description=("Place a buy or sell order for `amount` dollars of a fund in an account. Rules: the account must be "
                 "active; the client's KYC must be verified and trading not restricted (sell_only allows sells); a buy "
                 "needs enough cash and at least the fund's minimum investment (the cash is reserved at once); a sell "
                 "needs enough units at the latest NAV. Returns the pending order and the remaining cash balance."),
    parameters=params({"account_id": ACCOUNT_ID, "fund": FUND_REF, "side": {"type": "string", "enum": ["buy", "sell"]},
                       "amount": {"type": "number", "minimum": 0.01, "maximum": 10_000_000}},
                      ["account_id", "fund", "side", "amount"]),
    returns=ORDER_WITH_CASH,
    criticality=3.0,
    writes=True,
)
def place_order(sb: Sandbox, account_id: str, fund: str, side: str, amount: float) -> dict[str, Any]:
    account = require(sb, "accounts", "account_id", account_id, "account")
    code = resolve_fund(sb, fund)
    amount = money(amount)
    if account["status"] != "active":
        raise ToolError("rule_violation", f"account {account_id} is {account['status']}")
    status = compliance_status(sb, account["client_id"])
    if status["kyc_status"] != "verified":
        raise ToolError("rule_violation", f"client KYC is {status['kyc_status']}; no orders until it is verified")
    if not (status["can_buy"] if side == "buy" else status["can_sell"]):
        raise ToolError("rule_violation", f"account is under a {status['restriction']} restriction "
                                          f"({status['restriction_reason']}); {side} orders are not allowed")
    cash = account["cash_balance"]
    if side == "buy":
        minimum = sb.scalar("SELECT min_investment FROM fund_profiles WHERE fund_code = ?", (code,))
        if amount < minimum:
            raise ToolError("rule_violation", f"{code} has a minimum investment of {minimum:.2f}")
        if amount > cash:
            raise ToolError("insufficient_funds", f"buy of {amount:.2f} exceeds the cash balance of {cash:.2f}")
        cash = money(cash - amount)
        sb.update("accounts", {"account_id": account_id}, {"cash_balance": cash})
    else:
        value = sb.scalar("SELECT h.units * (SELECT nav FROM nav_history n WHERE n.fund_code = h.fund_code "
                          "AND n.nav_date <= ? ORDER BY n.nav_date DESC LIMIT 1) FROM holdings h "
                          "WHERE h.account_id = ? AND h.fund_code = ?", (sb.as_of, account_id, code)) or 0.0
        pending = sb.scalar("SELECT COALESCE(SUM(amount), 0) FROM orders WHERE account_id = ? AND fund_code = ? "
                            "AND side = 'sell' AND status = 'pending'", (account_id, code))
        available = money(value - pending)
        if amount > available:
            raise ToolError("insufficient_funds", f"sell of {amount:.2f} exceeds the {code} position available "
                                                  f"to sell ({available:.2f} after pending sells)")
    order = {"order_id": sb.next_id("orders", "order_id", "O", 9), "account_id": account_id, "fund_code": code,
             "side": side, "amount": amount, "status": "pending", "placed_on": sb.as_of}
    sb.insert("orders", order)
    return {**order, "cash_balance": cash}


@tool(
    name="cancel_order",
    description="Cancel a pending order. A cancelled buy releases its reserved cash. Executed or already cancelled orders cannot be cancelled.",
    parameters=params({"order_id": {"type": "string", "pattern": "^O[0-9]{9}$"}}, ["order_id"]),
    returns=ORDER_WITH_CASH,
    criticality=2.5,
    writes=True,
)
def cancel_order(sb: Sandbox, order_id: str) -> dict[str, Any]:
    order = require(sb, "orders", "order_id", order_id, "order")
    if order["status"] != "pending":
        raise ToolError("conflict", f"order {order_id} is {order['status']} and cannot be cancelled")
    cash = sb.scalar("SELECT cash_balance FROM accounts WHERE account_id = ?", (order["account_id"],))
    if order["side"] == "buy":
        cash = money(cash + order["amount"])
        sb.update("accounts", {"account_id": order["account_id"]}, {"cash_balance": cash})
    sb.update("orders", {"order_id": order_id}, {"status": "cancelled"})
    return {**order, "status": "cancelled", "cash_balance": cash}
