"""Answer drills: what a step costs, and whether the copy from a tool result into an answer
appears, measured teacher-forced on drills the model never trained on.

    python benchmarks/answer_drills.py runs/demo7/sft/final --run runs/demo7 [--batch 32] [--seconds 480]

An answer drill is the last call of a training conversation, its tool result and the answer
(as the tiny model's template shows them: the result cut at 600 characters), with the entity
ids relabelled four times (``trainer.relabel``), from the conversations whose answer the model
can see (``trainer.visible``). One in ten conversations is kept apart as validation drills
(relabelled with another seed). The loop is plain PyTorch (AdamW, learning rate 2e-3 held
constant, loss on the answer only) from ``MODEL``, for ``--seconds`` of wall time. Before and
after, it prints the share of the validation answers' id tokens that also occur earlier in
the drill and that the model predicts, and the same for their digits; and the wall and CPU
seconds per step. ``--run`` is a demo run folder, whose generated training tasks are reused.
"""

from __future__ import annotations

import argparse
import random
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from envs.replica import default_replica
from trainer import stages
from trainer.config import TrainConfig
from trainer.relabel import relabelled_rows
from trainer.tiny import replica_ids
from trainer.visible import figures_in_view

DEMO = "trainer/configs/demo.yaml"


def answer_drill(row: dict) -> dict | None:
    messages = row["messages"]
    if len(messages) < 4 or messages[-1]["role"] != "assistant" or messages[-1].get("tool_calls") \
            or messages[-2]["role"] != "tool":
        return None
    query = next(m for m in messages if m["role"] == "user")
    return {**row, "messages": [query, *messages[-3:]], "tools": []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--run", required=True, help="the demo run folder (its generated tasks are reused)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=480.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model)
    config = TrainConfig.load(DEMO)
    config.output_dir = args.run
    tasks = stages.train_tasks(config)
    env = stages._env(config, tasks)
    rows = [r for r in stages.sft_rows(env, env.tasks, seed=config.seed) if figures_in_view(r, 600)]
    env.close()
    ids = replica_ids(default_replica(**tasks[0].replica))
    id_tokens = set(ids)
    train = [d for d in map(answer_drill, relabelled_rows([r for i, r in enumerate(rows) if i % 10], ids, 4, 0)) if d]
    held = [d for d in map(answer_drill, relabelled_rows(rows[::10], ids, 1, 99)) if d][:60]
    start_token = tokenizer.convert_tokens_to_ids("<|im_start|>")

    def encode(drill: dict) -> tuple[list[int], list[int], int]:
        text = tokenizer.apply_chat_template(drill["messages"], tokenize=False)
        tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
        answer = len(tokens) - tokens[::-1].index(start_token) + 2  # after "<|im_start|>assistant\n"
        return tokens, [-100] * answer + tokens[answer:], answer

    train_enc, held_enc = [encode(d) for d in train], [encode(d) for d in held]
    print(f"{len(train_enc)} drills, {sum(len(t) for t, _, _ in train_enc) / len(train_enc):.0f} tokens on average")

    def copies() -> str:
        ids_seen = ids_hit = digits_seen = digits_hit = 0
        model.eval()
        with torch.no_grad():
            for tokens, _, answer in held_enc:
                names = tokenizer.convert_ids_to_tokens(tokens)
                before = set(names[:answer])
                predicted = model(torch.tensor([tokens])).logits[0].argmax(-1)
                for p in range(answer, len(tokens)):
                    hit = int(predicted[p - 1]) == tokens[p]
                    if names[p] in id_tokens and names[p] in before:
                        ids_seen, ids_hit = ids_seen + 1, ids_hit + hit
                    elif names[p].isdigit():
                        digits_seen, digits_hit = digits_seen + 1, digits_hit + hit
        model.train()
        return f"ids copied {ids_hit}/{ids_seen}, digits {digits_hit}/{digits_seen}"

    print("step 0:", copies(), flush=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.0)
    rng = random.Random(0)
    wall, cpu, step = time.perf_counter(), time.process_time(), 0
    while time.perf_counter() - wall < args.seconds:
        step += 1
        batch = rng.sample(train_enc, args.batch)
        length = max(len(t) for t, _, _ in batch)
        inputs = torch.full((args.batch, length), tokenizer.pad_token_id)
        labels = torch.full((args.batch, length), -100)
        mask = torch.zeros((args.batch, length), dtype=torch.long)
        for i, (tokens, targets, _) in enumerate(batch):
            inputs[i, :len(tokens)], labels[i, :len(targets)], mask[i, :len(tokens)] = (
                torch.tensor(tokens), torch.tensor(targets), 1)
        model(input_ids=inputs, attention_mask=mask, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    per_wall, per_cpu = (time.perf_counter() - wall) / step, (time.process_time() - cpu) / step
    print(f"step {step}: {copies()}; {per_wall:.2f} s a step wall, {per_cpu:.2f} CPU-s")


if __name__ == "__main__":
    main()
