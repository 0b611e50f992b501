"""How the card-disputes tasks are worded: amounts, how a cardholder, card, charge and reason
are named in a query, and the sentences that describe tool results in a gold answer."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from mock_apis.domain import pick

REASON_WORDS: dict[str, tuple[str, ...]] = {
    "fraud": ("fraud", "an unauthorised charge", "a charge they never made"),
    "not_received": ("goods not received", "an order that never arrived", "non-delivery"),
    "not_as_described": ("goods not as described", "an item that was not as described"),
    "duplicate": ("a duplicate charge", "being charged twice"),
    "cancelled_recurring": ("a cancelled subscription that was charged again", "a recurring charge after cancelling"),
    "wrong_amount": ("being charged the wrong amount", "an incorrect amount"),
}
REASON_LABELS = {"fraud": "fraud", "not_received": "goods not received", "not_as_described": "not as described",
                 "duplicate": "duplicate charge", "cancelled_recurring": "cancelled recurring charge",
                 "wrong_amount": "wrong amount"}
STATUS_WORDS = {"open": "open", "under_review": "under review", "won": "won", "lost": "lost",
                "withdrawn": "withdrawn"}
#: Case notes a dispute analyst files: on any dispute, and on a dispute of one reason.
GENERAL_NOTES = ("Merchant contacted; no reply yet.", "Called the cardholder to confirm the disputed amount.")
REASON_NOTES: dict[str, tuple[str, ...]] = {
    "fraud": ("Cardholder confirmed they still have the card.", "Cardholder does not recognise the merchant."),
    "not_received": ("Cardholder says the parcel was never delivered.",),
    "not_as_described": ("Cardholder sent photos of the item received.",),
    "duplicate": ("Cardholder's statement shows the same charge twice.",),
    "cancelled_recurring": ("Cardholder emailed the merchant's cancellation confirmation.",),
    "wrong_amount": ("Cardholder uploaded the receipt showing the correct price.",),
}
OUTCOME_NOTE = "Cardholder informed of the outcome by phone."


def note_for(rng: random.Random, reason: str, opening: bool = False) -> str:
    """A case note that fits a dispute of ``reason`` (``opening``: filed as the dispute is opened,
    so the cardholder's evidence, not a follow-up)."""
    return pick(rng, REASON_NOTES[reason] if opening else GENERAL_NOTES + REASON_NOTES[reason])


def money(x: float) -> str:
    return f"${x:,.2f}"


def num(x: float) -> str:
    return f"{x:,.2f}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def human_date(iso: str, rng: random.Random) -> str:
    d = date.fromisoformat(iso)
    return pick(rng, [f"{d:%B} {d.day}, {d.year}", f"{d:%b} {d.day}", iso])


def href(rng: random.Random, holder_id: str) -> str:
    """How a query names a cardholder by id."""
    return pick(rng, [f"cardholder {holder_id}", f"customer {holder_id}", holder_id])


def cap(text: str) -> str:
    return text[0].upper() + text[1:]


def card_words(card: dict[str, Any]) -> str:
    return f"{card['network'].capitalize()} {card['product']} card ending {card['last4']}"


def cards_text(holder_id: str, name: str, cards: list[dict[str, Any]]) -> str:
    parts = []
    for c in cards:
        state = c["status"] + (f" ({c['block_reason']})" if c["block_reason"] else "")
        parts.append(f"{c['card_id']}, a {card_words(c)}, {state}")
    return f"{name} ({holder_id}) has {plural(len(cards), 'card')}: " + "; ".join(parts) + "."


def txn_words(t: dict[str, Any]) -> str:
    return f"{t['txn_id']}, {money(t['amount'])} at {t['merchant_name']} on {t['txn_date']} ({t['status']})"


def dispute_line(d: dict[str, Any]) -> str:
    return (f"{d['dispute_id']} ({REASON_LABELS[d['reason']]}, {money(d['amount'])} at {d['merchant_name']}, "
            f"{STATUS_WORDS[d['status']]})")


def disputes_text(holder_id: str, disputes: list[dict[str, Any]], status: str | None) -> str:
    kind = f"{STATUS_WORDS[status]} " if status else ""
    if not disputes:
        return f"Cardholder {holder_id} has no {kind}disputes."
    return (f"Cardholder {holder_id} has {plural(len(disputes), kind + 'dispute')}: "
            + "; ".join(dispute_line(d) for d in disputes) + ".")


def dispute_text(d: dict[str, Any]) -> str:
    """Everything ``get_dispute`` returned, in sentences."""
    out = (f"Dispute {d['dispute_id']} covers {money(d['amount'])} of the {money(d['txn_amount'])} purchase "
           f"{d['txn_id']} at {d['merchant_name']} on {d['txn_date']} (card {d['card_id']}), for "
           f"{REASON_LABELS[d['reason']]}. It was opened on {d['opened_on']} and is {STATUS_WORDS[d['status']]}")
    out += f", resolved on {d['resolved_on']}." if d["resolved_on"] else f"; the decision is due by {d['decision_due']}."
    credit = d["provisional_credit"]
    out += (f" A provisional credit of {money(credit['amount'])} ({credit['credit_id']}) was posted on "
            f"{credit['credited_on']}." if credit else " No provisional credit has been posted.")
    if d["notes"]:
        out += " Case notes: " + " ".join(f"{n['created_on']}: {n['text']}" for n in d["notes"])
    return out


def opened_text(d: dict[str, Any]) -> str:
    return (f"I opened dispute {d['dispute_id']} on purchase {d['txn_id']} ({money(d['txn_amount'])} at "
            f"{d['merchant_name']} on {d['txn_date']}) for {money(d['amount'])}, reason "
            f"{REASON_LABELS[d['reason']]}. It is open, and the decision is due by {d['decision_due']}.")


def credit_text(c: dict[str, Any]) -> str:
    return (f"I posted provisional credit {c['credit_id']} of {money(c['amount'])} on dispute {c['dispute_id']}, "
            f"dated {c['credited_on']}.")
