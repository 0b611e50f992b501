"""The builder context of the card-disputes intents: a sandbox on the replica and its entities
in id order (cardholders, cards, transactions with their merchants, disputes)."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from mock_apis.domain import Skip, TaskContext, pick
from mock_apis.domains.card_disputes.models import SCHEMA
from mock_apis.domains.card_disputes.registry import TOOLS
from mock_apis.domains.card_disputes.tools import dispute_blockers


class Ctx(TaskContext):
    """What the card-disputes builders need: the replica's entities, and how to name them."""

    def __init__(self, replica_path: str | Path):
        super().__init__(replica_path, TOOLS, SCHEMA)
        sb = self.sb
        self.holders = sb.query("SELECT cardholder_id, full_name FROM cardholders ORDER BY cardholder_id")
        self.holder = {h["cardholder_id"]: h for h in self.holders}
        self.holder_ids = [h["cardholder_id"] for h in self.holders]
        self.cards = sb.query("SELECT card_id, cardholder_id, last4, network, product, status, block_reason "
                              "FROM cards ORDER BY card_id")
        self.card = {c["card_id"]: c for c in self.cards}
        self.cards_of: dict[str, list[dict[str, Any]]] = {h: [] for h in self.holder_ids}
        for c in self.cards:
            self.cards_of[c["cardholder_id"]].append(c)
        self.txns = sb.query("SELECT t.txn_id, t.card_id, t.txn_date, t.txn_type, t.status, t.amount, "
                             "m.name AS merchant_name, (SELECT d.dispute_id FROM disputes d WHERE d.txn_id = t.txn_id) "
                             "AS dispute_id FROM card_transactions t JOIN merchants m ON m.merchant_id = t.merchant_id "
                             "ORDER BY t.txn_id")
        self.txn = {t["txn_id"]: t for t in self.txns}
        self.txns_of: dict[str, list[dict[str, Any]]] = {}
        for t in self.txns:
            self.txns_of.setdefault(t["card_id"], []).append(t)
        self.disputes = sb.query("SELECT d.dispute_id, d.txn_id, d.cardholder_id, d.reason, d.status, d.amount, "
                                 "(SELECT c.credit_id FROM provisional_credits c WHERE c.dispute_id = d.dispute_id) "
                                 "AS credit_id FROM disputes d ORDER BY d.dispute_id")
        self.disputes_of: dict[str, list[dict[str, Any]]] = {}
        for d in self.disputes:
            self.disputes_of.setdefault(d["cardholder_id"], []).append(d)
        # Cardholders a search by full name finds alone, with a plain "First Last" name.
        plain = re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+$")
        lowered = [h["full_name"].casefold() for h in self.holders]
        self.searchable = [h["cardholder_id"] for h in self.holders if plain.match(h["full_name"])
                           and sum(1 for n in lowered if h["full_name"].casefold() in n) == 1]

    def owner(self, txn_id: str) -> str:
        """The cardholder of a transaction's card."""
        return self.card[self.txn[txn_id]["card_id"]]["cardholder_id"]

    def disputable(self, txn: dict[str, Any], reason: str | None = None) -> bool:
        """Whether ``open_dispute`` accepts the purchase (asked of the tool's own rule check)."""
        return dispute_blockers(self.sb, txn, self.card[txn["card_id"]]["status"], reason) is None

    def unique_last4(self, rng: random.Random, holder_id: str) -> dict[str, Any]:
        """A card of ``holder_id`` whose last four digits no other card of theirs shares."""
        cards = self.cards_of[holder_id]
        unique = [c for c in cards if sum(1 for d in cards if d["last4"] == c["last4"]) == 1]
        if not unique:
            raise Skip("no uniquely numbered card")
        return pick(rng, unique)

    def unique_charge(self, txn: dict[str, Any]) -> bool:
        """Whether no other transaction of its card has the same merchant and date (a query names it alone)."""
        return sum(1 for t in self.txns_of[txn["card_id"]]
                   if t["merchant_name"] == txn["merchant_name"] and t["txn_date"] == txn["txn_date"]) == 1
