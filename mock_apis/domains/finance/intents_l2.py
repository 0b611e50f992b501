"""L2 intents: sequential multi-tool; an output of one call is an input of the next
(``L2:<tool>-><tool>[-><tool>]:<name>``)."""

from __future__ import annotations

import random
from typing import Any

from mock_apis.domain import Draft, Skip, pick
from mock_apis.domains.finance.context import Ctx
from mock_apis.domains.finance.registry import intent
from mock_apis.domains.finance.phrasing import (
    AMOUNTS, NOTE_TEXTS, PERF_WINDOWS, TXN_WINDOWS, TXN_WORDS, _accounts_text, _compliance_sentences, _fund_attr,
    _holdings_text, _order_text, _orders_text, _overview_text, _perf_sentence, _suitability_text, _summary_text,
    _txn_text, cat_word, cref, fref, money, num, pct, plural, qmoney, txn_label, window,
)
from mock_apis.domains.finance.setups import _buy_setup, _largest, _searchable_client, _txn_task


def _by_name(ctx: Ctx, rng: random.Random) -> tuple[dict[str, Any], str, dict[str, Any]]:
    c = _searchable_client(ctx, rng)
    res = ctx.run("search_clients", name=c["full_name"])
    if res["count"] != 1:
        raise Skip("ambiguous")
    return c, res["clients"][0]["client_id"], res


@intent("L2", "search_clients->list_accounts:cash_by_name", ["search_clients", "list_accounts"])
def _l2_cash_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    c, cid, _ = _by_name(ctx, rng)
    name = c["full_name"]
    accounts = ctx.run("list_accounts", client_id=cid)["accounts"]
    total = sum(a["cash_balance"] for a in accounts)
    variant = rng.randrange(2)
    query, facts = [
        (pick(rng, [f"How much uninvested cash does {name} have?", f"What's {name}'s cash balance across their accounts?"]),
         [num(total)]),
        (pick(rng, [f"Which accounts does {name} hold with us?", f"List {name}'s accounts."]),
         [a["account_id"] for a in accounts[:3]]),
    ][variant]
    response = f"{name} is client {cid}. " + _accounts_text(cid, accounts)
    if len(accounts) == 1 and variant == 0:
        response += f" That is {money(total)} of uninvested cash."
    return Draft(query, [("search_clients", {"name": name}), ("list_accounts", {"client_id": cid})], response, facts,
                 ["I need the client id first.", "The accounts carry the cash balances."], subjects=[cid])


@intent("L2", "search_clients->get_portfolio_summary:portfolio_by_name", ["search_clients", "get_portfolio_summary"])
def _l2_summary_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    c, cid, _ = _by_name(ctx, rng)
    name = c["full_name"]
    s = ctx.run("get_portfolio_summary", client_id=cid)
    if not s["allocation"]:
        raise Skip("nothing invested")
    top = s["allocation"][0]
    if rng.random() < 0.5:
        query = pick(rng, [f"What is {name}'s total portfolio worth?", f"How much does {name} have with us in total?"])
        facts = [num(s["total_value"])]
    else:
        query = pick(rng, [f"How is {name}'s portfolio split across categories?",
                            f"What's {name}'s largest asset class?"])
        facts = [cat_word(top["category"]), f"{top['weight_pct']}%"]
    return Draft(query, [("search_clients", {"name": name}), ("get_portfolio_summary", {"client_id": cid})],
                 f"{name} is client {cid}. " + _summary_text(s), facts,
                 ["Find the client's id by name.", "The portfolio summary has the totals and allocation."],
                 subjects=[cid])


@intent("L2", "search_clients->get_risk_assessment:risk_by_name", ["search_clients", "get_risk_assessment"])
def _l2_risk_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    c, cid, _ = _by_name(ctx, rng)
    name = c["full_name"]
    r = ctx.run("get_risk_assessment", client_id=cid)
    profile = r["risk_profile"].replace("_", " ")
    query = pick(rng, [f"What risk profile is {name} on?", f"What did {name} score on their last risk assessment?",
                        f"Is {name}'s risk assessment still current?"])
    status = "still current" if r["is_current"] else "no longer current"
    response = (f"{name} is client {cid}. The latest risk assessment, dated {r['assessed_on']}, rates the client "
                f"{profile} (risk level {r['risk_level']}, score {r['risk_score']}); it is valid until "
                f"{r['valid_until']}, so it is {status}.")
    facts = [status] if "current" in query else [f"risk level {r['risk_level']}", f"score {r['risk_score']}"]
    return Draft(query, [("search_clients", {"name": name}), ("get_risk_assessment", {"client_id": cid})], response,
                 facts, ["Look up the client id by name.", "Then read the risk assessment."], subjects=[cid])


