"""Episodes per minute of ``advisorgym eval --agent hf`` with a tiny local model: one episode
at a time, and ``--concurrency N`` (one batched ``generate`` for the N episodes' turns).

    python benchmarks/bench_eval_hf_batching.py [--tasks 32] [--concurrency 8] [--max-new-tokens 32]
                                                [--max-steps 3] [--repeat 3] [--threads 0]

The model is ``trainer.tiny``'s (a 2-layer Qwen3, hidden size 32, a BPE trained on the
suite's prompts and gold turns), built in a temporary folder: nothing comes from a hub. It
is random, so its turns are noise the env scores as answers or malformed calls; what is
timed is the eval loop with generation, on the CPU. Each run is the eval of the first
``--tasks`` tasks of the frozen suite into a fresh directory (episodes only: no plots). Prints
each run's episodes/min, the median per mode, the generate calls and their mean batch size,
and checks that the batched run's episodes are the sequential run's (all but ``latency_s``).
``--threads``: torch's intra-op threads (0: torch's default).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=32)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--max-steps", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    import orjson
    import torch

    from envs.env import FinAdvisorEnv
    from envs.evaluation.model_agents import HFLocalAgent
    from envs.evaluation.outputs import load_episodes
    from envs.evaluation.run import run_eval
    from envs.tasks import SUITE, load_tasks
    from trainer.tiny import build_tiny_model

    if args.threads:
        torch.set_num_threads(args.threads)
    tasks = load_tasks(SUITE)[:args.tasks]
    env = FinAdvisorEnv(tasks=SUITE)
    corpus = [env.system_prompt_for_tools_api, orjson.dumps(env.tool_schemas).decode(),
              *[t.query for t in tasks], *[a for t in tasks for a in t.gold_actions()]]
    env.close()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny", corpus)
        rates: dict[int, list[float]] = {}
        records: dict[int, list[dict]] = {}
        for conc in (1, args.concurrency):
            for i in range(args.repeat):
                agent = HFLocalAgent(model_dir, max_new_tokens=args.max_new_tokens)
                out = Path(tmp) / f"c{conc}-{i}"
                result = run_eval(agent, SUITE, out, limit=args.tasks, max_steps=args.max_steps, concurrency=conc,
                                  progress=False, plots=False)
                assert result["ran"] == args.tasks, result
                sizes = agent.batcher.batch_sizes
                rates.setdefault(conc, []).append(60 * args.tasks / result["episodes_s"])
                records[conc] = [{k: v for k, v in r.items() if k != "latency_s"} for r in load_episodes(out / "episodes.jsonl")]
                print(f"concurrency {conc:>2} run {i + 1}: {result['episodes_s']:.2f} s, {rates[conc][-1]:.0f} "
                      f"episodes/min ({len(sizes)} generate calls, mean batch {statistics.mean(sizes):.2f})")
    same = records[1] == records[args.concurrency]
    for conc, runs in rates.items():
        print(f"RESULT concurrency {conc}: median {statistics.median(runs):.0f} episodes/min over {len(runs)} run(s)")
    print(f"RESULT speed-up at concurrency {args.concurrency}: "
          f"{statistics.median(rates[args.concurrency]) / statistics.median(rates[1]):.1f}x; "
          f"episodes identical to the sequential run's: {same}")
    if not same:
        raise SystemExit("the batched run's episodes differ from the sequential run's")


if __name__ == "__main__":
    main()
