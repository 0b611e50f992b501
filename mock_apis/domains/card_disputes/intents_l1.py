"""L1 intents of card disputes: a single tool call (``L1:<name>``)."""

from __future__ import annotations

import random
from datetime import timedelta

from mock_apis.domain import Draft, Skip, pick
from mock_apis.domains.card_disputes.context import Ctx
from mock_apis.domains.card_disputes.generate import PROVISIONAL_CREDIT_LIMIT
from mock_apis.domains.card_disputes.phrasing import (
    REASON_WORDS, STATUS_WORDS, cap, card_words, cards_text, credit_text, dispute_text, disputes_text,
    href, money, note_for, num, opened_text, plural, txn_words,
)
from mock_apis.domains.card_disputes.registry import INTENTS

intent = INTENTS.intent


@intent("L1", "cardholder_search", ["find_cardholders"])
def _l1_search(ctx: Ctx, rng: random.Random) -> Draft:
    h = ctx.holder[pick(rng, ctx.searchable)]
    name = h["full_name"]
    res = ctx.run("find_cardholders", name=name)
    if res["count"] != 1:
        raise Skip("ambiguous name")
    hit = res["cardholders"][0]
    query, facts = pick(rng, [
        (pick(rng, [f"What's the cardholder id of {name}?", f"Find {name} in our cardholder records."]),
         [hit["cardholder_id"]]),
        (pick(rng, [f"Since when has {name} been a customer?", f"How long has {name} banked with us?"]),
         [hit["customer_since"]]),
    ])
    response = (f"{name} is cardholder {hit['cardholder_id']}, in the {hit['segment']} segment, a customer since "
                f"{hit['customer_since']}.")
    return Draft(query, [("find_cardholders", {"name": name})], response, facts,
                 ["I can find the cardholder by name."], subjects=[hit["cardholder_id"]])


@intent("L1", "cards", ["list_cards"])
def _l1_cards(ctx: Ctx, rng: random.Random) -> Draft:
    blocked = [h for h in ctx.holder_ids if any(c["status"] != "active" for c in ctx.cards_of[h])]
    hid = pick(rng, blocked if rng.random() < 0.5 else ctx.holder_ids)
    res = ctx.run("list_cards", cardholder_id=hid)
    cards = res["cards"]
    h = href(rng, hid)
    not_active = [c for c in cards if c["status"] != "active"]
    variant = rng.randrange(3)
    if variant == 0:
        query = pick(rng, [f"How many cards does {h} have?", f"Which cards does {h} hold with us?"])
        facts = [c["card_id"] for c in cards[:3]]
    elif variant == 1:
        query = pick(rng, [f"Are any of {h}'s cards blocked or closed?", f"Is every card of {h} active?"])
        facts = [f"{c['card_id']}, a {card_words(c)}, {c['status']}" for c in not_active[:2]] or ["all active"]
    else:
        c = pick(rng, cards)
        query = pick(rng, [f"What's the status of {h}'s card ending {c['last4']}?",
                           f"Is the card ending {c['last4']} of {h} still usable?"])
        if sum(1 for d in cards if d["last4"] == c["last4"]) > 1:
            raise Skip("two cards share the last four digits")
        facts = [f"{c['card_id']}, a {card_words(c)}, {c['status']}"]
    response = cards_text(hid, res["full_name"], cards)
    if variant == 1 and not not_active:
        response += " They are all active."
    return Draft(cap(query), [("list_cards", {"cardholder_id": hid})], response, facts,
                 ["The card list has each card's status."], subjects=[hid])


TXN_WINDOWS = {"d30": ("in the last 30 days", 30), "d60": ("over the past 60 days", 60),
               "d90": ("in the last 90 days", 90), "d7": ("over the past week", 7)}


