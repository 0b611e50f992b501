"""How the generated tasks are worded, shared by the levels.

Queries: amounts, numbers and percentages, how a client, fund or index is named, relative date
windows and days (resolved against the replica's as-of date), transaction labels, note texts.
Answers: the sentences that describe tool results (holdings, accounts, orders, performance, ...).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mock_apis.domain import pick


# ======================================================================================
# Queries: amounts, names, dates, labels


def money(x: float) -> str:
    return f"${x:,.2f}"


def num(x: float) -> str:
    return f"{x:,.2f}"


def qmoney(x: float) -> str:
    """An amount as an advisor types it in a query: $2,500."""
    return f"${x:,.0f}" if float(x).is_integer() else f"${x:,.2f}"


def nav(x: float) -> str:
    return f"{x:,.4f}"


def pct(x: float) -> str:
    return f"{x:.2f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def cat_word(category: str) -> str:
    return category.replace("_", " ")


def human_date(d: date, rng: random.Random) -> str:
    return pick(rng, [f"{d:%B} {d.day}, {d.year}", f"{d:%b} {d.day}, {d.year}", d.isoformat()])


def cref(rng: random.Random, cid: str) -> str:
    return pick(rng, [f"client {cid}", f"client {cid}", cid])


def fref(rng: random.Random, fund: dict[str, Any]) -> tuple[str, str]:
    """How the query names a fund, and the matching gold argument (code or exact name)."""
    style = rng.randrange(3)
    if style == 0:
        return fund["fund_code"], fund["fund_code"]
    if style == 1:
        return f"the {fund['name']}", fund["name"]
    return fund["name"], fund["name"]


def iref(rng: random.Random, index: dict[str, Any]) -> tuple[str, str]:
    """How the query names a market index, and the matching gold argument (code or exact name)."""
    if rng.random() < 0.5:
        return index["index_code"], index["index_code"]
    suffix = "" if index["name"][-1].isdigit() else " index"  # "the S&P 500", "the MSCI World index"
    return f"the {index['name']}{suffix}", index["name"]


def _months_back(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    m += 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))


@dataclass(frozen=True)
class Window:
    """A date window named in words; ``end`` None means "up to today" (the tools' default)."""

    key: str
    phrase: str
    start: str
    end: str | None

    def arguments(self) -> dict[str, str]:
        return {"start_date": self.start, **({"end_date": self.end} if self.end else {})}


def window(rng: random.Random, as_of: date, keys: Sequence[str]) -> Window:
    key = pick(rng, list(keys))
    q_start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    prev_q_end = q_start - timedelta(days=1)
    prev_q_start = date(prev_q_end.year, 3 * ((prev_q_end.month - 1) // 3) + 1, 1)
    month_start = as_of.replace(day=1)
    prev_m_end = month_start - timedelta(days=1)
    specs: dict[str, tuple[list[str], date, date | None]] = {
        "d7": (["in the last 7 days", "over the past 7 days", "over the past week"], as_of - timedelta(days=7), None),
        "d30": (["in the last 30 days", "over the past 30 days", "during the last 30 days"],
                as_of - timedelta(days=30), None),
        "d90": (["in the last 90 days", "over the past 90 days"], as_of - timedelta(days=90), None),
        "ytd": (["since the start of the year", "year to date", "so far this year"], date(as_of.year, 1, 1), None),
        "lq": (["last quarter", "in the previous quarter", "over the last calendar quarter"],
               prev_q_start, prev_q_end),
        "lm": (["last month", "during last month", "over the previous calendar month"],
               prev_m_end.replace(day=1), prev_m_end),
        "mtd": (["this month", "month to date", "since the start of this month"], month_start, None),
        "m6": (["over the last six months", "in the past 6 months"], _months_back(as_of, 6), None),
        "d365": (["over the last 12 months", "over the past year", "in the last 365 days"],
                 as_of - timedelta(days=365), None),
        "ly": (["last calendar year", f"during {as_of.year - 1}", f"in calendar year {as_of.year - 1}"],
               date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)),
    }
    if key == "abs":
        span = rng.randint(20, 120)
        end = as_of - timedelta(days=rng.randint(0, 400))
        start = end - timedelta(days=span)
        phrase = f"between {human_date(start, rng)} and {human_date(end, rng)}"
        return Window("abs", phrase, start.isoformat(), end.isoformat())
    phrases, start, end = specs[key]
    return Window(key, pick(rng, phrases), start.isoformat(), end.isoformat() if end else None)


@dataclass(frozen=True)
class Day:
    """A day a query refers to: its key, how the query phrases it, and its ISO date (None for today)."""
    key: str
    phrase: str
    iso: str | None  # None: today (the tool's default)


def day(rng: random.Random, as_of: date, keys: Sequence[str]) -> Day:
    key = pick(rng, list(keys))
    if key == "today":
        return Day(key, pick(rng, ["today", "at the latest close", "most recently"]), None)
    if key == "yesterday":
        return Day(key, "yesterday", (as_of - timedelta(days=1)).isoformat())
    if key == "last_friday":
        back = (as_of.weekday() - 4) % 7 or 7
        return Day(key, "last Friday", (as_of - timedelta(days=back)).isoformat())
    if key == "week_ago":
        return Day(key, pick(rng, ["a week ago", "one week ago today"]), (as_of - timedelta(days=7)).isoformat())
    if key == "end_last_year":
        return Day(key, pick(rng, ["at the end of last year", "on the last day of last year"]),
                   date(as_of.year - 1, 12, 31).isoformat())
    if key == "end_last_month":
        return Day(key, "at the end of last month", (as_of.replace(day=1) - timedelta(days=1)).isoformat())
    if key == "end_last_quarter":
        q_start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
        return Day(key, "at the end of last quarter", (q_start - timedelta(days=1)).isoformat())
    d = as_of - timedelta(days=rng.randint(2, 700))
    return Day("abs", f"on {human_date(d, rng)}", d.isoformat())


TXN_LABELS = {None: "transactions", "buy": "buy transactions", "sell": "sell transactions",
              "deposit": "deposits", "withdrawal": "withdrawals", "dividend": "dividend payments"}
TXN_SINGULAR = {None: "transaction", "buy": "buy transaction", "sell": "sell transaction", "deposit": "deposit",
                "withdrawal": "withdrawal", "dividend": "dividend payment"}


def txn_label(txn_type: str | None, n: int) -> str:
    return TXN_SINGULAR[txn_type] if n == 1 else TXN_LABELS[txn_type]


TXN_WORDS = {None: ["transactions"], "buy": ["purchases", "buy transactions"], "sell": ["sales", "sell transactions"],
             "deposit": ["deposits"], "withdrawal": ["withdrawals"], "dividend": ["dividend payments", "dividends"]}

NOTE_TEXTS = {
    "meeting": ["Reviewed the quarterly statement with the client.", "Discussed the planned contribution schedule.",
                "Client confirmed their contact details are unchanged.", "Walked through the account fee schedule."],
    "call": ["Client called to confirm receipt of the annual statement.",
             "Returned the client's call about the fee schedule.", "Client asked for a copy of the latest statement."],
    "kyc": ["Requested an updated proof of address.", "Sent the KYC renewal form to the client.",
            "Asked the client to resubmit identity documents."],
    "service": ["Updated the beneficiary details on file.", "Set up e-statements at the client's request.",
                "Changed the mailing address at the client's request."],
}
AMOUNTS = (500, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000)
TXN_WINDOWS = ("d30", "d90", "ytd", "lq", "lm", "m6", "d365", "ly", "abs", "mtd", "d7")
PERF_WINDOWS = ("d365", "ytd", "lq", "m6", "d90", "ly", "abs")


# ======================================================================================
# Answers: the sentences that describe tool results


def _perf_sentence(p: dict[str, Any]) -> str:
    f = p["fund"]
    verdict = ("ahead of" if p["return_pct"] > p["benchmark_return_pct"]
               else "behind" if p["return_pct"] < p["benchmark_return_pct"] else "level with")
    return (f"From {p['start_date']} to {p['end_date']} the {f['name']} ({f['fund_code']}) returned "
            f"{pct(p['return_pct'])}, with its NAV moving from {nav(p['start_nav'])} to {nav(p['end_nav'])}; its "
            f"benchmark {p['benchmark_index']} returned {pct(p['benchmark_return_pct'])} over the same period, so the "
            f"fund finished {verdict} the benchmark.")


def _compliance_sentences(k: dict[str, Any]) -> str:
    cid = k["client_id"]
    if k["restriction"] == "none":
        restriction = "There is no trading restriction on the client."
    else:
        restriction = f"The client is under a {k['restriction']} restriction ({k['restriction_reason']})."
    pep = ("The client is flagged as a politically exposed person." if k["politically_exposed"]
           else "The client is not flagged as politically exposed.")
    return (f"Client {cid}'s KYC status is {k['kyc_status']} (last reviewed {k['kyc_reviewed_on']}). {restriction} "
            f"Buying is {'allowed' if k['can_buy'] else 'not allowed'} and selling is "
            f"{'allowed' if k['can_sell'] else 'not allowed'}. {pep}")


def _accounts_text(cid: str, accounts: list[dict[str, Any]]) -> str:
    parts = [f"{a['account_id']} ({a['account_type']}, {a['status']}) with {money(a['cash_balance'])} in cash"
             for a in accounts]
    text = f"Client {cid} has {plural(len(accounts), 'account')}: {'; '.join(parts)}."
    if len(accounts) > 1:
        text += f" The total cash across them is {money(sum(a['cash_balance'] for a in accounts))}."
    return text


def _holdings_text(h: dict[str, Any]) -> str:
    parts = [f"{x['fund_name']} ({x['fund_code']}): {x['units']:,.3f} units worth {money(x['market_value'])}, an "
             f"unrealised {'gain' if x['unrealized_gain'] >= 0 else 'loss'} of {money(abs(x['unrealized_gain']))}"
             for x in h["holdings"]]
    return (f"Account {h['account_id']} holds {plural(len(h['holdings']), 'fund position')} worth "
            f"{money(h['total_market_value'])} in total at the NAVs of {h['as_of']}: {'; '.join(parts)}.")


def _txn_text(t: dict[str, Any], label: str, listing: bool) -> str:
    aid = t["account_id"]
    if not t["count"]:
        return f"Account {aid} recorded no {label} between {t['start_date']} and {t['end_date']}."
    text = (f"Account {aid} recorded {t['count']} {label} between {t['start_date']} and {t['end_date']}, "
            f"totalling {money(t['total_amount'])}.")
    if listing:
        items = [f"{x['txn_date']}: {x['txn_type']} of {money(x['amount'])}"
                 + (f" ({x['fund_code']})" if x["fund_code"] else "") for x in t["transactions"]]
        text += " Newest first: " + "; ".join(items) + "."
    return text


def _fund_attr(f: dict[str, Any], rng: random.Random, ref: str) -> tuple[str, str, str]:
    """(query, sentence, fact) for one attribute of a fund profile."""
    attr = pick(rng, ["expense", "manager", "minimum", "aum", "benchmark", "nav", "risk", "inception"])
    name = f"The {f['name']} ({f['fund_code']})"
    return {
        "expense": (pick(rng, [f"What's the expense ratio of {ref}?", f"How much does {ref} charge in annual fees?"]),
                    f"{name} has an expense ratio of {f['expense_ratio']}%.", f"{f['expense_ratio']}%"),
        "manager": (pick(rng, [f"Who manages {ref}?", f"Who is the portfolio manager of {ref}?"]),
                    f"{name} is managed by {f['manager']}.", f["manager"]),
        "minimum": (pick(rng, [f"What's the minimum investment for {ref}?",
                                f"How much does a client need to invest at least in {ref}?"]),
                    f"{name} has a minimum investment of {money(f['min_investment'])}.", num(f["min_investment"])),
        "aum": (pick(rng, [f"How large is {ref} in assets under management?", f"What's the AUM of {ref}?"]),
                f"{name} manages ${f['aum_musd']:,.1f} million.", f"{f['aum_musd']:,.1f}"),
        "benchmark": (pick(rng, [f"Which index is {ref} benchmarked against?", f"What's the benchmark of {ref}?"]),
                      f"{name} is benchmarked against {f['benchmark_index']}.", f["benchmark_index"]),
        "nav": (pick(rng, [f"What's the latest NAV of {ref}?", f"What did {ref} last price at?"]),
                f"{name} had a NAV of {nav(f['latest_nav'])} on {f['latest_nav_date']}.", nav(f["latest_nav"])),
        "risk": (pick(rng, [f"What risk level is {ref} rated?", f"How risky is {ref} on our 1-5 scale?"]),
                 f"{name} is rated risk level {f['risk_level']} on the 1-5 scale.", f"risk level {f['risk_level']}"),
        "inception": (f"When was {ref} launched?", f"{name} was launched on {f['inception_date']}.",
                      f["inception_date"]),
    }[attr]


def _funds_list(funds: list[dict[str, Any]]) -> str:
    return "; ".join(f"{x['name']} ({x['fund_code']}), expense ratio {x['expense_ratio']}%, risk level "
                     f"{x['risk_level']}" for x in funds)


def _orders_text(aid: str, orders: list[dict[str, Any]], status: str | None) -> str:
    label = f"{status} orders" if status else "orders"
    if not orders:
        return f"Account {aid} has no {label}."
    parts = [f"{o['order_id']}, a {o['side']} of {money(o['amount'])} of {o['fund_code']} placed on {o['placed_on']} "
             f"({o['status']})" for o in orders]
    return f"Account {aid} has {plural(len(orders), (status + ' order') if status else 'order')}: {'; '.join(parts)}."


def _overview_text(o: dict[str, Any]) -> str:
    p = o["profile"]
    text = (f"Client {p['client_id']}, {p['full_name']} ({p['segment']} segment, advisor {p['advisor_id']}), has "
            f"{plural(len(o['accounts']), 'account')}: "
            + ", ".join(f"{a['account_id']} ({a['account_type']}, {a['status']})" for a in o["accounts"]) + ".")
    for h in o["holdings"]:
        text += (f" Account {h['account_id']} holds {plural(len(h['holdings']), 'fund')} worth "
                 f"{money(h['total_market_value'])}.")
    n = len(o["recent_transactions"])
    text += (f" There {'was' if n == 1 else 'were'} {plural(n, 'transaction')} in the last 30 days." if n
             else " There were no transactions in the last 30 days.")
    return text


def _summary_text(s: dict[str, Any]) -> str:
    text = (f"Client {s['client_id']}'s portfolio across {plural(s['active_accounts'], 'active account')} is worth "
            f"{money(s['total_value'])} as of {s['as_of']}: {money(s['invested_value'])} invested and "
            f"{money(s['cash_balance'])} in cash.")
    if s["allocation"]:
        text += " By category: " + ", ".join(f"{cat_word(a['category'])} {a['weight_pct']}% ({money(a['market_value'])})"
                                              for a in s["allocation"]) + "."
    return text


def _suitability_text(s: dict[str, Any]) -> str:
    if s["suitable"]:
        return (f"Yes: {s['fund_code']} is suitable for client {s['client_id']}. The fund's risk level "
                f"{s['fund_risk_level']} is within the client's risk level {s['client_risk_level']}, the risk "
                f"assessment is current, KYC is verified and buying is allowed.")
    return f"No: {s['fund_code']} is not suitable for client {s['client_id']} because {'; '.join(s['reasons'])}."


def _order_text(o: dict[str, Any]) -> str:
    return (f"I placed order {o['order_id']} to {o['side']} {money(o['amount'])} of {o['fund_code']} in account "
            f"{o['account_id']}; it is pending, and the account's cash balance is now {money(o['cash_balance'])}.")