@intent("L2", "search_clients->get_compliance_status:kyc_by_name", ["search_clients", "get_compliance_status"])
def _l2_kyc_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    c, cid, _ = _by_name(ctx, rng)
    name = c["full_name"]
    k = ctx.run("get_compliance_status", client_id=cid)
    if rng.random() < 0.5:
        query = pick(rng, [f"What's {name}'s KYC status?", f"Has {name}'s KYC been verified?"])
        facts = [k["kyc_status"]]
    else:
        query = pick(rng, [f"Is {name} allowed to trade right now?", f"Can {name} place buy orders at the moment?"])
        facts = [f"Buying is {'allowed' if k['can_buy'] else 'not allowed'}"]
    return Draft(query, [("search_clients", {"name": name}), ("get_compliance_status", {"client_id": cid})],
                 f"{name} is client {cid}. " + _compliance_sentences(k), facts,
                 ["Find the client's id by name.", "The compliance record answers this."], subjects=[cid])


@intent("L2", "list_accounts->get_holdings:holdings_value", ["list_accounts", "get_holdings"])
def _l2_holdings_value(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    a, aname = ctx.unique_typed_account(rng, cid)
    c = cref(rng, cid)
    ctx.run("list_accounts", client_id=cid)
    h = ctx.run("get_holdings", account_id=a["account_id"])
    top = _largest(h["holdings"])
    variant = rng.randrange(3)
    query, facts = [
        (pick(rng, [f"What is the total market value of the fund holdings in {c}'s {aname}?",
                     f"How much is {c}'s {aname} worth in funds?"]), [num(h["total_market_value"])]),
        (pick(rng, [f"What funds does {c} hold in their {aname}?", f"List the positions in {c}'s {aname}."]),
         [x["fund_code"] for x in h["holdings"][:3]]),
        (f"What's the biggest position in {c}'s {aname}?", [top["fund_code"], num(top["market_value"])]),
    ][variant]
    response = f"Client {cid}'s {a['account_type']} account is {a['account_id']}. " + _holdings_text(h)
    if variant == 2:
        response += f" The biggest position is {top['fund_code']} at {money(top['market_value'])}."
    return Draft(query, [("list_accounts", {"client_id": cid}), ("get_holdings", {"account_id": a["account_id"]})],
                 response, facts, ["First I need the client's accounts.", "Now the holdings of that account."],
                 subjects=[cid])


@intent("L2", "list_accounts->get_transactions:activity", ["list_accounts", "get_transactions"])
def _l2_activity(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    a, aname = ctx.unique_typed_account(rng, cid)
    aid = a["account_id"]
    ctx.run("list_accounts", client_id=cid)
    w, txn_type, t, args = _txn_task(ctx, rng, aid, TXN_WINDOWS)
    label = txn_label(txn_type, t["count"])
    word = pick(rng, TXN_WORDS[txn_type])
    c = cref(rng, cid)
    listing = rng.random() < 0.4 and t["count"] <= 8
    if listing:
        query = pick(rng, [f"List the {word} in {c}'s {aname} {w.phrase}.",
                            f"Show me {c}'s {word} {w.phrase} in their {aname}."])
    else:
        query = pick(rng, [f"How many {word} did {c} make {w.phrase} in their {aname}?",
                            f"What's the total of {c}'s {word} {w.phrase} in their {aname}?"])
    query = query[0].upper() + query[1:]
    response = f"Client {cid}'s {a['account_type']} account is {aid}. " + _txn_text(t, label, listing)
    if not t["count"]:
        facts = [f"no {label}"]
    elif listing:
        facts = [num(x["amount"]) for x in t["transactions"][:2]]
    elif "total" in query:
        facts = [num(t["total_amount"])]
    else:
        facts = [f"{t['count']} {label}"]
    return Draft(query, [("list_accounts", {"client_id": cid}), ("get_transactions", args)], response, facts,
                 ["I need the client's account first.", f"Now the transactions for {w.phrase}."], subjects=[cid])


@intent("L2", "list_accounts->list_orders:orders_by_client", ["list_accounts", "list_orders"])
def _l2_orders(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, [a["client_id"] for a in ctx.accounts if a["account_id"] in ctx.orders_of]
                     if rng.random() < 0.7 else ctx.client_ids)
    a, aname = ctx.unique_typed_account(rng, cid)
    aid = a["account_id"]
    ctx.run("list_accounts", client_id=cid)
    status = pick(rng, [None, None, "pending", "executed"])
    args = {"account_id": aid, **({"status": status} if status else {})}
    orders = ctx.run("list_orders", **args)["orders"]
    c = cref(rng, cid)
    query = {
        None: pick(rng, [f"Show me the orders on {c}'s {aname}.", f"What orders has {c} placed in their {aname}?"]),
        "pending": pick(rng, [f"Does {c}'s {aname} have any pending orders?",
                               f"Is anything still pending in {c}'s {aname}?"]),
        "executed": f"Which orders in {c}'s {aname} have been executed?",
    }[status]
    facts = [o["order_id"] for o in orders[:3]] or [f"no {status + ' ' if status else ''}orders"]
    response = f"Client {cid}'s {a['account_type']} account is {aid}. " + _orders_text(aid, orders, status)
    return Draft(query, [("list_accounts", {"client_id": cid}), ("list_orders", args)], response, facts,
                 ["I need the account id first.", "Now the orders of that account."], subjects=[cid])


@intent("L2", "get_client_profile->get_advisor_book:advisor_of_client", ["get_client_profile", "get_advisor_book"])
def _l2_advisor_book(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    p = ctx.run("get_client_profile", client_id=cid)
    b = ctx.run("get_advisor_book", advisor_id=p["advisor_id"])
    c = cref(rng, cid)
    variant = rng.randrange(3)
    query, facts = [
        (f"How many clients does {c}'s advisor look after, and what's the total of their book?",
         [f"{b['client_count']} clients", num(b["total_assets"])]),
        (f"Which branch is {c}'s advisor based in, and how big is their book?", [b["branch"], num(b["total_assets"])]),
        (f"Who is {c}'s advisor, and how many clients do they have?", [b["full_name"], f"{b['client_count']} clients"]),
    ][variant]
    response = (f"Client {cid} is advised by {b['full_name']} ({b['advisor_id']}, {b['branch']} branch), who looks "
                f"after {b['client_count']} clients with total assets of {money(b['total_assets'])}.")
    return Draft(query, [("get_client_profile", {"client_id": cid}), ("get_advisor_book", {"advisor_id": p["advisor_id"]})],
                 response, facts, ["The profile names the advisor.", "The advisor's book has the totals."],
                 subjects=[cid])


@intent("L2", "get_holdings->get_fund_performance:largest_position_performance", ["get_holdings", "get_fund_performance"])
def _l2_largest_perf(ctx: Ctx, rng: random.Random) -> Draft:
    aid = pick(rng, ctx.active_account_ids)
    h = ctx.run("get_holdings", account_id=aid)
    top = _largest(h["holdings"])
    w = window(rng, ctx.as_of, PERF_WINDOWS)
    args = {"fund": top["fund_code"], **w.arguments()}
    p = ctx.run("get_fund_performance", **args)
    query = pick(rng, [f"Take the largest position in account {aid}: how has that fund performed {w.phrase}?",
                        f"How did the biggest holding in account {aid} do {w.phrase} against its benchmark?"])
    response = (f"The largest position in account {aid} is {top['fund_name']} ({top['fund_code']}), worth "
                f"{money(top['market_value'])}. " + _perf_sentence(p))
    return Draft(query, [("get_holdings", {"account_id": aid}), ("get_fund_performance", args)], response,
                 [top["fund_code"], pct(abs(p["return_pct"]))],
                 ["Find the account's largest position.", f"Then that fund's performance for {w.phrase}."],
                 subjects=[ctx.account[aid]["client_id"]])


@intent("L2", "get_holdings->get_fund_info:largest_position_facts", ["get_holdings", "get_fund_info"])
def _l2_largest_info(ctx: Ctx, rng: random.Random) -> Draft:
    aid = pick(rng, ctx.active_account_ids)
    h = ctx.run("get_holdings", account_id=aid)
    top = _largest(h["holdings"])
    f = ctx.run("get_fund_info", fund=top["fund_code"])
    _, sentence, fact = _fund_attr(f, rng, "")
    attr_q = {
        "expense ratio": "What's the expense ratio of the largest holding in account {aid}?",
        "managed by": "Who manages the biggest fund position in account {aid}?",
        "minimum investment": "What's the minimum investment of the largest fund held in account {aid}?",
        "manages $": "How large (AUM) is the fund behind the biggest position in account {aid}?",
        "benchmarked": "Which index is the largest holding of account {aid} benchmarked against?",
        "NAV of": "What's the latest NAV of the largest position in account {aid}?",
        "risk level": "What risk level is the largest fund in account {aid} rated?",
        "launched": "When was the largest fund held in account {aid} launched?",
    }
    key = next(k for k in attr_q if k in sentence)
    response = (f"The largest position in account {aid} is {top['fund_code']}, worth {money(top['market_value'])}. "
                + sentence)
    return Draft(attr_q[key].format(aid=aid), [("get_holdings", {"account_id": aid}), ("get_fund_info", {"fund": top["fund_code"]})],
                 response, [top["fund_code"], fact], ["Find the largest position.", "Then that fund's profile."],
                 subjects=[ctx.account[aid]["client_id"]])


@intent("L2", "place_order->cancel_order:place_then_cancel", ["place_order", "cancel_order"])
def _l2_place_cancel(ctx: Ctx, rng: random.Random) -> Draft:
    cid, a, fund, amt = _buy_setup(ctx, rng)
    aid = a["account_id"]
    ref, arg = fref(rng, fund)
    args = {"account_id": aid, "fund": arg, "side": "buy", "amount": amt}
    o = ctx.run("place_order", **args)
    x = ctx.run("cancel_order", order_id=o["order_id"])
    query = pick(rng, [
        f"Buy {qmoney(amt)} of {ref} in account {aid}, then cancel that order straight away: the client has changed their mind. What's the cash balance afterwards?",
        f"Place a {qmoney(amt)} buy of {ref} in account {aid} and immediately cancel it again; confirm the cash balance once it's cancelled.",
    ])
    response = (f"I placed order {o['order_id']} to buy {money(amt)} of {o['fund_code']} in account {aid} and then "
                f"cancelled it; the reserved cash was released, so the cash balance is back to {money(x['cash_balance'])}.")
    return Draft(query, [("place_order", args), ("cancel_order", {"order_id": o["order_id"]})], response,
                 [o["order_id"], num(x["cash_balance"])], ["Place the order first.", "Cancel the order it returned."],
                 subjects=[cid])


@intent("L2", "search_funds->get_fund_info:cheapest_fund_facts", ["search_funds", "get_fund_info"])
def _l2_cheapest_info(ctx: Ctx, rng: random.Random) -> Draft:
    cat = pick(rng, ctx.categories)
    cw = cat_word(cat)
    args: dict[str, Any] = {"category": cat}
    extra = ""
    if rng.random() < 0.4:
        r = rng.randint(2, 5)
        args["max_risk_level"] = r
        extra = f" with a risk level of {r} or lower"
    res = ctx.run("search_funds", **args)
    if not res["funds"]:
        raise Skip("no funds")
    top = res["funds"][0]
    f = ctx.run("get_fund_info", fund=top["fund_code"])
    query = pick(rng, [f"Find the cheapest {cw} fund{extra} and tell me its minimum investment and manager.",
                        f"What's the minimum investment and who is the manager of the lowest-cost {cw} fund{extra}?"])
    response = (f"The cheapest {cw} fund{extra} is the {f['name']} ({f['fund_code']}) with an expense ratio of "
                f"{f['expense_ratio']}%. It is managed by {f['manager']} and has a minimum investment of "
                f"{money(f['min_investment'])}.")
    return Draft(query, [("search_funds", args), ("get_fund_info", {"fund": top["fund_code"]})], response,
                 [top["fund_code"], f["manager"]], ["Screen the funds, cheapest first.", "Then the cheapest fund's profile."])


@intent("L2", "search_funds->get_fund_performance:cheapest_fund_performance", ["search_funds", "get_fund_performance"])
def _l2_cheapest_perf(ctx: Ctx, rng: random.Random) -> Draft:
    cat = pick(rng, ctx.categories)
    cw = cat_word(cat)
    res = ctx.run("search_funds", category=cat)
    top = res["funds"][0]
    w = window(rng, ctx.as_of, PERF_WINDOWS)
    args = {"fund": top["fund_code"], **w.arguments()}
    p = ctx.run("get_fund_performance", **args)
    query = pick(rng, [f"Which {cw} fund has the lowest expense ratio, and how has it performed {w.phrase}?",
                        f"How did our cheapest {cw} fund do {w.phrase}?"])
    response = (f"The {cw} fund with the lowest expense ratio is {top['fund_code']} at {top['expense_ratio']}%. "
                + _perf_sentence(p))
    return Draft(query, [("search_funds", {"category": cat}), ("get_fund_performance", args)], response,
                 [top["fund_code"], pct(abs(p["return_pct"]))], ["Find the cheapest fund.", "Then its performance."])


@intent("L2", "search_funds->check_suitability:cheapest_fund_suitability", ["search_funds", "check_suitability"])
def _l2_cheapest_suit(ctx: Ctx, rng: random.Random) -> Draft:
    cat = pick(rng, ctx.categories)
    cw = cat_word(cat)
    res = ctx.run("search_funds", category=cat)
    top = res["funds"][0]
    cid = pick(rng, ctx.client_ids)
    s = ctx.run("check_suitability", client_id=cid, fund=top["fund_code"])
    c = cref(rng, cid)
    query = pick(rng, [f"Find our cheapest {cw} fund and check whether it's suitable for {c}.",
                        f"Is the lowest-cost {cw} fund suitable for {c}?"])
    response = f"The cheapest {cw} fund is {top['name']} ({top['fund_code']}). " + _suitability_text(s)
    return Draft(query, [("search_funds", {"category": cat}), ("check_suitability", {"client_id": cid, "fund": top["fund_code"]})],
                 response, [top["fund_code"], "is suitable" if s["suitable"] else "is not suitable"],
                 ["Find the cheapest fund in the category.", "Then check it against the client."], subjects=[cid])


@intent("L2", "search_clients->add_advisor_note:note_by_name", ["search_clients", "add_advisor_note"])
def _l2_note_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    c, cid, _ = _by_name(ctx, rng)
    name = c["full_name"]
    category = pick(rng, sorted(NOTE_TEXTS))
    text = pick(rng, NOTE_TEXTS[category])
    args = {"client_id": cid, "text": text, "category": category}
    n = ctx.run("add_advisor_note", **args)
    query = pick(rng, [f"Add a {category} note to {name}'s file saying: \"{text}\"",
                        f"Log this as a {category} note for {name}: \"{text}\""])
    response = (f"{name} is client {cid}. I added {category} note {n['note_id']} dated {n['created_on']}: \"{text}\"")
    return Draft(query, [("search_clients", {"name": name}), ("add_advisor_note", args)], response, [n["note_id"]],
                 ["I need the client id to write the note.", "Write the note as given."], subjects=[cid])


@intent("L2", "list_accounts->place_order:invest_from_account", ["list_accounts", "place_order"])
def _l2_invest(ctx: Ctx, rng: random.Random) -> Draft:
    for _ in range(10):
        cid = pick(rng, ctx.client_ids)
        if not ctx.can_trade(cid, "buy"):
            continue
        try:
            a, aname = ctx.unique_typed_account(rng, cid)
        except Skip:
            continue
        fund = ctx.fund[pick(rng, ctx.fund_codes)]
        amounts = [x for x in AMOUNTS if fund["min_investment"] <= x <= a["cash_balance"]]
        if amounts:
            break
    else:
        raise Skip("no setup")
    amt = pick(rng, amounts)
    ref, arg = fref(rng, fund)
    ctx.run("list_accounts", client_id=cid)
    args = {"account_id": a["account_id"], "fund": arg, "side": "buy", "amount": amt}
    o = ctx.run("place_order", **args)
    c = cref(rng, cid)
    query = pick(rng, [f"Invest {qmoney(amt)} in {ref} from {c}'s {aname}.",
                        f"Use {qmoney(amt)} of the cash in {c}'s {aname} to buy {ref}."])
    query = query[0].upper() + query[1:]
    return Draft(query, [("list_accounts", {"client_id": cid}), ("place_order", args)], _order_text(o),
                 [o["order_id"]], ["I need the account id.", "Place the buy in that account."], subjects=[cid])


@intent("L2", "list_accounts->get_holdings->get_holdings:holdings_per_account", ["list_accounts", "get_holdings"])
def _l2_two_accounts(ctx: Ctx, rng: random.Random) -> Draft:
    pool = [cid for cid in ctx.client_ids if len(ctx.accounts_of[cid]) == 2
            and all(a["status"] == "active" for a in ctx.accounts_of[cid])]
    if not pool:
        raise Skip("no two-account clients")
    cid = pick(rng, pool)
    ctx.run("list_accounts", client_id=cid)
    hs = [ctx.run("get_holdings", account_id=a["account_id"]) for a in ctx.accounts_of[cid]]
    c = cref(rng, cid)
    query = pick(rng, [f"Break down the fund holdings value of each of {c}'s accounts.",
                        f"What are {c}'s accounts worth in fund holdings, account by account?"])
    response = f"Client {cid} has two active accounts. " + " ".join(
        f"Account {h['account_id']} holds {plural(len(h['holdings']), 'fund')} worth {money(h['total_market_value'])}."
        for h in hs)
    calls = [("list_accounts", {"client_id": cid})] + [("get_holdings", {"account_id": h["account_id"]}) for h in hs]
    return Draft(query, calls, response, [num(h["total_market_value"]) for h in hs],
                 ["List the client's accounts.", "Holdings of the first account.", "Holdings of the second account."],
                 subjects=[cid], difficulty="hard")


@intent("L2", "search_clients->list_accounts->get_holdings:holdings_by_name", ["search_clients", "list_accounts", "get_holdings"])
def _l2_holdings_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    c, cid, _ = _by_name(ctx, rng)
    a, aname = ctx.unique_typed_account(rng, cid)
    name = c["full_name"]
    ctx.run("list_accounts", client_id=cid)
    h = ctx.run("get_holdings", account_id=a["account_id"])
    query = pick(rng, [f"What is {name}'s {aname} worth in fund holdings?",
                        f"What funds does {name} hold in their {aname}?"])
    facts = [num(h["total_market_value"])] if "worth" in query else [x["fund_code"] for x in h["holdings"][:3]]
    response = f"{name} is client {cid}; the {a['account_type']} account is {a['account_id']}. " + _holdings_text(h)
    return Draft(query, [("search_clients", {"name": name}), ("list_accounts", {"client_id": cid}),
                         ("get_holdings", {"account_id": a["account_id"]})], response, facts,
                 ["Find the client id by name.", "List the client's accounts.", "Then the account's holdings."],
                 subjects=[cid], difficulty="hard")


@intent("L2", "search_clients->get_client_overview:overview_by_name", ["search_clients", "get_client_overview"])
def _l2_overview_by_name(ctx: Ctx, rng: random.Random) -> Draft:
    c, cid, _ = _by_name(ctx, rng)
    name = c["full_name"]
    o = ctx.run("get_client_overview", client_id=cid)
    query = pick(rng, [f"Pull together an overview of {name}: accounts, holdings and recent activity.",
                        f"I have a review with {name} later. Give me their accounts, positions and recent transactions."])
    facts = [cid] + ([o["accounts"][0]["account_id"]] if o["accounts"] else [])
    return Draft(query, [("search_clients", {"name": name}), ("get_client_overview", {"client_id": cid})],
                 _overview_text(o), facts, ["Find the client id by name.", "The overview has everything at once."],
                 subjects=[cid])
