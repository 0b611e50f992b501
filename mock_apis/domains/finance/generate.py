"""Seeded synthetic replica generator.

``generate_replica(path, seed, scale)`` writes a SQLite replica whose rows depend only on
``(seed, scale)`` and ``GENERATOR_VERSION``: every value comes from the project's own seeded
``random.Random`` streams over its own data (``mock_apis.domains.finance.people`` for the people), never from a
third party's random stream or today's date. The file's bytes depend on SQLite's version too
(its header records the library that wrote it); ``replica_digest`` hashes the rows alone. ``scale`` is
the number of rows in the ``transactions`` table, which is the largest table from about
16k rows up (below that, the fixed two-year NAV history is larger); other tables are sized
from it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

from rich.progress import Progress
from sqlalchemy import Date, Engine, create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from mock_apis.atomic import clean_stale_temps, commit_temp, temp_beside
from mock_apis.domains.finance.models import SCHEMA_VERSION, SOURCE_TABLES, Base
from mock_apis.domains.finance.people import People

GENERATOR_VERSION = "4"  # 4: people from the project's own pools and stream (no Faker)
AS_OF = date(2025, 6, 30)
HISTORY_DAYS = 730
DEFAULT_SEED = 0
DEFAULT_SCALE = 5000
MIN_SCALE = 200

RISK_PROFILES = {1: "conservative", 2: "moderately_conservative", 3: "balanced", 4: "growth", 5: "aggressive"}
INDICES = [
    ("SPX", "S&P 500", "US", 4500.0),
    ("NDX", "Nasdaq 100", "US", 15500.0),
    ("RUT", "Russell 2000", "US", 1900.0),
    ("MXWO", "MSCI World", "Global", 3000.0),
    ("AGG", "US Aggregate Bond", "US", 100.0),
    ("SX5E", "Euro Stoxx 50", "Europe", 4200.0),
]
# (category, code prefix, risk levels, annual drift, annual vol, benchmark, name stems)
FUND_FAMILIES = [
    ("equity", "EQ", (4, 5), 0.08, 0.18, "SPX", ["Growth Leaders", "Blue Chip Equity", "Dividend Equity", "Small Cap Opportunities", "Technology Innovators", "Global Equity", "Emerging Markets Equity", "Value Equity"]),
    ("bond", "BD", (1, 2), 0.03, 0.05, "AGG", ["Core Bond", "Short Duration Bond", "High Yield Bond", "Municipal Income", "Global Bond", "Inflation Protected Bond", "Corporate Bond"]),
    ("balanced", "BL", (2, 3), 0.05, 0.10, "MXWO", ["Balanced Allocation", "Moderate Growth", "Conservative Allocation", "Target Income", "Global Balanced", "Multi Asset Income"]),
    ("money_market", "MM", (1, 1), 0.02, 0.002, "AGG", ["Treasury Money Market", "Prime Money Market", "Government Cash Reserve"]),
    ("index", "IX", (3, 4), 0.07, 0.16, "SPX", ["S&P 500 Index", "Total Market Index", "Nasdaq 100 Index", "International Index", "Russell 2000 Index", "Europe Index"]),
]
FUND_HOUSES = ["Northbridge", "Harborview", "Summit", "Crescent", "Ironwood", "Bluewater"]
ADVISOR_EMAIL_DOMAIN = "example.com"
BRANCHES = ["New York Midtown", "Boston Back Bay", "Chicago Loop", "San Francisco", "Austin", "Seattle", "Miami"]
NOTE_TEXTS = {
    "meeting": ["Annual review held; client confirmed goals unchanged.", "Discussed retirement timeline and contribution levels.", "Reviewed portfolio allocation with client."],
    "call": ["Client called about a statement question; resolved.", "Returned client call regarding a pending transfer.", "Client asked about fee schedule; sent summary."],
    "kyc": ["Requested updated proof of address.", "KYC documents received and forwarded to compliance."],
    "service": ["Updated beneficiary details on file.", "Set up recurring monthly contribution."],
}


def business_days(end: date, days: int) -> list[date]:
    start = end - timedelta(days=days)
    out = []
    d = start
    while d <= end:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def _random_walk(rng: random.Random, start: float, n: int, drift: float, vol: float) -> list[float]:
    daily_mu, daily_sigma = drift / 252, vol / math.sqrt(252)
    values, level = [], start
    for _ in range(n):
        level *= math.exp(rng.gauss(daily_mu - daily_sigma**2 / 2, daily_sigma))
        values.append(level)
    return values


class _Builder:
    def __init__(self, seed: int, scale: int):
        self.rng = random.Random(seed)
        self.persons = People(seed)
        self.seed, self.scale = seed, scale
        self.n_clients = max(40, scale // 25)
        self.n_advisors = max(5, self.n_clients // 40)
        self.days = business_days(AS_OF, HISTORY_DAYS)
        self.rows: dict[str, list[tuple]] = {}

    def _day(self, lo_days: int, hi_days: int) -> date:
        return AS_OF - timedelta(days=self.rng.randint(lo_days, hi_days))

    def meta(self) -> None:
        self.rows["meta"] = [
            ("as_of", AS_OF.isoformat()),
            ("generator_version", GENERATOR_VERSION),
            ("scale", str(self.scale)),
            ("schema_version", SCHEMA_VERSION),
            ("seed", str(self.seed)),
        ]

    def market(self) -> None:
        rng = self.rng
        self.rows["market_indices"] = [(code, name, region) for code, name, region, _ in INDICES]
        quotes = []
        for code, _, _, start in INDICES:
            drift, vol = (0.02, 0.05) if code == "AGG" else (0.07, 0.17)
            closes = _random_walk(rng, start, len(self.days), drift, vol)
            prev = start
            for d, close in zip(self.days, closes):
                quotes.append((code, d.isoformat(), round(close, 2), round((close / prev - 1) * 100, 2)))
                prev = close
        self.rows["index_quotes"] = quotes

    def funds(self) -> None:
        rng = self.rng
        funds, profiles, navs = [], [], []
        self.fund_navs: dict[str, dict[str, float]] = {}
        self.fund_codes: list[str] = []
        self.fund_risk: dict[str, int] = {}
        n = 0
        for category, prefix, (lo, hi), drift, vol, bench, stems in FUND_FAMILIES:
            for stem in stems:
                n += 1
                code = f"{prefix}{n:03d}"
                house = FUND_HOUSES[(n * 7) % len(FUND_HOUSES)]
                name = f"{house} {stem} Fund"
                risk = rng.randint(lo, hi)
                inception = self._day(HISTORY_DAYS + 200, HISTORY_DAYS + 4000)
                funds.append((code, name, category, risk, "USD", inception.isoformat()))
                profiles.append((
                    code,
                    self.persons.full_name(),
                    round(rng.uniform(0.03, 1.2) if category != "index" else rng.uniform(0.02, 0.2), 2),
                    round(rng.uniform(50, 25000), 1),
                    bench,
                    float(rng.choice([0, 500, 1000, 2500, 3000])),
                    f"{name} seeks {'capital growth' if risk >= 4 else 'income and stability' if risk <= 2 else 'a balance of growth and income'} through a diversified {category.replace('_', ' ')} portfolio.",
                ))
                walk = _random_walk(rng, rng.uniform(10, 150), len(self.days), drift + rng.uniform(-0.02, 0.02), vol)
                series = {}
                for d, v in zip(self.days, walk):
                    series[d.isoformat()] = round(v, 4)
                    navs.append((code, d.isoformat(), round(v, 4)))
                self.fund_navs[code] = series
                self.fund_codes.append(code)
                self.fund_risk[code] = risk
        self.rows["funds"], self.rows["fund_profiles"], self.rows["nav_history"] = funds, profiles, navs

    def people(self) -> None:
        rng, people = self.rng, self.persons
        advisors = []
        for i in range(1, self.n_advisors + 1):
            first, last = people.name()
            advisors.append((f"V{i:05d}", f"{first} {last}", people.email(first, last, ADVISOR_EMAIL_DOMAIN),
                             people.phone(), rng.choice(BRANCHES), self._day(400, 7000).isoformat()))
        self.rows["advisors"] = advisors
        clients, risks, compliance = [], [], []
        self.client_ids: list[str] = []
        self.client_advisor: dict[str, str] = {}
        n_assess = 0
        # A separate stream, so that adding short validities left every other value unchanged.
        validity_rng = random.Random(f"validity-{self.seed}")
        for i in range(1, self.n_clients + 1):
            cid = f"C{i:06d}"
            advisor = f"V{rng.randint(1, self.n_advisors):05d}"
            first, last = people.name()
            clients.append((
                cid, advisor, f"{first} {last}", people.ssn(), people.phone(), people.email(first, last),
                people.address(), people.birth_date(AS_OF).isoformat(),
                rng.choices(["retail", "affluent", "hnw"], weights=[60, 30, 10])[0],
                self._day(60, 4000).isoformat(),
            ))
            self.client_ids.append(cid)
            self.client_advisor[cid] = advisor
            for k in range(rng.choice([1, 1, 2])):
                n_assess += 1
                score = rng.randint(5, 98)
                level = min(5, 1 + score // 20)
                assessed = self._day(10 + 400 * k, 380 + 400 * k)
                valid_days = 180 if validity_rng.random() < 0.12 else 730
                risks.append((f"R{n_assess:07d}", cid, assessed.isoformat(), score, level, RISK_PROFILES[level],
                              rng.choice([1, 3, 5, 10, 15, 20]), (assessed + timedelta(days=valid_days)).isoformat()))
            kyc = rng.choices(["verified", "pending", "expired"], weights=[85, 8, 7])[0]
            restriction = rng.choices(["none", "no_trading", "sell_only"], weights=[90, 5, 5])[0]
            reason = {
                "none": None,
                "no_trading": rng.choice(["Pending AML review", "Deceased account holder review", "Court order"]),
                "sell_only": rng.choice(["Concentration limit reached", "Margin call remediation", "Suitability review open"]),
            }[restriction]
            compliance.append((cid, kyc, self._day(5, 900).isoformat(), restriction, reason, rng.random() < 0.03))
        self.rows["clients"], self.rows["risk_assessments"], self.rows["compliance_records"] = clients, risks, compliance

    def accounts(self) -> None:
        rng = self.rng
        accounts, holdings = [], []
        self.account_ids: list[str] = []
        self.account_client: dict[str, str] = {}
        n = 0
        for cid in self.client_ids:
            for _ in range(rng.choices([1, 2, 3], weights=[50, 35, 15])[0]):
                n += 1
                aid = f"A{n:07d}"
                status = "active" if rng.random() < 0.95 else "closed"
                accounts.append((aid, cid, rng.choice(["brokerage", "retirement", "education"]), "USD",
                                 self._day(30, 3500).isoformat(), status,
                                 round(rng.uniform(0, 50000), 2) if status == "active" else 0.0))
                self.account_ids.append(aid)
                self.account_client[aid] = cid
                if status == "active":
                    for code in sorted(rng.sample(self.fund_codes, rng.randint(1, 5))):
                        nav = self.fund_navs[code][self.days[-1].isoformat()]
                        holdings.append((aid, code, round(rng.uniform(5, 4000), 3), round(nav * rng.uniform(0.6, 1.3), 4)))
        self.rows["accounts"], self.rows["holdings"] = accounts, holdings

    def activity(self, tick: Callable[[int], None]) -> None:
        rng = self.rng
        txns = []
        day_strs = [d.isoformat() for d in self.days]
        for i in range(1, self.scale + 1):
            aid = self.account_ids[rng.randrange(len(self.account_ids))]
            d = day_strs[rng.randrange(len(day_strs))]
            kind = rng.choices(["buy", "sell", "deposit", "withdrawal", "dividend"], weights=[40, 20, 20, 10, 10])[0]
            if kind in ("buy", "sell", "dividend"):
                code = self.fund_codes[rng.randrange(len(self.fund_codes))]
                amount = round(rng.uniform(100, 25000) if kind != "dividend" else rng.uniform(5, 800), 2)
                units = round(amount / self.fund_navs[code][d], 3) if kind != "dividend" else None
            else:
                code, units, amount = None, None, round(rng.uniform(200, 40000), 2)
            txns.append((f"T{i:09d}", aid, code, d, kind, units, amount))
            if i % 10000 == 0:
                tick(10000)
        tick(self.scale % 10000)
        txns.sort(key=lambda t: (t[1], t[3], t[0]))
        self.rows["transactions"] = txns

        orders, notes = [], []
        n = 0
        for aid in self.account_ids:
            for _ in range(rng.choice([0, 0, 1, 2])):
                n += 1
                placed = self._day(0, 200)
                status = "pending" if placed >= AS_OF - timedelta(days=3) else rng.choice(["executed", "executed", "cancelled"])
                orders.append((f"O{n:09d}", aid, rng.choice(self.fund_codes), rng.choice(["buy", "sell"]),
                               round(rng.uniform(500, 20000), 2), status, placed.isoformat()))
        m = 0
        for cid in self.client_ids:
            for _ in range(rng.choice([0, 1, 1, 2])):
                m += 1
                category = rng.choice(sorted(NOTE_TEXTS))
                notes.append((f"N{m:09d}", cid, self.client_advisor[cid], self._day(1, 600).isoformat(), category,
                              rng.choice(NOTE_TEXTS[category])))
        self.rows["orders"], self.rows["advisor_notes"] = orders, notes


def progress_bar(enabled: bool, total: int, description: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """``(advance, stop)`` of a rich progress bar, or no-ops when not ``enabled``."""
    if not enabled:
        return (lambda _n: None), (lambda: None)
    progress = Progress(transient=False)
    progress.start()
    task = progress.add_task(description, total=total)
    return (lambda n: progress.advance(task, n)), progress.stop


def _build_rows(seed: int, scale: int, show_progress: bool) -> dict[str, list[tuple]]:
    if scale < MIN_SCALE:
        raise ValueError(f"scale must be at least {MIN_SCALE}, got {scale}")
    builder = _Builder(seed, scale)
    builder.meta()
    builder.market()
    builder.funds()
    builder.people()
    builder.accounts()
    tick, stop = progress_bar(show_progress, scale, "generating transactions")
    try:
        builder.activity(tick)
    finally:
        stop()
    return builder.rows


def create_replica_schema(path: str) -> sqlite3.Connection:
    """Create the replica's tables and indexes in a new SQLite file; a connection to it."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as ddl:  # create_all orders a table's indexes by set iteration: not reproducible
        for table in Base.metadata.sorted_tables:
            ddl.execute(CreateTable(table))
            for index in sorted(table.indexes, key=lambda ix: ix.name):
                ddl.execute(CreateIndex(index))
    engine.dispose()
    return sqlite3.connect(path)


