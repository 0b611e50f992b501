"""De-identified replicas from a real database: ``advisorgym replica build`` from a real
PostgreSQL server (started by ``mock_apis/postgres/start.sh``, which installs it with apt on a
fresh Debian machine), loaded with a Faker-generated "production" dataset through the data
model, with PII planted in its free text.

Marked ``postgres``. It never skips silently: if PostgreSQL cannot be set up the tests FAIL with
the reason; ``ADVISORGYM_SKIP_POSTGRES=1`` skips them (loudly). The pseudonymiser's own tests and
the generator's fictional ranges need no server.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mock_apis.deid import PII_COLUMNS, DeidKeyError, Pseudonymiser, SchemaDrift, build_replica, key_fingerprint, \
    load_key, manifest_path
from mock_apis.deid.pseudonymise import FIRST_NAMES, LAST_NAMES
from mock_apis.domains.finance.generate import load_source
from mock_apis.domains.finance.models import SOURCE_TABLES, Base

SKIP_ENV = "ADVISORGYM_SKIP_POSTGRES"
KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
SOURCE_SEED, SOURCE_SCALE = 7, 2000
NOTE_ROWS = 40  # notes that get the client's and advisor's PII written into them
GENERATED_SSN = re.compile(r"9[0-4]\d-(0[1-9]|[1-4]\d)-\d{4}")
PSEUDONYM_SSN = re.compile(r"9[5-9]\d-(0[1-9]|[1-4]\d)-\d{4}")
PSEUDONYM_PHONE = re.compile(r"\+1-\d{3}-555-01[5-9]\d")

postgres = pytest.mark.postgres
pytestmark = pytest.mark.timeout(1500)  # a fresh machine installs PostgreSQL with apt first (START_TIMEOUT_S)


# -- the source ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"SKIPPED LOUDLY: {SKIP_ENV}=1, the replica-build tests against PostgreSQL did not run")
    from mock_apis.postgres import PostgresUnavailable, running_postgres

    try:
        with running_postgres() as url:
            yield url
    except PostgresUnavailable as err:
        pytest.fail(f"PostgreSQL could not be set up: {err}\n(set {SKIP_ENV}=1 to skip these tests on a machine "
                    "that cannot run it)", pytrace=False)


def _plant_pii(url: str) -> None:
    """Write clients' and advisors' PII into free text, as advisors do in production."""
    engine = create_engine(url)
    with engine.begin() as con:
        con.execute(text(
            "UPDATE advisor_notes n SET text = n.text || ' Called ' || c.full_name || ' on ' || c.phone || "
            "' (SSN ' || c.national_id || ', ' || c.email || '); cc ' || a.full_name || ' at ' || a.email || '.' "
            "FROM clients c, advisors a WHERE c.client_id = n.client_id AND a.advisor_id = n.advisor_id "
            f"AND n.note_id <= 'N{NOTE_ROWS:09d}'"))
        con.execute(text(
            "UPDATE compliance_records r SET restriction_reason = 'Review requested by ' || c.full_name || "
            "', ' || c.phone FROM clients c WHERE c.client_id = r.client_id AND r.client_id <= 'C000020'"))
        # the forms a first scrubber let through: possessives (straight and curly apostrophes), the
        # client's street address, an SSN written without dashes
        con.execute(text(
            "UPDATE advisor_notes n SET text = n.text || ' ' || c.full_name || '''s wife called; sent "
            "to ' || c.address || '. ' || split_part(c.full_name, ' ', 2) || '\u2019s SSN ' || "
            "replace(c.national_id, '-', '') || ' verified.' FROM clients c WHERE c.client_id = n.client_id "
            f"AND n.note_id > 'N{NOTE_ROWS:09d}' AND n.note_id <= 'N{2 * NOTE_ROWS:09d}'"))
        con.execute(text(
            "UPDATE compliance_records r SET restriction_reason = c.full_name || '\u2019s account frozen; "
            "mail to ' || c.address FROM clients c WHERE c.client_id = r.client_id "
            "AND r.client_id > 'C000020' AND r.client_id <= 'C000040'"))
    engine.dispose()


@pytest.fixture(scope="session")
def source_url(pg_admin: str) -> str:
    from mock_apis.postgres import create_database

    url = create_database(pg_admin, "production")
    engine = create_engine(url)
    load_source(engine, seed=SOURCE_SEED, scale=SOURCE_SCALE)
    engine.dispose()
    _plant_pii(url)
    return url


def _source_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    model = Base.metadata.tables[table]
    cols = ", ".join(c.name for c in model.columns)
    order = ", ".join(c.name for c in model.primary_key.columns)
    engine = create_engine(url)
    with engine.connect() as con:
        rows = [tuple(v.isoformat() if isinstance(v, date) else v for v in row)
                for row in con.execute(text(f"SELECT {cols} FROM {table} ORDER BY {order}"))]
    engine.dispose()
    return rows


@pytest.fixture(scope="session")
def built(source_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("built")
    a1, a2, b = out / "a1.sqlite", out / "a2.sqlite", out / "b.sqlite"
    manifest = build_replica(source_url, a1, KEY_A)
    build_replica(source_url, a2, KEY_A, batch_rows=97)  # other batch boundaries, same bytes
    build_replica(source_url, b, KEY_B)
    return {"a": a1, "a2": a2, "b": b, "manifest": manifest}


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    model = Base.metadata.tables[table]
    order = ", ".join(c.name for c in model.primary_key.columns)
    con = sqlite3.connect(path)
    try:
        cols = ", ".join(c.name for c in model.columns)
        return con.execute(f"SELECT {cols} FROM {table} ORDER BY {order}").fetchall()
    finally:
        con.close()


# -- acceptance ------------------------------------------------------------------------------


@postgres
def test_no_source_pii_value_appears_anywhere_in_the_replica_file(source_url: str, built: dict[str, Any]) -> None:
    data = built["a"].read_bytes()
    checked = 0
    for (table, column), kind in PII_COLUMNS.items():
        if kind in ("note", "birth_date"):  # notes: their PII is the columns' values, checked here
            continue
        index = [c.name for c in Base.metadata.tables[table].columns].index(column)
        for row in _source_rows(source_url, table):
            value = row[index]
            assert value.encode() not in data, f"{table}.{column} value {value!r} is in the replica"
            checked += 1
    assert checked > 300
    planted = [r[-1] for r in _source_rows(source_url, "advisor_notes")[:NOTE_ROWS]]
    assert all(" Called " in t for t in planted)  # the planted text was there to scrub
    # Birth dates: ~24k possible days, so another client's pseudonym may be a source date; no one
    # keeps their own, and a source birth date in the file is only ever someone's pseudonym.
    source_births = {r[0]: r[7] for r in _source_rows(source_url, "clients")}
    replica_births = {r[0]: r[7] for r in _rows(built["a"], "clients")}
    assert all(replica_births[c] != d and replica_births[c][:4] == d[:4] for c, d in source_births.items())
    for d in set(source_births.values()):
        assert data.count(d.encode()) == list(replica_births.values()).count(d), d
    assert KEY_A not in data and KEY_A.hex() not in manifest_path(built["a"]).read_text()


@postgres
def test_possessives_addresses_and_undashed_ssns_in_free_text_are_scrubbed(source_url: str,
                                                                          built: dict[str, Any]) -> None:
    """The planted notes and restriction reasons name their client with a possessive (straight or
    curly apostrophe), quote the client's street address and the SSN without dashes: in the built
    replica none of the client's name parts, address, street line or SSN digits is left, and the
    possessive is kept on the pseudonym."""
    clients = {r[0]: r for r in _source_rows(source_url, "clients")}
    columns = [c.name for c in Base.metadata.tables["clients"].columns]
    name_at, address_at, ssn_at = columns.index("full_name"), columns.index("address"), columns.index("national_id")
    source = {r[0]: r[-1] for r in _source_rows(source_url, "advisor_notes")}
    con = sqlite3.connect(built["a"])
    try:
        notes = con.execute("SELECT note_id, client_id, text FROM advisor_notes WHERE note_id > ? AND note_id <= ?",
                            (f"N{NOTE_ROWS:09d}", f"N{2 * NOTE_ROWS:09d}")).fetchall()
        reasons = con.execute("SELECT client_id, client_id, restriction_reason FROM compliance_records "
                              "WHERE client_id > 'C000020' AND client_id <= 'C000040'").fetchall()
    finally:
        con.close()
    assert len(notes) >= NOTE_ROWS * 3 // 4 and len(reasons) >= 10
    assert all("'s wife called" in source[n] and "\u2019s SSN " in source[n] for n, _, _ in notes)  # planted
    for _, client_id, scrubbed in [*notes, *reasons]:
        client = clients[client_id]
        address = client[address_at]
        leaks = [part for part in client[name_at].replace(".", " ").split()
                 if len(part) > 2 and re.search(rf"\b{re.escape(part)}\b", scrubbed)]
        leaks += [v for v in (address, address.split(",")[0], address.split("\n")[0],
                              client[ssn_at].replace("-", "")) if v in scrubbed]
        assert not leaks, (client_id, leaks, scrubbed)
        assert re.search(r"\w['\u2019]s (?:wife|SSN|account)", scrubbed), scrubbed


@postgres
def test_every_foreign_key_resolves_and_ids_are_kept(source_url: str, built: dict[str, Any]) -> None:
    con = sqlite3.connect(built["a"])
    try:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = con.execute("SELECT COUNT(*) FROM advisor_notes n LEFT JOIN clients c USING (client_id) "
                              "LEFT JOIN advisors a ON a.advisor_id = n.advisor_id "
                              "WHERE c.client_id IS NULL OR a.advisor_id IS NULL").fetchone()[0]
        assert orphans == 0
    finally:
        con.close()
    for table in ("clients", "accounts", "holdings", "transactions", "advisor_notes"):
        keys = [c.name for c in Base.metadata.tables[table].columns if c.primary_key or c.foreign_keys]
        idx = [c.name for c in Base.metadata.tables[table].columns].index
        pick = lambda rows: [tuple(r[idx(k)] for k in keys) for r in rows]  # noqa: E731
        assert pick(_rows(built["a"], table)) == pick(_source_rows(source_url, table))


@postgres
def test_row_counts_equal_the_source_and_non_pii_facts_are_kept(source_url: str, built: dict[str, Any]) -> None:
    manifest = built["manifest"]
    for table in SOURCE_TABLES:
        source, replica = _source_rows(source_url, table.name), _rows(built["a"], table.name)
        assert len(source) == len(replica) == manifest["row_counts"][table.name], table.name
        keep = [i for i, c in enumerate(table.columns) if (table.name, c.name) not in PII_COLUMNS]
        assert [tuple(r[i] for i in keep) for r in replica] == [tuple(r[i] for i in keep) for r in source], table.name


@postgres
def test_same_key_gives_identical_bytes_another_key_other_pseudonyms(built: dict[str, Any]) -> None:
    assert built["a"].read_bytes() == built["a2"].read_bytes()
    a, b = _rows(built["a"], "clients"), _rows(built["b"], "clients")
    for col in (2, 3, 4, 5, 6):  # full_name, national_id, phone, email, address
        assert sum(x[col] != y[col] for x, y in zip(a, b)) > 0.9 * len(a)
    assert [x[8:] for x in a] == [y[8:] for y in b]  # segment, onboarded_on: not PII
    assert _rows(built["a"], "transactions") == _rows(built["b"], "transactions")


@postgres
def test_pseudonyms_are_consistent_across_tables_and_fictional(source_url: str, built: dict[str, Any]) -> None:
    p = Pseudonymiser(KEY_A)
    source = {r[0]: r for r in _source_rows(source_url, "clients")}
    replica = {r[0]: r for r in _rows(built["a"], "clients")}
    for cid, row in source.items():
        assert replica[cid][2:8] == tuple(p.fake(k, v) for k, v in zip(
            ("name", "national_id", "phone", "email", "address", "birth_date"), row[2:8]))
        assert PSEUDONYM_SSN.fullmatch(replica[cid][3]) and PSEUDONYM_PHONE.fullmatch(replica[cid][4])
        assert replica[cid][5].endswith("@example.net")
    notes = _rows(built["a"], "advisor_notes")[:NOTE_ROWS]
    for note in notes:  # the client's pseudonyms, as in the clients table
        client = replica[note[1]]
        assert f"Called {client[2]} on {client[4]} (SSN {client[3]}, {client[5]})" in note[-1], note[-1]
    reasons = dict((r[0], r[4]) for r in _rows(built["a"], "compliance_records"))
    assert reasons["C000001"] == f"Review requested by {replica['C000001'][2]}, {replica['C000001'][4]}"
    meta = dict(sqlite3.connect(built["a"]).execute("SELECT key, value FROM meta").fetchall())
    assert meta["deid_key_fingerprint"] == key_fingerprint(KEY_A) == built["manifest"]["key_fingerprint"]


@postgres
def test_the_manifest(built: dict[str, Any]) -> None:
    manifest = built["manifest"]
    assert manifest_path(built["a"]).is_file()
    assert set(manifest) >= {"row_counts", "built_at", "key_fingerprint", "contract", "source", "builder"}
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["source"]["schema_sha256"])
    assert manifest["contract"]["file"] == "contract-v1.json" and manifest["contract"]["schema_version"]
    assert "postgres@127.0.0.1" in manifest["source"]["url"]


@postgres
def test_a_drifted_source_is_reported_naming_the_columns(pg_admin: str, source_url: str, tmp_path: Path) -> None:
    from mock_apis.postgres import create_database

    url = create_database(pg_admin, "drifted", template="production")
    engine = create_engine(url)
    with engine.begin() as con:
        con.execute(text("ALTER TABLE clients ADD COLUMN loyalty_tier text"))
        con.execute(text("ALTER TABLE accounts RENAME COLUMN cash_balance TO balance"))
        con.execute(text("ALTER TABLE orders ALTER COLUMN amount TYPE text"))
    engine.dispose()
    for allow_extra in (False, True):  # a missing or retyped column is never allowed
        with pytest.raises(SchemaDrift) as err:
            build_replica(url, tmp_path / "drifted.sqlite", KEY_A, allow_extra=allow_extra)
        found = {(p.table, p.column, p.kind) for p in err.value.problems}
        expected = {("accounts", "cash_balance", "missing_column"), ("orders", "amount", "type_changed")}
        assert found == expected | (set() if allow_extra else {("clients", "loyalty_tier", "extra_column"),
                                                                ("accounts", "balance", "extra_column")})
        assert "accounts.cash_balance: missing column" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


@postgres
def test_allow_extra_leaves_an_extra_column_out_and_says_so(pg_admin: str, source_url: str, tmp_path: Path) -> None:
    from mock_apis.postgres import create_database

    url = create_database(pg_admin, "extra", template="production")
    engine = create_engine(url)
    with engine.begin() as con:
        con.execute(text("ALTER TABLE clients ADD COLUMN mothers_maiden_name text DEFAULT 'Zyxwvutsrq'"))
        con.execute(text("CREATE TABLE audit_trail (id int)"))
    engine.dispose()
    with pytest.raises(SchemaDrift, match="clients.mothers_maiden_name: extra column"):
        build_replica(url, tmp_path / "r.sqlite", KEY_A)
    manifest = build_replica(url, tmp_path / "r.sqlite", KEY_A, allow_extra=True)
    assert manifest["source"]["left_out"] == ["clients.mothers_maiden_name: extra column (found text)",
                                              "audit_trail: extra table"]
    assert b"Zyxwvutsrq" not in (tmp_path / "r.sqlite").read_bytes()


@postgres
def test_the_built_replica_runs_in_the_env(built: dict[str, Any]) -> None:
    import orjson

    from envs import FinAdvisorEnv
    from envs.tasks import HANDWRITTEN

    env = FinAdvisorEnv(tasks=HANDWRITTEN, replica=str(built["a"]), check_replica=False)
    try:
        assert env.contract_status["ok"], env.contract_status
        env.reset(seed=0, options={"task_id": "hw-L1-01"})
        obs, *_ = env.step('{"thought": "Look the client up.", "action": {"name": "get_client_profile", '
                           '"arguments": {"client_id": "C000001"}}}')
        profile = orjson.loads(obs)
        assert profile["full_name"] == _rows(built["a"], "clients")[0][2]
        assert profile["national_id_last4"] == _rows(built["a"], "clients")[0][3][-4:]
    finally:
        env.close()


@postgres
def test_the_cli_builds_and_reports(source_url: str, pg_admin: str, tmp_path: Path) -> None:
    from envs.cli import app
    from mock_apis.postgres import create_database

    key = tmp_path / "key"
    key.write_bytes(KEY_A)
    out = tmp_path / "cli.sqlite"
    runner = CliRunner()
    res = runner.invoke(app, ["replica", "build", "--source", source_url, "--out", str(out), "--key-file", str(key),
                              "--no-progress"])
    assert res.exit_code == 0, res.output
    assert f"manifest: {out}.manifest.json" in res.output and key_fingerprint(KEY_A) in res.output
    drifted = create_database(pg_admin, "cli_drift", template="production")
    engine = create_engine(drifted)
    with engine.begin() as con:
        con.execute(text("ALTER TABLE clients RENAME COLUMN email TO email_address"))
    engine.dispose()
    res = runner.invoke(app, ["replica", "build", "--source", drifted, "--out", str(tmp_path / "d.sqlite"),
                              "--key-file", str(key), "--no-progress"])
    assert res.exit_code == 1, res.output
    assert "clients.email: missing column" in res.output and "clients.email_address: extra column" in res.output
    res = runner.invoke(app, ["replica", "build", "--source", source_url, "--out", str(out), "--no-progress"])
    assert res.exit_code == 2 and "--key-file" in res.output
    res = runner.invoke(app, ["replica", "build", "--source", "not a url", "--out", str(out), "--key-file", str(key)])
    assert res.exit_code == 2 and "not a SQLAlchemy URL" in res.output


# -- without a server ------------------------------------------------------------------------


def test_generated_replicas_have_only_fictional_ids_phones_and_emails(replica_path: Path) -> None:
    con = sqlite3.connect(replica_path)
    try:
        clients = con.execute("SELECT national_id, phone, email FROM clients").fetchall()
        advisors = con.execute("SELECT NULL, phone, email FROM advisors").fetchall()
    finally:
        con.close()
    for ssn, phone, email in clients + advisors:
        assert ssn is None or GENERATED_SSN.fullmatch(ssn), ssn
        assert re.fullmatch(r"(?:\+1-|001-)?(?:\(\d{3}\)|\d{3})[-.]?555[-.]?01[0-4]\d(?:x\d+)?", phone), phone
        assert email.rsplit("@", 1)[1] in ("example.com", "example.org", "example.net"), email
    assert len(clients) >= 80


def test_pseudonyms_are_keyed_deterministic_and_normalised() -> None:
    p, q = Pseudonymiser(KEY_A), Pseudonymiser(KEY_B)
    assert p.fake("name", "Dr. John Smith MD") == p.fake("name", "john  smith") == Pseudonymiser(KEY_A).fake(
        "name", "John Smith")
    assert p.fake("phone", "(212)555-0123x45") == p.fake("phone", "+1-212-555-0123x45") == p.fake(
        "phone", "001-212-555-0123x45")
    assert p.fake("email", "A.B@Gmail.com") == p.fake("email", "a.b@gmail.com")
    values = [("name", "John Smith"), ("national_id", "123-45-6789"), ("phone", "212-555-0123"),
              ("email", "a@b.com"), ("address", "1 Main St, Springfield, IL 62704")]
    assert sum(p.fake(k, v) != q.fake(k, v) for k, v in values) == len(values)
    for i in range(400):
        d = date.fromordinal(date(1930, 1, 1).toordinal() + 97 * i).isoformat()
        assert p.fake("birth_date", d) != d and p.fake("birth_date", d)[:4] == d[:4]
        assert PSEUDONYM_SSN.fullmatch(p.fake("national_id", f"{i:03d}-12-3456"))
        assert PSEUDONYM_PHONE.fullmatch(p.fake("phone", f"212-555-{i:04d}"))
    with pytest.raises(ValueError, match="unknown PII kind"):
        p.fake("passport", "X")


def test_scrub_replaces_pii_inside_text_in_every_faker_format() -> None:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(3)
    p = Pseudonymiser(KEY_A)
    p.register_names(["Mrs. Jane Q. Doe PhD", "Bob Stone"])
    for _ in range(300):
        phone, ssn, email = fake.phone_number(), fake.ssn(), fake.email()
        out = p.scrub(f"Call {phone}, SSN {ssn}; mail {email}.")
        assert phone not in out and ssn not in out and email not in out, out
        assert p.fake("phone", phone) in out and p.fake("national_id", ssn) in out and p.fake("email", email) in out
    out = p.scrub("Met Jane Doe and Jane Q. Doe; Mrs. Doe and bob stone agreed. Paid 1,234.56 on 2025-06-30 to "
                  "A0000003 (T000000012).")
    doe = p.fake("name", "Jane Doe")
    assert out == (f"Met {doe} and {doe}; Mrs. {doe.split()[1]} and {p.fake('name', 'Bob Stone')} agreed. "
                   "Paid 1,234.56 on 2025-06-30 to A0000003 (T000000012).")
    assert p.fake("note", "Jane Doe called") == p.scrub("Jane Doe called")
    p.register_names(["José García-Márquez", "Seán O'Neil"])
    jose, sean = p.fake("name", "josé garcía-márquez"), p.fake("name", "SEÁN O'NEIL")
    assert p.scrub("Habló con José García-Márquez y Seán O'Neil.") == f"Habló con {jose} y {sean}."


def test_name_pools_share_no_name_with_any_faker_locale() -> None:
    import faker.providers.person as person

    faker_names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary", "last_names"):
            names = provider.__dict__.get(attr, ())
            faker_names |= {n.lower() for n in names} if isinstance(names, (dict, tuple, list, set)) else set()
    assert len(faker_names) > 10_000
    assert {n.lower() for n in FIRST_NAMES + LAST_NAMES} & faker_names == set()
    assert len(set(FIRST_NAMES)) == len(FIRST_NAMES) >= 800 and len(set(LAST_NAMES)) == len(LAST_NAMES) >= 1900


def test_different_people_rarely_share_a_fake_name() -> None:
    """5,000 distinct source names (a client book) keep nearly as many distinct pseudonyms, so
    a name search in the replica finds the person it found in production."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(7)
    names: set[str] = set()
    while len(names) < 5000:
        names.add(f"{fake.first_name()} {fake.last_name()}")
    pseudonyms = {Pseudonymiser(KEY_A).fake("name", n) for n in names}
    assert len(pseudonyms) >= 4900, 5000 - len(pseudonyms)  # the old 66 x 66 pools kept 2,550


