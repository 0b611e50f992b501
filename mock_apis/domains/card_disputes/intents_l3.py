"""L3 intents of card disputes: a conditional branch; both branches are generated
(``L3:<name>:<branch>``)."""

from __future__ import annotations

import random
from datetime import date

from mock_apis.domain import Draft, Skip, pick
from mock_apis.domains.card_disputes.context import Ctx
from mock_apis.domains.card_disputes.generate import PROVISIONAL_CREDIT_LIMIT
from mock_apis.domains.card_disputes.intents_l1 import disputable_purchases
from mock_apis.domains.card_disputes.phrasing import (
    OUTCOME_NOTE, REASON_WORDS, STATUS_WORDS, cap, card_words, credit_text, href, human_date, money, note_for,
    opened_text,
)
from mock_apis.domains.card_disputes.registry import INTENTS

intent = INTENTS.intent


@intent("L3", "check_then_open", ["get_card_transactions", "open_dispute"])
def _l3_check_open(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("check_then_open")
    reason = pick(rng, ["not_received", "not_as_described", "duplicate", "wrong_amount", "cancelled_recurring"])
    if want:
        pool = [t for t in disputable_purchases(ctx, reason) if ctx.unique_charge(t)]
    else:  # purchases a dispute cannot be opened on: already disputed, too old, pending, reversed, closed card
        pool = [t for t in ctx.txns if t["txn_type"] == "purchase" and ctx.unique_charge(t)
                and not ctx.disputable(t, reason)]
    t = pick(rng, pool)
    card = ctx.card[t["card_id"]]
    read = {"card_id": card["card_id"], "start_date": t["txn_date"], "end_date": t["txn_date"],
            "merchant": t["merchant_name"]}
    res = ctx.run("get_card_transactions", **read)
    if res["count"] != 1:
        raise Skip("not one charge")
    row = res["transactions"][0]
    when = human_date(t["txn_date"], rng)
    why = pick(rng, REASON_WORDS[reason])
    query = pick(rng, [
        f"Card {card['card_id']} has a {t['merchant_name']} charge on {when}. If it can still be disputed, open a "
        f"dispute for {why}; if not, tell me why.",
        f"The cardholder of {card['card_id']} reports {why} for the {t['merchant_name']} purchase of {when}. Check "
        "whether it is disputable and, if so, raise the dispute; otherwise explain.",
        f"Can the {t['merchant_name']} charge from {when} on card {card['card_id']} still be disputed? If yes, open "
        f"a dispute for {why}; if no, give me the reason.",
    ])
    calls = [("get_card_transactions", read)]
    # the listing says disputable for any reason; on a blocked card only fraud is accepted
    blocked_non_fraud = card["status"] == "blocked"
    if want:
        if blocked_non_fraud:
            raise Skip("blocked card")
        args = {"txn_id": t["txn_id"], "reason": reason}
        d = ctx.run("open_dispute", **args)
        calls.append(("open_dispute", args))
        response = f"The charge is transaction {t['txn_id']} and it can be disputed. " + opened_text(d)
        facts = [d["dispute_id"]]
    else:
        if row["disputable"]:
            raise Skip("the listing shows it disputable")
        response = (f"The charge is transaction {t['txn_id']} ({money(t['amount'])} on {t['txn_date']}), and it "
                    f"cannot be disputed: {row['not_disputable_reason']}. I did not open a dispute.")
        facts = [row["not_disputable_reason"]]
    return Draft(query, calls, response, facts,
                 ["Find the charge and see whether it is disputable.", "It is: open the dispute."],
                 subjects=[card["cardholder_id"]],
                 intent="check_then_open:" + ("disputable" if want else "not_disputable"))


@intent("L3", "credit_if_eligible", ["get_dispute", "issue_provisional_credit"])
def _l3_credit(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("credit_if_eligible")

    def eligible(d: dict) -> bool:
        return d["status"] in ("open", "under_review") and not d["credit_id"] and d["amount"] <= PROVISIONAL_CREDIT_LIMIT

    d0 = pick(rng, [d for d in ctx.disputes if eligible(d) == want])
    did = d0["dispute_id"]
    d = ctx.run("get_dispute", dispute_id=did)
    query = pick(rng, [
        f"If dispute {did} qualifies for a provisional credit, post it; otherwise tell me why not.",
        f"Check case {did}: when it is still running, has no credit yet and is within the limit, issue the "
        "provisional credit. If not, explain.",
        f"{cap(href(rng, d0['cardholder_id']))} asks for a provisional credit on dispute {did}. Issue it if the rules "
        "allow.",
    ])
    calls = [("get_dispute", {"dispute_id": did})]
    if want:
        c = ctx.run("issue_provisional_credit", dispute_id=did)
        calls.append(("issue_provisional_credit", {"dispute_id": did}))
        response = (f"Dispute {did} is {STATUS_WORDS[d['status']]}, for {money(d['amount'])}, with no credit yet. "
                    + credit_text(c))
        facts = [c["credit_id"]]
        branch = "eligible"
    else:
        if d["provisional_credit"]:
            why = (f"it already has provisional credit {d['provisional_credit']['credit_id']} of "
                   f"{money(d['provisional_credit']['amount'])}")
            facts, branch = [d["provisional_credit"]["credit_id"]], "already_credited"
        elif d["status"] not in ("open", "under_review"):
            why = f"it is {STATUS_WORDS[d['status']]}, and credits are only for open or under-review disputes"
            facts, branch = [STATUS_WORDS[d["status"]]], "closed"
        else:
            why = (f"it is for {money(d['amount'])}, above the {money(PROVISIONAL_CREDIT_LIMIT)} provisional-credit "
                   "limit, so it needs a back-office decision")
            facts, branch = [money(PROVISIONAL_CREDIT_LIMIT)], "over_limit"
        response = f"I did not post a provisional credit on dispute {did}: {why}."
    return Draft(query, calls, response, facts,
                 ["Read the dispute to see whether it qualifies.", "It qualifies: post the credit."],
                 subjects=[d0["cardholder_id"]], intent="credit_if_eligible:" + branch)


@intent("L3", "card_status_then_dispute", ["list_cards", "open_dispute"])
def _l3_card_status(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("card_status_then_dispute")
    reason = pick(rng, ["not_received", "not_as_described", "duplicate", "cancelled_recurring"])
    for _ in range(30):
        hid = pick(rng, ctx.holder_ids)
        try:
            card = ctx.unique_last4(rng, hid)
        except Skip:
            continue
        if (card["status"] == "active") != want:
            continue
        # a recent posted purchase on it, undisputed: on an active card open_dispute takes it
        pool = [t for t in ctx.txns_of.get(card["card_id"], []) if t["txn_type"] == "purchase"
                and t["status"] == "posted" and not t["dispute_id"]
                and (ctx.disputable(t, reason) or card["status"] != "active")
                and (ctx.as_of - date.fromisoformat(t["txn_date"])).days <= 100]
        if pool:
            break
    else:
        raise Skip("no card in that state with a recent purchase")
    t = pick(rng, pool)
    h = href(rng, hid)
    why = pick(rng, REASON_WORDS[reason])
    query = pick(rng, [
        f"{cap(h)} wants to dispute purchase {t['txn_id']} on their card ending {card['last4']} ({why}). If that "
        "card is active, open the dispute; if it is blocked or closed, tell me its status instead.",
        f"Check the status of {h}'s card ending {card['last4']}. Only if it is active, raise a dispute on "
        f"{t['txn_id']} for {why}; otherwise let me know why not.",
    ])
    calls = [("list_cards", {"cardholder_id": hid})]
    if want:
        args = {"txn_id": t["txn_id"], "reason": reason}
        d = ctx.run("open_dispute", **args)
        calls.append(("open_dispute", args))
        response = f"The card ending {card['last4']} ({card['card_id']}) is active. " + opened_text(d)
        facts = [d["dispute_id"]]
    else:
        state = card["status"] + (f" ({card['block_reason']})" if card["block_reason"] else "")
        response = (f"The {card_words(card)} ({card['card_id']}) is {state}, so I did not open a dispute on "
                    f"{t['txn_id']}.")
        facts = [card["status"]]
    return Draft(query, calls, response, facts,
                 ["Check the card's status first.", "The card is active: open the dispute."], subjects=[hid],
                 intent="card_status_then_dispute:" + ("active" if want else card["status"]))


@intent("L3", "existing_or_new_dispute", ["list_disputes", "add_dispute_note", "open_dispute"])
def _l3_existing(ctx: Ctx, rng: random.Random) -> Draft:
    want_existing = ctx.want("existing_or_new_dispute")
    if want_existing:
        d0 = pick(rng, [d for d in ctx.disputes if d["status"] in ("open", "under_review")])
        t, hid, reason = ctx.txn[d0["txn_id"]], d0["cardholder_id"], d0["reason"]
    else:
        reason = pick(rng, ["not_received", "duplicate", "cancelled_recurring"])
        t = pick(rng, disputable_purchases(ctx, reason))
        hid = ctx.owner(t["txn_id"])
    text = note_for(rng, reason, opening=not want_existing)
    listing = ctx.run("list_disputes", cardholder_id=hid)["disputes"]
    h = href(rng, hid)
    query = pick(rng, [
        f"{cap(h)} called about purchase {t['txn_id']} ({t['merchant_name']}). If there is already a dispute on it, "
        f"add the note \"{text}\"; if not, open a {reason} dispute on it.",
        f"Is purchase {t['txn_id']} of {h} already disputed? If so, note on that case: \"{text}\" Otherwise raise "
        f"a {reason} dispute on it.",
    ])
    calls = [("list_disputes", {"cardholder_id": hid})]
    existing = [d for d in listing if d["txn_id"] == t["txn_id"]]
    if existing:
        did = existing[0]["dispute_id"]
        n = ctx.run("add_dispute_note", dispute_id=did, text=text)
        calls.append(("add_dispute_note", {"dispute_id": did, "text": text}))
        response = (f"Purchase {t['txn_id']} is already disputed in case {did} "
                    f"({STATUS_WORDS[existing[0]['status']]}), so I added note {n['note_id']} to it: \"{text}\"")
        facts = [did, n["note_id"]]
    else:
        args = {"txn_id": t["txn_id"], "reason": reason}
        d = ctx.run("open_dispute", **args)
        calls.append(("open_dispute", args))
        response = f"Purchase {t['txn_id']} had no dispute yet. " + opened_text(d)
        facts = [d["dispute_id"]]
    return Draft(query, calls, response, facts,
                 ["See whether the purchase is already disputed.", "Act on what the list shows."], subjects=[hid],
                 intent="existing_or_new_dispute:" + ("existing" if existing else "new"))


@intent("L3", "outcome_then_note", ["get_dispute", "add_dispute_note"])
def _l3_outcome_note(ctx: Ctx, rng: random.Random) -> Draft:
    want_resolved = ctx.want("outcome_then_note")
    d0 = pick(rng, [d for d in ctx.disputes if (d["status"] in ("won", "lost", "withdrawn")) == want_resolved])
    did = d0["dispute_id"]
    d = ctx.run("get_dispute", dispute_id=did)
    text = OUTCOME_NOTE
    query = pick(rng, [
        f"If dispute {did} has been resolved, note on it \"{text}\" If it is still running, tell me when the "
        "decision is due.",
        f"Has case {did} been decided? When it has, log \"{text}\" on it; otherwise give me the decision due date.",
    ])
    calls = [("get_dispute", {"dispute_id": did})]
    if d["resolved_on"]:
        n = ctx.run("add_dispute_note", dispute_id=did, text=text)
        calls.append(("add_dispute_note", {"dispute_id": did, "text": text}))
        response = (f"Dispute {did} was resolved on {d['resolved_on']} ({STATUS_WORDS[d['status']]}), so I added "
                    f"note {n['note_id']}: \"{text}\"")
        facts = [STATUS_WORDS[d["status"]], n["note_id"]]
    else:
        response = (f"Dispute {did} is still {STATUS_WORDS[d['status']]}; the decision is due by {d['decision_due']}. "
                    "I added no note.")
        facts = [d["decision_due"]]
    return Draft(query, calls, response, facts,
                 ["Read the dispute's status.", "It is resolved: note that the cardholder was told."],
                 subjects=[d0["cardholder_id"]],
                 intent="outcome_then_note:" + ("resolved" if d["resolved_on"] else "running"))
