"""L2 intents of card disputes: sequential multi-tool; an output of one call is an input of the
next (``L2:<tool>-><tool>:<name>``)."""

from __future__ import annotations

import random
from typing import Any

from mock_apis.domain import Draft, Skip, pick
from mock_apis.domains.card_disputes.context import Ctx
from mock_apis.domains.card_disputes.generate import PROVISIONAL_CREDIT_LIMIT
from mock_apis.domains.card_disputes.intents_l1 import disputable_purchases
from mock_apis.domains.card_disputes.phrasing import (
    REASON_WORDS, STATUS_WORDS, cap, card_words, cards_text, credit_text, dispute_text, disputes_text, href,
    human_date, money, note_for, num, opened_text, plural, txn_words,
)
from mock_apis.domains.card_disputes.registry import INTENTS

intent = INTENTS.intent


def _by_name(ctx: Ctx, rng: random.Random, pool: list[str] | None = None) -> tuple[str, str]:
    candidates = [h for h in ctx.searchable if pool is None or h in pool]
    hid = pick(rng, candidates)
    name = ctx.holder[hid]["full_name"]
    res = ctx.run("find_cardholders", name=name)
    if res["count"] != 1:
        raise Skip("ambiguous")
    return name, hid


@intent("L2", "find_cardholders->list_cards:cards_by_name", ["find_cardholders", "list_cards"])
def _l2_cards_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    name, hid = _by_name(ctx, rng)
    res = ctx.run("list_cards", cardholder_id=hid)
    cards = res["cards"]
    if rng.random() < 0.5:
        query = pick(rng, [f"Which cards does {name} have with us?", f"List {name}'s cards."])
        facts = [c["card_id"] for c in cards[:3]]
    else:
        query = pick(rng, [f"Is any of {name}'s cards blocked?", f"Are all of {name}'s cards active?"])
        blocked = [c for c in cards if c["status"] != "active"]
        facts = [f"{c['card_id']}, a {card_words(c)}, {c['status']}" for c in blocked[:2]] or ["all active"]
    response = cards_text(hid, name, cards)
    if "all active" in facts:
        response += " They are all active."
    return Draft(query, [("find_cardholders", {"name": name}), ("list_cards", {"cardholder_id": hid})], response,
                 facts, ["I need the cardholder id first.", "The card list has each card's status."], subjects=[hid])


@intent("L2", "find_cardholders->list_disputes:disputes_by_name", ["find_cardholders", "list_disputes"])
def _l2_disputes_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    name, hid = _by_name(ctx, rng, sorted(ctx.disputes_of) if rng.random() < 0.8 else None)
    status = pick(rng, [None, None, "open", "won"])
    args = {"cardholder_id": hid, **({"status": status} if status else {})}
    res = ctx.run("list_disputes", **args)
    word = f"{STATUS_WORDS[status]} " if status else ""
    query = pick(rng, [f"Does {name} have any {word}disputes with us?", f"List {name}'s {word}chargeback cases.",
                       f"What {word}disputes has {name} raised?"])
    facts = [d["dispute_id"] for d in res["disputes"][:3]] or [f"no {word}disputes"]
    return Draft(query, [("find_cardholders", {"name": name}), ("list_disputes", args)],
                 f"{name} is cardholder {hid}. " + disputes_text(hid, res["disputes"], status), facts,
                 ["Find the cardholder id by name.", "Then list their disputes."], subjects=[hid])


