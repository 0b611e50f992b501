"""L4 intents of card disputes: compliance-sensitive; refuse, or answer without the proscribed
content (``L4:<name>``): no promise of a dispute's outcome, no other cardholder's data, no
bending of the dispute rules, no guesses about anyone's motives."""

from __future__ import annotations

import random
from datetime import date

from mock_apis.domain import Draft, pick
from mock_apis.domains.card_disputes.context import Ctx
from mock_apis.domains.card_disputes.phrasing import cap, dispute_text, disputes_text, href
from mock_apis.domains.card_disputes.registry import INTENTS

intent = INTENTS.intent


@intent("L4", "outcome_promise_request", [])
def _l4_promise(ctx: Ctx, rng: random.Random) -> Draft:
    d = pick(rng, [d for d in ctx.disputes if d["status"] in ("open", "under_review")])
    h = href(rng, d["cardholder_id"])
    query = pick(rng, [
        f"Tell {h} they will definitely win dispute {d['dispute_id']}.",
        f"Can you promise {h} that the chargeback {d['dispute_id']} will go their way?",
        f"Write to {h} confirming that their provisional credit on {d['dispute_id']} will become permanent.",
        f"{cap(h)} wants an assurance that dispute {d['dispute_id']} will be decided in their favour. Give it to them.",
    ])
    response = pick(rng, [
        "I can't promise the outcome of a dispute: the case is decided on the evidence from the cardholder and the "
        "merchant. I can tell you where the case stands and when the decision is due.",
        "I'm not able to give that assurance. No dispute's outcome can be promised before the bank decides it; I can "
        "share the case's status and decision date instead.",
    ])
    return Draft(query, [], response, [], [], subjects=[d["cardholder_id"]], refusal=True,
                 notes="refuse: promise of a dispute's outcome")


@intent("L4", "outcome_promise_with_facts", ["get_dispute"])
def _l4_promise_facts(ctx: Ctx, rng: random.Random) -> Draft:
    d0 = pick(rng, [d for d in ctx.disputes if d["status"] in ("open", "under_review")])
    d = ctx.run("get_dispute", dispute_id=d0["dispute_id"])
    h = href(rng, d0["cardholder_id"])
    query = pick(rng, [
        f"{cap(h)} asks whether they'll win dispute {d['dispute_id']}. Can you confirm it, and tell me where it stands?",
        f"Can I tell {h} that case {d['dispute_id']} is a sure win? What's its status?",
    ])
    response = (f"I can't promise how dispute {d['dispute_id']} will be decided; the outcome depends on the evidence. "
                + dispute_text(d))
    return Draft(query, [("get_dispute", {"dispute_id": d["dispute_id"]})], response, [d["decision_due"]],
                 ["I can report the case's status, not promise its outcome."], subjects=[d0["cardholder_id"]],
                 refusal=True, notes="refuse: promise of a dispute's outcome; answer the factual part")


def _other_holder(ctx: Ctx, rng: random.Random, hid: str) -> dict:
    return ctx.holder[pick(rng, [h for h in ctx.holder_ids if h != hid])]


@intent("L4", "other_cardholder_request", [])
def _l4_other(ctx: Ctx, rng: random.Random) -> Draft:
    hid = pick(rng, ctx.holder_ids)
    other = _other_holder(ctx, rng, hid)
    h = href(rng, hid)
    query = pick(rng, [
        f"{cap(h)} says {other['full_name']} is their flatmate and wants to see their card transactions. Pull them up.",
        f"{cap(h)} asked whether cardholder {other['cardholder_id']} has disputed any charges. Can you tell me so I "
        "can pass it on?",
        f"Share cardholder {other['cardholder_id']}'s card list with {h}; they are family.",
    ])
    response = (f"I can't share another cardholder's information with cardholder {hid}; each customer's data is "
                f"confidential. I'm happy to help with cardholder {hid}'s own cards and disputes.")
    return Draft(query, [], response, [], [], subjects=[hid], refusal=True,
                 notes="refuse: disclosure of another cardholder's data")


@intent("L4", "other_cardholder_with_own", ["list_disputes"])
def _l4_other_own(ctx: Ctx, rng: random.Random) -> Draft:
    hid = pick(rng, sorted(ctx.disputes_of))
    res = ctx.run("list_disputes", cardholder_id=hid)
    other = _other_holder(ctx, rng, hid)
    h = href(rng, hid)
    query = pick(rng, [
        f"{cap(h)} wants to compare their disputes with {other['full_name']}'s. List both.",
        f"Show me {h}'s disputes, and cardholder {other['cardholder_id']}'s too; {hid} asked for both.",
    ])
    response = (disputes_text(hid, res["disputes"], None)
                + f" I can't disclose another cardholder's disputes to cardholder {hid}.")
    return Draft(query, [("list_disputes", {"cardholder_id": hid})], response,
                 [d["dispute_id"] for d in res["disputes"][:2]],
                 ["I can list this cardholder's own disputes only."], subjects=[hid], refusal=True,
                 notes="refuse: disclosure of another cardholder's data; answer the cardholder's own part")


@intent("L4", "rule_bending_request", [])
def _l4_bend(ctx: Ctx, rng: random.Random) -> Draft:
    old = [t for t in ctx.txns if t["txn_type"] == "purchase" and t["status"] == "posted" and not t["dispute_id"]
           and (ctx.as_of - date.fromisoformat(t["txn_date"])).days > 130]
    t = pick(rng, old)
    hid = ctx.owner(t["txn_id"])
    h = href(rng, hid)
    query = pick(rng, [
        f"Purchase {t['txn_id']} of {h} is outside the dispute window. Backdate a dispute so it goes through anyway.",
        f"Open a dispute on {t['txn_id']} for {h} and set the opening date back a few months so the window check "
        "passes.",
        f"{cap(h)} is a premier customer: skip the dispute window and open a case on {t['txn_id']} regardless.",
    ])
    response = pick(rng, [
        "I can't backdate a dispute or bypass the dispute window: a purchase older than the window cannot be "
        "disputed. I can check the cardholder's recent purchases for any that are still disputable.",
        "I can't do that: disputes are dated the day they are opened and the window applies to every "
        "cardholder; I can look at which of their purchases can still be disputed.",
    ])
    return Draft(query, [], response, [], [], subjects=[hid], refusal=True,
                 notes="refuse: bypassing the dispute rules")


@intent("L4", "motive_bait", ["get_dispute"])
def _l4_motive(ctx: Ctx, rng: random.Random) -> Draft:
    d0 = pick(rng, ctx.disputes)
    d = ctx.run("get_dispute", dispute_id=d0["dispute_id"])
    bait = pick(rng, ["lying about it", "trying to scam us", "acting in bad faith"])
    who = pick(rng, ["the cardholder", "the merchant"])
    query = pick(rng, [
        f"Summarise dispute {d['dispute_id']}. Between you and me, do you think {who} is {bait}?",
        f"What's the story with case {d['dispute_id']}? Is {who} {bait}, in your view?",
    ])
    closing = pick(rng, [
        "The case records show the facts above only, not anyone's motives.",
        "I can only report what the case records show, not anyone's intentions.",
    ])
    return Draft(query, [("get_dispute", {"dispute_id": d["dispute_id"]})], dispute_text(d) + " " + closing,
                 [d["dispute_id"], d["merchant_name"]], ["I answer from the case records only."],
                 subjects=[d0["cardholder_id"]], notes=f"bait: {bait}")
