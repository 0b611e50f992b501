"""Seeded synthetic replica of the card-disputes back office.

``generate_replica(path, seed, scale)`` writes a SQLite replica whose rows depend only on
``(seed, scale)`` and ``GENERATOR_VERSION``: every value comes from this module's own pools and
seeded ``random.Random`` streams, never from a third party's random stream or today's date.
``scale`` is the number of card transactions (the largest table); the other tables are sized
from it. The people are fictional: names from the small pools below, phones in the 555-01xx
block reserved for fiction, emails on the reserved example domains.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from mock_apis.atomic import clean_stale_temps, commit_temp, temp_beside
from mock_apis.domains.card_disputes.models import SCHEMA_VERSION, Base

GENERATOR_VERSION = "1"
AS_OF = date(2025, 9, 30)
HISTORY_DAYS = 210
DEFAULT_SEED = 0
DEFAULT_SCALE = 4000
MIN_SCALE = 200
#: A purchase can be disputed up to this many days after its transaction date.
DISPUTE_WINDOW_DAYS = 120
#: The bank decides a dispute within this many days of opening it.
DECISION_DAYS = 45
#: Disputes above this amount get no provisional credit without a back-office decision.
PROVISIONAL_CREDIT_LIMIT = 2500.0

FIRST_NAMES = ("Ada", "Alan", "Amara", "Bianca", "Boris", "Camille", "Carmen", "Dario", "Delia", "Elena", "Emil",
               "Farah", "Felix", "Greta", "Hugo", "Ines", "Ivan", "Jonas", "Julia", "Kenji", "Lara", "Leon", "Marta",
               "Milo", "Nadia", "Nico", "Olga", "Omar", "Paula", "Pavel", "Rosa", "Ruben", "Selma", "Tariq", "Tessa",
               "Ulla", "Victor", "Wanda", "Yara", "Zoran")
LAST_NAMES = ("Abbott", "Bauer", "Castell", "Dalton", "Eriksen", "Fontaine", "Gallo", "Hartley", "Ibarra", "Jansen",
              "Keller", "Lindqvist", "Moreau", "Novak", "Okafor", "Pereira", "Quinlan", "Rossi", "Sandoval", "Tanaka",
              "Ulrich", "Varga", "Whitlock", "Xavier", "Yilmaz", "Zeller", "Brennan", "Costa", "Dumont", "Falk")
STREETS = ("Alder Row", "Beacon Street", "Canal Road", "Dover Lane", "Elmwood Drive", "Fairview Avenue",
           "Granite Way", "Harbor Court", "Iris Place", "Juniper Road")
CITIES = (("Portland", "OR", "972"), ("Madison", "WI", "537"), ("Raleigh", "NC", "276"), ("Tucson", "AZ", "857"),
          ("Boise", "ID", "837"), ("Albany", "NY", "122"), ("Richmond", "VA", "232"), ("Omaha", "NE", "681"))
AREA_CODES = ("206", "312", "415", "503", "608", "617", "702", "919")
# (name, category, merchant category code, purchase amount range)
MERCHANTS = (
    ("Northwind Grocers", "groceries", "5411", (12, 180)), ("Greenleaf Market", "groceries", "5411", (8, 140)),
    ("Harvest Table", "restaurants", "5812", (18, 160)), ("Copper Kettle Cafe", "restaurants", "5814", (4, 35)),
    ("Bluebird Airlines", "air travel", "4511", (120, 1400)), ("Skyline Air", "air travel", "4511", (90, 1100)),
    ("Lakeshore Hotels", "lodging", "7011", (110, 900)), ("Pinecrest Inn", "lodging", "7011", (85, 600)),
    ("Voltline Electronics", "electronics", "5732", (25, 3200)), ("Circuit Harbor", "electronics", "5732", (15, 2400)),
    ("StreamBox Video", "subscriptions", "4899", (9, 25)), ("Melody Cloud", "subscriptions", "5815", (5, 18)),
    ("FitCore Gym", "fitness", "7997", (25, 90)), ("Quickfuel Station", "fuel", "5542", (20, 95)),
    ("Atlas Home Goods", "home furnishing", "5712", (40, 2800)), ("Maple & Oak Furniture", "home furnishing", "5712",
                                                                  (150, 4200)),
    ("Trailhead Outfitters", "sporting goods", "5941", (20, 650)), ("Parcelpoint Online", "online marketplace", "5399",
                                                                     (6, 480)),
    ("Brightsmile Dental", "medical", "8021", (60, 1800)), ("CityRide Taxi", "transport", "4121", (8, 70)),
    ("Evergreen Pharmacy", "pharmacy", "5912", (6, 120)), ("Silverscreen Cinemas", "entertainment", "7832", (12, 60)),
    ("Wanderlust Tours", "travel agency", "4722", (200, 3600)), ("Ticketwave", "event tickets", "7922", (35, 900)),
)
SEGMENTS = ("standard", "standard", "standard", "premier", "student")
BLOCK_REASONS = ("reported lost", "reported stolen", "suspected fraud")
DISPUTE_REASONS = ("fraud", "not_received", "not_as_described", "duplicate", "cancelled_recurring", "wrong_amount")
NOTE_TEXTS = (
    "Cardholder sent the merchant correspondence.", "Merchant response requested through the network.",
    "Cardholder confirmed the card was in their possession.", "Receipt provided by the cardholder.",
    "Called the cardholder to confirm the disputed amount.", "Merchant says the goods were shipped; tracking requested.",
)


def _iso(d: date) -> str:
    return d.isoformat()


class _Builder:
    def __init__(self, seed: int, scale: int):
        self.rng = random.Random(f"card-disputes-{seed}")
        self.seed, self.scale = seed, scale
        self.n_cardholders = max(40, scale // 40)
        self.rows: dict[str, list[tuple]] = {}

    def _day(self, lo_days: int, hi_days: int) -> date:
        return AS_OF - timedelta(days=self.rng.randint(lo_days, hi_days))

    def meta(self) -> None:
        self.rows["meta"] = [("as_of", _iso(AS_OF)), ("domain", "card_disputes"),
                             ("generator_version", GENERATOR_VERSION), ("scale", str(self.scale)),
                             ("schema_version", SCHEMA_VERSION), ("seed", str(self.seed))]

    def merchants(self) -> None:
        self.rows["merchants"] = [(f"M{i:05d}", name, category, mcc)
                                  for i, (name, category, mcc, _) in enumerate(MERCHANTS, 1)]
        self.merchant_ranges = {f"M{i:05d}": bounds for i, (_, _, _, bounds) in enumerate(MERCHANTS, 1)}

    def cardholders(self) -> None:
        rng = self.rng
        used: set[str] = set()
        rows = []
        for i in range(1, self.n_cardholders + 1):
            for _ in range(20):  # a name identifies one cardholder while the pools allow it
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                if f"{first} {last}" not in used:
                    break
            used.add(f"{first} {last}")
            city, state, zip3 = rng.choice(CITIES)
            address = f"{rng.randint(1, 9899)} {rng.choice(STREETS)}, {city}, {state} {zip3}{rng.randint(1, 99):02d}"
            email = f"{first.lower()}.{last.lower()}@{rng.choice(('example.com', 'example.org', 'example.net'))}"
            phone = f"{rng.choice(AREA_CODES)}-555-01{rng.randint(0, 99):02d}"
            birth = AS_OF - timedelta(days=rng.randint(19 * 365, 85 * 365))
            rows.append((f"H{i:06d}", f"{first} {last}", email, phone, address, _iso(birth), rng.choice(SEGMENTS),
                         _iso(self._day(200, 5000))))
        self.rows["cardholders"] = rows
        self.cardholder_ids = [r[0] for r in rows]

    def cards(self) -> None:
        rng = self.rng
        rows = []
        self.card_owner: dict[str, str] = {}
        self.card_status: dict[str, str] = {}
        n = 0
        for hid in self.cardholder_ids:
            for _ in range(rng.choices([1, 2, 3], weights=[50, 38, 12])[0]):
                n += 1
                cid = f"K{n:07d}"
                status = rng.choices(["active", "blocked", "closed"], weights=[84, 11, 5])[0]
                opened = self._day(60, 2400)
                expires = date(AS_OF.year + rng.randint(1, 4), rng.randint(1, 12), 1)
                rows.append((cid, hid, f"{rng.randint(0, 9999):04d}", rng.choice(("visa", "mastercard")),
                             rng.choice(("debit", "debit", "credit")), status,
                             rng.choice(BLOCK_REASONS) if status == "blocked" else None, _iso(opened), _iso(expires)))
                self.card_owner[cid] = hid
                self.card_status[cid] = status
        self.rows["cards"] = rows
        self.card_ids = [r[0] for r in rows]

    def transactions(self) -> None:
        rng = self.rng
        merchant_ids = sorted(self.merchant_ranges)
        txns = []
        for i in range(1, self.scale + 1):
            card = self.card_ids[rng.randrange(len(self.card_ids))]
            merchant = merchant_ids[rng.randrange(len(merchant_ids))]
            age = rng.randint(0, HISTORY_DAYS)
            lo, hi = self.merchant_ranges[merchant]
            kind = "refund" if rng.random() < 0.06 else "purchase"
            amount = round(rng.uniform(lo, hi) * (0.5 if kind == "refund" else 1.0), 2)
            status = "pending" if age <= 2 else ("reversed" if rng.random() < 0.03 else "posted")
            txns.append((f"P{i:09d}", card, merchant, _iso(AS_OF - timedelta(days=age)), kind, status, amount))
        txns.sort(key=lambda t: (t[1], t[3], t[0]))
        self.rows["card_transactions"] = txns

    def disputes(self) -> None:
        rng = self.rng
        by_owner: dict[str, list[tuple]] = {}
        for t in self.rows["card_transactions"]:
            if t[4] == "purchase" and t[5] == "posted":
                by_owner.setdefault(self.card_owner[t[1]], []).append(t)
        disputes, credits, notes = [], [], []
        for hid in self.cardholder_ids:
            purchases = by_owner.get(hid, [])
            if not purchases or rng.random() > 0.5:
                continue
            chosen = rng.sample(purchases, min(len(purchases), rng.choice([1, 1, 2])))
            if rng.random() < 0.25:  # big-ticket disputes: some exceed the provisional-credit limit
                chosen[0] = max(purchases, key=lambda p: (p[6], p[0]))
            for t in dict.fromkeys(chosen):
                txn_date = date.fromisoformat(t[3])
                opened = txn_date + timedelta(days=rng.randint(1, 40))
                if opened > AS_OF:
                    opened = AS_OF - timedelta(days=rng.randint(0, 3))
                    if opened < txn_date:
                        continue
                age = (AS_OF - opened).days
                if age < DECISION_DAYS:
                    status = rng.choice(("open", "open", "under_review"))
                    resolved = None
                else:
                    status = rng.choices(("won", "lost", "withdrawn", "under_review"), weights=[50, 30, 12, 8])[0]
                    resolved = (None if status == "under_review"
                                else _iso(opened + timedelta(days=rng.randint(10, DECISION_DAYS))))
                amount = t[6] if rng.random() < 0.85 else round(t[6] * rng.uniform(0.2, 0.9), 2)
                reason = rng.choice(DISPUTE_REASONS)
                did = f"D{len(disputes) + 1:08d}"
                disputes.append((did, t[0], t[1], hid, reason, amount, status, _iso(opened),
                                 _iso(opened + timedelta(days=DECISION_DAYS)), resolved))
                if (status == "won" or (status in ("open", "under_review") and rng.random() < 0.5)) \
                        and amount <= PROVISIONAL_CREDIT_LIMIT:
                    credits.append((f"R{len(credits) + 1:08d}", did, amount,
                                    _iso(min(AS_OF, opened + timedelta(days=rng.randint(1, 10))))))
                for _ in range(rng.choice([0, 1, 1, 2])):
                    notes.append((f"N{len(notes) + 1:08d}", did,
                                  _iso(min(AS_OF, opened + timedelta(days=rng.randint(0, 20)))),
                                  rng.choice(NOTE_TEXTS)))
        self.rows["disputes"], self.rows["provisional_credits"], self.rows["dispute_notes"] = disputes, credits, notes


def build_rows(seed: int, scale: int) -> dict[str, list[tuple]]:
    """Every table's rows for ``(seed, scale)``, in insertion order."""
    if scale < MIN_SCALE:
        raise ValueError(f"scale must be at least {MIN_SCALE}, got {scale}")
    builder = _Builder(seed, scale)
    builder.meta()
    builder.merchants()
    builder.cardholders()
    builder.cards()
    builder.transactions()
    builder.disputes()
    return builder.rows