@intent("L2", "list_cards->get_card_transactions:card_ending_activity", ["list_cards", "get_card_transactions"])
def _l2_card_activity(ctx: Ctx, rng: random.Random) -> Draft:
    hid = pick(rng, ctx.holder_ids)
    card = ctx.unique_last4(rng, hid)
    ctx.run("list_cards", cardholder_id=hid)
    merchant = None
    args: dict[str, Any] = {"card_id": card["card_id"]}
    if rng.random() < 0.5 and ctx.txns_of.get(card["card_id"]):
        merchant = pick(rng, sorted({t["merchant_name"] for t in ctx.txns_of[card["card_id"]]}))
        args["merchant"] = merchant
    res = ctx.run("get_card_transactions", **args)
    if not 0 < res["count"] < 20:
        raise Skip("empty or long listing")
    h = href(rng, hid)
    at = f" at {merchant}" if merchant else ""
    if rng.random() < 0.5:
        query = pick(rng, [f"Show me the last 90 days of charges{at} on {h}'s card ending {card['last4']}.",
                           f"What went through {h}'s card ending {card['last4']}{at} in the last 90 days?"])
        facts = [t["txn_id"] for t in res["transactions"][:3]]
    else:
        query = pick(rng, [f"How much did {h} spend{at} on their card ending {card['last4']} over the last 90 days?",
                           f"Total the posted purchases{at} on {h}'s card ending {card['last4']} for the last 90 days."])
        facts = [num(res["posted_purchase_total"])]
    response = (f"{cap(h)}'s card ending {card['last4']} is {card['card_id']}. From {res['start_date']} "
                f"to {res['end_date']} it has {plural(res['count'], 'transaction')}{at}: "
                + "; ".join(txn_words(t) for t in res["transactions"])
                + f". Posted purchases total {money(res['posted_purchase_total'])}.")
    return Draft(cap(query), [("list_cards", {"cardholder_id": hid}), ("get_card_transactions", args)],
                 response, facts, ["I need the card id first.", "Then the card's transactions."], subjects=[hid])


@intent("L2", "list_disputes->get_dispute:latest_dispute", ["list_disputes", "get_dispute"])
def _l2_latest_dispute(ctx: Ctx, rng: random.Random) -> Draft:
    hid = pick(rng, sorted(ctx.disputes_of))
    listing = ctx.run("list_disputes", cardholder_id=hid)["disputes"]
    if len(listing) > 1 and listing[0]["opened_on"] == listing[1]["opened_on"]:
        raise Skip("two disputes opened the same day")
    d = ctx.run("get_dispute", dispute_id=listing[0]["dispute_id"])
    h = href(rng, hid)
    variant = rng.randrange(3)
    if variant == 0:
        query = pick(rng, [f"What notes are on {h}'s most recent dispute?",
                           f"Read me the case notes of {h}'s latest dispute."])
        facts = [n["text"] for n in d["notes"][:2]] or [d["dispute_id"]]
    elif variant == 1:
        query = pick(rng, [f"Has {h}'s latest dispute got a provisional credit?",
                           f"Was a provisional credit posted on the newest dispute of {h}?"])
        facts = [d["provisional_credit"]["credit_id"]] if d["provisional_credit"] else ["No provisional credit"]
    else:
        query = pick(rng, [f"When is the decision due on {h}'s most recent dispute, and what's its status?",
                           f"Where does {h}'s newest chargeback stand?"])
        facts = [STATUS_WORDS[d["status"]], d["dispute_id"]]
    if not d["notes"] and variant == 0:
        response = dispute_text(d) + " There are no case notes."
    else:
        response = dispute_text(d)
    return Draft(cap(query), [("list_disputes", {"cardholder_id": hid}),
                                                ("get_dispute", {"dispute_id": d["dispute_id"]})],
                 f"The most recent dispute of cardholder {hid} is {d['dispute_id']}. " + response, facts,
                 ["List the cardholder's disputes.", "Read the newest one in full."], subjects=[hid])


