"""L3 intents: a conditional branch; both branches are generated (``L3:<name>:<branch>``)."""

from __future__ import annotations

import random
from typing import Any

from mock_apis.domain import Draft, Skip, pick
from mock_apis.domains.finance.context import Ctx
from mock_apis.domains.finance.registry import intent
from mock_apis.domains.finance.phrasing import (
    AMOUNTS, NOTE_TEXTS, _funds_list, _order_text, _perf_sentence, cat_word, cref, fref, money, num, pct, plural,
    qmoney, window,
)
from mock_apis.domains.finance.setups import _buy_setup, _draw_suitability, _largest, _sell_setup, _suitable_buy_setup


@intent("L3", "suitability_then_buy", ["check_suitability", "place_order"])
def _l3_suit_buy(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("suitability_then_buy")
    if want:
        cid, a, fund, amt = _suitable_buy_setup(ctx, rng)
        s = ctx.run("check_suitability", client_id=cid, fund=fund["fund_code"])
        if not s["suitable"]:
            raise Skip("not suitable")
        ref, arg = fref(rng, fund)
    else:
        cid, fund, ref, arg, s = _draw_suitability(ctx, rng, False)
        accounts = ctx.active_accounts(cid)
        if not accounts:
            raise Skip("no account")
        a = pick(rng, accounts)
        amt = pick(rng, AMOUNTS)
    aid = a["account_id"]
    c = cref(rng, cid)
    query = pick(rng, [
        f"If it's suitable, buy {qmoney(amt)} of {ref} for {c} in account {aid}; otherwise tell me why not.",
        f"{c[0].upper() + c[1:]} wants {qmoney(amt)} in {ref} from account {aid}. Check suitability first and place the order only if it passes.",
        f"Run a suitability check on {ref} for {c}; if it passes, invest {qmoney(amt)} from account {aid}, and if not, explain.",
    ])
    calls = [("check_suitability", {"client_id": cid, "fund": arg})]
    if want:
        args = {"account_id": aid, "fund": arg, "side": "buy", "amount": amt}
        o = ctx.run("place_order", **args)
        calls.append(("place_order", args))
        response = (f"{s['fund_code']} is suitable for client {cid}, so I placed order {o['order_id']} to buy "
                    f"{money(amt)} of it in account {aid}; the order is pending and the remaining cash balance is "
                    f"{money(o['cash_balance'])}.")
        facts = [o["order_id"]]
    else:
        response = (f"I did not place the order: {s['fund_code']} is not suitable for client {cid} because "
                    f"{'; '.join(s['reasons'])}.")
        facts = ["not suitable"]
    return Draft(query, calls, response, facts,
                 ["Check suitability before placing anything.", "It is suitable, so I place the order."],
                 subjects=[cid], intent="suitability_then_buy:" + ("suitable" if want else "unsuitable"))


def _blocked_text(k: dict[str, Any], side: str) -> str:
    why = [f"the KYC status is {k['kyc_status']}"] if k["kyc_status"] != "verified" else []
    if k["restriction"] != "none":
        why.append(f"the client is under a {k['restriction']} restriction ({k['restriction_reason']})")
    return (f"I did not place the {side} order: for client {k['client_id']} {' and '.join(why)}, so "
            f"{'buying' if side == 'buy' else 'selling'} is not allowed right now.")


def _l3_compliance_trade(ctx: Ctx, rng: random.Random, side: str) -> Draft:
    want = ctx.want(f"compliance_then_{side}")
    pool = [cid for cid in ctx.client_ids if ctx.can_trade(cid, side) == want and ctx.active_accounts(cid)]
    cid = pick(rng, pool)
    if side == "buy":
        _, a, fund, amt = _buy_setup(ctx, rng, cid=cid, need_cash=want) if want else (
            cid, pick(rng, ctx.active_accounts(cid)), ctx.fund[pick(rng, ctx.fund_codes)], pick(rng, AMOUNTS))
    else:
        _, a, fund, amt = _sell_setup(ctx, rng, cid=cid)
    aid = a["account_id"]
    ref, arg = fref(rng, fund)
    k = ctx.run("get_compliance_status", client_id=cid)
    c = cref(rng, cid)
    verb = "buy" if side == "buy" else "sell"
    query = pick(rng, [
        f"{c[0].upper() + c[1:]} wants to {verb} {qmoney(amt)} of {ref} {'in' if side == 'buy' else 'from'} account {aid}. If their compliance status allows it, place the order; if not, explain why.",
        f"Check whether {c} may {verb} right now. If so, place a {verb} order for {qmoney(amt)} of {ref} in account {aid}; otherwise tell me what blocks it.",
        f"Before anything else, make sure {c} isn't blocked from trading; then {verb} {qmoney(amt)} of {ref} {'in' if side == 'buy' else 'from'} account {aid}. If they are blocked, tell me why.",
    ])
    calls = [("get_compliance_status", {"client_id": cid})]
    if want:
        args = {"account_id": aid, "fund": arg, "side": side, "amount": amt}
        o = ctx.run("place_order", **args)
        calls.append(("place_order", args))
        response = (f"Client {cid}'s KYC is {k['kyc_status']} and the trading restriction is {k['restriction']}, so "
                    f"{'buying' if side == 'buy' else 'selling'} is allowed. " + _order_text(o))
        facts = [o["order_id"]]
    else:
        response = _blocked_text(k, side)
        facts = ["not allowed"]
    return Draft(query, calls, response, facts,
                 ["The compliance status decides whether I may trade.", "Trading is allowed, so I place the order."],
                 subjects=[cid], intent=f"compliance_then_{side}:" + ("allowed" if want else "blocked"))


@intent("L3", "compliance_then_sell", ["get_compliance_status", "place_order"])
def _l3_comp_sell(ctx: Ctx, rng: random.Random) -> Draft:
    return _l3_compliance_trade(ctx, rng, "sell")


@intent("L3", "compliance_then_buy", ["get_compliance_status", "place_order"])
def _l3_comp_buy(ctx: Ctx, rng: random.Random) -> Draft:
    return _l3_compliance_trade(ctx, rng, "buy")


@intent("L3", "holdings_then_performance", ["get_holdings", "get_fund_performance"])
def _l3_holdings_perf(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("holdings_then_performance") or not ctx.closed_account_ids
    aid = pick(rng, ctx.active_account_ids if want else ctx.closed_account_ids)
    h = ctx.run("get_holdings", account_id=aid)
    w = window(rng, ctx.as_of, ("ytd", "d365", "lq", "m6"))
    query = pick(rng, [
        f"If account {aid} has any fund positions, tell me how its largest one has performed {w.phrase}; if it holds nothing, say so.",
        f"Check account {aid}: if it holds funds, how did the biggest position do {w.phrase}? If it's empty, just tell me.",
        f"Account {aid} may be empty. If it isn't, give me the return of its largest holding {w.phrase} against the benchmark.",
    ])
    calls = [("get_holdings", {"account_id": aid})]
    if h["holdings"]:
        top = _largest(h["holdings"])
        args = {"fund": top["fund_code"], **w.arguments()}
        p = ctx.run("get_fund_performance", **args)
        calls.append(("get_fund_performance", args))
        response = (f"Account {aid}'s largest position is {top['fund_name']} ({top['fund_code']}), worth "
                    f"{money(top['market_value'])}. " + _perf_sentence(p))
        facts = [top["fund_code"], pct(abs(p["return_pct"]))]
    else:
        response = f"Account {aid} holds no fund positions, so there is no performance to report."
        facts = ["no fund positions"]
    return Draft(query, calls, response, facts,
                 ["First see what the account holds.", "It has positions: check the largest one's performance."],
                 subjects=[ctx.account[aid]["client_id"]],
                 intent="holdings_then_performance:" + ("has_holdings" if h["holdings"] else "empty"))


@intent("L3", "pending_then_cancel", ["list_orders", "cancel_order"])
def _l3_pending_cancel(ctx: Ctx, rng: random.Random) -> Draft:
    pending_accounts = sorted({ctx.orders[i]["account_id"] for i in range(len(ctx.orders))
                               if ctx.orders[i]["status"] == "pending"})
    want = ctx.want("pending_then_cancel") and bool(pending_accounts)
    aid = pick(rng, pending_accounts if want else [a for a in ctx.active_account_ids if a not in pending_accounts])
    orders = ctx.run("list_orders", account_id=aid, status="pending")["orders"]
    query = pick(rng, [
        f"If account {aid} has a pending order, cancel the most recent one; otherwise let me know.",
        f"Check account {aid} for pending orders and cancel the newest one if there is one.",
        f"Is anything still pending on account {aid}? If so, cancel the latest pending order.",
        f"The client asked to stop whatever is still waiting to execute in account {aid}: cancel the newest pending order, if there is one.",
    ])
    calls = [("list_orders", {"account_id": aid, "status": "pending"})]
    if orders:
        o = ctx.run("cancel_order", order_id=orders[0]["order_id"])
        calls.append(("cancel_order", {"order_id": o["order_id"]}))
        response = (f"Account {aid} had {plural(len(orders), 'pending order')}; I cancelled the most recent, "
                    f"{o['order_id']} (a {o['side']} of {money(o['amount'])} of {o['fund_code']}). The cash balance is "
                    f"now {money(o['cash_balance'])}.")
        facts = [o["order_id"], "cancelled"]
    else:
        response = f"Account {aid} has no pending orders, so there is nothing to cancel."
        facts = ["no pending orders"]
    return Draft(query, calls, response, facts,
                 ["List the account's pending orders.", "There is one: cancel the newest."],
                 subjects=[ctx.account[aid]["client_id"]],
                 intent="pending_then_cancel:" + ("pending" if orders else "none_pending"))


@intent("L3", "order_status_then_cancel", ["list_orders", "cancel_order"])
def _l3_order_status(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("order_status_then_cancel") and bool(ctx.pending_order_ids)
    pool = [o for o in ctx.orders if (o["status"] == "pending") == want]
    order = pick(rng, pool)
    oid, aid = order["order_id"], order["account_id"]
    orders = ctx.run("list_orders", account_id=aid)["orders"]
    o = next(x for x in orders if x["order_id"] == oid)
    query = pick(rng, [
        f"Order {oid} on account {aid}: cancel it if it is still pending, otherwise tell me its status.",
        f"The client wants order {oid} (account {aid}) stopped. Check its status and cancel it if that is still possible.",
        f"Is order {oid} in account {aid} still open? If it is, cancel it; if not, tell me what happened to it.",
    ])
    calls = [("list_orders", {"account_id": aid})]
    if o["status"] == "pending":
        x = ctx.run("cancel_order", order_id=oid)
        calls.append(("cancel_order", {"order_id": oid}))
        response = (f"Order {oid} (a {o['side']} of {money(o['amount'])} of {o['fund_code']}) was still pending, so I "
                    f"cancelled it; account {aid}'s cash balance is now {money(x['cash_balance'])}.")
        facts = ["cancelled"]
    else:
        response = (f"Order {oid} (a {o['side']} of {money(o['amount'])} of {o['fund_code']}, placed on "
                    f"{o['placed_on']}) is already {o['status']}, so it cannot be cancelled.")
        facts = [o["status"]]
    return Draft(query, calls, response, facts,
                 ["Look up the order's status in the account's orders.", "It is pending, so cancel it."],
                 subjects=[ctx.account[aid]["client_id"]],
                 intent="order_status_then_cancel:" + ("pending" if o["status"] == "pending" else "not_pending"))


@intent("L3", "risk_current_then_screen", ["get_risk_assessment", "search_funds"])
def _l3_risk_screen(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("risk_current_then_screen")
    for _ in range(40):
        cid = pick(rng, ctx.client_ids)
        r = ctx.run("get_risk_assessment", client_id=cid)
        if r["is_current"] == want:
            break
    else:
        raise Skip("no client with that assessment state")
    cat = pick(rng, ctx.categories)
    cw = cat_word(cat)
    c = cref(rng, cid)
    query = pick(rng, [
        f"If {c}'s risk assessment is still current, list the {cw} funds within their risk level; if it has expired, tell me.",
        f"Screen {cw} funds for {c} up to their risk level, but only if their risk assessment is still valid.",
        f"{c[0].upper() + c[1:]} is interested in {cw} funds. Provided their risk assessment hasn't lapsed, which ones fit their risk level?",
    ])
    calls = [("get_risk_assessment", {"client_id": cid})]
    if r["is_current"]:
        args = {"category": cat, "max_risk_level": r["risk_level"]}
        res = ctx.run("search_funds", **args)
        calls.append(("search_funds", args))
        head = (f"Client {cid}'s risk assessment is current (risk level {r['risk_level']}, valid until "
                f"{r['valid_until']}).")
        if res["funds"]:
            response = f"{head} {cw.capitalize()} funds at risk level {r['risk_level']} or lower: {_funds_list(res['funds'])}."
            facts = [f["fund_code"] for f in res["funds"][:3]]
        else:
            response = f"{head} No {cw} funds are at or below risk level {r['risk_level']}."
            facts = [f"No {cw} funds"]
    else:
        response = (f"Client {cid}'s risk assessment expired on {r['valid_until']}, so it needs to be renewed before "
                    f"I screen funds against it.")
        facts = ["expired"]
    return Draft(query, calls, response, facts,
                 ["Check whether the risk assessment is current.", "It is: screen the funds up to the client's level."],
                 subjects=[cid], intent="risk_current_then_screen:" + ("current" if r["is_current"] else "expired"))


@intent("L3", "kyc_then_note", ["get_compliance_status", "add_advisor_note"])
def _l3_kyc_note(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("kyc_then_note")
    pool = [cid for cid in ctx.client_ids if (ctx.compliance[cid]["kyc_status"] != "verified") == want]
    cid = pick(rng, pool)
    text = pick(rng, NOTE_TEXTS["kyc"])
    k = ctx.run("get_compliance_status", client_id=cid)
    c = cref(rng, cid)
    query = pick(rng, [
        f"Check {c}'s KYC. If it isn't verified, log a kyc note saying: \"{text}\" If it is verified, just confirm.",
        f"If {c}'s KYC is not verified, add a kyc note to their file: \"{text}\" Otherwise tell me it's fine.",
        f"Look at {c}'s KYC status; when it is anything other than verified, record a kyc note reading \"{text}\"",
    ])
    calls = [("get_compliance_status", {"client_id": cid})]
    if k["kyc_status"] != "verified":
        args = {"client_id": cid, "text": text, "category": "kyc"}
        n = ctx.run("add_advisor_note", **args)
        calls.append(("add_advisor_note", args))
        response = f"Client {cid}'s KYC status is {k['kyc_status']}, so I logged kyc note {n['note_id']}: \"{text}\""
        facts = [k["kyc_status"], n["note_id"]]
    else:
        response = (f"Client {cid}'s KYC is verified (last reviewed {k['kyc_reviewed_on']}), so no note was needed.")
        facts = ["verified"]
    return Draft(query, calls, response, facts, ["Check the KYC status.", "It is not verified: log the note."],
                 subjects=[cid], intent="kyc_then_note:" + ("unverified" if k["kyc_status"] != "verified" else "verified"))


@intent("L3", "performance_then_alternatives", ["get_fund_performance", "search_funds"])
def _l3_perf_alt(ctx: Ctx, rng: random.Random) -> Draft:
    want_lag = ctx.want("performance_then_alternatives")
    w = window(rng, ctx.as_of, ("d365", "ytd"))
    for _ in range(30):
        fund = ctx.fund[pick(rng, ctx.fund_codes)]
        ref, arg = fref(rng, fund)
        args = {"fund": arg, **w.arguments()}
        p = ctx.run("get_fund_performance", **args)
        if (p["return_pct"] < p["benchmark_return_pct"]) == want_lag and p["return_pct"] != p["benchmark_return_pct"]:
            break
    else:
        raise Skip("no fund on that side of its benchmark")
    cw = cat_word(fund["category"])
    query = pick(rng, [
        f"How did {ref} do against its benchmark {w.phrase}? If it lagged, list the {cw} funds whose expense ratio is no higher than its own.",
        f"Did {ref} trail its benchmark {w.phrase}? If so, show me {cw} funds that cost no more than it does.",
        f"Compare {ref} with its benchmark {w.phrase}. Only if it underperformed, find {cw} funds with an expense ratio at or below its own.",
    ])
    query = query[0].upper() + query[1:]
    calls = [("get_fund_performance", args)]
    if want_lag:
        sargs = {"category": fund["category"], "max_expense_ratio": p["fund"]["expense_ratio"]}
        res = ctx.run("search_funds", **sargs)
        calls.append(("search_funds", sargs))
        others = [f for f in res["funds"] if f["fund_code"] != fund["fund_code"]]
        response = _perf_sentence(p) + (
            f" {cw.capitalize()} funds with an expense ratio no higher than its {p['fund']['expense_ratio']}%: "
            f"{_funds_list(others)}." if others else
            f" No other {cw} fund has an expense ratio at or below its {p['fund']['expense_ratio']}%.")
        facts = [pct(abs(p["return_pct"]))] + [f["fund_code"] for f in others[:2]]
    else:
        response = _perf_sentence(p) + " As it did not lag, I did not screen for alternatives."
        facts = [pct(abs(p["return_pct"]))]
    return Draft(query, calls, response, facts,
                 ["Get the fund's performance against its benchmark.", "It lagged: screen cheaper funds in its category."],
                 intent="performance_then_alternatives:" + ("lagged" if want_lag else "beat"))


@intent("L3", "cash_then_buy", ["list_accounts", "place_order"])
def _l3_cash_buy(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("cash_then_buy")
    for _ in range(30):
        cid = pick(rng, ctx.client_ids)
        if want and not ctx.can_trade(cid, "buy"):
            continue
        try:
            a, aname = ctx.unique_typed_account(rng, cid)
        except Skip:
            continue
        fund = ctx.fund[pick(rng, ctx.fund_codes)]
        amounts = [x for x in AMOUNTS if x >= fund["min_investment"] and (x <= a["cash_balance"]) == want]
        if amounts:
            break
    else:
        raise Skip("no setup")
    amt = pick(rng, amounts)
    ref, arg = fref(rng, fund)
    aid = a["account_id"]
    ctx.run("list_accounts", client_id=cid)
    c = cref(rng, cid)
    query = pick(rng, [
        f"If {c}'s {aname} has at least {qmoney(amt)} in cash, buy {qmoney(amt)} of {ref} there; otherwise tell me how much cash it has.",
        f"Buy {qmoney(amt)} of {ref} in {c}'s {aname}, but only if the account has enough cash; if not, give me its cash balance.",
        f"{c[0].upper() + c[1:]} would like {qmoney(amt)} of {ref} bought in their {aname}. Check that there's enough cash first; if there isn't, tell me the balance.",
    ])
    calls = [("list_accounts", {"client_id": cid})]
    if want:
        args = {"account_id": aid, "fund": arg, "side": "buy", "amount": amt}
        o = ctx.run("place_order", **args)
        calls.append(("place_order", args))
        response = (f"Client {cid}'s {a['account_type']} account {aid} had {money(a['cash_balance'])} in cash, enough "
                    f"for the purchase. " + _order_text(o))
        facts = [o["order_id"]]
    else:
        response = (f"Client {cid}'s {a['account_type']} account {aid} has only {money(a['cash_balance'])} in cash, "
                    f"less than the {money(amt)} needed, so I did not place the order.")
        facts = [num(a["cash_balance"])]
    return Draft(query, calls, response, facts,
                 ["Check the account's cash first.", "There is enough cash: place the buy."],
                 subjects=[cid], intent="cash_then_buy:" + ("enough_cash" if want else "insufficient_cash"))
