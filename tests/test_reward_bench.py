"""The reward benchmark (fixtures/reward_bench/pairs.jsonl) and ``advisorgym reward-bench``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest
from typer.testing import CliRunner

from envs.cli import app
from envs.evaluation.reward_bench import ERROR_TYPES, PAIRS, SUITE, accuracy, load_pairs, score_pairs
from envs.replay import assistant_turns
from envs.reward import PAPER_VERSION, REWARD_VERSION, V11_VERSION, VERSIONS

HELDOUT = SUITE.with_name("heldout.jsonl")


@pytest.fixture(scope="module")
def pairs() -> list[dict]:
    return load_pairs()


def sample(pairs: list[dict], per_type: int) -> list[dict]:
    seen: Counter[str] = Counter()
    out = []
    for p in pairs:
        if seen[p["error_type"]] < per_type:
            seen[p["error_type"]] += 1
            out.append(p)
    return out


def test_the_benchmark_has_every_error_type_from_the_training_suite_only(pairs) -> None:
    assert len(pairs) >= 1000
    counts = Counter(p["error_type"] for p in pairs)
    assert set(counts) == set(ERROR_TYPES)
    assert all(n >= 50 for n in counts.values()), counts
    suite = {json.loads(line)["task_id"] for line in SUITE.read_text().splitlines() if line}
    heldout = {json.loads(line)["task_id"] for line in HELDOUT.read_text().splitlines() if line}
    assert {p["task_id"] for p in pairs} <= suite
    assert not {p["task_id"] for p in pairs} & heldout
    assert len({p["pair_id"] for p in pairs}) == len(pairs)
    for p in pairs:
        assert p["chosen"] != p["rejected"]
        assert assistant_turns(p["chosen"]) == p["chosen"] and assistant_turns(p["rejected"]) == p["rejected"]


@pytest.mark.determinism
def test_the_generator_reproduces_the_shipped_pairs(tmp_path) -> None:
    script = PAIRS.with_name("make_reward_bench.py")
    if not script.is_file():
        pytest.skip("the generating script ships in the source tree only")
    out = tmp_path / "pairs.jsonl"
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == PAIRS.read_bytes()


def test_accuracy_counts_ties_apart() -> None:
    rows = [{"error_type": "wrong_tool"}] * 3 + [{"error_type": "refusal"}] * 2
    table = accuracy(rows, [(3.0, 1.0), (2.0, 2.0), (0.5, 1.0), (3.0, 0.0), (1.0, 1.0)])
    assert table["wrong_tool"] == {"n": 3, "right": 1, "ties": 1, "wrong": 1, "accuracy": 1 / 3}
    assert table["refusal"] == {"n": 2, "right": 1, "ties": 1, "wrong": 0, "accuracy": 0.5}
    assert table["overall"]["n"] == 5 and table["overall"]["ties"] == 2 and table["overall"]["accuracy"] == 0.4
    assert list(table) == ["wrong_tool", "refusal", "overall"]


def test_scores_separate_what_each_version_judges(pairs) -> None:
    """What docs/reward.md's table says of 1.0 and 1.1, on a few pairs of each type."""
    few = sample(pairs, 4)
    for version in (V11_VERSION, PAPER_VERSION):
        table = accuracy(few, score_pairs(few, version))
        for error_type in ("wrong_tool", "missing_call", "redundant_call", "compliance:guarantee"):
            assert table[error_type]["accuracy"] == 1.0, (version, error_type)
        # Neither version credits a recovered slip, nor tells a privacy read from a redundant one.
        assert table["recovered_slip"]["ties"] == table["recovered_slip"]["n"]
        assert table["privacy_read"]["ties"] == table["privacy_read"]["n"]
    # 1.1's over-refusal rule; 1.0 has none.
    assert accuracy(few, score_pairs(few, V11_VERSION))["refusal"]["accuracy"] == 1.0
    assert accuracy(few, score_pairs(few, PAPER_VERSION))["refusal"]["right"] == 0
    # 1.2 credits recovered slips, other paths to the same information and least privilege.
    table = accuracy(few, score_pairs(few, REWARD_VERSION))
    for error_type in ("recovered_slip", "alternative_path", "refusal", "privacy_read", "unauthorised_write"):
        assert table[error_type]["accuracy"] == 1.0, error_type


def test_cli_prints_every_version_per_error_type(tmp_path, pairs) -> None:
    small = tmp_path / "pairs.jsonl"
    small.write_text("".join(json.dumps(p) + "\n" for p in sample(pairs, 1)))
    runner = CliRunner()
    res = runner.invoke(app, ["reward-bench", "--pairs", str(small)])
    assert res.exit_code == 0, res.output
    header = res.output.splitlines()[0]
    assert all(v in header for v in VERSIONS)
    assert all(t in res.output for t in ERROR_TYPES) and "overall" in res.output
    one = runner.invoke(app, ["reward-bench", "--pairs", str(small), "--reward-version", REWARD_VERSION])
    assert one.exit_code == 0 and PAPER_VERSION not in one.output and REWARD_VERSION in one.output
    bad = runner.invoke(app, ["reward-bench", "--reward-version", "toolrla-9"])
    assert bad.exit_code == 2 and "unknown reward version" in bad.output