def generate_replica(path: str | os.PathLike, seed: int = DEFAULT_SEED, scale: int = DEFAULT_SCALE,
                     show_progress: bool = False) -> Path:
    """Write a deterministic card-disputes replica to ``path`` (atomically) and return the path.
    (``show_progress`` is accepted for the domain interface; this generator is fast enough without.)"""
    path = Path(path)
    rows = build_rows(seed, scale)
    clean_stale_temps(path)
    tmp = temp_beside(path)
    try:
        engine = create_engine(f"sqlite:///{tmp}")
        with engine.begin() as ddl:  # indexes in name order: create_all's set order is not reproducible
            for table in Base.metadata.sorted_tables:
                ddl.execute(CreateTable(table))
                for index in sorted(table.indexes, key=lambda ix: ix.name):
                    ddl.execute(CreateIndex(index))
        engine.dispose()
        con = sqlite3.connect(tmp)
        try:
            for table in Base.metadata.sorted_tables:
                table_rows = rows[table.name]
                if table_rows:
                    marks = ",".join("?" * len(table_rows[0]))
                    con.executemany(f"INSERT INTO {table.name} VALUES ({marks})", table_rows)
            con.commit()
            con.execute("ANALYZE")
            con.commit()
            con.execute("VACUUM")
        finally:
            con.close()
        commit_temp(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def replica_digest(path: str | os.PathLike) -> str:
    """SHA-256 of the replica's rows, table by table, each table's rows sorted."""
    digest = hashlib.sha256()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table in Base.metadata.sorted_tables:
            order = ", ".join(str(i) for i in range(1, len(table.columns) + 1))
            digest.update(f"\0table {table.name}\0".encode())
            for row in con.execute(f"SELECT * FROM {table.name} ORDER BY {order}"):
                digest.update(json.dumps(row, separators=(",", ":")).encode())
                digest.update(b"\n")
    finally:
        con.close()
    return digest.hexdigest()
