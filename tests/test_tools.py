"""Behavioural tests of the 20 mock tools against a seeded replica.

Every expected value here is recomputed with plain ``sqlite3`` on the replica file, written
in this module, never with the tools' own helpers or SQL. Every ``call_tool`` goes through
``call`` below, which fails the test on an ``internal_error`` and checks every error payload
against the catalogue's error schema.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from datetime import date, timedelta
from typing import Any, Callable

import pytest
from jsonschema import Draft202012Validator

from mock_apis.catalogue import ERROR_SCHEMA, ToolOutcome, call_tool, catalogue, probe_tool
from mock_apis.domains.finance.generate import generate_replica
from mock_apis.sandbox import Sandbox

SEED, SCALE = 0, 2000
ALL_TOOLS = list(catalogue())
ERROR_VALIDATOR = Draft202012Validator(ERROR_SCHEMA)

UNKNOWN_CLIENT, UNKNOWN_ACCOUNT, UNKNOWN_ADVISOR = "C999999", "A9999999", "V99999"
UNKNOWN_FUND, UNKNOWN_INDEX, UNKNOWN_ORDER = "ZZ999", "ZZZ", "O999999999"


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def replica(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("tools_replica") / "replica.db"
    generate_replica(path, seed=SEED, scale=SCALE)
    return path


@pytest.fixture(scope="session")
def raw(replica):
    """An independent read-only connection to the replica file, for expected values."""
    con = sqlite3.connect(f"file:{replica}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    yield con
    con.close()


@pytest.fixture(scope="session")
def as_of(raw) -> str:
    return raw.execute("SELECT value FROM meta WHERE key = 'as_of'").fetchone()[0]


@pytest.fixture
def sb(replica):
    sandbox = Sandbox(replica)
    yield sandbox
    sandbox.close()


def sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def call(sb: Sandbox, name: Any, arguments: Any) -> ToolOutcome:
    out = call_tool(sb, name, arguments)
    assert isinstance(out.payload, dict)
    if not out.ok:
        assert out.payload.get("error") != "internal_error", (name, arguments, out.payload)
        errors = [e.message for e in ERROR_VALIDATOR.iter_errors(out.payload)]
        assert not errors, (name, arguments, out.payload, errors)
    return out


def ok(sb: Sandbox, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    out = call(sb, name, arguments)
    assert out.ok, (name, arguments, out.payload)
    return out.payload


def err(sb: Sandbox, name: Any, arguments: Any, code: str) -> dict[str, Any]:
    out = call(sb, name, arguments)
    assert not out.ok, (name, arguments, out.payload)
    assert out.payload["error"] == code, (name, arguments, out.payload)
    assert out.payload["message"]
    return out.payload


# --------------------------------------------------------------------------- independent SQL

def rows(raw, sql: str, params=()) -> list[dict[str, Any]]:
    return [dict(r) for r in raw.execute(sql, params)]


def one(raw, sql: str, params=()) -> Any:
    r = raw.execute(sql, params).fetchone()
    assert r is not None, sql
    return r[0] if len(r.keys()) == 1 else dict(r)


LATEST_NAV_CTE = """
WITH last_day AS (SELECT fund_code, MAX(nav_date) AS d FROM nav_history WHERE nav_date <= :as_of GROUP BY fund_code),
     latest AS (SELECT n.fund_code, n.nav FROM nav_history n JOIN last_day l ON l.fund_code = n.fund_code AND l.d = n.nav_date)
