"""Entity draws shared by the levels: each returns entities a task can be built on, or raises ``Skip``.

A buy or a sell that ``place_order`` accepts, a suitability verdict, a transaction window with
results, a client a name search finds alone, the largest position of an account.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from mock_apis.domain import Skip, pick
from mock_apis.domains.finance.context import Ctx
from mock_apis.domains.finance.phrasing import AMOUNTS, Window, fref, window


def _pick_window_with(rng: random.Random, ctx: Ctx, keys: Sequence[str],
                      ok: Callable[[Window], bool], tries: int = 8) -> Window:
    for _ in range(tries):
        w = window(rng, ctx.as_of, keys)
        if ok(w):
            return w
    raise Skip("no window fits")


def _holding_positions(ctx: Ctx, aid: str) -> dict[str, Any]:
    return ctx.run("get_holdings", account_id=aid)


def _largest(holdings: list[dict[str, Any]]) -> dict[str, Any]:
    if not holdings:
        raise Skip("no holdings")
    ranked = sorted(holdings, key=lambda h: (-h["market_value"], h["fund_code"]))
    if len(ranked) > 1 and ranked[0]["market_value"] == ranked[1]["market_value"]:
        raise Skip("tie for the largest position")
    return ranked[0]


def _buy_setup(ctx: Ctx, rng: random.Random, cid: str | None = None, need_cash: bool = True
               ) -> tuple[str, dict[str, Any], dict[str, Any], int]:
    """(client, active account, fund, amount) for a buy that place_order accepts."""
    for _ in range(20):
        c = cid or pick(rng, ctx.client_ids)
        if not ctx.can_trade(c, "buy"):
            continue
        accounts = ctx.active_accounts(c)
        if not accounts:
            continue
        a = pick(rng, accounts)
        f = ctx.fund[pick(rng, ctx.fund_codes)]
        amounts = [x for x in AMOUNTS if x >= max(f["min_investment"], 1) and (x <= a["cash_balance"] or not need_cash)]
        if amounts:
            return c, a, f, pick(rng, amounts)
        if cid:
            break
    raise Skip("no buy setup")


def _suitable_buy_setup(ctx: Ctx, rng: random.Random) -> tuple[str, dict[str, Any], dict[str, Any], int]:
    """(client, active account, fund, amount) for a buy that check_suitability passes and place_order accepts."""
    for _ in range(40):
        cid = pick(rng, ctx.client_ids)
        if not ctx.can_trade(cid, "buy") or not ctx.active_accounts(cid):
            continue
        r = ctx.run("get_risk_assessment", client_id=cid)
        if not r["is_current"]:
            continue
        fund = ctx.fund[pick(rng, [f["fund_code"] for f in ctx.funds if f["risk_level"] <= r["risk_level"]])]
        a = pick(rng, ctx.active_accounts(cid))
        amounts = [x for x in AMOUNTS if fund["min_investment"] <= x <= a["cash_balance"]]
        if amounts:
            return cid, a, fund, pick(rng, amounts)
    raise Skip("no suitable buy setup")


def _sell_setup(ctx: Ctx, rng: random.Random, cid: str | None = None) -> tuple[str, dict[str, Any], dict[str, Any], int]:
    """(client, active account, held fund, amount <= position value)."""
    for _ in range(20):
        c = cid or pick(rng, ctx.client_ids)
        accounts = ctx.active_accounts(c)
        if not accounts:
            if cid:
                break
            continue
        a = pick(rng, accounts)
        holdings = _holding_positions(ctx, a["account_id"])["holdings"]
        if not holdings:
            continue
        h = pick(rng, holdings)
        amounts = [x for x in AMOUNTS if x <= h["market_value"]]
        if amounts:
            return c, a, ctx.fund[h["fund_code"]], pick(rng, amounts)
        if cid:
            break
    raise Skip("no sell setup")


def _searchable_client(ctx: Ctx, rng: random.Random) -> dict[str, Any]:
    if not ctx.searchable:
        raise Skip("no searchable client names")
    return ctx.client[pick(rng, ctx.searchable)]


def _txn_task(ctx: Ctx, rng: random.Random, aid: str, windows: Sequence[str]
              ) -> tuple[Window, str | None, dict[str, Any], dict[str, Any]]:
    txn_type = pick(rng, [None, None, "buy", "sell", "deposit", "withdrawal", "dividend"])
    want_some = rng.random() < 0.85
    found: dict[str, Any] = {}

    def fits(w: Window) -> bool:
        args = {"account_id": aid, **w.arguments(), **({"txn_type": txn_type} if txn_type else {})}
        t = ctx.run("get_transactions", **args)
        found.update(t=t, args=args)
        return 0 < t["count"] < 50 if want_some else t["count"] == 0

    w = _pick_window_with(rng, ctx, windows, fits)
    return w, txn_type, found["t"], found["args"]


def _draw_suitability(ctx: Ctx, rng: random.Random, want: bool, cid: str | None = None
                      ) -> tuple[str, dict[str, Any], str, str, dict[str, Any]]:
    for _ in range(40):
        c = cid or pick(rng, ctx.client_ids)
        fund = ctx.fund[pick(rng, ctx.fund_codes)]
        try:
            s = ctx.run("check_suitability", client_id=c, fund=fund["fund_code"])
        except Skip:
            continue
        if s["suitable"] == want:
            ref, arg = fref(rng, fund)
            return c, fund, ref, arg, s
    raise Skip("no pair with that verdict")
