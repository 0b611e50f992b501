"""The card-disputes tools: five reads and three writes, with the back office's rules.

Reads: ``find_cardholders`` (a listing of people), ``list_cards``, ``get_card_transactions``,
``list_disputes`` and ``get_dispute``. Writes: ``open_dispute``, ``issue_provisional_credit``
and ``add_dispute_note``; each enforces the rules below and refuses with a structured error
(``mock_apis.catalogue.ToolError``) naming the rule.

Rules (the system prompt states them too):
- a purchase can be disputed once it has posted, up to ``DISPUTE_WINDOW_DAYS`` days after its
  transaction date, once only; refunds and reversed purchases cannot be disputed; a closed
  card's purchases cannot, and a blocked card's only for fraud (``dispute_blockers``);
- a provisional credit is posted once per dispute, while the dispute is open or under review,
  for disputes of at most ``PROVISIONAL_CREDIT_LIMIT``;
- notes go on any dispute and are never blank.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from mock_apis.catalogue import ToolError
from mock_apis.domains.card_disputes.generate import (DECISION_DAYS, DISPUTE_REASONS, DISPUTE_WINDOW_DAYS,
                                                      PROVISIONAL_CREDIT_LIMIT)
from mock_apis.domains.card_disputes.registry import TOOLS
from mock_apis.sandbox import Sandbox
from mock_apis.toolkit import (DATE_PARAM, ISO_DATE, LIMIT, MONEY, NULLABLE_STRING, array_of, date_window, money,
                               params, record, require)

CARDHOLDER_ID = {"type": "string", "pattern": "^H[0-9]{6}$", "description": "Cardholder id, e.g. H000042."}
CARD_ID = {"type": "string", "pattern": "^K[0-9]{7}$", "description": "Card id, e.g. K0000042."}
TXN_ID = {"type": "string", "pattern": "^P[0-9]{9}$", "description": "Card transaction id, e.g. P000000042."}
DISPUTE_ID = {"type": "string", "pattern": "^D[0-9]{8}$", "description": "Dispute id, e.g. D00000042."}
DISPUTE_STATUSES = ["open", "under_review", "won", "lost", "withdrawn"]
#: Dispute statuses in which the case still runs (a provisional credit may be posted).
RUNNING = ("open", "under_review")
REASON = {"type": "string", "enum": list(DISPUTE_REASONS),
          "description": ("Why the cardholder disputes the purchase: fraud (they did not make it), not_received, "
                          "not_as_described, duplicate (charged twice), cancelled_recurring (a cancelled "
                          "subscription charged again) or wrong_amount.")}

CARDHOLDER = record({"cardholder_id": {"type": "string"}, "full_name": {"type": "string"},
                     "segment": {"type": "string"}, "customer_since": ISO_DATE})


@TOOLS.tool(
    name="find_cardholders",
    description="Find cardholders by (part of) their name. Returns at most `limit` matches, by cardholder id.",
    parameters=params({"name": {"type": "string", "minLength": 2, "maxLength": 120}, "limit": LIMIT}, ["name"]),
    returns=record({"cardholders": array_of(CARDHOLDER), "count": {"type": "integer"}}),
)
def find_cardholders(sb: Sandbox, name: str, limit: int = 20) -> dict[str, Any]:
    pattern = "%" + name.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = sb.query("SELECT cardholder_id, full_name, segment, customer_since FROM cardholders "
                    "WHERE full_name LIKE ? ESCAPE '\\' ORDER BY cardholder_id LIMIT ?", (pattern, limit))
    return {"cardholders": rows, "count": len(rows)}


CARD = record({"card_id": {"type": "string"}, "last4": {"type": "string"},
               "network": {"type": "string", "enum": ["visa", "mastercard"]},
               "product": {"type": "string", "enum": ["debit", "credit"]},
               "status": {"type": "string", "enum": ["active", "blocked", "closed"]},
               "block_reason": NULLABLE_STRING, "opened_on": ISO_DATE, "expires_on": ISO_DATE})


@TOOLS.tool(
    name="list_cards",
    description="A cardholder's cards: last four digits, network, debit or credit, status (active, blocked, closed) "
                "and why a blocked card is blocked.",
    parameters=params({"cardholder_id": CARDHOLDER_ID}, ["cardholder_id"]),
    returns=record({"cardholder_id": {"type": "string"}, "full_name": {"type": "string"}, "cards": array_of(CARD)}),
)
def list_cards(sb: Sandbox, cardholder_id: str) -> dict[str, Any]:
    holder = require(sb, "cardholders", "cardholder_id", cardholder_id, "cardholder")
    cards = sb.query("SELECT card_id, last4, network, product, status, block_reason, opened_on, expires_on "
                     "FROM cards WHERE cardholder_id = ? ORDER BY card_id", (cardholder_id,))
    return {"cardholder_id": cardholder_id, "full_name": holder["full_name"], "cards": cards}


def _days_between(earlier: str, later: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def dispute_blockers(sb: Sandbox, txn: dict[str, Any], card_status: str, reason: str | None = None
                     ) -> tuple[str, str] | None:
    """``(error code, why)`` when the purchase ``txn`` cannot be disputed (for ``reason``), else None."""
    existing = sb.scalar("SELECT dispute_id FROM disputes WHERE txn_id = ? ORDER BY dispute_id LIMIT 1",
                         (txn["txn_id"],))
    if existing is not None:
        return "conflict", f"transaction {txn['txn_id']} is already disputed ({existing})"
    if txn["txn_type"] != "purchase":
        return "rule_violation", f"transaction {txn['txn_id']} is a {txn['txn_type']}; only purchases can be disputed"
    if txn["status"] == "pending":
        return "rule_violation", f"transaction {txn['txn_id']} is still pending; it can be disputed once it posts"
    if txn["status"] == "reversed":
        return "conflict", f"transaction {txn['txn_id']} was already reversed by the merchant"
    age = _days_between(txn["txn_date"], sb.as_of)
    if age > DISPUTE_WINDOW_DAYS:
        return "rule_violation", (f"transaction {txn['txn_id']} is dated {txn['txn_date']}, {age} days ago; "
                                  f"the dispute window is {DISPUTE_WINDOW_DAYS} days")
    if card_status == "closed":
        return "rule_violation", f"card {txn['card_id']} is closed; its purchases cannot be disputed here"
    if card_status == "blocked" and reason not in (None, "fraud"):
        return "rule_violation", (f"card {txn['card_id']} is blocked; only fraud disputes can be opened on a "
                                  "blocked card")
    return None


TRANSACTION = record({"txn_id": {"type": "string"}, "txn_date": ISO_DATE, "merchant_id": {"type": "string"},
                      "merchant_name": {"type": "string"}, "category": {"type": "string"},
                      "txn_type": {"type": "string", "enum": ["purchase", "refund"]},
                      "status": {"type": "string", "enum": ["posted", "pending", "reversed"]}, "amount": MONEY,
                      "dispute_id": NULLABLE_STRING, "disputable": {"type": "boolean"},
                      "not_disputable_reason": NULLABLE_STRING})
DEFAULT_WINDOW_DAYS = 90


@TOOLS.tool(
    name="get_card_transactions",
    description=(f"A card's transactions between start_date and end_date (default: the last {DEFAULT_WINDOW_DAYS} "
                 "days), newest first, optionally only those at merchants whose name contains `merchant`. Each "
                 "says whether it is already disputed (dispute_id) and whether a dispute can be opened on it now "
                 "(disputable, and why not; on a blocked card, for fraud only). The total counts posted purchases "
                 "only."),
    parameters=params({"card_id": CARD_ID, "start_date": DATE_PARAM, "end_date": DATE_PARAM,
                       "merchant": {"type": "string", "minLength": 2, "maxLength": 80}, "limit": LIMIT},
                      ["card_id"]),
    returns=record({"card_id": {"type": "string"}, "start_date": ISO_DATE, "end_date": ISO_DATE,
                    "transactions": array_of(TRANSACTION), "count": {"type": "integer"},
                    "posted_purchase_total": MONEY}),
)
def get_card_transactions(sb: Sandbox, card_id: str, start_date: str | None = None, end_date: str | None = None,
                          merchant: str | None = None, limit: int = 50) -> dict[str, Any]:
    card = require(sb, "cards", "card_id", card_id, "card")
    start, end = date_window(sb, start_date, end_date, default_days=DEFAULT_WINDOW_DAYS)
    sql = ("SELECT t.txn_id, t.txn_date, t.merchant_id, m.name AS merchant_name, m.category, t.txn_type, t.status, "
           "t.amount, t.card_id FROM card_transactions t JOIN merchants m ON m.merchant_id = t.merchant_id "
           "WHERE t.card_id = ? AND t.txn_date BETWEEN ? AND ?")
    args: tuple = (card_id, start, end)
    if merchant is not None:
        sql += " AND m.name LIKE ? ESCAPE '\\'"
        args += ("%" + merchant.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",)
    rows = sb.query(sql + " ORDER BY t.txn_date DESC, t.txn_id DESC LIMIT ?", (*args, limit))
    for row in rows:
        blocker = dispute_blockers(sb, row, card["status"])
        row["dispute_id"] = sb.scalar("SELECT dispute_id FROM disputes WHERE txn_id = ? ORDER BY dispute_id LIMIT 1",
                                      (row["txn_id"],))
        row["disputable"] = blocker is None
        row["not_disputable_reason"] = None if blocker is None else blocker[1]
        del row["card_id"]
    total = sum(r["amount"] for r in rows if r["txn_type"] == "purchase" and r["status"] == "posted")
    return {"card_id": card_id, "start_date": start, "end_date": end, "transactions": rows, "count": len(rows),
            "posted_purchase_total": money(total)}


DISPUTE_SUMMARY = record({"dispute_id": {"type": "string"}, "txn_id": {"type": "string"},
                          "card_id": {"type": "string"}, "merchant_name": {"type": "string"},
                          "reason": {"type": "string"}, "amount": MONEY,
                          "status": {"type": "string", "enum": DISPUTE_STATUSES}, "opened_on": ISO_DATE,
                          "decision_due": ISO_DATE, "resolved_on": {"type": ["string", "null"]}})
_DISPUTE_SQL = ("SELECT d.dispute_id, d.txn_id, d.card_id, m.name AS merchant_name, d.reason, d.amount, d.status, "
                "d.opened_on, d.decision_due, d.resolved_on FROM disputes d "
                "JOIN card_transactions t ON t.txn_id = d.txn_id JOIN merchants m ON m.merchant_id = t.merchant_id ")


@TOOLS.tool(
    name="list_disputes",
    description="A cardholder's disputes, newest first, optionally only those with a given status.",
    parameters=params({"cardholder_id": CARDHOLDER_ID, "status": {"type": "string", "enum": DISPUTE_STATUSES}},
                      ["cardholder_id"]),
    returns=record({"cardholder_id": {"type": "string"}, "disputes": array_of(DISPUTE_SUMMARY),
                    "count": {"type": "integer"}}),
)
def list_disputes(sb: Sandbox, cardholder_id: str, status: str | None = None) -> dict[str, Any]:
    require(sb, "cardholders", "cardholder_id", cardholder_id, "cardholder")
    sql, args = _DISPUTE_SQL + "WHERE d.cardholder_id = ?", (cardholder_id,)
    if status is not None:
        sql, args = sql + " AND d.status = ?", (*args, status)
    rows = sb.query(sql + " ORDER BY d.opened_on DESC, d.dispute_id DESC", args)
    return {"cardholder_id": cardholder_id, "disputes": rows, "count": len(rows)}


CREDIT = record({"credit_id": {"type": "string"}, "dispute_id": {"type": "string"}, "amount": MONEY,
                 "credited_on": ISO_DATE})
NOTE = record({"note_id": {"type": "string"}, "dispute_id": {"type": "string"}, "created_on": ISO_DATE,
               "text": {"type": "string"}})
DISPUTE = record({**DISPUTE_SUMMARY["properties"], "cardholder_id": {"type": "string"},
                  "txn_date": ISO_DATE, "txn_amount": MONEY,
                  "provisional_credit": {"anyOf": [CREDIT, {"type": "null"}]}, "notes": array_of(NOTE)})


def dispute_record(sb: Sandbox, dispute_id: str) -> dict[str, Any]:
    require(sb, "disputes", "dispute_id", dispute_id, "dispute")
    row = sb.query_one(_DISPUTE_SQL.replace("SELECT ", "SELECT d.cardholder_id, t.txn_date, t.amount AS txn_amount, ",
                                            1) + "WHERE d.dispute_id = ?", (dispute_id,))
    assert row is not None
    row["provisional_credit"] = sb.query_one("SELECT credit_id, dispute_id, amount, credited_on FROM "
                                             "provisional_credits WHERE dispute_id = ?", (dispute_id,))
    row["notes"] = sb.query("SELECT note_id, dispute_id, created_on, text FROM dispute_notes WHERE dispute_id = ? "
                            "ORDER BY created_on, note_id", (dispute_id,))
    return {k: row[k] for k in DISPUTE["properties"]}


@TOOLS.tool(
    name="get_dispute",
    description="One dispute in full: the disputed purchase, reason, amount, status, decision due date, the "
                "provisional credit posted for it (if any) and the case notes.",
    parameters=params({"dispute_id": DISPUTE_ID}, ["dispute_id"]),
    returns=DISPUTE,
    criticality=1.5,
)
def get_dispute(sb: Sandbox, dispute_id: str) -> dict[str, Any]:
    return dispute_record(sb, dispute_id)


@TOOLS.tool(
    name="open_dispute",
    description=(f"Open a dispute (chargeback case) on a card purchase, dated today, for the purchase's amount or a "
                 f"part of it. Rules: the purchase must have posted (not pending, not reversed), be at most "
                 f"{DISPUTE_WINDOW_DAYS} days old and not disputed already; refunds cannot be disputed; a closed "
                 f"card's purchases cannot be disputed, and a blocked card's only for fraud. The bank decides "
                 f"within {DECISION_DAYS} days. Returns the new dispute."),
    parameters=params({"txn_id": TXN_ID, "reason": REASON,
                       "amount": {"type": "number", "minimum": 0.01, "maximum": 1_000_000,
                                  "description": "The disputed amount; default the whole purchase."}},
                      ["txn_id", "reason"]),
    returns=DISPUTE,
    criticality=3.0,
    writes=True,
)
def open_dispute(sb: Sandbox, txn_id: str, reason: str, amount: float | None = None) -> dict[str, Any]:
    txn = require(sb, "card_transactions", "txn_id", txn_id, "card transaction")
    card = require(sb, "cards", "card_id", txn["card_id"], "card")
    blocker = dispute_blockers(sb, txn, card["status"], reason)
    if blocker is not None:
        raise ToolError(*blocker)
    disputed = txn["amount"] if amount is None else money(amount)
    if disputed > txn["amount"]:
        raise ToolError("rule_violation", f"the disputed amount {disputed:.2f} exceeds the purchase's "
                                          f"{txn['amount']:.2f}")
    dispute_id = sb.next_id("disputes", "dispute_id", "D", 8)
    due = (date.fromisoformat(sb.as_of) + timedelta(days=DECISION_DAYS)).isoformat()
    sb.insert("disputes", {"dispute_id": dispute_id, "txn_id": txn_id, "card_id": card["card_id"],
                           "cardholder_id": card["cardholder_id"], "reason": reason, "amount": disputed,
                           "status": "open", "opened_on": sb.as_of, "decision_due": due, "resolved_on": None})
    return dispute_record(sb, dispute_id)


@TOOLS.tool(
    name="issue_provisional_credit",
    description=(f"Post a provisional credit of the disputed amount to the card while the dispute runs. Rules: the "
                 f"dispute must be open or under review, have no provisional credit yet, and be for at most "
                 f"${PROVISIONAL_CREDIT_LIMIT:,.2f} (larger disputes need a back-office decision). Returns the "
                 "credit."),
    parameters=params({"dispute_id": DISPUTE_ID}, ["dispute_id"]),
    returns=CREDIT,
    criticality=2.5,
    writes=True,
)
def issue_provisional_credit(sb: Sandbox, dispute_id: str) -> dict[str, Any]:
    dispute = require(sb, "disputes", "dispute_id", dispute_id, "dispute")
    existing = sb.scalar("SELECT credit_id FROM provisional_credits WHERE dispute_id = ?", (dispute_id,))
    if existing is not None:
        raise ToolError("conflict", f"dispute {dispute_id} already has provisional credit {existing}")
    if dispute["status"] not in RUNNING:
        raise ToolError("rule_violation", f"dispute {dispute_id} is {dispute['status']}; provisional credit is only "
                                          "for open or under-review disputes")
    if dispute["amount"] > PROVISIONAL_CREDIT_LIMIT:
        raise ToolError("rule_violation", f"dispute {dispute_id} is for {dispute['amount']:.2f}, above the "
                                          f"{PROVISIONAL_CREDIT_LIMIT:.2f} provisional-credit limit")
    credit = {"credit_id": sb.next_id("provisional_credits", "credit_id", "R", 8), "dispute_id": dispute_id,
              "amount": dispute["amount"], "credited_on": sb.as_of}
    sb.insert("provisional_credits", credit)
    return credit


@TOOLS.tool(
    name="add_dispute_note",
    description="File a note on a dispute case, dated today. Returns the stored note.",
    parameters=params({"dispute_id": DISPUTE_ID, "text": {"type": "string", "minLength": 3, "maxLength": 2000}},
                      ["dispute_id", "text"]),
    returns=NOTE,
    criticality=1.5,
    writes=True,
)
def add_dispute_note(sb: Sandbox, dispute_id: str, text: str) -> dict[str, Any]:
    require(sb, "disputes", "dispute_id", dispute_id, "dispute")
    if not text.strip():
        raise ToolError("invalid_arguments", "text must not be blank", [{"path": "text", "message": "blank"}])
    note = {"note_id": sb.next_id("dispute_notes", "note_id", "N", 8), "dispute_id": dispute_id,
            "created_on": sb.as_of, "text": text.strip()}
    sb.insert("dispute_notes", note)
    return note