"""


def sql_account_value(raw, as_of: str, account_id: str) -> float:
    return one(raw, LATEST_NAV_CTE + "SELECT COALESCE(SUM(h.units * latest.nav), 0) FROM holdings h "
               "JOIN latest ON latest.fund_code = h.fund_code WHERE h.account_id = :a", {"as_of": as_of, "a": account_id})


def sql_client_totals(raw, as_of: str, client_id: str) -> dict[str, float]:
    invested = one(raw, LATEST_NAV_CTE + "SELECT COALESCE(SUM(h.units * latest.nav), 0) FROM holdings h "
                   "JOIN latest ON latest.fund_code = h.fund_code JOIN accounts a ON a.account_id = h.account_id "
                   "WHERE a.client_id = :c AND a.status = 'active'", {"as_of": as_of, "c": client_id})
    cash = one(raw, "SELECT COALESCE(SUM(cash_balance), 0) FROM accounts WHERE client_id = ? AND status = 'active'",
               (client_id,))
    return {"invested": invested, "cash": cash, "total": invested + cash}


def money_tol(n: int) -> float:
    """Tools round each position to cents before summing; allow that much drift."""
    return 0.005 * (n + 2)


# Picks made by SQL -----------------------------------------------------------------

def pick_tradable_account(raw, min_cash: float = 5000.0, with_holdings: bool = True) -> dict[str, Any]:
    return one(raw, "SELECT a.account_id, a.client_id, a.cash_balance FROM accounts a "
               "JOIN compliance_records c ON c.client_id = a.client_id "
               "WHERE a.status = 'active' AND c.kyc_status = 'verified' AND c.restriction = 'none' "
               "AND a.cash_balance >= ? "
               + ("AND EXISTS (SELECT 1 FROM holdings h WHERE h.account_id = a.account_id) " if with_holdings else "")
               + "ORDER BY a.account_id LIMIT 1", (min_cash,))


def pick_fund_with_min(raw, low: float, high: float) -> dict[str, Any]:
    return one(raw, "SELECT fund_code, min_investment FROM fund_profiles WHERE min_investment BETWEEN ? AND ? "
               "ORDER BY fund_code LIMIT 1", (low, high))


def pick_account_where(raw, condition: str, with_holdings: bool = False) -> dict[str, Any]:
    sql = ("SELECT a.account_id, a.client_id, a.cash_balance FROM accounts a "
           "JOIN compliance_records c ON c.client_id = a.client_id WHERE a.status = 'active' AND " + condition)
    if with_holdings:
        sql += " AND EXISTS (SELECT 1 FROM holdings h WHERE h.account_id = a.account_id)"
    return one(raw, sql + " ORDER BY a.account_id LIMIT 1")


def first_holding(raw, account_id: str) -> dict[str, Any]:
    return one(raw, "SELECT fund_code, units FROM holdings WHERE account_id = ? ORDER BY fund_code LIMIT 1",
               (account_id,))


def holding_value(raw, as_of: str, account_id: str, fund_code: str) -> float:
    return one(raw, LATEST_NAV_CTE + "SELECT h.units * latest.nav FROM holdings h JOIN latest "
               "ON latest.fund_code = h.fund_code WHERE h.account_id = :a AND h.fund_code = :f",
               {"as_of": as_of, "a": account_id, "f": fund_code})


# --------------------------------------------------------------------------- 1. results vs SQL

SQL_CHECKS: dict[str, Callable] = {}


def sql_check(*names: str):
    def register(fn):
        for name in names:
            SQL_CHECKS[name] = fn
        return fn
    return register


def test_every_tool_has_an_sql_check():
    assert len(ALL_TOOLS) == 20
    assert set(SQL_CHECKS) == set(ALL_TOOLS), set(ALL_TOOLS) ^ set(SQL_CHECKS)


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
def test_result_matches_independent_sql(tool_name, sb, raw, as_of, replica):
    SQL_CHECKS[tool_name](sb, raw, as_of)
    assert ok(sb, "get_client_profile", {"client_id": "C000001"})  # the sandbox is still usable


@sql_check("search_clients")
def _check_search_clients(sb, raw, as_of):
    names = [r["full_name"] for r in rows(raw, "SELECT full_name FROM clients ORDER BY client_id LIMIT 5")]
    for full in names:
        fragment = max(full.split(), key=len)[:4].lower()
        got = ok(sb, "search_clients", {"name": fragment, "limit": 200})
        expected = rows(raw, "SELECT client_id, full_name, advisor_id, segment FROM clients "
                             "WHERE lower(full_name) LIKE ? ORDER BY client_id", (f"%{fragment}%",))
        assert got["clients"] == expected and got["count"] == len(expected) >= 1
    advisor = one(raw, "SELECT advisor_id FROM clients GROUP BY advisor_id ORDER BY COUNT(*) DESC LIMIT 1")
    got = ok(sb, "search_clients", {"advisor_id": advisor, "segment": "retail", "limit": 200})
    expected = rows(raw, "SELECT client_id FROM clients WHERE advisor_id = ? AND segment = 'retail' ORDER BY client_id",
                    (advisor,))
    assert [c["client_id"] for c in got["clients"]] == [r["client_id"] for r in expected]
    assert all(c["advisor_id"] == advisor and c["segment"] == "retail" for c in got["clients"])
    total = one(raw, "SELECT COUNT(*) FROM clients WHERE advisor_id = ?", (advisor,))
    assert total > 3
    assert ok(sb, "search_clients", {"advisor_id": advisor, "limit": 3})["count"] == 3
    assert ok(sb, "search_clients", {"name": "zqxjzqxj"}) == {"clients": [], "count": 0}


@sql_check("get_client_profile")
def _check_get_client_profile(sb, raw, as_of):
    for r in rows(raw, "SELECT * FROM clients ORDER BY client_id LIMIT 3"):
        got = ok(sb, "get_client_profile", {"client_id": r["client_id"]})
        for key in ("client_id", "full_name", "advisor_id", "segment", "birth_date", "phone", "email", "address",
                    "onboarded_on"):
            assert got[key] == r[key], key
        assert got["national_id_last4"] == r["national_id"][-4:]
        assert r["national_id"] not in repr(got)  # the full national id never leaks


@sql_check("get_risk_assessment")
def _check_get_risk_assessment(sb, raw, as_of):
    multi = [r["client_id"] for r in rows(raw, "SELECT client_id FROM risk_assessments GROUP BY client_id "
                                               "HAVING COUNT(*) >= 2 ORDER BY client_id LIMIT 3")]
    assert multi
    for cid in multi + ["C000002"]:
        latest = one(raw, "SELECT * FROM risk_assessments WHERE client_id = ? AND assessed_on = "
                          "(SELECT MAX(assessed_on) FROM risk_assessments WHERE client_id = ?)", (cid, cid))
        got = ok(sb, "get_risk_assessment", {"client_id": cid})
        for key in ("assessment_id", "assessed_on", "risk_score", "risk_level", "risk_profile", "horizon_years",
                    "valid_until"):
            assert got[key] == latest[key], key
        assert got["client_id"] == cid
        assert got["is_current"] is (latest["valid_until"] >= as_of)


@sql_check("get_compliance_status")
def _check_get_compliance_status(sb, raw, as_of):
    picks = rows(raw, "SELECT * FROM compliance_records WHERE client_id IN ("
                      "SELECT MIN(client_id) FROM compliance_records GROUP BY kyc_status, restriction)")
    assert len(picks) >= 4
    for r in picks:
        got = ok(sb, "get_compliance_status", {"client_id": r["client_id"]})
        for key in ("kyc_status", "kyc_reviewed_on", "restriction", "restriction_reason"):
            assert got[key] == r[key], key
        assert got["politically_exposed"] is bool(r["politically_exposed"])
        verified = r["kyc_status"] == "verified"
        assert got["can_buy"] is (verified and r["restriction"] == "none")
        assert got["can_sell"] is (verified and r["restriction"] != "no_trading")


@sql_check("add_advisor_note")
def _check_add_advisor_note(sb, raw, as_of):
    cid = "C000007"
    advisor = one(raw, "SELECT advisor_id FROM clients WHERE client_id = ?", (cid,))
    last = one(raw, "SELECT MAX(note_id) FROM advisor_notes")
    before = one(raw, "SELECT COUNT(*) FROM advisor_notes WHERE client_id = ?", (cid,))
    got = ok(sb, "add_advisor_note", {"client_id": cid, "text": "  Discussed rebalancing into bonds.  ",
                                      "category": "call"})
    assert got == {"note_id": f"N{int(last[1:]) + 1:09d}", "client_id": cid, "advisor_id": advisor,
                   "created_on": as_of, "category": "call", "text": "Discussed rebalancing into bonds."}
    stored = sb.query("SELECT * FROM advisor_notes WHERE client_id = ? ORDER BY note_id", (cid,))
    assert len(stored) == before + 1 and stored[-1] == got
    second = ok(sb, "add_advisor_note", {"client_id": cid, "text": "Follow-up call booked."})
    assert second["category"] == "meeting" and second["note_id"] > got["note_id"]
    # the replica file itself is untouched
    assert one(raw, "SELECT COUNT(*) FROM advisor_notes WHERE client_id = ?", (cid,)) == before


@sql_check("get_fund_info")
def _check_get_fund_info(sb, raw, as_of):
    for r in rows(raw, "SELECT f.*, p.manager, p.expense_ratio, p.aum_musd, p.benchmark_index, p.min_investment, "
                       "p.description FROM funds f JOIN fund_profiles p USING (fund_code) ORDER BY fund_code"):
        got = ok(sb, "get_fund_info", {"fund": r["fund_code"]})
        for key, value in r.items():
            assert got[key] == value, key
        nav_date = one(raw, "SELECT MAX(nav_date) FROM nav_history WHERE fund_code = ? AND nav_date <= ?",
                       (r["fund_code"], as_of))
        nav = one(raw, "SELECT nav FROM nav_history WHERE fund_code = ? AND nav_date = ?", (r["fund_code"], nav_date))
        assert (got["latest_nav"], got["latest_nav_date"]) == (nav, nav_date)


@sql_check("search_funds")
def _check_search_funds(sb, raw, as_of):
    for args in ({}, {"category": "bond"}, {"max_risk_level": 2}, {"max_expense_ratio": 0.5, "limit": 200},
                 {"category": "equity", "max_risk_level": 4, "max_expense_ratio": 1.0}):
        where, params = ["1 = 1"], []
        if "category" in args:
            where.append("f.category = ?"); params.append(args["category"])
        if "max_risk_level" in args:
            where.append("f.risk_level <= ?"); params.append(args["max_risk_level"])
        if "max_expense_ratio" in args:
            where.append("p.expense_ratio <= ?"); params.append(args["max_expense_ratio"])
        expected = rows(raw, "SELECT f.fund_code, f.name, f.category, f.risk_level, p.expense_ratio FROM funds f "
                             "JOIN fund_profiles p ON p.fund_code = f.fund_code WHERE " + " AND ".join(where),
                        params)
        expected.sort(key=lambda r: (r["expense_ratio"], r["fund_code"]))
        expected = expected[:args.get("limit", 20)]
        got = ok(sb, "search_funds", args)
        assert got == {"funds": expected, "count": len(expected)}, args
    assert ok(sb, "search_funds", {"category": "money_market", "max_risk_level": 1})["count"] >= 1


@sql_check("get_nav_history")
def _check_get_nav_history(sb, raw, as_of):
    code = "BD010"
    got = ok(sb, "get_nav_history", {"fund": code, "start_date": "2025-01-01", "end_date": "2025-03-31"})
    expected = [{"date": r["nav_date"], "nav": r["nav"]} for r in rows(
        raw, "SELECT nav_date, nav FROM nav_history WHERE fund_code = ? AND nav_date >= '2025-01-01' "
             "AND nav_date <= '2025-03-31' ORDER BY nav_date", (code,))]
    assert got == {"fund_code": code, "start_date": "2025-01-01", "end_date": "2025-03-31", "points": expected}
    assert 55 <= len(expected) <= 66
    default = ok(sb, "get_nav_history", {"fund": code})
    start = (date.fromisoformat(as_of) - timedelta(days=30)).isoformat()
    assert (default["start_date"], default["end_date"]) == (start, as_of)
    assert [p["date"] for p in default["points"]] == [r["nav_date"] for r in rows(
        raw, "SELECT nav_date FROM nav_history WHERE fund_code = ? AND nav_date >= ? AND nav_date <= ? "
             "ORDER BY nav_date", (code, start, as_of))]


@sql_check("get_market_index")
def _check_get_market_index(sb, raw, as_of):
    for code, name, day in (("SPX", "S&P 500", "2025-01-05"), ("AGG", "US Aggregate Bond", "2024-11-13"),
                            ("SX5E", "Euro Stoxx 50", None)):
        on = day or as_of
        expected = one(raw, "SELECT q.index_code, m.name, m.region, q.quote_date, q.close, q.change_pct "
                            "FROM index_quotes q, market_indices m WHERE m.index_code = q.index_code AND "
                            "q.index_code = ? AND q.quote_date = (SELECT MAX(quote_date) FROM index_quotes "
                            "WHERE index_code = ? AND quote_date <= ?)", (code, code, on))
        args = {"index": code} if day is None else {"index": code, "date": day}
        assert ok(sb, "get_market_index", args) == expected
        by_name = {"index": name.lower()} if day is None else {"index": name.lower(), "date": day}
        assert ok(sb, "get_market_index", by_name) == expected
    # 2025-01-05 is a Sunday: the last close before it is Friday 2025-01-03
    assert ok(sb, "get_market_index", {"index": "SPX", "date": "2025-01-05"})["quote_date"] == "2025-01-03"


@sql_check("list_accounts")
def _check_list_accounts(sb, raw, as_of):
    cid = one(raw, "SELECT client_id FROM accounts GROUP BY client_id HAVING COUNT(*) >= 3 ORDER BY client_id LIMIT 1")
    expected = rows(raw, "SELECT account_id, account_type, currency, opened_on, status, cash_balance FROM accounts "
                         "WHERE client_id = ? ORDER BY account_id", (cid,))
    assert ok(sb, "list_accounts", {"client_id": cid}) == {"client_id": cid, "accounts": expected}
    closed = one(raw, "SELECT client_id FROM accounts WHERE status = 'closed' ORDER BY account_id LIMIT 1")
    statuses = [a["status"] for a in ok(sb, "list_accounts", {"client_id": closed})["accounts"]]
    assert "closed" in statuses


@sql_check("get_holdings")
def _check_get_holdings(sb, raw, as_of):
    accounts = [r["account_id"] for r in rows(
        raw, "SELECT account_id FROM holdings GROUP BY account_id HAVING COUNT(*) >= 3 ORDER BY account_id LIMIT 4")]
    assert accounts
    for aid in accounts:
        got = ok(sb, "get_holdings", {"account_id": aid})
        n = one(raw, "SELECT COUNT(*) FROM holdings WHERE account_id = ?", (aid,))
        assert got["account_id"] == aid and got["as_of"] == as_of and len(got["holdings"]) == n
        assert got["total_market_value"] == pytest.approx(sql_account_value(raw, as_of, aid), abs=money_tol(n))
        per = {r["fund_code"]: r for r in rows(
            raw, LATEST_NAV_CTE + "SELECT h.fund_code, f.name, f.category, h.units, h.avg_cost, latest.nav "
                 "FROM holdings h JOIN funds f ON f.fund_code = h.fund_code JOIN latest ON latest.fund_code = h.fund_code "
                 "WHERE h.account_id = :a", {"as_of": as_of, "a": aid})}
        assert [h["fund_code"] for h in got["holdings"]] == sorted(per)
        for h in got["holdings"]:
            r = per[h["fund_code"]]
            assert (h["fund_name"], h["category"], h["units"], h["avg_cost"], h["nav"]) == (
                r["name"], r["category"], r["units"], r["avg_cost"], r["nav"])
            assert h["market_value"] == pytest.approx(r["units"] * r["nav"], abs=0.006)
            assert h["unrealized_gain"] == pytest.approx(r["units"] * (r["nav"] - r["avg_cost"]), abs=0.006)
    closed = one(raw, "SELECT account_id FROM accounts WHERE status = 'closed' ORDER BY account_id LIMIT 1")
    assert ok(sb, "get_holdings", {"account_id": closed})["total_market_value"] == 0


@sql_check("get_transactions")
def _check_get_transactions(sb, raw, as_of):
    aid = one(raw, "SELECT account_id FROM transactions GROUP BY account_id ORDER BY COUNT(*) DESC, account_id LIMIT 1")
    cols = "txn_id, txn_date, txn_type, fund_code, units, amount"
    expected = rows(raw, f"SELECT {cols} FROM transactions WHERE account_id = ? AND txn_date >= '2024-01-01' "
                         "AND txn_date <= '2025-06-30' ORDER BY txn_date DESC, txn_id DESC", (aid,))
    assert len(expected) >= 5
    got = ok(sb, "get_transactions", {"account_id": aid, "start_date": "2024-01-01", "end_date": "2025-06-30",
                                      "limit": 200})
    assert got["transactions"] == expected and got["count"] == len(expected)
    assert (got["start_date"], got["end_date"]) == ("2024-01-01", "2025-06-30")
    assert got["total_amount"] == pytest.approx(sum(r["amount"] for r in expected), abs=0.01)
    limited = ok(sb, "get_transactions", {"account_id": aid, "start_date": "2024-01-01", "limit": 3})
    assert limited["transactions"] == expected[:3]
    buys = ok(sb, "get_transactions", {"account_id": aid, "start_date": "2023-01-01", "txn_type": "buy", "limit": 200})
    assert buys["transactions"] == rows(
        raw, f"SELECT {cols} FROM transactions WHERE account_id = ? AND txn_type = 'buy' AND txn_date >= '2023-01-01' "
             "AND txn_date <= ? ORDER BY txn_date DESC, txn_id DESC", (aid, as_of))
    # same-day transactions are ordered by txn_id, newest first
    tie = one(raw, "SELECT account_id, txn_date FROM transactions GROUP BY account_id, txn_date HAVING COUNT(*) >= 2 "
                   "ORDER BY account_id, txn_date LIMIT 1")
    same_day = ok(sb, "get_transactions", {"account_id": tie["account_id"], "start_date": tie["txn_date"],
                                           "end_date": tie["txn_date"]})
    assert [t["txn_id"] for t in same_day["transactions"]] == [r["txn_id"] for r in rows(
        raw, "SELECT txn_id FROM transactions WHERE account_id = ? AND txn_date = ? ORDER BY txn_id DESC",
        (tie["account_id"], tie["txn_date"]))]
    assert same_day["count"] >= 2
    default = ok(sb, "get_transactions", {"account_id": aid})
    start = (date.fromisoformat(as_of) - timedelta(days=90)).isoformat()
    assert (default["start_date"], default["end_date"]) == (start, as_of)
    assert default["transactions"] == rows(
        raw, f"SELECT {cols} FROM transactions WHERE account_id = ? AND txn_date >= ? AND txn_date <= ? "
             "ORDER BY txn_date DESC, txn_id DESC LIMIT 50", (aid, start, as_of))


@sql_check("get_client_overview")
def _check_get_client_overview(sb, raw, as_of):
    cid = one(raw, "SELECT client_id FROM accounts WHERE status = 'active' GROUP BY client_id HAVING COUNT(*) >= 2 "
                   "ORDER BY client_id LIMIT 1")
    got = ok(sb, "get_client_overview", {"client_id": cid})
    assert got["profile"]["client_id"] == cid
    assert got["profile"]["full_name"] == one(raw, "SELECT full_name FROM clients WHERE client_id = ?", (cid,))
    accounts = rows(raw, "SELECT account_id, status, cash_balance FROM accounts WHERE client_id = ? ORDER BY account_id",
                    (cid,))
    assert [(a["account_id"], a["status"], a["cash_balance"]) for a in got["accounts"]] == [
        (a["account_id"], a["status"], a["cash_balance"]) for a in accounts]
    active = [a["account_id"] for a in accounts if a["status"] == "active"]
    assert len(active) >= 2
    assert [h["account_id"] for h in got["holdings"]] == active
    for h in got["holdings"]:
        n = len(h["holdings"])
        assert h["total_market_value"] == pytest.approx(sql_account_value(raw, as_of, h["account_id"]), abs=money_tol(n))
    start = (date.fromisoformat(as_of) - timedelta(days=30)).isoformat()
    expected = []
    for a in accounts:
        expected += [{**r, "account_id": a["account_id"]} for r in rows(
            raw, "SELECT txn_id, txn_date, txn_type, fund_code, units, amount FROM transactions WHERE account_id = ? "
                 "AND txn_date >= ? AND txn_date <= ? ORDER BY txn_date DESC, txn_id DESC LIMIT 10",
            (a["account_id"], start, as_of))]
    assert sorted(got["recent_transactions"], key=lambda t: t["txn_id"]) == sorted(expected, key=lambda t: t["txn_id"])
    # a client with recent activity, so that the comparison is not vacuous
    busy = one(raw, "SELECT a.client_id FROM transactions t JOIN accounts a ON a.account_id = t.account_id "
                    "WHERE t.txn_date >= ? GROUP BY a.client_id ORDER BY COUNT(*) DESC, a.client_id LIMIT 1", (start,))
    expected = []
    for a in rows(raw, "SELECT account_id FROM accounts WHERE client_id = ? ORDER BY account_id", (busy,)):
        expected += [{**r, "account_id": a["account_id"]} for r in rows(
            raw, "SELECT txn_id, txn_date, txn_type, fund_code, units, amount FROM transactions WHERE account_id = ? "
                 "AND txn_date >= ? AND txn_date <= ? ORDER BY txn_date DESC, txn_id DESC LIMIT 10",
            (a["account_id"], start, as_of))]
    recent = ok(sb, "get_client_overview", {"client_id": busy})["recent_transactions"]
    assert expected and sorted(recent, key=lambda t: t["txn_id"]) == sorted(expected, key=lambda t: t["txn_id"])


@sql_check("get_portfolio_summary")
def _check_get_portfolio_summary(sb, raw, as_of):
    clients = [r["client_id"] for r in rows(
        raw, "SELECT client_id FROM accounts WHERE status = 'active' GROUP BY client_id HAVING COUNT(*) >= 2 "
             "ORDER BY client_id LIMIT 3")]
    closed_owner = one(raw, "SELECT client_id FROM accounts WHERE status = 'closed' ORDER BY account_id LIMIT 1")
    for cid in clients + [closed_owner]:
        got = ok(sb, "get_portfolio_summary", {"client_id": cid})
        n = one(raw, "SELECT COUNT(*) FROM holdings h JOIN accounts a ON a.account_id = h.account_id "
                     "WHERE a.client_id = ? AND a.status = 'active'", (cid,))
        t = sql_client_totals(raw, as_of, cid)
        assert got["client_id"] == cid and got["as_of"] == as_of
        assert got["active_accounts"] == one(raw, "SELECT COUNT(*) FROM accounts WHERE client_id = ? "
                                                  "AND status = 'active'", (cid,))
        assert got["invested_value"] == pytest.approx(t["invested"], abs=money_tol(n))
        assert got["cash_balance"] == pytest.approx(t["cash"], abs=0.01)
        assert got["total_value"] == pytest.approx(t["total"], abs=money_tol(n) + 0.01)
        by_cat = {r["category"]: r["v"] for r in rows(
            raw, LATEST_NAV_CTE + "SELECT f.category, SUM(h.units * latest.nav) AS v FROM holdings h "
                 "JOIN accounts a ON a.account_id = h.account_id JOIN funds f ON f.fund_code = h.fund_code "
                 "JOIN latest ON latest.fund_code = h.fund_code WHERE a.client_id = :c AND a.status = 'active' "
                 "GROUP BY f.category", {"as_of": as_of, "c": cid})}
        assert {a["category"] for a in got["allocation"]} == set(by_cat)
        for a in got["allocation"]:
            assert a["market_value"] == pytest.approx(by_cat[a["category"]], abs=money_tol(n))
            assert a["weight_pct"] == pytest.approx(100 * by_cat[a["category"]] / t["invested"], abs=0.011)
        values = [a["market_value"] for a in got["allocation"]]
        assert values == sorted(values, reverse=True)
        if got["allocation"]:
            assert sum(a["weight_pct"] for a in got["allocation"]) == pytest.approx(100, abs=0.05)
        else:
            assert got["invested_value"] == 0 and t["invested"] == 0


def expected_suitability(raw, as_of: str, cid: str, code: str) -> tuple[bool, int, int, list[str]]:
    risk = one(raw, "SELECT risk_level, valid_until FROM risk_assessments WHERE client_id = ? "
                    "ORDER BY assessed_on DESC, assessment_id DESC LIMIT 1", (cid,))
    comp = one(raw, "SELECT kyc_status, restriction FROM compliance_records WHERE client_id = ?", (cid,))
    fund_risk = one(raw, "SELECT risk_level FROM funds WHERE fund_code = ?", (code,))
    failures = []
    if fund_risk > risk["risk_level"]:
        failures.append("risk")
    if risk["valid_until"] < as_of:
        failures.append("expired")
    if comp["kyc_status"] != "verified":
        failures.append("kyc")
    elif comp["restriction"] != "none":
        failures.append("restricted")
    return not failures, risk["risk_level"], fund_risk, failures


@sql_check("check_suitability")
def _check_check_suitability(sb, raw, as_of):
    clients = [r["client_id"] for r in rows(raw, "SELECT client_id FROM clients ORDER BY client_id LIMIT 40")]
    funds = [r["fund_code"] for r in rows(raw, "SELECT fund_code FROM funds ORDER BY fund_code")]
    rng = random.Random(7)
    verdicts = set()
    reasons_seen = set()
    for cid in clients:
        code = rng.choice(funds)
        suitable, client_level, fund_level, failures = expected_suitability(raw, as_of, cid, code)
        got = ok(sb, "check_suitability", {"client_id": cid, "fund": code})
        assert got["suitable"] is suitable, (cid, code, failures, got["reasons"])
        assert (got["client_id"], got["fund_code"], got["client_risk_level"], got["fund_risk_level"]) == (
            cid, code, client_level, fund_level)
        assert len(got["reasons"]) == len(failures), (failures, got["reasons"])
        verdicts.add(suitable)
        reasons_seen.update(failures)
    assert verdicts == {True, False}
    assert {"risk", "kyc"} <= reasons_seen
    # the lowest-risk fund is suitable for a verified, unrestricted client with a current assessment
    cid = one(raw, "SELECT c.client_id FROM compliance_records c WHERE c.kyc_status = 'verified' AND "
                   "c.restriction = 'none' AND (SELECT valid_until FROM risk_assessments r WHERE r.client_id = "
                   "c.client_id ORDER BY assessed_on DESC LIMIT 1) >= ? ORDER BY c.client_id LIMIT 1", (as_of,))
    low = one(raw, "SELECT fund_code FROM funds WHERE risk_level = 1 ORDER BY fund_code LIMIT 1")
    assert ok(sb, "check_suitability", {"client_id": cid, "fund": low})["suitable"] is True


@sql_check("get_fund_performance")
def _check_get_fund_performance(sb, raw, as_of):
    for code, start, end in (("EQ001", "2024-07-01", "2025-06-30"), ("BD009", "2024-01-06", "2024-12-25")):
        navs = rows(raw, "SELECT nav_date, nav FROM nav_history WHERE fund_code = ? AND nav_date >= ? AND nav_date <= ? "
                         "ORDER BY nav_date", (code, start, end))
        first, last = navs[0], navs[-1]
        bench = one(raw, "SELECT benchmark_index FROM fund_profiles WHERE fund_code = ?", (code,))

        def close(day):
            return one(raw, "SELECT close FROM index_quotes WHERE index_code = ? AND quote_date = "
                            "(SELECT MAX(quote_date) FROM index_quotes WHERE index_code = ? AND quote_date <= ?)",
                       (bench, bench, day))

        got = ok(sb, "get_fund_performance", {"fund": code, "start_date": start, "end_date": end})
        assert got["fund"]["fund_code"] == code and got["benchmark_index"] == bench
        assert (got["start_date"], got["end_date"]) == (first["nav_date"], last["nav_date"])
        assert (got["start_nav"], got["end_nav"]) == (first["nav"], last["nav"])
        assert got["return_pct"] == pytest.approx((last["nav"] / first["nav"] - 1) * 100, abs=0.006)
        assert got["benchmark_return_pct"] == pytest.approx(
            (close(last["nav_date"]) / close(first["nav_date"]) - 1) * 100, abs=0.006)
    default = ok(sb, "get_fund_performance", {"fund": "EQ001"})
    assert default["end_date"] == as_of
    assert default["start_date"] >= (date.fromisoformat(as_of) - timedelta(days=365)).isoformat()


@sql_check("get_advisor_book")
def _check_get_advisor_book(sb, raw, as_of):
    for adv in rows(raw, "SELECT advisor_id, full_name, branch FROM advisors ORDER BY advisor_id LIMIT 2"):
        got = ok(sb, "get_advisor_book", {"advisor_id": adv["advisor_id"]})
        clients = rows(raw, "SELECT client_id, full_name, segment FROM clients WHERE advisor_id = ? ORDER BY client_id",
                       (adv["advisor_id"],))
        assert (got["advisor_id"], got["full_name"], got["branch"]) == (adv["advisor_id"], adv["full_name"], adv["branch"])
        assert got["client_count"] == len(clients) >= 1
        assert [(c["client_id"], c["full_name"], c["segment"]) for c in got["clients"]] == [
            (c["client_id"], c["full_name"], c["segment"]) for c in clients]
        book_total = one(raw, LATEST_NAV_CTE + """
            SELECT (SELECT COALESCE(SUM(a.cash_balance), 0) FROM accounts a JOIN clients c ON c.client_id = a.client_id
                    WHERE c.advisor_id = :v AND a.status = 'active')
                 + (SELECT COALESCE(SUM(h.units * latest.nav), 0) FROM holdings h
                    JOIN accounts a ON a.account_id = h.account_id JOIN clients c ON c.client_id = a.client_id
                    JOIN latest ON latest.fund_code = h.fund_code WHERE c.advisor_id = :v AND a.status = 'active')
            """, {"as_of": as_of, "v": adv["advisor_id"]})
        n = one(raw, "SELECT COUNT(*) FROM holdings h JOIN accounts a ON a.account_id = h.account_id "
                     "JOIN clients c ON c.client_id = a.client_id WHERE c.advisor_id = ?", (adv["advisor_id"],))
        assert got["total_assets"] == pytest.approx(book_total, abs=money_tol(n) + 0.01 * len(clients))
        for c in got["clients"][:5]:
            assert c["total_value"] == pytest.approx(sql_client_totals(raw, as_of, c["client_id"])["total"], abs=0.2)


@sql_check("list_orders")
def _check_list_orders(sb, raw, as_of):
    aid = one(raw, "SELECT account_id FROM orders GROUP BY account_id HAVING COUNT(*) >= 2 ORDER BY account_id LIMIT 1")
    expected = rows(raw, "SELECT order_id, account_id, fund_code, side, amount, status, placed_on FROM orders "
                         "WHERE account_id = ? ORDER BY placed_on DESC, order_id DESC", (aid,))
    assert ok(sb, "list_orders", {"account_id": aid}) == {"account_id": aid, "orders": expected}
    for status in ("executed", "cancelled", "pending"):
        got = ok(sb, "list_orders", {"account_id": aid, "status": status})["orders"]
        assert got == [o for o in expected if o["status"] == status]
    none = one(raw, "SELECT account_id FROM accounts WHERE account_id NOT IN (SELECT account_id FROM orders) "
                    "ORDER BY account_id LIMIT 1")
    assert ok(sb, "list_orders", {"account_id": none}) == {"account_id": none, "orders": []}


@sql_check("place_order")
def _check_place_order(sb, raw, as_of):
    acct = pick_tradable_account(raw, min_cash=3000)
    fund = pick_fund_with_min(raw, 0, 2500)
    last_order = one(raw, "SELECT MAX(order_id) FROM orders")
    amount = 2750.55
    got = ok(sb, "place_order", {"account_id": acct["account_id"], "fund": fund["fund_code"], "side": "buy",
                                 "amount": amount})
    expected_cash = round(acct["cash_balance"] - amount, 2)
    assert got == {"order_id": f"O{int(last_order[1:]) + 1:09d}", "account_id": acct["account_id"],
                   "fund_code": fund["fund_code"], "side": "buy", "amount": amount, "status": "pending",
                   "placed_on": as_of, "cash_balance": pytest.approx(expected_cash, abs=0.001)}
    # the sandbox's own tables show the reservation; the replica file does not
    assert sb.query("SELECT cash_balance FROM accounts WHERE account_id = ?", (acct["account_id"],))[0][
        "cash_balance"] == pytest.approx(expected_cash, abs=0.001)
    listed = ok(sb, "list_accounts", {"client_id": acct["client_id"]})["accounts"]
    assert [a["cash_balance"] for a in listed if a["account_id"] == acct["account_id"]] == [
        pytest.approx(expected_cash, abs=0.001)]
    assert one(raw, "SELECT cash_balance FROM accounts WHERE account_id = ?", (acct["account_id"],)) == acct["cash_balance"]
    orders = ok(sb, "list_orders", {"account_id": acct["account_id"], "status": "pending"})["orders"]
    mine = [o for o in orders if o["order_id"] == got["order_id"]]
    assert mine == [{k: got[k] for k in ("order_id", "account_id", "fund_code", "side", "amount", "status",
                                          "placed_on")}]
    assert ok(sb, "list_orders", {"account_id": acct["account_id"]})["orders"][0]["order_id"] == got["order_id"]
    # a sell of part of a position: no cash moves
    held = first_holding(raw, acct["account_id"])
    value = holding_value(raw, as_of, acct["account_id"], held["fund_code"])
    sell = ok(sb, "place_order", {"account_id": acct["account_id"], "fund": held["fund_code"], "side": "sell",
                                  "amount": round(value / 3, 2)})
    assert sell["side"] == "sell" and sell["status"] == "pending"
    assert sell["cash_balance"] == pytest.approx(expected_cash, abs=0.001)
    assert sell["order_id"] > got["order_id"]


@sql_check("cancel_order")
def _check_cancel_order(sb, raw, as_of):
    acct = pick_tradable_account(raw, min_cash=3000)
    fund = pick_fund_with_min(raw, 0, 2500)
    placed = ok(sb, "place_order", {"account_id": acct["account_id"], "fund": fund["fund_code"], "side": "buy",
                                    "amount": 2999.99})
    assert placed["cash_balance"] == pytest.approx(acct["cash_balance"] - 2999.99, abs=0.001)
    cancelled = ok(sb, "cancel_order", {"order_id": placed["order_id"]})
    assert cancelled == {**placed, "status": "cancelled", "cash_balance": pytest.approx(acct["cash_balance"], abs=0.001)}
    cash = sb.query("SELECT cash_balance FROM accounts WHERE account_id = ?", (acct["account_id"],))[0]["cash_balance"]
    assert cash == pytest.approx(acct["cash_balance"], abs=0.001)
    assert [o["status"] for o in ok(sb, "list_orders", {"account_id": acct["account_id"]})["orders"]
            if o["order_id"] == placed["order_id"]] == ["cancelled"]
    # cancelling a sell releases no cash
    held = first_holding(raw, acct["account_id"])
    sell = ok(sb, "place_order", {"account_id": acct["account_id"], "fund": held["fund_code"], "side": "sell",
                                  "amount": 10})
    assert ok(sb, "cancel_order", {"order_id": sell["order_id"]})["cash_balance"] == pytest.approx(
        acct["cash_balance"], abs=0.001)


# --------------------------------------------------------------------------- 2. result schemas

def sample_ids(raw, sql: str, k: int, rng: random.Random) -> list[str]:
    pool = [r[0] for r in raw.execute(sql)]
    return rng.sample(pool, min(k, len(pool)))


def schema_cases(name: str, raw, rng: random.Random, sb: Sandbox) -> list[dict[str, Any]]:
    clients = sample_ids(raw, "SELECT client_id FROM clients", 5, rng)
    accounts = sample_ids(raw, "SELECT account_id FROM accounts", 5, rng)
    funds = sample_ids(raw, "SELECT fund_code FROM funds", 5, rng)
    fund_names = sample_ids(raw, "SELECT name FROM funds", 5, rng)
    advisors = sample_ids(raw, "SELECT advisor_id FROM advisors", 5, rng)
    names = [n.split()[0][:3] for n in sample_ids(raw, "SELECT full_name FROM clients", 5, rng)]
    tradable = sample_ids(raw, "SELECT a.account_id FROM accounts a JOIN compliance_records c USING (client_id) "
                               "WHERE a.status = 'active' AND c.kyc_status = 'verified' AND c.restriction = 'none' "
                               "AND a.cash_balance > 3000", 5, rng)
    days = ["2024-08-15", "Jan 5, 2025", "2025-03-03", "December 31, 2024", "2023-07-10"]
    cases: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "search_clients": lambda: [{"name": n} for n in names] + [{"advisor_id": a, "limit": 5} for a in advisors]
                                  + [{"advisor_id": advisors[0], "segment": "hnw"}],
        "get_client_profile": lambda: [{"client_id": c} for c in clients],
        "get_risk_assessment": lambda: [{"client_id": c} for c in clients],
        "get_compliance_status": lambda: [{"client_id": c} for c in clients],
        "add_advisor_note": lambda: [{"client_id": c, "text": f"Note {i}", "category": cat}
                                     for i, (c, cat) in enumerate(zip(clients, ["meeting", "call", "kyc", "service", "call"]))],
        "get_fund_info": lambda: [{"fund": f} for f in funds] + [{"fund": n} for n in fund_names],
        "search_funds": lambda: [{}, {"category": "bond"}, {"max_risk_level": 3, "limit": 2},
                                 {"max_expense_ratio": 0.2}, {"category": "index", "max_risk_level": 5}],
        "get_nav_history": lambda: [{"fund": f, "start_date": d} for f, d in zip(funds, days)] + [{"fund": funds[0]}],
        "get_market_index": lambda: [{"index": i, "date": d} for i, d in zip(["SPX", "NDX", "RUT", "MXWO", "AGG"], days)]
                                    + [{"index": "Euro Stoxx 50"}],
        "list_accounts": lambda: [{"client_id": c} for c in clients],
        "get_holdings": lambda: [{"account_id": a} for a in accounts],
        "get_transactions": lambda: [{"account_id": a, "start_date": "2023-07-01", "limit": 200} for a in accounts]
                                    + [{"account_id": accounts[0]}],
        "get_client_overview": lambda: [{"client_id": c} for c in clients],
        "get_portfolio_summary": lambda: [{"client_id": c} for c in clients],
        "check_suitability": lambda: [{"client_id": c, "fund": f} for c, f in zip(clients, funds)],
        "get_fund_performance": lambda: [{"fund": f, "start_date": d} for f, d in zip(funds, days)] + [{"fund": funds[1]}],
        "get_advisor_book": lambda: [{"advisor_id": a} for a in advisors],
        "list_orders": lambda: [{"account_id": a} for a in accounts],
        "place_order": lambda: [{"account_id": a, "fund": pick_fund_with_min(raw, 0, 1000)["fund_code"], "side": "buy",
                                 "amount": 1000} for a in tradable],
        "cancel_order": lambda: [{"order_id": ok(sb, "place_order", {"account_id": a, "fund": pick_fund_with_min(
            raw, 0, 1000)["fund_code"], "side": "buy", "amount": 1500})["order_id"]} for a in tradable],
    }
    assert set(cases) == set(ALL_TOOLS)
    return cases[name]()


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
def test_result_validates_against_returns_schema(tool_name, sb, raw):
    validator = Draft202012Validator(catalogue()[tool_name].returns)
    Draft202012Validator.check_schema(catalogue()[tool_name].returns)
    cases = schema_cases(tool_name, raw, random.Random(f"{SEED}-{tool_name}"), sb)
    assert len(cases) >= 5
    for args in cases:
        payload = ok(sb, tool_name, args)
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(payload)]
        assert not problems, (args, problems)


# --------------------------------------------------------------------------- 3. structured errors

def valid_args(name: str, raw) -> dict[str, Any]:
    acct = pick_tradable_account(raw, min_cash=3000)
    table = {
        "search_clients": {"name": "an"},
        "get_client_profile": {"client_id": "C000001"},
        "get_risk_assessment": {"client_id": "C000001"},
        "get_compliance_status": {"client_id": "C000001"},
        "add_advisor_note": {"client_id": "C000001", "text": "hello there"},
        "get_fund_info": {"fund": "EQ001"},
        "search_funds": {"category": "bond"},
        "get_nav_history": {"fund": "EQ001"},
        "get_market_index": {"index": "SPX"},
        "list_accounts": {"client_id": "C000001"},
        "get_holdings": {"account_id": "A0000001"},
        "get_transactions": {"account_id": "A0000001"},
        "get_client_overview": {"client_id": "C000001"},
        "get_portfolio_summary": {"client_id": "C000001"},
        "check_suitability": {"client_id": "C000001", "fund": "EQ001"},
        "get_fund_performance": {"fund": "EQ001"},
        "get_advisor_book": {"advisor_id": "V00001"},
        "list_orders": {"account_id": "A0000001"},
        "place_order": {"account_id": acct["account_id"], "fund": pick_fund_with_min(raw, 0, 1000)["fund_code"],
                        "side": "buy", "amount": 1000},
        "cancel_order": {"order_id": one(raw, "SELECT MIN(order_id) FROM orders WHERE status = 'executed'")},
    }
    assert set(table) == set(ALL_TOOLS)
    return dict(table[name])


def details_text(payload: dict[str, Any]) -> str:
    return " ".join(f"{d.get('path', '')} {d.get('message', '')}" for d in payload.get("details", []))


@pytest.mark.parametrize("tool_name", [name for name, spec in catalogue().items() if not spec.writes])
def test_a_tool_that_does_not_write_leaves_the_database_unchanged(tool_name, sb, raw):
    """``probe_tool`` runs such tools without a savepoint: they must change nothing."""
    for args in schema_cases(tool_name, raw, random.Random(f"{SEED}-{tool_name}-reads"), sb):
        before = sb.con.total_changes
        call_tool(sb, tool_name, args)
        assert sb.con.total_changes == before, (tool_name, args)
        assert probe_tool(sb, tool_name, args) == call_tool(sb, tool_name, args)


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
def test_missing_required_argument(tool_name, sb, raw):
    spec = catalogue()[tool_name]
    base = valid_args(tool_name, raw)
    out = call(sb, tool_name, base)
    assert out.ok or out.payload["error"] == "conflict"  # cancel_order's base id is an executed order
    sb.reset()
    required = spec.parameters.get("required", [])
    if tool_name == "search_clients":
        # name or advisor_id is required: the error must say which fields would satisfy it
        payload = err(sb, tool_name, {"segment": "retail"}, "invalid_arguments")
        text = details_text(payload)
        assert "name" in text.replace("full_name", "") or "advisor_id" in text, payload
        return
    if not required:  # search_funds: every filter optional, so no arguments is a valid call
        assert tool_name == "search_funds"
        assert ok(sb, tool_name, {})["count"] >= 1
        return
    for field in required:
        args = {k: v for k, v in base.items() if k != field}
        payload = err(sb, tool_name, args, "invalid_arguments")
        assert field in details_text(payload), payload
    payload = err(sb, tool_name, {}, "invalid_arguments")
    for field in required:
        assert field in details_text(payload)


def wrong_type_value(schema: dict[str, Any]) -> Any:
    return {"string": 12345, "integer": "5", "number": "100"}[schema["type"]]


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
def test_wrong_argument_type(tool_name, sb, raw):
    spec = catalogue()[tool_name]
    base = valid_args(tool_name, raw)
    assert spec.parameters["properties"]
    for field, schema in spec.parameters["properties"].items():
        for bad in (wrong_type_value(schema), None, [base.get(field, "x")], {"v": 1}, True):
            payload = err(sb, tool_name, {**base, field: bad}, "invalid_arguments")
            assert any(d["path"] == field for d in payload["details"]), (field, bad, payload)


UNKNOWN_ID_CASES: dict[str, list[tuple[dict[str, Any], str | None]]] = {
    # (arguments, expected error code or None for "ok with an empty result")
    "search_clients": [({"advisor_id": UNKNOWN_ADVISOR}, None), ({"name": "Zzqxj"}, None)],
    "get_client_profile": [({"client_id": UNKNOWN_CLIENT}, "not_found")],
    "get_risk_assessment": [({"client_id": UNKNOWN_CLIENT}, "not_found")],
    "get_compliance_status": [({"client_id": UNKNOWN_CLIENT}, "not_found")],
    "add_advisor_note": [({"client_id": UNKNOWN_CLIENT, "text": "a note"}, "not_found")],
    "get_fund_info": [({"fund": UNKNOWN_FUND}, "not_found"), ({"fund": "Nonexistent Growth Fund"}, "not_found")],
    "search_funds": [({"max_expense_ratio": 0}, None)],
    "get_nav_history": [({"fund": UNKNOWN_FUND}, "not_found")],
    "get_market_index": [({"index": UNKNOWN_INDEX}, "not_found"), ({"index": "SPX", "date": "1990-01-01"}, "not_found")],
    "list_accounts": [({"client_id": UNKNOWN_CLIENT}, "not_found")],
    "get_holdings": [({"account_id": UNKNOWN_ACCOUNT}, "not_found")],
    "get_transactions": [({"account_id": UNKNOWN_ACCOUNT}, "not_found")],
    "get_client_overview": [({"client_id": UNKNOWN_CLIENT}, "not_found")],
    "get_portfolio_summary": [({"client_id": UNKNOWN_CLIENT}, "not_found")],
    "check_suitability": [({"client_id": UNKNOWN_CLIENT, "fund": "EQ001"}, "not_found"),
                          ({"client_id": "C000001", "fund": UNKNOWN_FUND}, "not_found")],
    "get_fund_performance": [({"fund": UNKNOWN_FUND}, "not_found")],
    "get_advisor_book": [({"advisor_id": UNKNOWN_ADVISOR}, "not_found")],
    "list_orders": [({"account_id": UNKNOWN_ACCOUNT}, "not_found")],
    "place_order": [({"account_id": UNKNOWN_ACCOUNT, "fund": "EQ001", "side": "buy", "amount": 1000}, "not_found"),
                    ("TRADABLE", "not_found")],
    "cancel_order": [({"order_id": UNKNOWN_ORDER}, "not_found")],
}


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
def test_unknown_id(tool_name, sb, raw, replica):
    assert set(UNKNOWN_ID_CASES) == set(ALL_TOOLS)
    for args, code in UNKNOWN_ID_CASES[tool_name]:
        if args == "TRADABLE":
            args = {**valid_args("place_order", raw), "fund": UNKNOWN_FUND}
        if code is None:
            payload = ok(sb, tool_name, args)
            assert payload["count"] == 0, payload
        else:
            err(sb, tool_name, args, code)
    # nothing was written by a failed call
    assert not sb.dirty


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
def test_extra_unknown_argument(tool_name, sb, raw):
    base = valid_args(tool_name, raw)
    payload = err(sb, tool_name, {**base, "bogus_argument": 1}, "invalid_arguments")
    assert "bogus_argument" in details_text(payload)
    err(sb, tool_name, {**base, "Client_ID": "C000001"}, "invalid_arguments")
    assert not sb.dirty


@pytest.mark.parametrize("name", ["no_such_tool", "", "GET_CLIENT_PROFILE", "get_client_profile ", "place-order"])
def test_unknown_tool(name, sb):
    payload = err(sb, name, {}, "unknown_tool")
    assert sorted(payload["valid_tools"]) == sorted(ALL_TOOLS) and len(payload["valid_tools"]) == 20


@pytest.mark.parametrize("name", [None, 42, 3.5, True, ["get_client_profile"], ("get_client_profile",),
                                  {"name": "get_client_profile"}, b"get_client_profile"])
def test_non_string_tool_name(name, sb):
    payload = err(sb, name, {"client_id": "C000001"}, "unknown_tool")
    assert sorted(payload["valid_tools"]) == sorted(ALL_TOOLS)


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
def test_non_dict_arguments(tool_name, sb):
    for bad in ([], ["C000001"], "C000001", "", None, 0, 1.5, True, ("C000001",)):
        err(sb, tool_name, bad, "invalid_arguments")
    assert not sb.dirty


def test_no_call_reaches_an_internal_error_on_odd_values(sb, raw):
    """Adversarial but schema-valid values: boundaries, unicode, SQL-looking text."""
    odd_strings = ["%", "_", "\\", "' OR 1=1 --", "Robert'); DROP TABLE clients;--", "ünïcödé", "  EQ001  ", "a" * 120]
    for s in odd_strings:
        call(sb, "search_clients", {"name": s[:120] if len(s) >= 2 else s * 2})
        call(sb, "get_fund_info", {"fund": s})
        call(sb, "get_nav_history", {"fund": s})
        call(sb, "get_market_index", {"index": s[:80]})
        call(sb, "check_suitability", {"client_id": "C000001", "fund": s})
    like = ok(sb, "search_clients", {"name": "%%", "limit": 200})
    assert like["count"] == one(raw, "SELECT COUNT(*) FROM clients WHERE instr(full_name, '%%') > 0")
    assert ok(sb, "get_fund_info", {"fund": "  EQ001  "})["fund_code"] == "EQ001"
    for limit in (1, 200):
        assert ok(sb, "get_transactions", {"account_id": "A0000001", "start_date": "2023-01-01", "limit": limit})[
            "count"] <= limit
    for limit in (0, 201, -1):
        err(sb, "get_transactions", {"account_id": "A0000001", "limit": limit}, "invalid_arguments")
        err(sb, "search_funds", {"limit": limit}, "invalid_arguments")
    err(sb, "get_transactions", {"account_id": "A0000001", "start_date": "2025-05-01", "end_date": "2025-04-01"},
        "invalid_arguments")
    err(sb, "get_client_profile", {"client_id": "c000001"}, "invalid_arguments")
    err(sb, "get_client_profile", {"client_id": "C0000001"}, "invalid_arguments")
    err(sb, "add_advisor_note", {"client_id": "C000001", "text": "   "}, "invalid_arguments")
    err(sb, "add_advisor_note", {"client_id": "C000001", "text": "ok", "category": "gossip"}, "invalid_arguments")


@pytest.mark.parametrize("tool_name,field", [("get_transactions", "end_date"), ("get_nav_history", "end_date"),
                                             ("get_fund_performance", "end_date"), ("get_transactions", "start_date"),
                                             ("get_market_index", "date")])
def test_extreme_dates_are_structured_errors(tool_name, field, sb):
    """Dates at the edge of Python's calendar must not overflow into internal_error."""
    base = {"get_transactions": {"account_id": "A0000001"}, "get_nav_history": {"fund": "EQ001"},
            "get_fund_performance": {"fund": "EQ001"}, "get_market_index": {"index": "SPX"}}[tool_name]
    for day in ("0001-01-01", "0001-01-05", "9999-12-31", "1/1/0001"):
        out = call(sb, tool_name, {**base, field: day})
        assert out.ok or out.payload["error"] in ("invalid_arguments", "not_found"), (day, out.payload)


