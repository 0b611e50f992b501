"""Write-tool latency and reset-after-write latency against the replica's size.

    python benchmarks/bench_writes.py [--scales 5000,100000] [--n 3000]

For each scale (the cached replica for seed 0, generated on first use) it times, on one
sandbox, ``add_advisor_note``, a ``place_order`` buy and a ``cancel_order`` of a pending
buy order of the base (each undone by a reset that is not timed), then the ``reset`` that
follows a write. The raw floor is a SQLite SELECT by primary key plus ``orjson.dumps`` on
the same connection. Medians and p90 in microseconds, and each scale's median over the
first scale's.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from envs.replica import default_replica
from mock_apis.catalogue import call_tool
from mock_apis.sandbox import Sandbox


def timed_after(setup: Callable[[], Any], fn: Callable[[], Any], n: int) -> list[float]:
    """``fn``'s times in µs, each run after an untimed ``setup``."""
    out = []
    for _ in range(n):
        setup()
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def median_p90(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[int(0.9 * len(xs))]


def cases(sb: Sandbox) -> dict[str, Callable[[], Any]]:
    """The timed operations on ``sb``, with arguments picked from its replica."""
    client = sb.scalar("SELECT client_id FROM clients ORDER BY client_id LIMIT 1")
    pending = sb.scalar("SELECT order_id FROM orders WHERE status = 'pending' AND side = 'buy' "
                        "ORDER BY order_id LIMIT 1")
    account = sb.scalar("SELECT account_id FROM accounts a JOIN compliance_records r USING (client_id) "
                        "WHERE r.restriction = 'none' AND r.kyc_status = 'verified' AND a.status = 'active' "
                        "AND cash_balance > 5000 ORDER BY account_id LIMIT 1")
    fund = sb.scalar("SELECT fund_code FROM fund_profiles WHERE min_investment <= 1000 ORDER BY fund_code LIMIT 1")

    def check(name: str, args: dict[str, Any]) -> Callable[[], Any]:
        outcome = call_tool(sb, name, args)
        sb.reset()
        if not outcome.ok:
            raise RuntimeError(f"{name}{args} failed: {outcome.payload}")
        return lambda: call_tool(sb, name, args)

    return {
        "raw floor: SELECT by key + orjson": lambda: orjson.dumps(
            dict(sb.con.execute("SELECT * FROM clients WHERE client_id = ?", (client,)).fetchone())),
        "add_advisor_note": check("add_advisor_note", {"client_id": client, "text": "Called about the review."}),
        "place_order (buy)": check("place_order", {"account_id": account, "fund": fund, "side": "buy",
                                                   "amount": 1000}),
        "cancel_order": check("cancel_order", {"order_id": pending}),
    }


def bench_scale(scale: int, n: int) -> dict[str, tuple[float, float]]:
    with Sandbox(default_replica(0, scale)) as sb:
        ops = cases(sb)
        for fn in ops.values():  # warm the page cache and the statement cache
            for _ in range(50):
                fn()
                sb.reset()
        out = {name: median_p90(timed_after(sb.reset, fn, n)) for name, fn in ops.items()}
        out["reset after a write"] = median_p90(timed_after(ops["add_advisor_note"], sb.reset, n))
        out["reset of a clean sandbox"] = median_p90(timed_after(sb.reset, sb.reset, n))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="5000,100000")
    ap.add_argument("--n", type=int, default=3000)
    args = ap.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    results = {scale: bench_scale(scale, args.n) for scale in scales}
    first = results[scales[0]]
    print("| what | " + " | ".join(f"{s:,} rows median (p90) µs" for s in scales)
          + " | " + " | ".join(f"{s:,}/{scales[0]:,}" for s in scales[1:]) + " |")
    print("|---|" + "---:|" * (2 * len(scales) - 1))
    for name in first:
        cells = [f"{results[s][name][0]:.1f} ({results[s][name][1]:.1f})" for s in scales]
        ratios = [f"{results[s][name][0] / first[name][0]:.2f}×" for s in scales[1:]]
        print(f"| {name} | " + " | ".join(cells + ratios) + " |")


if __name__ == "__main__":
    main()