def insert_rows(con: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)


def finish_replica(con: sqlite3.Connection) -> None:
    """Commit, gather the planner's statistics and rewrite the file compactly (``VACUUM``): the
    bytes then depend only on the rows inserted and their order."""
    con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.execute("VACUUM")


def generate_replica(path: str | os.PathLike, seed: int = DEFAULT_SEED, scale: int = DEFAULT_SCALE,
                     show_progress: bool = False) -> Path:
    """Write a deterministic replica to ``path`` (atomically) and return the path."""
    path = Path(path)
    rows = _build_rows(seed, scale, show_progress)
    clean_stale_temps(path)
    tmp = temp_beside(path)
    try:
        con = create_replica_schema(str(tmp))
        try:
            for table in Base.metadata.sorted_tables:
                insert_rows(con, table.name, rows[table.name])
            finish_replica(con)
        finally:
            con.close()
        commit_temp(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_source(engine: Engine, seed: int = DEFAULT_SEED, scale: int = DEFAULT_SCALE,
                show_progress: bool = False) -> dict[str, int]:
    """Create the model's tables in any SQLAlchemy database (PostgreSQL, ...) and fill them with
    the rows ``generate_replica`` writes for ``(seed, scale)``, as a production-shaped source for
    ``mock_apis.deid.build_replica``; no ``meta`` table (production has none). The row counts."""
    rows = _build_rows(seed, scale, show_progress)
    Base.metadata.create_all(engine, tables=SOURCE_TABLES)
    with engine.begin() as con:
        for table in SOURCE_TABLES:
            dates = {c.name for c in table.columns if isinstance(c.type, Date)}
            names = [c.name for c in table.columns]
            for lo in range(0, len(rows[table.name]), 10_000):
                con.execute(table.insert(), [
                    {n: date.fromisoformat(v) if n in dates and v is not None else v for n, v in zip(names, row)}
                    for row in rows[table.name][lo:lo + 10_000]])
    return {t.name: len(rows[t.name]) for t in SOURCE_TABLES}


def iter_row_counts(path: str | os.PathLike) -> Iterator[tuple[str, int]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table in Base.metadata.sorted_tables:
            yield table.name, con.execute(f"SELECT COUNT(*) FROM {table.name}").fetchone()[0]
    finally:
        con.close()


def replica_digest(path: str | os.PathLike) -> str:
    """SHA-256 of the replica's rows, table by table in the model's order, each table's rows
    sorted: the replica's identity, independent of the SQLite version that wrote the file."""
    digest = hashlib.sha256()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table in Base.metadata.sorted_tables:
            n_columns = len(table.columns)
            order = ", ".join(str(i) for i in range(1, n_columns + 1))
            digest.update(f"\0table {table.name}\0".encode())
            for row in con.execute(f"SELECT * FROM {table.name} ORDER BY {order}"):
                digest.update(json.dumps(row, separators=(",", ":")).encode())
                digest.update(b"\n")
    finally:
        con.close()
    return digest.hexdigest()
