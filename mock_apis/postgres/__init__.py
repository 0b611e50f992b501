"""A throwaway PostgreSQL server on loopback (``start.sh``/``stop.sh`` beside this file), for the
de-identification tests and benchmarks: ``running_postgres()`` starts one in a fresh directory,
yields its SQLAlchemy URL, and stops and removes it afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from sqlalchemy.engine import make_url

from mock_apis.errors import AdvisorGymError

HERE = Path(__file__).resolve().parent
START_TIMEOUT_S = 900  # a fresh machine installs the server with apt first


class PostgresUnavailable(AdvisorGymError, RuntimeError):
    """The server could not be installed or started; the message carries the script's output."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_postgres(port: int | None = None) -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1, for as long as the block runs: its URL
    (``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``). Raises ``PostgresUnavailable``."""
    parent = tempfile.mkdtemp(prefix="advisorgym-pg-")  # under /tmp: the postgres user must reach it
    os.chmod(parent, 0o755)
    data = os.path.join(parent, "data")
    try:
        try:
            proc = subprocess.run(["bash", str(HERE / "start.sh"), data, str(port or free_port())], capture_output=True,
                                  text=True, timeout=START_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise PostgresUnavailable(f"start.sh did not run: {err}") from None
        if proc.returncode != 0:
            raise PostgresUnavailable(f"start.sh exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        try:
            yield proc.stdout.strip().splitlines()[-1]
        finally:
            subprocess.run(["bash", str(HERE / "stop.sh"), data], capture_output=True, timeout=120)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` (optionally a copy of ``template``) on the server; its URL."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as con:
            con.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    finally:
        engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)
