"""The ``mock_apis`` commands of ``advisorgym``: ``replica`` (generate, build), ``contract snapshot``,
``drift check`` and ``audit`` (verify, repair); also the conventions every package's commands share
(``usage_error``, ``PLAIN_HELP``). The top command (``advisorgym.cli``) gathers them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mock_apis.audit import repair, verify
from mock_apis.contracts import DriftCheckError, build_contract, check_drift, default_contract_path, dumps
from mock_apis.deid import BuildError, DeidKeyError, SchemaDrift, build_replica, load_key, manifest_path
from mock_apis.deid.build import DEFAULT_BATCH_ROWS
from mock_apis.domain import DEFAULT_DOMAIN, Domain, UnknownDomain, get_domain
from mock_apis.domains.finance.generate import (DEFAULT_SCALE, DEFAULT_SEED, MIN_SCALE, generate_replica,
                                                iter_row_counts, replica_digest)

#: Plain (click) help: it wraps to the terminal, where rich's option tables cut text at 80 columns.
PLAIN_HELP = {"rich_markup_mode": None, "no_args_is_help": True}
app = typer.Typer(help="The mock back office: replicas, schema contracts, drift, audit trails.", **PLAIN_HELP)
replica_app = typer.Typer(help="SQLite replicas: `replica generate` makes a seeded synthetic one, `replica build` "
                                "a de-identified one from a real database.", **PLAIN_HELP)
app.add_typer(replica_app, name="replica", short_help="SQLite replicas: generate a synthetic one, or build one from "
                                                      "a real database.")


def usage_error(message: str) -> typer.Exit:
    """Print one line (what is wrong, what to do) and give the exit code for usage errors, 2."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


#: Help of every ``--domain`` option.
DOMAIN_HELP = "The back office (a package of mock_apis/domains, e.g. finance): its tools, replica, rules and suite."


def named_domain(name: str) -> Domain:
    """The domain a ``--domain`` option names; a usage error (one line, the known names) otherwise."""
    try:
        return get_domain(name)
    except UnknownDomain as err:
        raise usage_error(str(err)) from None


@replica_app.command("generate", short_help="Generate a seeded synthetic replica.")
def replica_generate(
    out: Path = typer.Option(..., "--out", help="Where to write the SQLite replica."),
    seed: int = typer.Option(DEFAULT_SEED, help="Random seed; the same seed and scale give a byte-identical file."),
    scale: int = typer.Option(DEFAULT_SCALE, min=MIN_SCALE, help="Rows in the transactions table (the largest table from about 16k rows up)."),
) -> None:
    """Generate a synthetic replica from the project's own seeded generator: the same seed and
    scale give the same rows on any install (and the same file with the same SQLite)."""
    generate_replica(out, seed=seed, scale=scale, show_progress=scale >= 50_000)
    counts = dict(iter_row_counts(out))
    typer.echo(f"wrote {out} ({sum(counts.values())} rows; largest table: "
               f"{max(counts, key=counts.get)} = {max(counts.values())})")
    typer.echo(f"file sha256: {hashlib.sha256(out.read_bytes()).hexdigest()}")
    typer.echo(f"rows sha256: {replica_digest(out)}")


