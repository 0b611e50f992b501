"""The finance domain's contract samples: arguments that make each finance tool succeed on a
replica (the first row, by key, that does), for the contract snapshot and the drift check."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

_HELD = ("SELECT a.account_id, a.client_id, h.fund_code FROM accounts a JOIN holdings h ON h.account_id = a.account_id "
         "JOIN compliance_records r ON r.client_id = a.client_id JOIN risk_assessments k ON k.client_id = a.client_id "
         "WHERE a.status = 'active' AND r.kyc_status = 'verified' AND r.restriction = 'none' "
         "ORDER BY a.account_id, h.fund_code LIMIT 1")


def _first(con: sqlite3.Connection, sql: str, *params: Any) -> tuple[Any, ...] | None:
    """The first row of ``sql``, or None where there is none or the schema lacks what it reads."""
    try:
        return con.execute(sql, params).fetchone()
    except sqlite3.Error:
        return None


def sample_arguments(replica_path: str | Path) -> dict[str, dict[str, Any]]:
    """Arguments that make each tool succeed on ``replica_path``, keyed by tool name; a tool
    whose rows the replica lacks (or whose columns it renamed) is left out."""
    con = sqlite3.connect(f"file:{Path(replica_path).resolve()}?mode=ro", uri=True)
    try:
        meta = _first(con, "SELECT value FROM meta WHERE key = 'as_of'")
        account, client, fund = _first(con, _HELD) or (None, None, None)
        advisor = (_first(con, "SELECT advisor_id FROM clients WHERE client_id = ?", client) or (None,))[0]
        index = (_first(con, "SELECT index_code FROM market_indices ORDER BY index_code LIMIT 1") or (None,))[0]
        with_orders = (_first(con, "SELECT account_id FROM orders ORDER BY account_id, order_id LIMIT 1") or (None,))[0]
        with_txns = (_first(con, "SELECT account_id FROM transactions ORDER BY account_id, txn_id LIMIT 1")
                     or (None,))[0]
        pending = (_first(con, "SELECT order_id FROM orders WHERE status = 'pending' ORDER BY order_id LIMIT 1")
                   or (None,))[0]
    finally:
        con.close()
    as_of = date.fromisoformat(meta[0]) if meta else None
    week = {"start_date": (as_of - timedelta(days=7)).isoformat() if as_of else None,
            "end_date": as_of.isoformat() if as_of else None}
    by_client = {"client_id": client}
    wanted: dict[str, dict[str, Any]] = {
        "search_clients": {"advisor_id": advisor, "limit": 3},
        "get_client_profile": by_client,
        "get_risk_assessment": by_client,
        "get_compliance_status": by_client,
        "add_advisor_note": {**by_client, "text": "Contract sample note.", "category": "call"},
        "get_fund_info": {"fund": fund},
        "search_funds": {"category": "bond", "limit": 3},
        "get_nav_history": {"fund": fund, **week},
        "get_market_index": {"index": index, "date": week["end_date"]},
        "list_accounts": by_client,
        "get_holdings": {"account_id": account},
        "get_transactions": {"account_id": with_txns},
        "get_client_overview": by_client,
        "get_portfolio_summary": by_client,
        "check_suitability": {**by_client, "fund": fund},
        "get_fund_performance": {"fund": fund},
        "get_advisor_book": {"advisor_id": advisor},
        "list_orders": {"account_id": with_orders},
        "place_order": {"account_id": account, "fund": fund, "side": "sell", "amount": 1.0},
        "cancel_order": {"order_id": pending},
    }
    return {name: args for name, args in wanted.items() if None not in args.values()}