def test_keys_load_with_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DeidKeyError, match=r"not found.*head -c 32 /dev/urandom"):
        load_key(tmp_path / "missing")
    (tmp_path / "short").write_bytes(b"x" * 15)
    with pytest.raises(DeidKeyError, match="holds 15 bytes; at least 16"):
        load_key(tmp_path / "short")
    (tmp_path / "good").write_bytes(KEY_A)
    assert load_key(tmp_path / "good") == KEY_A
    assert key_fingerprint(KEY_A) != key_fingerprint(KEY_B) and KEY_A.hex()[:8] not in key_fingerprint(KEY_A)
    with pytest.raises(DeidKeyError):
        Pseudonymiser(b"short")


@postgres
def test_a_killed_build_leaves_no_replica_and_the_next_build_removes_its_temporary_files(source_url: str,
                                                                                       tmp_path: Path) -> None:
    """`advisorgym replica build` killed (SIGKILL) while it writes: no replica and no manifest at
    the target, only its hidden temporary file and journal; the next good build removes them."""
    import signal
    import subprocess
    import sys
    import time

    key = tmp_path / "key"
    key.write_bytes(KEY_A)
    out = tmp_path / "replica.sqlite"
    command = [str(Path(sys.executable).with_name("advisorgym")), "replica", "build", "--source", source_url,
               "--out", str(out), "--key-file", str(key), "--no-progress", "--batch-rows", "50"]

    def temps() -> list[str]:
        return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") and ".tmp" in p.name)

    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(name.endswith(".tmp-journal") for name in temps()):
        assert proc.poll() is None, "the build finished before it could be killed"
        assert time.monotonic() < deadline, "the build never started writing"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    left = temps()
    assert left and not out.exists() and not manifest_path(out).exists(), left
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert temps() == [] and out.is_file() and manifest_path(out).is_file()