@intent("L1", "card_transactions", ["get_card_transactions"])
def _l1_transactions(ctx: Ctx, rng: random.Random) -> Draft:
    card = ctx.card[pick(rng, sorted(ctx.txns_of))]
    key = pick(rng, sorted(TXN_WINDOWS))
    phrase, days = TXN_WINDOWS[key]
    args = {"card_id": card["card_id"], "start_date": (ctx.as_of - timedelta(days=days)).isoformat()}
    merchant = None
    if rng.random() < 0.4:
        merchant = pick(rng, sorted({t["merchant_name"] for t in ctx.txns_of[card["card_id"]]}))
        args["merchant"] = merchant
    res = ctx.run("get_card_transactions", **args)
    if not 0 < res["count"] < 20:
        raise Skip("empty or long listing")
    at = f" at {merchant}" if merchant else ""
    variant = rng.randrange(2)
    if variant == 0:
        query = pick(rng, [f"List the transactions on card {card['card_id']}{at} {phrase}.",
                           f"Show me card {card['card_id']}'s charges{at} {phrase}."])
        facts = [t["txn_id"] for t in res["transactions"][:3]]
    else:
        query = pick(rng, [f"How much was spent on card {card['card_id']}{at} {phrase}?",
                           f"What's the total of posted purchases on card {card['card_id']}{at} {phrase}?"])
        facts = [num(res["posted_purchase_total"])]
    response = (f"From {res['start_date']} to {res['end_date']}, card {card['card_id']} has "
                f"{plural(res['count'], 'transaction')}{at}: " + "; ".join(txn_words(t) for t in res["transactions"])
                + f". Posted purchases total {money(res['posted_purchase_total'])}.")
    return Draft(query, [("get_card_transactions", args)], response, facts,
                 [f"I need the card's transactions {phrase}."], subjects=[card["cardholder_id"]])


@intent("L1", "disputes", ["list_disputes"])
def _l1_disputes(ctx: Ctx, rng: random.Random) -> Draft:
    hid = pick(rng, sorted(ctx.disputes_of) if rng.random() < 0.8 else ctx.holder_ids)
    status = pick(rng, [None, None, "open", "under_review", "won"])
    args = {"cardholder_id": hid, **({"status": status} if status else {})}
    res = ctx.run("list_disputes", **args)
    h = href(rng, hid)
    word = f"{STATUS_WORDS[status]} " if status else ""
    query = pick(rng, [f"Does {h} have any {word}disputes?", f"List {h}'s {word}disputes.",
                       f"Which {word}chargeback cases does {h} have?"])
    facts = [d["dispute_id"] for d in res["disputes"][:3]] or [f"no {word}disputes"]
    return Draft(cap(query), [("list_disputes", args)], disputes_text(hid, res["disputes"], status), facts,
                 ["The dispute list has the cardholder's cases."], subjects=[hid])


@intent("L1", "dispute_details", ["get_dispute"])
def _l1_dispute(ctx: Ctx, rng: random.Random) -> Draft:
    d0 = pick(rng, ctx.disputes)
    d = ctx.run("get_dispute", dispute_id=d0["dispute_id"])
    did = d["dispute_id"]
    variant = rng.randrange(3)
    if variant == 0:
        query = pick(rng, [f"What's the status of dispute {did}?", f"Where are we with chargeback {did}?"])
        facts = [STATUS_WORDS[d["status"]]]
    elif variant == 1:
        query = pick(rng, [f"Has a provisional credit been posted on dispute {did}?",
                           f"Did the cardholder get a provisional credit for dispute {did}?"])
        facts = [d["provisional_credit"]["credit_id"]] if d["provisional_credit"] else ["No provisional credit"]
    else:
        query = pick(rng, [f"How much is disputed in case {did}, and at which merchant?",
                           f"What amount and merchant does dispute {did} cover?"])
        facts = [num(d["amount"]), d["merchant_name"]]
    return Draft(query, [("get_dispute", {"dispute_id": did})], dispute_text(d), facts,
                 ["The dispute record has its status, credit and notes."], subjects=[d["cardholder_id"]])