def _nested_list(depth: int, leaf: Any = "C000001") -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _nested_dict(depth: int, leaf: Any = "C000001") -> Any:
    value = leaf
    for _ in range(depth):
        value = {"k": value}
    return value


INT64_MAX = (1 << 63) - 1
OUT_OF_INT64 = [1 << 63, 1 << 64, -(1 << 63) - 1, 10 ** 30, 10 ** 400, 10 ** 5000]  # 10**5000: beyond str()'s digit limit


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
def test_integers_outside_int64_are_invalid_arguments(tool_name, sb, raw):
    """Every field of every tool, whatever its type: never an OverflowError or an internal_error."""
    base = valid_args(tool_name, raw)
    for field in catalogue()[tool_name].parameters["properties"]:
        for big in OUT_OF_INT64:
            for value in (big, [big], {"v": big}):
                payload = err(sb, tool_name, {**base, field: value}, "invalid_arguments")
                assert "64-bit" in payload["message"], payload
                assert payload["details"][0]["path"].startswith(field), payload
                assert len(repr(payload)) < 2_000
    assert not sb.dirty


def test_search_funds_unbounded_number_at_the_int64_limits(sb):
    """max_expense_ratio has no maximum: 2**63 used to reach SQLite and overflow (internal_error)."""
    payload = err(sb, "search_funds", {"max_expense_ratio": 1 << 63}, "invalid_arguments")
    assert payload["details"] == [{"path": "max_expense_ratio", "message": payload["details"][0]["message"]}]
    assert ok(sb, "search_funds", {"max_expense_ratio": INT64_MAX})["count"] >= 1
    assert ok(sb, "search_funds", {"max_expense_ratio": 1e300})["count"] >= 1
    payload = err(sb, "search_funds", {"max_expense_ratio": -(1 << 63)}, "invalid_arguments")  # in range: the
    assert "minimum" in payload["details"][0]["message"]  # schema's own minimum answers
    for bad in (float("nan"), float("inf"), [float("-inf")], {"x": float("nan")}):
        payload = err(sb, "search_funds", {"max_expense_ratio": bad}, "invalid_arguments")
        assert any("finite" in d["message"] for d in payload["details"]), payload


