"""DPO pairs for compliance (ToolRLA §3.4), scored by the env, and the DPO stage's dataset.

Every pair shares a prompt: the task's gold trajectory up to the final answer (system, user,
the gold tool calls and the env's real results), so the pair differs only in the answer.
Each answer is scored by replaying that trajectory plus the answer in the env
(``score_trajectory``): the compliance checker, the over-refusal signal and R_corr decide.

- ``sampled_pairs``: answers sampled from the policy; chosen is the best compliant,
  helpful one (the gold answer when no sample is, or when the best is more than ``margin``
  below it; ``chosen_by`` says which), rejected the worst sample that violates,
  over-refuses, or scores at least ``margin`` below the chosen one;
- ``over_caution_pairs``: helpful vs over-cautious, against over-refusal: for a task that
  expects an answer, the gold answer against a refusal of it;
- ``expert_pairs``: written by hand (``fixtures/dpo/expert_pairs.jsonl``): guarantees,
  forecasts, stock picks, another client's data, opinions, speculation about a client,
  over-refusals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from envs.replay import assistant_turns, score_trajectory
from envs.resources import fixtures_dir
from envs.tasks import Task
from trainer.data import sft_conversation

EXPERT_PAIRS = fixtures_dir() / "dpo" / "expert_pairs.jsonl"
# Over-cautious declines of an answerable request, the shapes seen in real models' outputs.
OVER_CAUTIOUS = ("I'm sorry, but I can't help with that request.",
                 "I'm not able to share that information; please check with compliance.",
                 "I can't provide that. Please consult the relevant system directly.")


def answer_prompt(env: Any, task: Task, seed: int) -> list[dict[str, Any]]:
    """The gold trajectory up to (not including) the final answer, as chat messages."""
    return sft_conversation(env, task, seed)[:-1]


def score_answer(env: Any, task: Task, prompt: Sequence[dict[str, Any]], answer: str, seed: int) -> dict[str, Any]:
    """The env's reward info for ``prompt``'s trajectory ended by ``answer``."""
    return score_trajectory(env, task, [*assistant_turns(prompt), answer], seed=seed).reward


def acceptable(reward: dict[str, Any]) -> bool:
    """A compliant, helpful answer: no violation, no over- or under-refusal."""
    return reward["R_comp"] == 0 and not reward.get("over_refusal") and not reward.get("under_refusal")


def _row(env: Any, prompt: list[dict[str, Any]], chosen: str, rejected: str, task: Task, source: str,
         rewards: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
            "tools": list(env.tool_schemas), "task_id": task.task_id, "source": source,
            "chosen_total": float(rewards[0]["total"]), "rejected_total": float(rewards[1]["total"])}


def pair_from_answers(env: Any, task: Task, prompt: list[dict[str, Any]], answers: Sequence[str], seed: int,
                      margin: float = 0.25, source: str = "sampled") -> dict[str, Any] | None:
    """The pair the scored ``answers`` give (with the gold answer as the fallback chosen), or None."""
    scored = [(a, score_answer(env, task, prompt, a, seed)) for a in dict.fromkeys(answers)]
    good = [(a, r) for a, r in scored if acceptable(r)]
    chosen = max(good, key=lambda ar: ar[1]["total"], default=None)
    gold = (task.gold_response, score_answer(env, task, prompt, task.gold_response, seed))
    own = chosen is not None and chosen[1]["total"] >= gold[1]["total"] - margin
    if not own:
        chosen = gold
    bad = [(a, r) for a, r in scored if a != chosen[0] and
           (not acceptable(r) or r["total"] <= chosen[1]["total"] - margin)]
    if not bad:
        return None
    rejected = min(bad, key=lambda ar: (acceptable(ar[1]), ar[1]["total"]))
    row = _row(env, prompt, chosen[0], rejected[0], task, source, (chosen[1], rejected[1]))
    row["chosen_by"] = "policy" if own else "gold"  # on-policy pairs: the chosen answer is the policy's own
    return row


def sampled_pairs(env: Any, tasks: Sequence[Task], sample: Callable[[list[dict[str, Any]], int], list[str]],
                  samples_per_prompt: int = 4, seed: int = 0, margin: float = 0.25) -> list[dict[str, Any]]:
    """Pairs from the policy's own answers: ``sample(prompt_messages, n)`` returns n answers."""
    rows = []
    for i, task in enumerate(tasks):
        prompt = answer_prompt(env, task, seed + i)
        row = pair_from_answers(env, task, prompt, sample(prompt, samples_per_prompt), seed + i, margin)
        if row is not None:
            rows.append(row)
    return rows


def over_caution_pairs(env: Any, tasks: Sequence[Task], seed: int = 0) -> list[dict[str, Any]]:
    """Helpful vs over-cautious, for the tasks that expect an answer (kept only where the env
    flags the refusal as over-refusal and prefers the gold answer)."""
    rows = []
    for i, task in enumerate(tasks):
        if task.compliance.expect_refusal:
            continue
        prompt = answer_prompt(env, task, seed + i)
        refusal = OVER_CAUTIOUS[i % len(OVER_CAUTIOUS)]
        rewards = (score_answer(env, task, prompt, task.gold_response, seed + i),
                   score_answer(env, task, prompt, refusal, seed + i))
        if rewards[1].get("over_refusal") and rewards[0]["total"] > rewards[1]["total"]:
            rows.append(_row(env, prompt, task.gold_response, refusal, task, "over_caution", rewards))
    return rows


def load_expert_pairs(path: str | Path = EXPERT_PAIRS) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in Path(path).read_bytes().splitlines() if line.strip()]


def expert_pairs(env: Any, tasks_by_id: dict[str, Task], path: str | Path = EXPERT_PAIRS,
                 seed: int = 0) -> list[dict[str, Any]]:
    """The hand-written pairs whose task is in ``tasks_by_id``, as DPO rows (scored by the env)."""
    rows = []
    for pair in load_expert_pairs(path):
        task = tasks_by_id.get(pair["task_id"])
        if task is None:
            continue
        prompt = answer_prompt(env, task, seed)
        rewards = (score_answer(env, task, prompt, pair["chosen"], seed),
                   score_answer(env, task, prompt, pair["rejected"], seed))
        rows.append(_row(env, prompt, pair["chosen"], pair["rejected"], task, f"expert:{pair['flaw']}", rewards))
    return rows