def disputable_purchases(ctx: Ctx, reason: str | None = None, max_amount: float | None = None) -> list[dict]:
    """Purchases ``open_dispute`` accepts (for ``reason``), at most ``max_amount``."""
    return [t for t in ctx.txns if t["txn_type"] == "purchase" and t["status"] == "posted" and not t["dispute_id"]
            and (max_amount is None or t["amount"] <= max_amount) and ctx.disputable(t, reason)]


@intent("L1", "open_dispute", ["open_dispute"])
def _l1_open(ctx: Ctx, rng: random.Random) -> Draft:
    reason = pick(rng, sorted(REASON_WORDS))
    t = pick(rng, disputable_purchases(ctx, reason))
    hid = ctx.owner(t["txn_id"])
    args = {"txn_id": t["txn_id"], "reason": reason}
    partial = reason == "wrong_amount" and t["amount"] >= 20
    if partial:
        args["amount"] = round(t["amount"] / 2, 2)
    d = ctx.run("open_dispute", **args)
    h = href(rng, hid)
    why = pick(rng, REASON_WORDS[reason])
    if partial:
        query = pick(rng, [f"{cap(h)} was overcharged on purchase {t['txn_id']}: open a wrong_amount dispute for "
                           f"{money(args['amount'])} of it.",
                           f"Open a dispute on transaction {t['txn_id']} for {h}, reason wrong_amount, amount "
                           f"{money(args['amount'])}."])
    else:
        query = pick(rng, [f"Open a dispute on transaction {t['txn_id']} for {h}: {why}.",
                           f"{cap(h)} wants to dispute purchase {t['txn_id']} ({why}). Please raise it.",
                           f"Raise a chargeback on {t['txn_id']} for {h}, reason: {why}."])
    return Draft(query, [("open_dispute", args)], opened_text(d), [d["dispute_id"]],
                 ["The purchase is within the rules; open the dispute."], subjects=[hid])


@intent("L1", "provisional_credit", ["issue_provisional_credit"])
def _l1_credit(ctx: Ctx, rng: random.Random) -> Draft:
    d0 = pick(rng, [d for d in ctx.disputes if d["status"] in ("open", "under_review") and not d["credit_id"]
                    and d["amount"] <= PROVISIONAL_CREDIT_LIMIT])
    c = ctx.run("issue_provisional_credit", dispute_id=d0["dispute_id"])
    h = href(rng, d0["cardholder_id"])
    query = pick(rng, [f"Issue a provisional credit on dispute {d0['dispute_id']}.",
                       f"Post the provisional credit for {h}'s dispute {d0['dispute_id']}.",
                       f"Please credit {h} provisionally while dispute {d0['dispute_id']} runs."])
    return Draft(cap(query), [("issue_provisional_credit", {"dispute_id": d0["dispute_id"]})], credit_text(c),
                 [c["credit_id"], num(c["amount"])], ["The dispute qualifies; post the credit."],
                 subjects=[d0["cardholder_id"]])


@intent("L1", "dispute_note", ["add_dispute_note"])
def _l1_note(ctx: Ctx, rng: random.Random) -> Draft:
    d0 = pick(rng, ctx.disputes)
    text = note_for(rng, d0["reason"])
    n = ctx.run("add_dispute_note", dispute_id=d0["dispute_id"], text=text)
    query = pick(rng, [f"Add a note to dispute {d0['dispute_id']}: \"{text}\"",
                       f"Log this on case {d0['dispute_id']}: \"{text}\"",
                       f"Please record on dispute {d0['dispute_id']} that \"{text}\""])
    response = f"I added note {n['note_id']} to dispute {d0['dispute_id']}, dated {n['created_on']}: \"{n['text']}\""
    return Draft(query, [("add_dispute_note", {"dispute_id": d0["dispute_id"], "text": text})], response,
                 [n["note_id"]], ["I write the note exactly as given."], subjects=[d0["cardholder_id"]])