@pytest.mark.parametrize("tool_name", ALL_TOOLS)
@pytest.mark.timeout(60)
def test_deep_nesting_is_invalid_arguments_never_recursion(tool_name, sb, raw):
    from mock_apis.catalogue import MAX_ARGUMENT_DEPTH, probe_tool

    base = valid_args(tool_name, raw)
    field = next(iter(catalogue()[tool_name].parameters["properties"]))
    deep_values = [_nested_list(1_000), _nested_dict(1_000), _nested_list(100_000), _nested_dict(20_000),
                   _nested_list(1_000, float("nan")), _nested_list(MAX_ARGUMENT_DEPTH)]
    for value in deep_values:
        for arguments in ({**base, field: value}, value, {"extra": value}):
            for run in (call_tool, probe_tool):
                out = run(sb, tool_name, arguments)
                assert not out.ok and out.payload["error"] == "invalid_arguments", out.payload
                assert not [e.message for e in ERROR_VALIDATOR.iter_errors(out.payload)]
                assert len(repr(out.payload)) < 4_000
    # exactly at the limit: refused by the schema (a list is not a string), not by the depth check
    payload = err(sb, tool_name, {**base, field: _nested_list(MAX_ARGUMENT_DEPTH - 1)}, "invalid_arguments")
    assert "nested" not in payload["message"]
    payload = err(sb, tool_name, {**base, field: _nested_list(MAX_ARGUMENT_DEPTH)}, "invalid_arguments")
    assert f"{MAX_ARGUMENT_DEPTH} levels" in payload["message"]
    assert not sb.dirty


