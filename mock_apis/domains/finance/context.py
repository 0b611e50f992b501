"""The finance intents' builder context: ``Ctx``, a ``TaskContext`` with the replica's
clients, accounts, funds, indices, advisors, compliance records and orders in id order.
A builder raises ``Skip`` (``pick`` does, on an empty pool) when a draw cannot make a task.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from mock_apis.domain import Skip, TaskContext, pick
from mock_apis.domains.finance.models import SCHEMA
from mock_apis.domains.finance.registry import TOOLS


class Ctx(TaskContext):
    """What builders need: a sandbox on the replica, its entities in id order, and helpers."""

    def __init__(self, replica_path: str | Path):
        super().__init__(replica_path, TOOLS, SCHEMA)
        sb = self.sb
        self.clients = sb.query("SELECT client_id, full_name, advisor_id, segment FROM clients ORDER BY client_id")
        self.client = {c["client_id"]: c for c in self.clients}
        self.client_ids = [c["client_id"] for c in self.clients]
        self.accounts = sb.query("SELECT account_id, client_id, account_type, status, cash_balance FROM accounts "
                                 "ORDER BY account_id")
        self.account = {a["account_id"]: a for a in self.accounts}
        self.accounts_of: dict[str, list[dict[str, Any]]] = {cid: [] for cid in self.client_ids}
        for a in self.accounts:
            self.accounts_of[a["client_id"]].append(a)
        self.active_account_ids = [a["account_id"] for a in self.accounts if a["status"] == "active"]
        self.closed_account_ids = [a["account_id"] for a in self.accounts if a["status"] != "active"]
        self.funds = sb.query("SELECT f.fund_code, f.name, f.category, f.risk_level, p.expense_ratio, "
                              "p.min_investment FROM funds f JOIN fund_profiles p ON p.fund_code = f.fund_code "
                              "ORDER BY f.fund_code")
        self.fund = {f["fund_code"]: f for f in self.funds}
        self.fund_codes = [f["fund_code"] for f in self.funds]
        self.categories = sorted({f["category"] for f in self.funds})
        self.indices = sb.query("SELECT index_code, name FROM market_indices ORDER BY index_code")
        self.advisor_ids = [r["advisor_id"] for r in sb.query("SELECT advisor_id FROM advisors ORDER BY advisor_id")]
        self.compliance = {r["client_id"]: r for r in sb.query(
            "SELECT client_id, kyc_status, restriction FROM compliance_records ORDER BY client_id")}
        self.orders = sb.query("SELECT order_id, account_id, status FROM orders ORDER BY order_id")
        self.orders_of: dict[str, list[dict[str, Any]]] = {}
        for o in self.orders:
            self.orders_of.setdefault(o["account_id"], []).append(o)
        self.pending_order_ids = [o["order_id"] for o in self.orders if o["status"] == "pending"]
        self.txn_accounts = [r["account_id"] for r in sb.query(
            "SELECT DISTINCT account_id FROM transactions ORDER BY account_id")]
        # Clients a search by full name finds alone, with a plain "First Last" name.
        plain = re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+$")
        lowered = [c["full_name"].casefold() for c in self.clients]
        self.searchable = [c["client_id"] for c in self.clients if plain.match(c["full_name"])
                           and sum(1 for n in lowered if c["full_name"].casefold() in n) == 1]

    # -- entity helpers -------------------------------------------------------------------

    def can_trade(self, cid: str, side: str) -> bool:
        c = self.compliance.get(cid)
        if c is None or c["kyc_status"] != "verified":
            return False
        return c["restriction"] == "none" if side == "buy" else c["restriction"] in ("none", "sell_only")

    def active_accounts(self, cid: str) -> list[dict[str, Any]]:
        return [a for a in self.accounts_of[cid] if a["status"] == "active"]

    def unique_typed_account(self, rng: random.Random, cid: str) -> tuple[dict[str, Any], str]:
        """An active account of ``cid`` that is the client's only account of its type, and how to name it."""
        accounts = self.accounts_of[cid]
        if len(accounts) == 1 and accounts[0]["status"] == "active":
            return accounts[0], pick(rng, ["account", "{t} account"]).format(t=accounts[0]["account_type"])
        typed = [a for a in accounts if a["status"] == "active"
                 and sum(1 for b in accounts if b["account_type"] == a["account_type"]) == 1]
        if not typed:
            raise Skip("no uniquely named account")
        a = pick(rng, typed)
        return a, f"{a['account_type']} account"
