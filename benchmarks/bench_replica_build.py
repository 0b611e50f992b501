"""``replica build`` time and peak memory, from a real PostgreSQL source, at 100k and 1M rows.

    python benchmarks/bench_replica_build.py [--rows 100000,1000000] [--batch-rows 5000] [--source postgres|sqlite]

For each size, a PostgreSQL server (``mock_apis/postgres/start.sh``, on loopback) gets a
Faker-generated "production" database through the data model (``load_source``; ``--rows`` is
its transactions table, the largest; the other tables are sized from it, so the total row count
is printed too). The build then runs in a fresh child process, timed, and reports its peak
resident set: ``VmHWM`` of its own address space, read at its end. (Not ``ru_maxrss`` from
``wait4``: Linux carries the pre-``exec`` address space's high-water mark into it, which for a
child forked from a process holding the generated source is that process's size.) The figure
includes the interpreter, SQLAlchemy, the driver and SQLite, not only the rows in flight.
``--source sqlite`` uses a SQLite file as the source instead (no server).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys
from mock_apis.deid import build_replica
manifest = build_replica(sys.argv[1], sys.argv[2], bytes(range(32)), batch_rows=int(sys.argv[3]))
hwm_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"counts": manifest["row_counts"], "hwm_kib": hwm_kib}))
"""
LOADER = """
import sys
from sqlalchemy import create_engine
from mock_apis.domains.finance.generate import load_source
load_source(create_engine(sys.argv[1]), seed=0, scale=int(sys.argv[2]))
"""


def build_in_child(url: str, out: Path, batch_rows: int) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.run([sys.executable, "-c", CHILD, url, str(out), str(batch_rows)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=err, text=True)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"the build failed ({proc.returncode}): {err.read()[-2000:]}")
    report = json.loads(proc.stdout)
    return {"build_s": round(seconds, 2), "peak_rss_mib": round(report["hwm_kib"] / 1024, 1),
            "source_rows": sum(report["counts"].values()), "replica_mib": round(out.stat().st_size / 2**20, 1)}


def run(sizes: list[int], batch_rows: int, source: str) -> list[dict[str, Any]]:
    from contextlib import nullcontext

    from mock_apis.postgres import create_database, running_postgres

    results = []
    with (running_postgres() if source == "postgres" else nullcontext(None)) as admin, \
            tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            if admin is not None:
                url = create_database(admin, f"production_{rows}")
            else:
                url = f"sqlite:///{tmp}/production_{rows}.sqlite"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", LOADER, url, str(rows)], cwd=ROOT, check=True)
            load_s = time.perf_counter() - started
            result = {"transactions": rows, "source": source, "batch_rows": batch_rows,
                      "load_s": round(load_s, 1), **build_in_child(url, Path(tmp) / f"replica_{rows}.sqlite", batch_rows)}
            print(f"{rows:>9,} transactions ({result['source_rows']:,} source rows, {source}): build "
                  f"{result['build_s']:.1f} s ({result['source_rows'] / result['build_s']:,.0f} rows/s), peak RSS "
                  f"{result['peak_rss_mib']:.0f} MiB, replica {result['replica_mib']:.0f} MiB "
                  f"(loading the source took {load_s:.0f} s)", flush=True)
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000", help="transactions rows per size, comma-separated")
    parser.add_argument("--batch-rows", type=int, default=5000)
    parser.add_argument("--source", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = run([int(x) for x in args.rows.split(",")], args.batch_rows, args.source)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
