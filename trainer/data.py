"""Training rows from a task suite: GRPO prompts, and SFT conversations from the gold
trajectories (with the env's real tool results) plus ~5% error-recovery demonstrations.
No torch needed: ``advisorgym tasks export`` writes them as JSONL for ``datasets.load_dataset("json", ...)``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from envs.env import system_prompt, tool_schemas
from envs.tasks import Task


def grpo_rows(tasks: Sequence[Task], as_of: str, seed: int = 0) -> list[dict[str, Any]]:
    """One row per task, as ``GRPOTrainer`` takes it with ``AdvisorEnvironment``: the prompt as
    messages (the system prompt made for tools passed through the chat template, then the
    advisor's query), and the ``task_id``/``seed`` that ``AdvisorEnvironment.reset`` receives.
    Task *i* gets seed ``seed + i``, as in ``advisorgym eval``."""
    system = system_prompt(as_of, "tools_via_template")
    return [{"prompt": [{"role": "system", "content": system}, {"role": "user", "content": t.query}],
             "task_id": t.task_id, "level": t.level, "seed": seed + i} for i, t in enumerate(tasks)]


# Every RECOVERY_EVERY-th task with a gold call also gets an error-recovery demonstration (~5%).
RECOVERY_EVERY = 20


def _call_message(call_id: str, name: str, arguments: dict[str, Any], thought: str | None) -> dict[str, Any]:
    # Arguments as an object, as chat templates take them (a JSON string is encoded twice by
    # some and breaks others); SFT_FEATURES keeps them whole through ``datasets``.
    return {"role": "assistant", "content": thought or "", "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]}


def sft_conversation(env: Any, task: Task, seed: int, recovery: str | None = None) -> list[dict[str, Any]]:
    """The gold trajectory as chat messages, with the tool results the env really returns.

    ``recovery``: ``"unknown_tool"`` first calls a plausible tool that does not exist, or
    ``"invalid_arguments"`` first calls the right tool without its required arguments; the
    env's error observation follows, then the gold trajectory (the correction).
    """
    from envs.evaluation.scripted import hallucinated_name

    obs, _ = env.reset(seed=seed, options={"task_id": task.task_id})
    prompt = orjson.loads(obs)
    messages: list[dict[str, Any]] = [{"role": "system", "content": env.system_prompt_for_tools_api},
                                      {"role": "user", "content": prompt["user"]}]
    steps: list[tuple[str, dict[str, Any], str | None]] = []
    first = task.gold_calls[0] if task.gold_calls else None
    if recovery == "unknown_tool" and first is not None:
        steps.append((hallucinated_name(first.name), dict(first.arguments), "Let me look that up."))
    elif recovery == "invalid_arguments" and first is not None:
        steps.append((first.name, {}, "Let me look that up."))
    for i, call in enumerate(task.gold_calls):
        thought = task.gold_thoughts[i] if i < len(task.gold_thoughts) else None
        if recovery and i == 0:
            thought = "That failed; the error says what was wrong. Correcting the call."
        steps.append((call.name, dict(call.arguments), thought))
    for n, (name, arguments, thought) in enumerate(steps):
        call_id = f"call{n:05d}"  # nine letters and digits: Mistral's template takes no other ids
        message = _call_message(call_id, name, arguments, thought)
        obs, *_ = env.step(orjson.dumps(message).decode())
        messages += [message, {"role": "tool", "tool_call_id": call_id, "name": name, "content": obs}]
    messages.append({"role": "assistant", "content": task.gold_response})
    return messages


def sft_rows(env: Any, tasks: Sequence[Task], seed: int = 0) -> list[dict[str, Any]]:
    """One row per task (``messages``, ``tools``, ``task_id``, ``level``, ``kind``), plus an
    error-recovery row for every RECOVERY_EVERY-th task with a gold call, alternating an
    unknown tool and invalid arguments."""
    rows, with_calls = [], 0
    for i, task in enumerate(tasks):
        kinds: list[str | None] = [None]
        if task.gold_calls:
            if with_calls % RECOVERY_EVERY == 0:
                kinds.append(("unknown_tool", "invalid_arguments")[(with_calls // RECOVERY_EVERY) % 2])
            with_calls += 1
        for kind in kinds:
            rows.append({"messages": sft_conversation(env, task, seed + i, kind),
                         "tools": tool_schemas(task.pins),  # its pinned versions
                         "task_id": task.task_id, "level": task.level, "kind": f"recovery_{kind}" if kind else "gold"})
    return rows


def write_jsonl(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for row in rows:
            fh.write(orjson.dumps(row) + b"\n")
