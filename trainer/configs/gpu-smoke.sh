#!/usr/bin/env bash
# GPU smoke test, one GPU, under 10 minutes: vLLM colocate generation, one GRPO step, one DPO
# step, with trainer/configs/gpu-smoke.yaml.
#
#   trainer/configs/gpu-smoke.sh [MODEL_DIR] [OUT]
#
# MODEL_DIR: a local Hugging Face model directory (config.json, tokenizer, weights; e.g. a
# Qwen3-0.6B); default `tiny`, the tiny model built locally. OUT: default runs/gpu-smoke.
# Needs the train extra, the CUDA build of torch and vLLM. SMOKE_DEVICE=cpu runs the same two
# steps on CPU with TRL's transformers generation instead of vLLM (what the CPU tests run).
# Run from the repository root; PYTHON picks the interpreter (default: python).
set -euo pipefail
MODEL=${1:-tiny}
OUT=${2:-runs/gpu-smoke}
DEVICE=${SMOKE_DEVICE:-gpu}
PY=${PYTHON:-python}
HERE=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)
mkdir -p "$OUT"

if [ "$DEVICE" = gpu ]; then
  "$PY" -c "import torch, vllm; assert torch.cuda.is_available(), 'no CUDA device'; \
print('device:', torch.cuda.get_device_name(0), '| torch', torch.__version__, '| vLLM', vllm.__version__)"
fi

# The run's config: the shipped settings with this run's model and output folder (and on CPU,
# no vLLM and no bf16). Loading it checks every key before anything is built.
"$PY" - "$HERE/gpu-smoke.yaml" "$MODEL" "$OUT" "$DEVICE" <<'PYEOF'
import sys
from pathlib import Path

import yaml

from trainer.config import TrainConfig

source, model, out, device = sys.argv[1:]
raw = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
raw.update(model=model, output_dir=out)
if device == "cpu":
    raw["use_cpu"] = True
    for stage in ("grpo", "dpo"):
        raw[stage].update(bf16=False)
    for key in ("use_vllm", "vllm_mode", "vllm_gpu_memory_utilization"):
        raw["grpo"].pop(key)
TrainConfig.from_dict(raw)
Path(out, "gpu-smoke.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
PYEOF

"$PY" -m envs.cli train grpo --config "$OUT/gpu-smoke.yaml"
"$PY" -m envs.cli train dpo --config "$OUT/gpu-smoke.yaml"

# What must hold: one GRPO step logged a reward from env-scored rollouts, one DPO step ran,
# both stages saved a final model, and how many DPO pairs chose the policy's own answer.
"$PY" - "$OUT" <<'PYEOF'
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
grpo = [json.loads(line) for line in (out / "grpo" / "metrics.jsonl").read_text().splitlines() if line.strip()]
steps = [r for r in grpo if "reward" in r]
assert steps and steps[0]["step"] == 1, "GRPO logged no step with a reward"
dpo = [json.loads(line) for line in (out / "dpo" / "metrics.jsonl").read_text().splitlines() if line.strip()]
assert any("loss" in r and r["step"] == 1 for r in dpo), "DPO logged no step"
for stage in ("grpo", "dpo"):
    assert (out / stage / "final" / "config.json").is_file(), f"no {stage}/final model"
pairs = [json.loads(line) for line in (out / "dpo" / "pairs.jsonl").read_text().splitlines() if line.strip()]
sampled = [p for p in pairs if p["source"] == "sampled"]
print(f"GRPO step 1: reward {steps[0]['reward']:.3f} (std {steps[0].get('reward_std', float('nan')):.3f}), "
      f"tool-call frequency {steps[0].get('tools/call_frequency', float('nan'))}; DPO step 1: loss "
      f"{next(r['loss'] for r in dpo if 'loss' in r):.4f} on {len(pairs)} pairs "
      f"({sum(p.get('chosen_by') == 'policy' for p in sampled)} of {len(sampled)} sampled pairs chose the policy's own answer)")
PYEOF
echo "gpu smoke passed in $(( $(date +%s) - start )) s ($DEVICE, model $MODEL)"