class _Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


class _HostileDict(dict):
    def items(self):
        raise RuntimeError("no items")

    def keys(self):
        raise RuntimeError("no keys")


def test_error_messages_are_bounded_and_never_raise(sb):
    huge = "x" * 1_000_000
    cases = [
        ("get_client_profile", {"client_id": huge}),
        ("get_client_profile", {"client_id": "C000001", huge: 1}),
        ("get_client_profile", {"client_id": [huge]}),
        ("get_client_profile", {f"k{i}": i for i in range(5_000)}),
        ("get_client_profile", {"client_id": list(range(100_000))}),  # more values than the sanity check reads
        ("search_clients", {"name": huge * 2}),  # more text than the sanity check reads
        ("get_client_profile", {"client_id": _Hostile()}),
        ("get_client_profile", {"client_id": {_Hostile(): 1}}),
        ("get_client_profile", _HostileDict(client_id="C000001")),
        ("get_client_profile", {"client_id": {1, 2, 3}}),
        ("get_client_profile", {"client_id": b"C000001"}),
        ("get_client_profile", {"client_id": "C00000\ud800"}),
    ]
    for name, arguments in cases:
        payload = err(sb, name, arguments, "invalid_arguments")
        assert len(repr(payload)) < 6_000, (name, len(repr(payload)))
        assert len(payload.get("details", [])) <= 20
    for name in (huge, _nested_list(5_000), _Hostile(), [huge] * 1000):
        payload = err(sb, name, {}, "unknown_tool")
        assert len(payload["message"]) < 500
    assert not sb.dirty


