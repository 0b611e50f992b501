"""Drafts, the intent registry and the builder context of the task generator.

An *intent* is a builder ``(ctx, rng) -> Draft`` registered with ``@intent(level, name, tools)``;
``INTENTS[level]`` keeps a level's intents in definition order, which the seeded draw depends on.
``Ctx`` holds a sandbox on the replica and its entities in id order; a builder raises ``Skip``
(``pick`` does, on an empty pool) when a draw cannot make a task.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from envs.tasks.model import LEVELS


class Skip(Exception):
    """This draw cannot make a task (wrong kind of entity, a tool refused, ...): draw again."""


def pick(rng: random.Random, seq: Sequence[Any]) -> Any:
    """``rng.choice`` that turns an empty pool (a replica without such entities) into a ``Skip``."""
    if not seq:
        raise Skip("empty pool")
    return rng.choice(seq)


@dataclass
class Draft:
    """What an intent builds before verification: query, gold calls, answer, facts and notes."""
    query: str
    calls: list[tuple[str, dict[str, Any]]]
    response: str
    facts: list[str]
    thoughts: list[str]
    subjects: Sequence[str] | None = None
    refusal: bool = False
    notes: str = ""
    intent: str = ""  # the suffix after the level: "name", "a->b:name", "name:branch"
    difficulty: str | None = None


@dataclass(frozen=True)
class Intent:
    """A task template of one level: its builder and every tool it may call."""
    level: str
    name: str
    build: Callable[[Ctx, random.Random], Draft]
    tools: tuple[str, ...]  # every tool the intent may call


INTENTS: dict[str, list[Intent]] = {lvl: [] for lvl in LEVELS}


def intent(level: str, name: str, tools: Sequence[str]) -> Callable[[Callable[[Ctx, random.Random], Draft]],
                                                                     Callable[[Ctx, random.Random], Draft]]:
    def register(fn: Callable[[Ctx, random.Random], Draft]) -> Callable[[Ctx, random.Random], Draft]:
        INTENTS[level].append(Intent(level, name, fn, tuple(tools)))
        return fn

    return register


class Ctx:
    """What builders need: a sandbox on the replica, its entities in id order, and helpers."""

    def __init__(self, replica_path: str | Path):
        from mock_apis.sandbox import Sandbox

        self.sb = Sandbox(replica_path)
        sb = self.sb
        self._branch: dict[str, bool] = {}
        self.as_of = date.fromisoformat(sb.as_of)
        self.meta = dict(sb.meta)
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

    # -- tools --------------------------------------------------------------------------

    def run(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        from mock_apis.catalogue import call_tool

        outcome = call_tool(self.sb, tool, arguments)
        if not outcome.ok:
            raise Skip(f"{tool} failed: {outcome.payload.get('error')}")
        return outcome.payload

    def reset(self) -> None:
        self.sb.reset()

    def want(self, key: str) -> bool:
        """The branch an intent should draw next: alternates per intent, so both branches are balanced."""
        return self._branch.get(key, True)

    def flip(self, key: str) -> None:
        self._branch[key] = not self._branch.get(key, True)

    def close(self) -> None:
        self.sb.close()

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
