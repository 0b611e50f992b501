"""The baseline tables: every scripted agent (oracle, faulty baselines, hacks) over a suite, as
`advisorgym eval --agent NAME` runs it, under one reward version. The overall table under 1.2 is
the README's; the per-level one and the other versions' are in docs/eval.md.

    python benchmarks/baseline_table.py [--version toolrla-1.2.0] [--tasks fixtures/tasks/suite.jsonl] [--per-level]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs.evaluation.agents import AGENT_SPECS  # noqa: E402
from envs.evaluation.run import run_eval  # noqa: E402
from envs.reward import REWARD_VERSION, VERSIONS, RewardConfig  # noqa: E402
from envs.tasks import DEFAULT_SUITE  # noqa: E402

SCRIPTED = [a for a in AGENT_SPECS if a not in ("openai", "hf")]
COMPONENTS = ("R_fmt", "R_corr", "R_eff", "S_name", "S_cover", "S_param")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _num(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}".replace("-", "−")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=REWARD_VERSION, choices=VERSIONS)
    parser.add_argument("--tasks", type=Path, default=DEFAULT_SUITE)
    parser.add_argument("--per-level", action="store_true", help="also print mean R per level")
    parser.add_argument("--answer-weight", type=float, default=None,
                        help="RewardConfig.answer_weight (default: the version's own; 0.5 under 1.2)")
    args = parser.parse_args()
    config = RewardConfig(version=args.version, answer_weight=args.answer_weight)
    weight = f", answer_weight {config.answer_weight}" if config.answer_weight else ""
    print(f"Reward `{args.version}`{weight}, suite `{args.tasks.name}`:\n")
    print("| agent | TCR | TIER | AIR | VR | ORR | mean R | " + " | ".join(COMPONENTS) + " |")
    print("|---|" + "---:|" * (6 + len(COMPONENTS)))
    levels = {}
    for spec in SCRIPTED:
        with tempfile.TemporaryDirectory() as out:
            m = run_eval(spec, args.tasks, out, progress=False, plots=False,
                         reward_config=config)["metrics"]
        o, r = m["overall"], m["reward_means"]["overall"]
        levels[spec] = {lv: v["total"] for lv, v in m["reward_means"]["per_level"].items()}
        print(f"| {spec} | {_pct(o['TCR'])} | {_pct(o['TIER'])} | {o['AIR']:.2f} | {_pct(o['VR'])} | "
              f"{_pct(o['ORR'])} | {_num(r['total'], 2)} | " + " | ".join(_num(r[k]) for k in COMPONENTS) + " |")
    if args.per_level:
        names = sorted({lv for v in levels.values() for lv in v})
        print("\n| agent | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        for spec, by_level in levels.items():
            print(f"| {spec} | " + " | ".join(_num(by_level[lv], 2) for lv in names) + " |")


if __name__ == "__main__":
    main()