# --------------------------------------------------------------------------- 4. write-tool domain rules

def test_no_order_for_kyc_pending_or_expired(sb, raw):
    fund = pick_fund_with_min(raw, 0, 1000)["fund_code"]
    for kyc in ("pending", "expired"):
        acct = pick_account_where(raw, f"c.kyc_status = '{kyc}' AND a.cash_balance > 1500", with_holdings=True)
        payload = err(sb, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy",
                                          "amount": 1000}, "rule_violation")
        assert kyc in payload["message"]
        held = first_holding(raw, acct["account_id"])
        err(sb, "place_order", {"account_id": acct["account_id"], "fund": held["fund_code"], "side": "sell",
                                "amount": 1}, "rule_violation")
    assert not sb.dirty


def test_no_order_under_no_trading(sb, raw):
    acct = pick_account_where(raw, "c.kyc_status = 'verified' AND c.restriction = 'no_trading' AND a.cash_balance > 1500",
                              with_holdings=True)
    fund = pick_fund_with_min(raw, 0, 1000)["fund_code"]
    err(sb, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy", "amount": 1000},
        "rule_violation")
    held = first_holding(raw, acct["account_id"])
    err(sb, "place_order", {"account_id": acct["account_id"], "fund": held["fund_code"], "side": "sell", "amount": 1},
        "rule_violation")
    assert not sb.dirty


