"""A model's full episodes on the validation split (never the held-out one), with and without
grounded decoding.

    python -m benchmarks.validation_eval runs/demo7/sft/final [--config trainer/configs/demo.yaml]
        [--run runs/demo7] [--tasks 60] [--decoding grounded free] [--out runs/validation]

The split: ``--tasks`` tasks of every level, evenly spaced over 600 generated from seed 3 (a
training seed), none repeating a query or id of the training tasks or of the held-out split
(the generator excludes them, and ``stages.heldout_tasks`` refuses any overlap). Each model
runs every task as a live episode (greedy, the config's ``eval`` settings), scored with the
training reward, once per ``--decoding``: ``free`` (the model as it is) and ``grounded``
(``envs.evaluation.grounded_decoding``). Prints one JSON line per run: mean R and its
components, VR, format-valid rate and the call-level figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.sft_curve import validation_split
from trainer import stages
from trainer.config import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a local model directory (config.json, tokenizer, weights)")
    parser.add_argument("--config", default="trainer/configs/demo.yaml")
    parser.add_argument("--run", default=None, help="the run folder the model was trained in (its generated tasks)")
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--decoding", nargs="+", choices=("free", "grounded"), default=["free", "grounded"])
    parser.add_argument("--out", default="runs/validation")
    args = parser.parse_args()
    config = TrainConfig.load(args.config)
    if args.run:
        config.output_dir = args.run
    out = Path(args.out)
    config.heldout = str(validation_split(config, out, args.tasks, level=None))
    config.eval = {**config.eval, "limit": None}
    for decoding in args.decoding:
        config.grounded_numbers = decoding == "grounded"
        name = f"{Path(args.model).parent.name}-{Path(args.model).name}-{decoding}"
        metrics = stages.evaluate(args.model, config, out / name, progress=False)
        summary = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in metrics.items() if k != "per_task"}
        print(json.dumps({"model": args.model, "decoding": decoding, **summary}), flush=True)


if __name__ == "__main__":
    main()
