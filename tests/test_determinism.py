"""The same seed gives the same replica, observations and rewards on any install.

The digests below were computed once and are pinned: a test here fails when a dependency's
new (or old) release, a platform, or a code change moves a replica row, an observation or a
reward. CI runs these tests (marker ``determinism``) twice: in the README's fresh venv with the
newest versions the pins allow, and in one with the oldest (``.ci/constraints-oldest.txt``).
When a change is meant to move them (a new generator or reward version), regenerate the
fixtures as their READMEs say and update the digests here, saying so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mock_apis.domains.finance.generate import generate_replica, replica_digest

pytestmark = pytest.mark.determinism

ROOT = Path(__file__).resolve().parent.parent
# replica_digest (rows only; the file's bytes also carry the SQLite version that wrote them)
REPLICA_ROWS_SHA256 = {
    (0, 5000): "2aae191fc9f2b054fc1a42d55027043f528d43dd52f5951246dd18fb5d92d68f",
    (1, 200): "3d9d593b27c7f77515953dc83e32b62baf2b96d84c562e1aab068fa164ff1b33",
}
# every scripted agent over the held-out split: each episode record (observations in the
# transcript, calls, reward breakdown), less its latency
EPISODES_SHA256 = "f227205e608f5e36e61949f264d538547cc8304124aa5c790c89e129dc25406a"
# Packages whose random streams or fitted state once decided values: never imported on these paths.
NOT_IMPORTED = ("faker", "sklearn")


def episodes_digest(replica_cache: str) -> str:
    """SHA-256 of every scripted baseline's episodes on the held-out split (default replica)."""
    os.environ["ADVISORGYM_CACHE"] = replica_cache
    from envs.evaluation.agents import AGENT_SPECS
    from envs.evaluation.run import run_eval
    from envs.tasks import HELDOUT

    digest = hashlib.sha256()
    for spec in sorted(a for a in AGENT_SPECS if a not in ("openai", "hf")):
        with tempfile.TemporaryDirectory() as out:
            run_eval(spec, HELDOUT, out, progress=False, plots=False)
            for line in (Path(out) / "episodes.jsonl").read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                record.pop("latency_s")
                digest.update(json.dumps(record, sort_keys=True).encode())
    return digest.hexdigest()


def _in_a_process_without(packages: tuple[str, ...], code: str) -> str:
    """Run ``code`` (which prints its result) in a fresh interpreter where importing any of
    ``packages`` fails; its printed output."""
    blocker = "import sys\n" + "".join(f"sys.modules[{p!r}] = None\n" for p in packages)
    done = subprocess.run([sys.executable, "-c", blocker + code], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


@pytest.mark.parametrize(("seed", "scale"), sorted(REPLICA_ROWS_SHA256))
def test_the_replica_rows_are_the_pinned_ones(tmp_path: Path, seed: int, scale: int) -> None:
    path = generate_replica(tmp_path / "r.sqlite", seed=seed, scale=scale)
    assert replica_digest(path) == REPLICA_ROWS_SHA256[seed, scale]


def test_the_replica_needs_no_third_party_random_stream(tmp_path: Path) -> None:
    out = _in_a_process_without(NOT_IMPORTED, (
        "from mock_apis.domains.finance.generate import generate_replica, replica_digest\n"
        f"print(replica_digest(generate_replica({str(tmp_path / 'r.sqlite')!r}, seed=1, scale=200)))\n"))
    assert out == REPLICA_ROWS_SHA256[1, 200]


def test_the_replica_does_not_depend_on_todays_date(tmp_path: Path) -> None:
    """Birth dates once followed the calendar: a run 'next year' (time shifted in the child)
    must give the same rows."""
    code = ("import datetime, time\n"
            "shift = 400 * 86400\n"
            "real_time = time.time\n"
            "time.time = lambda: real_time() + shift\n"
            "class ShiftedDate(datetime.date):\n"
            "    @classmethod\n"
            "    def today(cls):\n"
            "        return datetime.date.fromtimestamp(time.time())\n"
            "datetime.date = ShiftedDate\n"
            "from mock_apis.domains.finance.generate import generate_replica, replica_digest\n"
            f"print(replica_digest(generate_replica({str(tmp_path / 'r.sqlite')!r}, seed=1, scale=200)))\n")
    assert _in_a_process_without((), code) == REPLICA_ROWS_SHA256[1, 200]


def test_observations_and_rewards_are_the_pinned_ones(tmp_path: Path) -> None:
    digest = _in_a_process_without(NOT_IMPORTED, (
        "from tests.test_determinism import episodes_digest\n"
        f"print(episodes_digest({str(tmp_path)!r}))\n"))
    assert digest == EPISODES_SHA256, (
        f"episodes digest {digest}: observations or rewards moved (see this module's docstring)")