def test_sell_only_allows_sells_refuses_buys(sb, raw, as_of):
    acct = pick_account_where(raw, "c.kyc_status = 'verified' AND c.restriction = 'sell_only' AND a.cash_balance > 1500",
                              with_holdings=True)
    fund = pick_fund_with_min(raw, 0, 1000)["fund_code"]
    payload = err(sb, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy", "amount": 1000},
                  "rule_violation")
    assert "sell_only" in payload["message"]
    assert not sb.dirty
    held = first_holding(raw, acct["account_id"])
    sell = ok(sb, "place_order", {"account_id": acct["account_id"], "fund": held["fund_code"], "side": "sell",
                                  "amount": 1.0})
    assert (sell["side"], sell["status"], sell["cash_balance"]) == ("sell", "pending", acct["cash_balance"])


@pytest.mark.parametrize("amount", [0, -1, -0.01, -1e9, 10_000_001, "100", None])
def test_amount_out_of_schema_refused(amount, sb, raw):
    base = valid_args("place_order", raw)
    payload = err(sb, "place_order", {**base, "amount": amount}, "invalid_arguments")
    assert any(d["path"] == "amount" for d in payload["details"])
    assert not sb.dirty


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_amount_refused(amount, sb, raw):
    base = valid_args("place_order", raw)
    for side in ("buy", "sell"):
        args = {**base, "side": side, "amount": amount}
        if side == "sell":
            args["fund"] = first_holding(raw, base["account_id"])["fund_code"]
        out = call(sb, "place_order", args)
        assert not out.ok and out.payload["error"] == "invalid_arguments", out.payload
    assert not sb.dirty
    cash = sb.query("SELECT cash_balance FROM accounts WHERE account_id = ?", (base["account_id"],))[0]["cash_balance"]
    assert cash == one(raw, "SELECT cash_balance FROM accounts WHERE account_id = ?", (base["account_id"],))


def test_amount_that_rounds_to_zero_cents_refused(sb, raw):
    """0.004 passes `exclusiveMinimum: 0` but is stored as a $0.00 order unless refused."""
    acct = pick_tradable_account(raw)
    fund = one(raw, "SELECT fund_code FROM fund_profiles WHERE min_investment = 0 ORDER BY fund_code LIMIT 1")
    held = first_holding(raw, acct["account_id"])
    for side, code in (("buy", fund), ("sell", held["fund_code"])):
        out = call(sb, "place_order", {"account_id": acct["account_id"], "fund": code, "side": side, "amount": 0.004})
        assert not out.ok, f"a {side} order of $0.00 was placed: {out.payload}"
        assert out.payload["error"] in ("invalid_arguments", "rule_violation")


def test_buy_above_cash_is_insufficient_funds(sb, raw):
    acct = pick_tradable_account(raw, min_cash=3000)
    fund = pick_fund_with_min(raw, 0, 2500)["fund_code"]
    payload = err(sb, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy",
                                      "amount": round(acct["cash_balance"] + 0.01, 2)}, "insufficient_funds")
    assert f"{acct['cash_balance']:.2f}" in payload["message"]
    assert not sb.dirty
    # exactly the cash is allowed, and leaves zero; then any further buy is refused
    exact = ok(sb, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy",
                                   "amount": acct["cash_balance"]})
    assert exact["cash_balance"] == 0
    err(sb, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy", "amount": 2500},
        "insufficient_funds")


def test_buy_below_fund_minimum_is_rule_violation(sb, raw):
    acct = pick_tradable_account(raw, min_cash=5000)
    fund = one(raw, "SELECT fund_code, min_investment FROM fund_profiles WHERE min_investment >= 1000 "
                    "ORDER BY min_investment DESC, fund_code LIMIT 1")
    payload = err(sb, "place_order", {"account_id": acct["account_id"], "fund": fund["fund_code"], "side": "buy",
                                      "amount": fund["min_investment"] - 0.01}, "rule_violation")
    assert "minimum" in payload["message"]
    assert not sb.dirty
    ok(sb, "place_order", {"account_id": acct["account_id"], "fund": fund["fund_code"], "side": "buy",
                           "amount": fund["min_investment"]})


def test_sell_more_than_position_is_insufficient_funds(sb, raw, as_of):
    acct = pick_tradable_account(raw)
    held = first_holding(raw, acct["account_id"])
    value = holding_value(raw, as_of, acct["account_id"], held["fund_code"])
    err(sb, "place_order", {"account_id": acct["account_id"], "fund": held["fund_code"], "side": "sell",
                            "amount": round(value + 1, 2)}, "insufficient_funds")
    not_held = one(raw, "SELECT fund_code FROM funds WHERE fund_code NOT IN "
                        "(SELECT fund_code FROM holdings WHERE account_id = ?) ORDER BY fund_code LIMIT 1",
                   (acct["account_id"],))
    err(sb, "place_order", {"account_id": acct["account_id"], "fund": not_held, "side": "sell", "amount": 1},
        "insufficient_funds")
    assert not sb.dirty
    whole = ok(sb, "place_order", {"account_id": acct["account_id"], "fund": held["fund_code"], "side": "sell",
                                   "amount": round(value, 2)})
    assert whole["amount"] == round(value, 2)


def test_pending_sells_cannot_exceed_the_position(sb, raw, as_of):
    """Two sells of 60% each would sell 120% of the position: the second must be refused."""
    acct = pick_tradable_account(raw)
    held = first_holding(raw, acct["account_id"])
    value = holding_value(raw, as_of, acct["account_id"], held["fund_code"])
    args = {"account_id": acct["account_id"], "fund": held["fund_code"], "side": "sell", "amount": round(value * 0.6, 2)}
    ok(sb, "place_order", args)
    err(sb, "place_order", args, "insufficient_funds")


def test_closed_account_refused(sb, raw):
    closed = one(raw, "SELECT a.account_id FROM accounts a JOIN compliance_records c USING (client_id) "
                      "WHERE a.status = 'closed' ORDER BY (c.kyc_status = 'verified' AND c.restriction = 'none') DESC, "
                      "a.account_id LIMIT 1")
    for side in ("buy", "sell"):
        payload = err(sb, "place_order", {"account_id": closed, "fund": "EQ001", "side": side, "amount": 10},
                      "rule_violation")
        assert "closed" in payload["message"]
    assert not sb.dirty


