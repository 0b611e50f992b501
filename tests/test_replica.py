"""The seeded replica generator and its command line (``advisorgym replica generate``)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envs.cli import app
from mock_apis.domains.finance.generate import MIN_SCALE, generate_replica
from mock_apis.domains.finance.models import Base

runner = CliRunner()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def advisorgym_exe() -> str:
    candidate = Path(sys.executable).parent / "advisorgym"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("advisorgym")
    assert found, "the advisorgym console script is not installed"
    return found


def cli_generate(out: Path, seed: int, scale: int):
    return runner.invoke(app, ["replica", "generate", "--seed", str(seed), "--scale", str(scale), "--out", str(out)])


def counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t.name: con.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0] for t in Base.metadata.sorted_tables}
    finally:
        con.close()


# --------------------------------------------------------------------------- 7. determinism

@pytest.mark.determinism
def test_same_seed_same_bytes_different_seed_different_bytes(tmp_path):
    a, b, c, d = (tmp_path / n for n in ("a.db", "b.db", "c.db", "d.db"))
    for out in (a, b):
        result = cli_generate(out, seed=3, scale=1000)
        assert result.exit_code == 0, result.output
        assert "wrote" in result.output and "rows" in result.output
    assert sha256(a) == sha256(b)

    # the console script writes the same replica (byte equality across processes is checked, with the hash
    # seed pinned, in test_bytes_do_not_depend_on_the_python_hash_seed)
    proc = run_console_script(c, seed=3, scale=1000)
    assert "wrote" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert dump(c) == dump(a)

    result = cli_generate(d, seed=4, scale=1000)
    assert result.exit_code == 0, result.output
    assert sha256(d) != sha256(a)
    # the seed is recorded in the file, and a different scale is a different file too
    con = sqlite3.connect(f"file:{d}?mode=ro", uri=True)
    meta = dict(con.execute("SELECT key, value FROM meta"))
    con.close()
    assert (meta["seed"], meta["scale"]) == ("4", "1000")
    e = tmp_path / "e.db"
    assert cli_generate(e, seed=3, scale=1001).exit_code == 0
    assert sha256(e) != sha256(a)
    # no temporary files are left next to the outputs (the write is atomic)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.db", "b.db", "c.db", "d.db", "e.db"]


def run_console_script(out: Path, seed: int, scale: int, hash_seed: str | None = None):
    env = dict(os.environ)
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    proc = subprocess.run([advisorgym_exe(), "replica", "generate", "--seed", str(seed), "--scale", str(scale),
                           "--out", str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (sqlite_stat1 and the schema included), in rowid order."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        out = {n: con.execute(f"SELECT * FROM {n} ORDER BY rowid").fetchall() for n in names if n != "sqlite_stat1"}
        out["sqlite_stat1"] = sorted(con.execute("SELECT * FROM sqlite_stat1").fetchall())
        out["schema"] = sorted(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(),
                               key=repr)
        return out
    finally:
        con.close()


@pytest.mark.determinism
def test_bytes_identical_across_processes(tmp_path):
    """Same seed and scale must give a byte-identical file in every process.

    Anything that follows set iteration order (object ids, PYTHONHASHSEED) makes two runs of the same
    command differ, which a single comparison only catches by luck: run the console script 12 times,
    concurrently, under different hash seeds, and require one digest.
    """
    procs = []
    for i in range(12):
        env = {**os.environ, "PYTHONHASHSEED": str(i)}
        procs.append(subprocess.Popen([advisorgym_exe(), "replica", "generate", "--seed", "3", "--scale",
                                       str(MIN_SCALE), "--out", str(tmp_path / f"p{i}.db")],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    for proc in procs:
        out, errs = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + errs
    digests = {i: sha256(tmp_path / f"p{i}.db") for i in range(12)}
    groups: dict[str, list[int]] = {}
    for i, digest in digests.items():
        groups.setdefault(digest, []).append(i)
    first, *others = sorted(groups.values())
    for group in others:  # the data agree even where the bytes do not: the difference is in the file layout
        assert dump(tmp_path / f"p{group[0]}.db") == dump(tmp_path / f"p{first[0]}.db")
    assert len(groups) == 1, f"{len(groups)} different files from one command: runs grouped by digest {list(groups.values())}"


def test_regenerating_over_an_existing_file_is_identical(tmp_path):
    out = tmp_path / "r.db"
    generate_replica(out, seed=5, scale=MIN_SCALE)
    first = sha256(out)
    generate_replica(out, seed=5, scale=MIN_SCALE)
    assert sha256(out) == first
    out.write_bytes(b"garbage")
    assert cli_generate(out, seed=5, scale=MIN_SCALE).exit_code == 0
    assert sha256(out) == first


def test_generate_creates_missing_parent_directories(tmp_path):
    out = tmp_path / "nested" / "deeper" / "r.db"
    result = cli_generate(out, seed=0, scale=MIN_SCALE)
    assert result.exit_code == 0, result.output
    assert counts(out)["transactions"] == MIN_SCALE


# --------------------------------------------------------------------------- 8. scale and integrity

@pytest.fixture(scope="module", params=[1000, 3000])
def scaled(request, tmp_path_factory):
    scale = request.param
    out = tmp_path_factory.mktemp(f"scale{scale}") / "replica.db"
    result = cli_generate(out, seed=1, scale=scale)
    assert result.exit_code == 0, result.output
    return scale, out, result.output


def test_transactions_has_exactly_scale_rows(scaled):
    scale, out, output = scaled
    n = counts(out)
    assert n["transactions"] == scale
    con = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    assert con.execute("SELECT COUNT(DISTINCT txn_id) FROM transactions").fetchone()[0] == scale
    assert dict(con.execute("SELECT key, value FROM meta"))["scale"] == str(scale)
    con.close()
    assert f"{sum(n.values())} rows" in output


def test_transactions_outgrow_every_table_but_the_fixed_market_history(scaled):
    """`scale` is documented as the transactions row count; only the two-year NAV/index history
    (fixed size, ~15.6k rows) can be larger, below ~16k."""
    scale, out, _ = scaled
    n = counts(out)
    fixed_history = {"nav_history", "index_quotes"}
    bigger = {t: c for t, c in n.items() if c > n["transactions"] and t not in fixed_history}
    assert not bigger, f"tables larger than transactions ({n['transactions']}): {bigger}"


def test_other_tables_grow_with_scale(tmp_path_factory):
    small, large = tmp_path_factory.mktemp("grow") / "s.db", tmp_path_factory.mktemp("grow") / "l.db"
    generate_replica(small, seed=1, scale=1000)
    generate_replica(large, seed=1, scale=3000)
    ns, nl = counts(small), counts(large)
    for table in ("clients", "accounts", "holdings", "risk_assessments", "compliance_records"):
        assert nl[table] > ns[table], table


def test_foreign_keys_hold(scaled):
    _, out, _ = scaled
    con = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # the check is not vacuous: the schema does declare foreign keys
        assert con.execute("SELECT COUNT(*) FROM pragma_foreign_key_list('transactions')").fetchone()[0] >= 2
        # nullable fund_code on transactions: only cash movements lack a fund
        assert con.execute("SELECT COUNT(*) FROM transactions WHERE fund_code IS NULL "
                           "AND txn_type IN ('buy', 'sell', 'dividend')").fetchone()[0] == 0
    finally:
        con.close()


def test_every_client_has_compliance_and_risk(scaled):
    _, out, _ = scaled
    con = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    try:
        n_clients = con.execute("SELECT COUNT(*) FROM clients").fetchone()[0]
        assert n_clients >= 40
        assert con.execute("SELECT COUNT(*) FROM clients c WHERE NOT EXISTS "
                           "(SELECT 1 FROM compliance_records r WHERE r.client_id = c.client_id)").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM clients c WHERE NOT EXISTS "
                           "(SELECT 1 FROM risk_assessments r WHERE r.client_id = c.client_id)").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM compliance_records").fetchone()[0] == n_clients
        assert con.execute("SELECT COUNT(*) FROM clients c WHERE NOT EXISTS "
                           "(SELECT 1 FROM accounts a WHERE a.client_id = c.client_id)").fetchone()[0] == 0
    finally:
        con.close()


@pytest.mark.parametrize("scale", [MIN_SCALE - 1, 10, 0, -5])
def test_scale_below_minimum_rejected_cleanly(scale, tmp_path):
    out = tmp_path / "small.db"
    result = cli_generate(out, seed=0, scale=scale)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "scale" in result.output.lower()
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()
    with pytest.raises(ValueError, match="scale"):
        generate_replica(out, seed=0, scale=scale)
    assert not out.exists()


def test_scale_below_minimum_rejected_by_console_script(tmp_path):
    out = tmp_path / "small.db"
    proc = subprocess.run([advisorgym_exe(), "replica", "generate", "--scale", str(MIN_SCALE - 1), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "--scale" in proc.stdout + proc.stderr
    assert not out.exists()


def test_minimum_scale_is_accepted(tmp_path):
    out = tmp_path / "min.db"
    assert cli_generate(out, seed=0, scale=MIN_SCALE).exit_code == 0
    assert counts(out)["transactions"] == MIN_SCALE


def test_missing_out_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["replica", "generate", "--seed", "1"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "--out" in result.output


@pytest.mark.parametrize("argv,expect", [
    (["--help"], "replica"),
    (["replica", "--help"], "generate"),
    (["replica", "generate", "--help"], "--scale"),
])
def test_help(argv, expect):
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert expect in result.output
    if argv[-2:] == ["generate", "--help"]:
        for option in ("--seed", "--out"):
            assert option in result.output


def test_console_script_help():
    proc = subprocess.run([advisorgym_exe(), "replica", "generate", "--help"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "--seed" in proc.stdout and "--scale" in proc.stdout and "--out" in proc.stdout


def test_the_default_replica_cache_is_keyed_by_the_generators_code(tmp_path, monkeypatch):
    """A replica cached by other generator code (same GENERATOR_VERSION) is never reused."""
    from envs import replica
    from mock_apis.domains.finance.generate import GENERATOR_VERSION
    from mock_apis.domains.finance.models import SCHEMA_VERSION

    monkeypatch.setenv("ADVISORGYM_CACHE", str(tmp_path))
    stale = tmp_path / f"replica-v{SCHEMA_VERSION}-g{GENERATOR_VERSION}-000000000000-seed1-scale200.sqlite"
    stale.write_bytes(b"written by other code")
    path = replica.default_replica(seed=1, scale=200)
    assert path != stale and replica.generator_fingerprint() in path.name
    assert counts(path)["transactions"] == 200
    assert replica.default_replica(seed=1, scale=200) == path  # cached from now on


def damaged_replicas(replica: Path, folder: Path) -> dict[str, tuple[Path, str]]:
    """Replicas a start-up must refuse, each with the problem its one-line error names."""
    foreign = folder / "foreign.sqlite"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    garbage = folder / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all\n" * 4096)
    dropped = folder / "dropped.sqlite"
    shutil.copyfile(replica, dropped)
    with sqlite3.connect(dropped) as con:
        con.execute("ALTER TABLE funds DROP COLUMN inception_date")
    flipped = folder / "flipped.sqlite"
    data = bytearray(replica.read_bytes())
    for offset in range(4096 + 16, len(data) // 2, 4096):  # a b-tree page header in every other page
        data[offset - 16:offset] = b"\xbe" * 16
    flipped.write_bytes(bytes(data))
    # a bit flipped inside a text value: the b-tree is whole (quick_check passes), the text is not UTF-8
    flipped_text = folder / "flipped_text.sqlite"
    with sqlite3.connect(replica) as con:
        name = con.execute("SELECT full_name FROM clients ORDER BY client_id LIMIT 1").fetchone()[0].encode()
    data = bytearray(replica.read_bytes())
    at = data.find(name)
    while at >= 0:  # the row and any index entry holding it
        data[at + 1] = 0xBE
        at = data.find(name, at + 1)
    flipped_text.write_bytes(bytes(data))
    return {"foreign": (foreign, "no table"), "garbage": (garbage, "not a readable SQLite database"),
            "dropped": (dropped, "table funds lacks column(s) inception_date"), "flipped": (flipped, ""),
            "flipped_text": (flipped_text, "table clients holds a damaged value (Could not decode to UTF-8 "
                                           "column 'full_name'")}


def test_a_damaged_or_foreign_replica_stops_the_env_and_serve_with_one_line(replica_path, tmp_path):
    from envs import FinAdvisorEnv

    for what, (path, problem) in damaged_replicas(replica_path, tmp_path).items():
        with pytest.raises(ValueError) as err:
            FinAdvisorEnv(replica=path)
        message = str(err.value)
        assert message.startswith(f"replica {path}: ") and problem in message and "\n" not in message, (what, message)
        proc = subprocess.run([str(Path(sys.executable).with_name("advisorgym")), "serve", "--replica", str(path)],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "ADVISORGYM_API_TOKEN": "t"})
        assert proc.returncode == 2, (what, proc.stderr)
        assert proc.stderr.strip() == f"error: {message}", (what, proc.stderr)