@intent("L2", "get_card_transactions->open_dispute:dispute_named_charge", ["get_card_transactions", "open_dispute"])
def _l2_dispute_charge(ctx: Ctx, rng: random.Random) -> Draft:
    reason = pick(rng, sorted(REASON_WORDS))
    t = pick(rng, [t for t in disputable_purchases(ctx, reason) if ctx.unique_charge(t)])
    card = ctx.card[t["card_id"]]
    hid = card["cardholder_id"]
    read = {"card_id": card["card_id"], "start_date": t["txn_date"], "end_date": t["txn_date"],
            "merchant": t["merchant_name"]}
    res = ctx.run("get_card_transactions", **read)
    if res["count"] != 1:
        raise Skip("not one charge")
    args = {"txn_id": t["txn_id"], "reason": reason}
    d = ctx.run("open_dispute", **args)
    when = human_date(t["txn_date"], rng)
    why = pick(rng, REASON_WORDS[reason])
    query = pick(rng, [
        f"{cap(href(rng, hid))} disputes the {t['merchant_name']} charge of {when} on card {card['card_id']}: "
        f"{why}. Find it and open the dispute.",
        f"Open a dispute for {why} on the {t['merchant_name']} purchase made on {when} with card {card['card_id']}.",
        f"Card {card['card_id']} was charged by {t['merchant_name']} on {when}. The cardholder reports {why}; raise a "
        f"chargeback on it.",
    ])
    return Draft(query, [("get_card_transactions", read), ("open_dispute", args)],
                 f"The charge is transaction {t['txn_id']}. " + opened_text(d), [t["txn_id"], d["dispute_id"]],
                 ["Find the transaction id of that charge.", "Open the dispute on it."], subjects=[hid])


@intent("L2", "open_dispute->issue_provisional_credit:open_and_credit", ["open_dispute", "issue_provisional_credit"])
def _l2_open_credit(ctx: Ctx, rng: random.Random) -> Draft:
    reason = pick(rng, ["fraud", "not_received", "duplicate", "cancelled_recurring"])
    t = pick(rng, disputable_purchases(ctx, reason, max_amount=PROVISIONAL_CREDIT_LIMIT))
    hid = ctx.owner(t["txn_id"])
    args = {"txn_id": t["txn_id"], "reason": reason}
    d = ctx.run("open_dispute", **args)
    c = ctx.run("issue_provisional_credit", dispute_id=d["dispute_id"])
    why = pick(rng, REASON_WORDS[reason])
    query = pick(rng, [f"Open a dispute on {t['txn_id']} for {href(rng, hid)} ({why}) and post a provisional credit "
                       "on it.",
                       f"{cap(href(rng, hid))} reports {why} on purchase {t['txn_id']}. Raise the dispute, "
                       "then issue the provisional credit."])
    return Draft(query, [("open_dispute", args), ("issue_provisional_credit", {"dispute_id": d["dispute_id"]})],
                 opened_text(d) + " " + credit_text(c), [d["dispute_id"], c["credit_id"]],
                 ["Open the dispute first.", "Then credit the cardholder on the new dispute."], subjects=[hid])


@intent("L2", "open_dispute->add_dispute_note:open_and_note", ["open_dispute", "add_dispute_note"])
def _l2_open_note(ctx: Ctx, rng: random.Random) -> Draft:
    reason = pick(rng, sorted(REASON_WORDS))
    t = pick(rng, disputable_purchases(ctx, reason))
    hid = ctx.owner(t["txn_id"])
    args = {"txn_id": t["txn_id"], "reason": reason}
    d = ctx.run("open_dispute", **args)
    text = note_for(rng, reason, opening=True)
    n = ctx.run("add_dispute_note", dispute_id=d["dispute_id"], text=text)
    why = pick(rng, REASON_WORDS[reason])
    query = pick(rng, [f"Raise a dispute on transaction {t['txn_id']} ({why}) and note on it: \"{text}\"",
                       f"For {href(rng, hid)}, open a dispute on {t['txn_id']} for {why}, then add the note "
                       f"\"{text}\""])
    return Draft(query, [("open_dispute", args), ("add_dispute_note", {"dispute_id": d["dispute_id"], "text": text})],
                 opened_text(d) + f" I added note {n['note_id']} to it: \"{n['text']}\"", [d["dispute_id"], n["note_id"]],
                 ["Open the dispute first.", "Then note on the new case."], subjects=[hid])