def test_cancel_non_pending_is_conflict(sb, raw):
    for status in ("executed", "cancelled"):
        oid = one(raw, "SELECT MIN(order_id) FROM orders WHERE status = ?", (status,))
        payload = err(sb, "cancel_order", {"order_id": oid}, "conflict")
        assert status in payload["message"]
    assert not sb.dirty


def test_cancel_twice_is_conflict(sb, raw):
    acct = pick_tradable_account(raw, min_cash=3000)
    fund = pick_fund_with_min(raw, 0, 2500)["fund_code"]
    placed = ok(sb, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy", "amount": 2600})
    first = ok(sb, "cancel_order", {"order_id": placed["order_id"]})
    assert first["cash_balance"] == pytest.approx(acct["cash_balance"], abs=0.001)
    err(sb, "cancel_order", {"order_id": placed["order_id"]}, "conflict")
    # the second attempt released nothing
    cash = sb.query("SELECT cash_balance FROM accounts WHERE account_id = ?", (acct["account_id"],))[0]["cash_balance"]
    assert cash == pytest.approx(acct["cash_balance"], abs=0.001)


# --------------------------------------------------------------------------- 5. lenient inputs

DATE_SPELLINGS = ["2025-01-05", "Jan 5, 2025", "January 5, 2025", "  january 5 2025 ", "5 January 2025"]


def test_transactions_date_spellings_equivalent(sb, raw):
    aid = one(raw, "SELECT account_id FROM transactions WHERE txn_date >= '2025-01-05' GROUP BY account_id "
                   "ORDER BY COUNT(*) DESC, account_id LIMIT 1")
    results = [ok(sb, "get_transactions", {"account_id": aid, "start_date": d, "limit": 200}) for d in DATE_SPELLINGS]
    assert results[0]["start_date"] == "2025-01-05" and results[0]["count"] >= 1
    assert all(r == results[0] for r in results)
    ends = [ok(sb, "get_transactions", {"account_id": aid, "start_date": "2024-01-01", "end_date": d, "limit": 200})
            for d in DATE_SPELLINGS]
    assert all(r == ends[0] for r in ends) and ends[0]["end_date"] == "2025-01-05"


def test_nav_history_date_spellings_equivalent(sb):
    results = [ok(sb, "get_nav_history", {"fund": "EQ001", "start_date": d, "end_date": "2025-02-05"})
               for d in DATE_SPELLINGS]
    assert results[0]["points"] and results[0]["start_date"] == "2025-01-05"
    assert all(r == results[0] for r in results)
    ends = [ok(sb, "get_nav_history", {"fund": "EQ001", "end_date": d}) for d in DATE_SPELLINGS]
    assert all(r == ends[0] for r in ends) and ends[0]["points"][-1]["date"] == "2025-01-03"


def test_market_index_date_spellings_equivalent(sb):
    results = [ok(sb, "get_market_index", {"index": "SPX", "date": d}) for d in DATE_SPELLINGS]
    assert all(r == results[0] for r in results)
    assert results[0]["quote_date"] == "2025-01-03"


def test_fund_by_code_or_name_any_case(sb, raw):
    for r in rows(raw, "SELECT fund_code, name FROM funds ORDER BY fund_code"):
        by_code = ok(sb, "get_fund_info", {"fund": r["fund_code"]})
        for ref in (r["name"], r["name"].upper(), r["name"].lower(), r["fund_code"].lower(), f"  {r['name']} "):
            assert ok(sb, "get_fund_info", {"fund": ref}) == by_code, ref
    name = one(raw, "SELECT name FROM funds WHERE fund_code = 'EQ001'")
    window = {"start_date": "2025-01-02", "end_date": "2025-03-03"}
    assert ok(sb, "get_nav_history", {"fund": name.lower(), **window}) == ok(sb, "get_nav_history", {"fund": "EQ001", **window})
    assert ok(sb, "get_fund_performance", {"fund": name.upper(), **window}) == ok(
        sb, "get_fund_performance", {"fund": "eq001", **window})
    assert ok(sb, "check_suitability", {"client_id": "C000001", "fund": name}) == ok(
        sb, "check_suitability", {"client_id": "C000001", "fund": "EQ001"})


@pytest.mark.parametrize("tool_name,args", [
    ("get_transactions", {"account_id": "A0000001", "start_date": "not a date"}),
    ("get_transactions", {"account_id": "A0000001", "end_date": "not a date"}),
    ("get_nav_history", {"fund": "EQ001", "start_date": "not a date"}),
    ("get_nav_history", {"fund": "EQ001", "end_date": "2025-13-45"}),
    ("get_market_index", {"index": "SPX", "date": "not a date"}),
    ("get_market_index", {"index": "SPX", "date": "February 30, 2025"}),
    ("get_fund_performance", {"fund": "EQ001", "start_date": "not a date"}),
    ("get_fund_performance", {"fund": "EQ001", "end_date": "yesterday-ish"}),
])
def test_unparseable_date_is_invalid_arguments(tool_name, args, sb):
    payload = err(sb, tool_name, args, "invalid_arguments")
    field = next(k for k in args if "date" in k)
    assert field in payload["message"] or field in details_text(payload)


# --------------------------------------------------------------------------- 6. sandbox isolation

def test_sandboxes_are_isolated_and_replica_untouched(replica, raw):
    digest = sha256(replica)
    acct = pick_tradable_account(raw, min_cash=3000)
    fund = pick_fund_with_min(raw, 0, 2500)["fund_code"]
    with Sandbox(replica) as a, Sandbox(replica) as b:
        placed = ok(a, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy", "amount": 2500})
        note = ok(a, "add_advisor_note", {"client_id": acct["client_id"], "text": "private to sandbox a"})
        assert a.dirty and not b.dirty
        # a sees its writes
        assert any(o["order_id"] == placed["order_id"] for o in ok(a, "list_orders", {"account_id": acct["account_id"]})["orders"])
        assert a.query("SELECT 1 FROM advisor_notes WHERE note_id = ?", (note["note_id"],))
        # b does not
        assert not any(o["order_id"] == placed["order_id"]
                       for o in ok(b, "list_orders", {"account_id": acct["account_id"]})["orders"])
        assert not b.query("SELECT 1 FROM advisor_notes WHERE note_id = ?", (note["note_id"],))
        b_cash = [x["cash_balance"] for x in ok(b, "list_accounts", {"client_id": acct["client_id"]})["accounts"]
                  if x["account_id"] == acct["account_id"]]
        assert b_cash == [acct["cash_balance"]]
        err(b, "cancel_order", {"order_id": placed["order_id"]}, "not_found")
        # b can write the same next ids independently
        b_placed = ok(b, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy", "amount": 2500})
        assert b_placed["order_id"] == placed["order_id"]
        # reset drops a's writes
        a.reset()
        assert not a.dirty
        assert not any(o["order_id"] == placed["order_id"]
                       for o in ok(a, "list_orders", {"account_id": acct["account_id"]})["orders"])
        assert not a.query("SELECT 1 FROM advisor_notes WHERE note_id = ?", (note["note_id"],))
        a_cash = [x["cash_balance"] for x in ok(a, "list_accounts", {"client_id": acct["client_id"]})["accounts"]
                  if x["account_id"] == acct["account_id"]]
        assert a_cash == [acct["cash_balance"]]
        # b keeps its own write after a's reset
        assert any(o["order_id"] == b_placed["order_id"] for o in ok(b, "list_orders", {"account_id": acct["account_id"]})["orders"])
        # a can place again after reset and gets the same id as before (state fully rewound)
        again = ok(a, "place_order", {"account_id": acct["account_id"], "fund": fund, "side": "buy", "amount": 2500})
        assert again["order_id"] == placed["order_id"] and again["cash_balance"] == placed["cash_balance"]
    assert sha256(replica) == digest
    # a fresh sandbox on the file sees only the replica's own data
    with Sandbox(replica) as c:
        assert not any(o["order_id"] == placed["order_id"]
                       for o in ok(c, "list_orders", {"account_id": acct["account_id"]})["orders"])


def test_writes_through_every_write_tool_leave_file_bytes_unchanged(replica, raw):
    digest = sha256(replica)
    write_tools = {n for n, s in catalogue().items() if s.writes}
    assert write_tools == {"place_order", "cancel_order", "add_advisor_note"}
    acct = pick_tradable_account(raw, min_cash=3000)
    with Sandbox(replica) as sb:
        for _ in range(3):
            placed = ok(sb, "place_order", {"account_id": acct["account_id"],
                                            "fund": pick_fund_with_min(raw, 0, 1000)["fund_code"], "side": "buy",
                                            "amount": 1000})
            ok(sb, "cancel_order", {"order_id": placed["order_id"]})
            ok(sb, "add_advisor_note", {"client_id": acct["client_id"], "text": "note text"})
        sb.reset()
        ok(sb, "add_advisor_note", {"client_id": acct["client_id"], "text": "after reset"})
    assert sha256(replica) == digest


def test_sandbox_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        Sandbox(tmp_path / "nope.db")


def test_results_independent_of_call_history(replica, raw):
    """A read gives the same answer in a fresh sandbox as after unrelated writes plus reset."""
    with Sandbox(replica) as fresh, Sandbox(replica) as used:
        acct = pick_tradable_account(raw, min_cash=3000)
        ok(used, "place_order", {"account_id": acct["account_id"], "fund": pick_fund_with_min(raw, 0, 1000)["fund_code"],
                                 "side": "buy", "amount": 1000})
        assert ok(used, "get_portfolio_summary", {"client_id": acct["client_id"]}) != ok(
            fresh, "get_portfolio_summary", {"client_id": acct["client_id"]})
        used.reset()
        for name in ("get_portfolio_summary", "get_client_overview", "list_accounts"):
            assert ok(used, name, {"client_id": acct["client_id"]}) == ok(fresh, name, {"client_id": acct["client_id"]})
