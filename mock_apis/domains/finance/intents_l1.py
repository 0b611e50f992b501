"""L1 intents: a single tool call (``L1:<name>``)."""

from __future__ import annotations

import random
from typing import Any

from mock_apis.domain import Draft, Skip, pick
from mock_apis.domains.finance.context import Ctx
from mock_apis.domains.finance.registry import intent
from mock_apis.domains.finance.phrasing import (
    NOTE_TEXTS, PERF_WINDOWS, TXN_WINDOWS, TXN_WORDS, _accounts_text, _compliance_sentences, _fund_attr, _funds_list,
    _holdings_text, _order_text, _orders_text, _overview_text, _perf_sentence, _suitability_text, _summary_text,
    _txn_text, cat_word, cref, day, fref, iref, money, nav, num, pct, plural, qmoney, txn_label, window,
)
from mock_apis.domains.finance.setups import _buy_setup, _draw_suitability, _largest, _searchable_client, _sell_setup, _txn_task


@intent("L1", "risk_profile", ["get_risk_assessment"])
def _l1_risk(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    r = ctx.run("get_risk_assessment", client_id=cid)
    c = cref(rng, cid)
    profile = r["risk_profile"].replace("_", " ")
    status = "still current" if r["is_current"] else "no longer current"
    variant = rng.randrange(4)
    query, facts = [
        (f"What is the current risk profile of {c}?", [profile, f"score of {r['risk_score']}"]),
        (pick(rng, [f"Pull up {c}'s latest risk assessment: what score and risk level did they get?",
                     f"What risk score did {c} get on their last risk assessment?"]),
         [f"risk level {r['risk_level']}", f"score of {r['risk_score']}"]),
        (pick(rng, [f"Is {c}'s risk assessment still valid? When does it expire?",
                     f"When does the risk assessment of {c} run out?"]), [r["valid_until"], status]),
        (f"Which risk profile is {c} on file as, and what investment horizon did they give?",
         [profile, f"{r['horizon_years']}-year"]),
    ][variant]
    response = (f"Client {cid}'s latest risk assessment ({r['assessment_id']}, dated {r['assessed_on']}) rates the "
                f"client {profile}, with risk level {r['risk_level']}, a score of {r['risk_score']} and a "
                f"{r['horizon_years']}-year investment horizon. It is valid until {r['valid_until']}, so it is {status}.")
    return Draft(query, [("get_risk_assessment", {"client_id": cid})], response, facts,
                 ["The risk assessment tool has the client's latest profile."], subjects=[cid])


@intent("L1", "kyc_status", ["get_compliance_status"])
def _l1_kyc(ctx: Ctx, rng: random.Random) -> Draft:
    if rng.random() < 0.4:  # restricted or unverified clients are rarer: draw them on purpose
        pool = [cid for cid in ctx.client_ids if not ctx.can_trade(cid, "buy")]
    else:
        pool = ctx.client_ids
    cid = pick(rng, pool)
    k = ctx.run("get_compliance_status", client_id=cid)
    c = cref(rng, cid)
    variant = rng.randrange(4)
    restriction_fact = "no trading restriction" if k["restriction"] == "none" else k["restriction_reason"]
    query, facts = [
        (pick(rng, [f"What's the KYC status of {c}?", f"Has {c}'s KYC been verified?"]), [k["kyc_status"]]),
        (pick(rng, [f"Is {c} under any trading restriction right now?",
                     f"Does {c} have a trading restriction on file?"]), [restriction_fact]),
        (pick(rng, [f"Can {c} buy funds at the moment?", f"Is {c} currently allowed to buy?"]),
         [f"Buying is {'allowed' if k['can_buy'] else 'not allowed'}"]),
        (f"Is {c} flagged as a politically exposed person?",
         ["is flagged as a politically exposed" if k["politically_exposed"] else "not flagged as politically exposed"]),
    ][variant]
    return Draft(query, [("get_compliance_status", {"client_id": cid})], _compliance_sentences(k), facts,
                 ["The compliance status tool has KYC and restrictions."], subjects=[cid])


@intent("L1", "contact_details", ["get_client_profile"])
def _l1_profile(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    p = ctx.run("get_client_profile", client_id=cid)
    c = cref(rng, cid)
    variant = rng.randrange(6)
    head = f"Client {cid} is {p['full_name']}."
    query, body, facts = [
        (pick(rng, [f"What email address do we have on file for {c}?", f"What's {c}'s email?"]),
         f"The email address on file is {p['email']}.", [p["email"]]),
        (pick(rng, [f"What's the phone number for {c}?", f"Which phone number do we have for {c}?"]),
         f"The phone number on file is {p['phone']}.", [p["phone"]]),
        (f"When was {c} born, and when did they become a client?",
         f"The client was born on {p['birth_date']} and was onboarded on {p['onboarded_on']}.",
         [p["birth_date"], p["onboarded_on"]]),
        (pick(rng, [f"Who is the advisor assigned to {c}?", f"Which advisor looks after {c}?"]),
         f"The client is assigned to advisor {p['advisor_id']} and is in the {p['segment']} segment.",
         [p["advisor_id"]]),
        (f"What's the mailing address on file for {c}?", f"The address on file is {p['address']}.", [p["address"]]),
        (f"What are the last four digits of {c}'s national id?",
         f"The national id on file ends in {p['national_id_last4']}.", [p["national_id_last4"]]),
    ][variant]
    return Draft(query, [("get_client_profile", {"client_id": cid})], f"{head} {body}", facts,
                 ["The client profile has the contact details."], subjects=[cid])


@intent("L1", "account_list", ["list_accounts"])
def _l1_accounts(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    res = ctx.run("list_accounts", client_id=cid)
    accounts = res["accounts"]
    c = cref(rng, cid)
    total = sum(a["cash_balance"] for a in accounts)
    variant = rng.randrange(3)
    if variant == 1 and len(accounts) < 2:
        variant = 0
    query, facts = [
        (pick(rng, [f"How many accounts does {c} have, and what are their cash balances?",
                     f"List {c}'s accounts with their cash balances."]),
         [a["account_id"] for a in accounts[:3]]),
        (pick(rng, [f"What's the total cash balance across {c}'s accounts?",
                     f"How much cash does {c} hold across all their accounts?"]), [num(total)]),
        (pick(rng, [f"Which of {c}'s accounts are open, and which are closed?",
                     f"Show me the status of each of {c}'s accounts."]),
         [f"{a['account_id']} ({a['account_type']}, {a['status']})" for a in accounts[:2]]),
    ][variant]
    return Draft(query, [("list_accounts", {"client_id": cid})], _accounts_text(cid, accounts), facts,
                 ["The client's accounts carry type, status and cash."], subjects=[cid])


@intent("L1", "holdings", ["get_holdings"])
def _l1_holdings(ctx: Ctx, rng: random.Random) -> Draft:
    aid = pick(rng, ctx.active_account_ids)
    h = ctx.run("get_holdings", account_id=aid)
    top = _largest(h["holdings"])
    variant = rng.randrange(4)
    query, facts = [
        (pick(rng, [f"What does account {aid} hold?", f"Show me the fund positions in account {aid}."]),
         [x["fund_code"] for x in h["holdings"][:3]]),
        (pick(rng, [f"What is the total market value of the fund positions in account {aid}?",
                     f"How much are the holdings in account {aid} worth today?"]), [num(h["total_market_value"])]),
        (f"Which is the largest position in account {aid}, and what is it worth?",
         [top["fund_code"], num(top["market_value"])]),
        (f"What's the unrealised gain or loss on each position in account {aid}?",
         [num(abs(x["unrealized_gain"])) for x in h["holdings"][:2]]),
    ][variant]
    response = _holdings_text(h)
    if variant == 2:
        response += f" The largest position is {top['fund_code']} at {money(top['market_value'])}."
    return Draft(query, [("get_holdings", {"account_id": aid})], response, facts,
                 ["The holdings tool values the account's positions."], subjects=[ctx.account[aid]["client_id"]])


@intent("L1", "transactions", ["get_transactions"])
def _l1_transactions(ctx: Ctx, rng: random.Random) -> Draft:
    aid = pick(rng, ctx.txn_accounts)
    w, txn_type, t, args = _txn_task(ctx, rng, aid, TXN_WINDOWS)
    label = txn_label(txn_type, t["count"])
    word = pick(rng, TXN_WORDS[txn_type])
    variant = rng.randrange(3)
    if variant == 1 and t["count"] > 8:
        variant = 0
    query = [
        pick(rng, [f"How many {word} were there in account {aid} {w.phrase}?",
                    f"Count the {word} on account {aid} {w.phrase}."]),
        pick(rng, [f"List the {word} in account {aid} {w.phrase}.", f"Show me account {aid}'s {word} {w.phrase}."]),
        f"What was the total amount of {word} in account {aid} {w.phrase}?",
    ][variant]
    response = _txn_text(t, label, listing=variant == 1)
    if not t["count"]:
        facts = [f"no {label}"]
    elif variant == 0:
        facts = [f"{t['count']} {label}"]
    elif variant == 1:
        facts = [num(x["amount"]) for x in t["transactions"][:2]]
    else:
        facts = [num(t["total_amount"])]
    return Draft(query, [("get_transactions", args)], response, facts,
                 [f"I need the account's transactions for {w.phrase}."], subjects=[ctx.account[aid]["client_id"]])


@intent("L1", "fund_facts", ["get_fund_info"])
def _l1_fund_info(ctx: Ctx, rng: random.Random) -> Draft:
    fund = ctx.fund[pick(rng, ctx.fund_codes)]
    ref, arg = fref(rng, fund)
    f = ctx.run("get_fund_info", fund=arg)
    query, sentence, fact = _fund_attr(f, rng, ref)
    cw = cat_word(f["category"])
    response = f"{sentence} It is {'an' if cw[0] in 'aeiou' else 'a'} {cw} fund with risk level {f['risk_level']}."
    return Draft(query, [("get_fund_info", {"fund": arg})], response, [fact],
                 ["The fund info tool has the fund's profile."])


@intent("L1", "fund_screen", ["search_funds"])
def _l1_search_funds(ctx: Ctx, rng: random.Random) -> Draft:
    variant = rng.randrange(4)
    cat = pick(rng, ctx.categories)
    cw = cat_word(cat)
    if variant == 0:
        args: dict[str, Any] = {"category": cat}
        query = pick(rng, [f"What's the cheapest {cw} fund we offer?", f"Which {cw} fund has the lowest expense ratio?"])
    elif variant == 1:
        r = rng.randint(1, 5)
        args = {"category": cat, "max_risk_level": r}
        query = pick(rng, [f"Which {cw} funds have a risk level of {r} or lower?",
                            f"List the {cw} funds rated risk level {r} or below."])
    elif variant == 2:
        x = pick(rng, [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5])
        args = {"max_expense_ratio": x}
        query = pick(rng, [f"List the funds with an expense ratio of at most {x}%.",
                            f"Which funds cost no more than {x}% a year in expenses?"])
    else:
        r = rng.randint(1, 3)
        args = {"max_risk_level": r}
        query = pick(rng, [f"Which funds are rated risk level {r} or below?",
                            f"Show me every fund with a risk level no higher than {r}."])
    res = ctx.run("search_funds", **args)
    funds = res["funds"]
    if not funds or res["count"] >= 20:
        raise Skip("empty or truncated screen")
    if variant == 0:
        top = funds[0]
        response = (f"The cheapest {cw} fund is the {top['name']} ({top['fund_code']}) with an expense ratio of "
                    f"{top['expense_ratio']}%. All {cw} funds, cheapest first: {_funds_list(funds)}.")
        facts = [top["fund_code"]]
    else:
        response = f"{plural(len(funds), 'fund')} match, cheapest first: {_funds_list(funds)}."
        facts = [x["fund_code"] for x in funds[:3]]
    return Draft(query, [("search_funds", args)], response, facts, ["The fund screener filters the fund range."])


@intent("L1", "nav_history", ["get_nav_history"])
def _l1_nav(ctx: Ctx, rng: random.Random) -> Draft:
    fund = ctx.fund[pick(rng, ctx.fund_codes)]
    ref, arg = fref(rng, fund)
    w = window(rng, ctx.as_of, ("d30", "d7", "lm", "lq", "mtd", "abs", "d90"))
    args = {"fund": arg, **w.arguments()}
    res = ctx.run("get_nav_history", **args)
    pts = res["points"]
    if len(pts) < 2:
        raise Skip("too few NAVs")
    hi = max(pts, key=lambda p: (p["nav"], p["date"]))
    lo = min(pts, key=lambda p: (p["nav"], p["date"]))
    variant = rng.randrange(3)
    query, facts = [
        (f"What was the highest NAV of {ref} {w.phrase}?", [nav(hi["nav"])]),
        (f"What was {ref}'s lowest NAV {w.phrase}?", [nav(lo["nav"])]),
        (pick(rng, [f"How did {ref}'s NAV move {w.phrase}? Give me the first and last values.",
                     f"Give me the starting and ending NAV of {ref} {w.phrase}."]), [nav(pts[0]["nav"]), nav(pts[-1]["nav"])]),
    ][variant]
    response = (f"Between {pts[0]['date']} and {pts[-1]['date']}, {fund['name']} ({fund['fund_code']}) published "
                f"{len(pts)} daily NAVs: it started at {nav(pts[0]['nav'])} and ended at {nav(pts[-1]['nav'])}, with "
                f"a high of {nav(hi['nav'])} on {hi['date']} and a low of {nav(lo['nav'])} on {lo['date']}.")
    return Draft(query, [("get_nav_history", args)], response, facts, ["The NAV history tool has the daily prices."])


@intent("L1", "index_level", ["get_market_index"])
def _l1_index(ctx: Ctx, rng: random.Random) -> Draft:
    index = pick(rng, ctx.indices)
    ref, arg = iref(rng, index)
    d = day(rng, ctx.as_of, ("today", "yesterday", "last_friday", "week_ago", "end_last_year", "end_last_month",
                              "end_last_quarter", "abs", "abs"))
    args = {"index": arg, **({"date": d.iso} if d.iso else {})}
    q = ctx.run("get_market_index", **args)
    variant = rng.randrange(3)
    query = [f"Where did {ref} close {d.phrase}?", f"What was {ref}'s closing level {d.phrase}?",
             f"How much did {ref} move {d.phrase}, and where did it close?"][variant]
    if query[0].islower():
        query = query[0].upper() + query[1:]
    if d.iso and q["quote_date"] != d.iso:
        response = (f"There was no close for {q['name']} ({q['index_code']}) on {d.iso}; the last close before it, on "
                    f"{q['quote_date']}, was {num(q['close'])}, a daily change of {q['change_pct']}%.")
    else:
        response = (f"{q['name']} ({q['index_code']}) closed at {num(q['close'])} on {q['quote_date']}, a daily change "
                    f"of {q['change_pct']}%.")
    return Draft(query, [("get_market_index", args)], response, [num(q["close"])],
                 ["The market index tool has the closing levels."])


@intent("L1", "orders", ["list_orders"])
def _l1_orders(ctx: Ctx, rng: random.Random) -> Draft:
    status = pick(rng, [None, "pending", "executed", "cancelled"])
    with_orders = [a for a in ctx.active_account_ids if any(status in (None, o["status"]) for o in ctx.orders_of.get(a, []))]
    pool = with_orders if (rng.random() < 0.8 or status is None) else ctx.active_account_ids
    aid = pick(rng, pool)
    args = {"account_id": aid, **({"status": status} if status else {})}
    res = ctx.run("list_orders", **args)
    query = {
        None: pick(rng, [f"Show me the order history of account {aid}.", f"What orders have been placed on account {aid}?"]),
        "pending": pick(rng, [f"Are there any pending orders on account {aid}?", f"Does account {aid} have open (pending) orders?"]),
        "executed": pick(rng, [f"List the executed orders in account {aid}.", f"Which orders on account {aid} have been executed?"]),
        "cancelled": pick(rng, [f"Which orders on account {aid} were cancelled?", f"Show me the cancelled orders for account {aid}."]),
    }[status]
    orders = res["orders"]
    facts = [o["order_id"] for o in orders[:3]] or [f"no {status + ' ' if status else ''}orders"]
    return Draft(query, [("list_orders", args)], _orders_text(aid, orders, status), facts,
                 ["The order list shows the account's orders."], subjects=[ctx.account[aid]["client_id"]])


@intent("L1", "client_overview", ["get_client_overview"])
def _l1_overview(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    o = ctx.run("get_client_overview", client_id=cid)
    c = cref(rng, cid)
    query = pick(rng, [
        f"Give me a full overview of {c}: profile, accounts, holdings and recent activity.",
        f"I'm meeting {c} in an hour. Pull together everything on them in one go: accounts, positions and the last month's transactions.",
        f"Summarise {c}'s profile, accounts, holdings and recent transactions in one view.",
    ])
    return Draft(query, [("get_client_overview", {"client_id": cid})], _overview_text(o),
                 [o["profile"]["full_name"], o["accounts"][0]["account_id"]] if o["accounts"] else [o["profile"]["full_name"]],
                 ["The overview tool gathers profile, accounts, holdings and activity at once."], subjects=[cid])


@intent("L1", "portfolio_summary", ["get_portfolio_summary"])
def _l1_summary(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    s = ctx.run("get_portfolio_summary", client_id=cid)
    if not s["allocation"]:
        raise Skip("nothing invested")
    c = cref(rng, cid)
    top = s["allocation"][0]
    variant = rng.randrange(3)
    query, facts = [
        (pick(rng, [f"What's {c}'s total portfolio value?", f"How much is {c}'s whole portfolio worth?"]),
         [num(s["total_value"])]),
        (pick(rng, [f"How is {c}'s portfolio allocated across fund categories?",
                     f"What's the asset allocation of {c}?"]), [cat_word(top["category"]), f"{top['weight_pct']}%"]),
        (f"How much of {c}'s money is in cash versus invested?", [num(s["cash_balance"]), num(s["invested_value"])]),
    ][variant]
    return Draft(query, [("get_portfolio_summary", {"client_id": cid})], _summary_text(s), facts,
                 ["The portfolio summary covers every active account."], subjects=[cid])


@intent("L1", "suitability", ["check_suitability"])
def _l1_suitability(ctx: Ctx, rng: random.Random) -> Draft:
    want = ctx.want("suitability")
    cid, fund, ref, arg, _ = _draw_suitability(ctx, rng, want)
    s = ctx.run("check_suitability", client_id=cid, fund=arg)
    c = cref(rng, cid)
    query = pick(rng, [f"Is {ref} suitable for {c}?", f"Would {ref} pass the suitability check for {c}?",
                        f"Can {c} invest in {ref} from a suitability standpoint?"])
    return Draft(query, [("check_suitability", {"client_id": cid, "fund": arg})], _suitability_text(s),
                 ["is suitable" if s["suitable"] else "is not suitable"],
                 ["The suitability check compares the fund with the client's risk and compliance status."],
                 subjects=[cid])


@intent("L1", "fund_performance", ["get_fund_performance"])
def _l1_performance(ctx: Ctx, rng: random.Random) -> Draft:
    fund = ctx.fund[pick(rng, ctx.fund_codes)]
    ref, arg = fref(rng, fund)
    w = window(rng, ctx.as_of, PERF_WINDOWS)
    args = {"fund": arg, **w.arguments()}
    p = ctx.run("get_fund_performance", **args)
    query = pick(rng, [f"How has {ref} performed {w.phrase}?",
                        f"What return did {ref} deliver {w.phrase}, and how does that compare with its benchmark?",
                        f"Did {ref} beat its benchmark {w.phrase}?"])
    query = query[0].upper() + query[1:]
    return Draft(query, [("get_fund_performance", args)], _perf_sentence(p), [pct(abs(p["return_pct"]))],
                 [f"The performance tool gives the fund's return for {w.phrase}."])


@intent("L1", "advisor_book", ["get_advisor_book"])
def _l1_book(ctx: Ctx, rng: random.Random) -> Draft:
    vid = pick(rng, ctx.advisor_ids)
    b = ctx.run("get_advisor_book", advisor_id=vid)
    variant = rng.randrange(4)
    head = (f"Advisor {vid}, {b['full_name']} ({b['branch']} branch), looks after {b['client_count']} clients with "
            f"total assets of {money(b['total_assets'])}.")
    if variant == 2:
        top = sorted(b["clients"], key=lambda c: (-c["total_value"], c["client_id"]))[0]
        query = pick(rng, [f"Which client in advisor {vid}'s book has the largest assets?",
                            f"Who is advisor {vid}'s biggest client by assets?"])
        return Draft(query, [("get_advisor_book", {"advisor_id": vid})],
                     head + f" The largest relationship is {top['full_name']} ({top['client_id']}) with "
                     f"{money(top['total_value'])}.", [top["client_id"], num(top["total_value"])],
                     ["The advisor book lists every client with their assets."])
    query, facts = [
        (f"How many clients does advisor {vid} look after, and what are their total assets?",
         [f"{b['client_count']} clients", num(b["total_assets"])]),
        (pick(rng, [f"What is the total book size of advisor {vid}?", f"How big is advisor {vid}'s book of business?"]),
         [num(b["total_assets"])]),
        None,
        (f"Which branch does advisor {vid} work in, and how many clients do they have?",
         [b["branch"], f"{b['client_count']} clients"]),
    ][variant]
    return Draft(query, [("get_advisor_book", {"advisor_id": vid})], head, facts,
                 ["The advisor book has the advisor's clients and totals."])


SEGMENT_WORDS = {"hnw": ["high-net-worth", "HNW"], "affluent": ["affluent"], "retail": ["retail"]}


@intent("L1", "client_search", ["search_clients"])
def _l1_search(ctx: Ctx, rng: random.Random) -> Draft:
    variant = rng.randrange(3)
    if variant < 2:
        c = _searchable_client(ctx, rng)
        name = c["full_name"]
        res = ctx.run("search_clients", name=name)
        if res["count"] != 1:
            raise Skip("ambiguous name")
        hit = res["clients"][0]
        query, facts = [
            (pick(rng, [f"Find the client id for {name}.", f"What's {name}'s client id?"]), [hit["client_id"]]),
            (pick(rng, [f"Look up {name} in our client records: which advisor do they have?",
                         f"Which advisor covers {name}?"]), [hit["advisor_id"]]),
        ][variant]
        response = (f"{name} is client {hit['client_id']}, in the {hit['segment']} segment, advised by "
                    f"{hit['advisor_id']}.")
        return Draft(query, [("search_clients", {"name": name})], response, facts,
                     ["I can find the client by name."], subjects=[hit["client_id"]])
    vid = pick(rng, ctx.advisor_ids)
    seg = pick(rng, ["hnw", "hnw", "affluent"])
    args = {"advisor_id": vid, "segment": seg}
    res = ctx.run("search_clients", **args)
    if not res["clients"] or res["count"] >= 20:
        raise Skip("empty or truncated")
    sw = pick(rng, SEGMENT_WORDS[seg])
    query = pick(rng, [f"List advisor {vid}'s {sw} clients.", f"Which {sw} clients does advisor {vid} look after?"])
    response = (f"Advisor {vid} has {plural(res['count'], sw + ' client')}: "
                + "; ".join(f"{c['full_name']} ({c['client_id']})" for c in res["clients"]) + ".")
    return Draft(query, [("search_clients", args)], response, [c["client_id"] for c in res["clients"][:3]],
                 ["I can filter clients by advisor and segment."])


@intent("L1", "log_note", ["add_advisor_note"])
def _l1_note(ctx: Ctx, rng: random.Random) -> Draft:
    cid = pick(rng, ctx.client_ids)
    category = pick(rng, sorted(NOTE_TEXTS))
    text = pick(rng, NOTE_TEXTS[category])
    c = cref(rng, cid)
    explicit = rng.random() < 0.6 or category != "meeting"
    if explicit:
        query = pick(rng, [f"Log a {category} note for {c} saying: \"{text}\"",
                            f"Please record this on {c}'s file as a {category} note: \"{text}\""])
        args = {"client_id": cid, "text": text, "category": category}
    else:
        query = pick(rng, [f"Add a note to {c}'s file: \"{text}\"", f"Note on {c}'s file: \"{text}\""])
        args = {"client_id": cid, "text": text}
    n = ctx.run("add_advisor_note", **args)
    response = (f"I added note {n['note_id']} to client {cid}'s file as a {n['category']} note dated "
                f"{n['created_on']}: \"{n['text']}\"")
    return Draft(query, [("add_advisor_note", args)], response, [n["note_id"]],
                 ["I write the note exactly as given."], subjects=[cid])


@intent("L1", "place_order", ["place_order"])
def _l1_place(ctx: Ctx, rng: random.Random) -> Draft:
    side = pick(rng, ["buy", "buy", "sell"])
    if side == "buy":
        _, a, fund, amt = _buy_setup(ctx, rng)
    else:
        cid, a, fund, amt = _sell_setup(ctx, rng)
        if not ctx.can_trade(cid, "sell"):
            raise Skip("cannot sell")
    ref, arg = fref(rng, fund)
    aid = a["account_id"]
    args = {"account_id": aid, "fund": arg, "side": side, "amount": amt}
    o = ctx.run("place_order", **args)
    if side == "buy":
        query = pick(rng, [f"Buy {qmoney(amt)} of {ref} in account {aid}.",
                            f"Place a buy order for {qmoney(amt)} of {ref} in account {aid}.",
                            f"Invest {qmoney(amt)} in {ref} from account {aid}."])
    else:
        query = pick(rng, [f"Sell {qmoney(amt)} of {ref} from account {aid}.",
                            f"Place a sell order for {qmoney(amt)} of {ref} in account {aid}.",
                            f"Redeem {qmoney(amt)} of {ref} held in account {aid}."])
    return Draft(query, [("place_order", args)], _order_text(o), [o["order_id"]],
                 ["The advisor asked for this order; place it."], subjects=[ctx.account[aid]["client_id"]])


@intent("L1", "cancel_order", ["cancel_order"])
def _l1_cancel(ctx: Ctx, rng: random.Random) -> Draft:
    if not ctx.pending_order_ids:
        raise Skip("no pending orders")
    oid = pick(rng, ctx.pending_order_ids)
    o = ctx.run("cancel_order", order_id=oid)
    query = pick(rng, [f"Cancel order {oid}.", f"Please cancel pending order {oid}; the client changed their mind.",
                        f"Withdraw order {oid} before it executes."])
    response = (f"Order {oid}, a {o['side']} of {money(o['amount'])} of {o['fund_code']} in account "
                f"{o['account_id']}, is now cancelled; the account's cash balance is {money(o['cash_balance'])}.")
    return Draft(query, [("cancel_order", {"order_id": oid})], response, [oid, "cancelled"],
                 ["Cancel the pending order."], subjects=[ctx.account[o["account_id"]]["client_id"]])