@replica_app.command("build", short_help="Build a de-identified replica from a real database.")
def replica_build(
    source: str = typer.Option(..., "--source", help="SQLAlchemy URL of the production-shaped database, e.g. "
                                                     "postgresql+psycopg://user@host/db (pip install -e '.[postgres]')."),
    out: Path = typer.Option(..., "--out", help="Where to write the SQLite replica (its manifest goes to "
                                                "OUT.manifest.json)."),
    key_file: Path = typer.Option(None, "--key-file", envvar="ADVISORGYM_DEID_KEY_FILE", show_envvar=True,
                                  help="Pseudonymisation key (raw bytes, at least 16; make one with `head -c 32 "
                                       "/dev/urandom > K`). Keep it secret: it links pseudonyms to people."),
    schema: str = typer.Option(None, "--schema", help="The source's schema (PostgreSQL default: public)."),
    allow_extra: bool = typer.Option(False, "--allow-extra", help="Leave out source tables and columns the model "
                                                                  "lacks (listed in the manifest) instead of refusing."),
    batch_rows: int = typer.Option(DEFAULT_BATCH_ROWS, min=1, help="Rows read and written per batch (bounds memory)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Build a de-identified replica: PII pseudonymised with a keyed, deterministic mapping."""
    try:
        make_url(source)
    except ArgumentError:
        raise usage_error(f"--source is not a SQLAlchemy URL: {source!r} (e.g. postgresql+psycopg://user@host/db)") \
            from None
    if out.is_dir():
        raise usage_error(f"--out must be a file path, not a directory: {out}")
    if key_file is None:
        raise usage_error("pass --key-file K (a secret key; make one with `head -c 32 /dev/urandom > K`)")
    try:
        key = load_key(key_file)
    except DeidKeyError as err:
        raise usage_error(str(err)) from None
    try:
        manifest = build_replica(source, out, key, batch_rows=batch_rows, progress=progress, schema=schema,
                                 allow_extra=allow_extra)
    except SchemaDrift as err:
        typer.echo("error: the source schema differs from the model; nothing was written:", err=True)
        for problem in err.problems:
            typer.echo(f"  {problem}", err=True)
        typer.echo("(fix the source or a view over it; --allow-extra leaves out extra tables and columns)", err=True)
        raise typer.Exit(1) from None
    except BuildError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    counts = manifest["row_counts"]
    typer.echo(f"wrote {out} ({sum(counts.values())} rows in {len(counts)} tables, key {manifest['key_fingerprint']}); "
               f"manifest: {manifest_path(out)}")


contract_app = typer.Typer(help="Schema contracts: `contract snapshot` writes one from the code and a replica.",
                           **PLAIN_HELP)
app.add_typer(contract_app, name="contract", short_help="Schema contracts: snapshot the tools and replica.")


@contract_app.command("snapshot", short_help="Write the contract of the shipped code on a replica.")
def contract_snapshot(
    replica: Path = typer.Option(None, "--replica", help="SQLite replica to sample (default: the default "
                                                         "replica, generated on first use)."),
    out: Path = typer.Option(None, "--out", help="Where to write the JSON contract (default: the domain's shipped "
                                                 "contracts/contract-v1.json)."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """Snapshot each tool's version and schemas, the result shapes sampled on the replica and the
    replica's database schema, as deterministic JSON."""
    if replica is not None and not replica.is_file():
        raise usage_error(f"replica not found: {replica}")
    found = named_domain(domain)
    contract = build_contract(replica, found)
    path = out or default_contract_path(found)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps(contract))
    typer.echo(f"wrote {path} ({len(contract['tools'])} tools, {len(contract['samples'])} sampled, "
               f"{len(contract['database'])} tables)")


drift_app = typer.Typer(help="Drift: `drift check` compares a service or a replica with the contract.", **PLAIN_HELP)
app.add_typer(drift_app, name="drift", short_help="Drift: compare a service or replica with the contract.")


@drift_app.command("check", short_help="Compare a service and/or a replica with the contract.")
def drift_check(
    service: str = typer.Option(None, "--service", help="The service's URL, e.g. http://127.0.0.1:8080: its "
                                                        "published schemas and real sampled results."),
    token: str = typer.Option(None, "--token", envvar="ADVISORGYM_API_TOKEN", show_envvar=True,
                              help="--service: its bearer token (prefer the environment variable)."),
    in_process: bool = typer.Option(False, "--in-process", help="Check this installation's tool catalogue, "
                                                                "run on --replica (default: the default "
                                                                "replica)."),
    replica: Path = typer.Option(None, "--replica", help="A SQLite replica whose database schema to check."),
    contract: Path = typer.Option(None, "--contract", help="The contract (default: the domain's shipped "
                                                           "contracts/contract-v1.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    domain: str = typer.Option(DEFAULT_DOMAIN, "--domain", help=DOMAIN_HELP),
) -> None:
    """Compare a live service (or this installation) and/or a replica with the contract: every
    difference is breaking or compatible; exit 1 on breaking drift, 0 otherwise."""
    if service and in_process:
        raise usage_error("pass --service URL or --in-process, not both")
    if not (service or in_process or replica):
        raise usage_error("nothing to check: pass --service URL, --in-process or --replica PATH")
    if replica is not None and not replica.is_file():
        raise usage_error(f"replica not found: {replica}")
    if contract is not None and not contract.is_file():
        raise usage_error(f"contract not found: {contract}")
    try:
        report = check_drift(contract, service=service, token=token, in_process=in_process, replica=replica,
                             domain=named_domain(domain))
    except DriftCheckError as err:
        raise usage_error(str(err)) from None
    if as_json:
        typer.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    else:
        for line in report.lines():
            typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


audit_app = typer.Typer(help="Audit trails: `audit verify` checks a hash-chained log, `audit repair` cuts a torn "
                             "tail.", **PLAIN_HELP)
app.add_typer(audit_app, name="audit", short_help="Audit trails: verify or repair a hash-chained log.")


@audit_app.command("verify", short_help="Check an audit log's hash chain; name the first bad record.")
def audit_verify(
    path: Path = typer.Argument(..., metavar="PATH", help="The audit log (JSONL)."),
    head: str = typer.Option(None, "--head", help="The head hash a report recorded: also catches a cut-off tail."),
) -> None:
    """Check every record of a hash-chained audit log: exit 1 naming the first edited, removed,
    reordered or inserted record."""
    if not path.is_file():
        raise usage_error(f"audit log not found: {path}")
    ok, seq, reason = verify(path, expect_head=head)
    if not ok:
        typer.echo(f"error: {path}: record {seq}: {reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {path}: {reason}")


@audit_app.command("repair", short_help="Cut a log back to its last verified record; record the repair.")
def audit_repair(
    path: Path = typer.Argument(..., metavar="PATH", help="The audit log (JSONL)."),
    force: bool = typer.Option(False, "--force", help="Also cut when the first bad record is not the last line "
                                                      "(drops the verified records after it; they are saved)."),
) -> None:
    """Cut a torn or bad tail off a hash-chained audit log (the cut bytes saved beside it as
    PATH.cut-TIME) and append a chained `repair` record naming what was cut and why."""
    if not path.is_file():
        raise usage_error(f"audit log not found: {path}")
    try:
        report = repair(path, force=force)
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if not report["repaired"]:
        typer.echo(f"ok: {path}: nothing to repair ({report['summary']})")
        return
    typer.echo(f"repaired: {path}: kept {report['kept_records']} records; cut {report['cut_lines']} line(s), "
               f"{report['cut_bytes']} bytes, from record {report['kept_records']} ({report['reason']}), saved to "
               f"{report['saved_to']}; repair record {report['repair_seq']}, head {report['head']}")
