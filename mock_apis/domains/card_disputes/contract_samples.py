"""The card-disputes domain's contract samples: arguments that make each tool succeed on a
replica (the first row, by key, that does), for the contract snapshot and the drift check."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from mock_apis.domains.card_disputes.generate import DISPUTE_WINDOW_DAYS, PROVISIONAL_CREDIT_LIMIT


def _first(con: sqlite3.Connection, sql: str, *params: Any) -> Any:
    """The first column of the first row of ``sql``; None where there is none or the schema lacks what it reads."""
    try:
        row = con.execute(sql, params).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row is not None else None


def sample_arguments(replica_path: str | Path) -> dict[str, dict[str, Any]]:
    """Arguments that make each tool succeed on ``replica_path``, keyed by tool name; a tool
    whose rows the replica lacks (or whose columns it renamed) is left out."""
    con = sqlite3.connect(f"file:{Path(replica_path).resolve()}?mode=ro", uri=True)
    try:
        as_of = _first(con, "SELECT value FROM meta WHERE key = 'as_of'")
        holder = _first(con, "SELECT cardholder_id FROM disputes ORDER BY cardholder_id, dispute_id LIMIT 1")
        name = _first(con, "SELECT full_name FROM cardholders WHERE cardholder_id = ?", holder)
        card = _first(con, "SELECT card_id FROM card_transactions ORDER BY card_id, txn_id LIMIT 1")
        dispute = _first(con, "SELECT dispute_id FROM disputes ORDER BY dispute_id LIMIT 1")
        disputable = _first(con, "SELECT t.txn_id FROM card_transactions t JOIN cards c ON c.card_id = t.card_id "
                                 "WHERE c.status = 'active' AND t.txn_type = 'purchase' AND t.status = 'posted' "
                                 "AND t.txn_date >= date(?, ?) AND t.txn_id NOT IN (SELECT txn_id FROM disputes) "
                                 "ORDER BY t.txn_id LIMIT 1", as_of, f"-{DISPUTE_WINDOW_DAYS} days")
        creditable = _first(con, "SELECT dispute_id FROM disputes WHERE status IN ('open', 'under_review') "
                                 "AND amount <= ? AND dispute_id NOT IN (SELECT dispute_id FROM provisional_credits) "
                                 "ORDER BY dispute_id LIMIT 1", PROVISIONAL_CREDIT_LIMIT)
    finally:
        con.close()
    wanted: dict[str, dict[str, Any]] = {
        "find_cardholders": {"name": name, "limit": 3},
        "list_cards": {"cardholder_id": holder},
        "get_card_transactions": {"card_id": card},
        "list_disputes": {"cardholder_id": holder},
        "get_dispute": {"dispute_id": dispute},
        "open_dispute": {"txn_id": disputable, "reason": "not_received"},
        "issue_provisional_credit": {"dispute_id": creditable},
        "add_dispute_note": {"dispute_id": dispute, "text": "Contract sample note."},
    }
    return {tool: args for tool, args in wanted.items() if None not in args.values()}
