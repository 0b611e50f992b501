"""Training rows from a task suite, shared by ``advisorgym tasks export``, the replay exports
and the trainer (which re-exports them as ``trainer.data``): GRPO prompts, and SFT conversations
from the gold trajectories (with the env's real tool results) plus ~5% error-recovery demonstrations.

No torch needed: ``advisorgym tasks export`` writes them as JSONL, with a dataset card. Tool
calls carry their ``arguments`` as objects, as chat templates take them. Load the files with
the explicit features (``sft_features()``, ``grpo_features()``): every message and every tool
schema is then kept as the JSON it is, where ``datasets`` would otherwise unify them into one
struct and give each schema every other tool's parameters as nulls::

    load_dataset("json", data_files="data/sft.jsonl", features=sft_features(), split="train")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from envs.env import system_prompt, tool_schemas
from envs.evaluation.scripted import hallucinated_name
from envs.tasks import Task
from mock_apis.domain import DEFAULT_DOMAIN, Domain, get_domain


def grpo_rows(tasks: Sequence[Task], as_of: str, seed: int = 0, prompt_mode: str = "tools_via_template",
              domain: str | Domain | None = None) -> list[dict[str, Any]]:
    """One row per task, as ``GRPOTrainer`` takes it with ``AdvisorEnvironment``: the prompt as
    messages (the system prompt, then the advisor's query), the task's ``tools`` (its pinned
    versions), and the ``task_id``/``seed`` that ``AdvisorEnvironment.reset`` receives. Task *i*
    gets seed ``seed + i``, as in ``advisorgym eval``.

    ``prompt_mode``: ``"tools_via_template"`` (a trainer passes ``tools`` to the chat template,
    as TRL's ``environment_factory`` does) or ``"full"`` (the system prompt itself lists the
    tools and the action formats, for trainers that show the model no tools of their own).
    ``domain``: the tasks' (default: the default domain), whose rules and tools the prompt shows."""
    return [{"prompt": [{"role": "system", "content": system_prompt(as_of, prompt_mode, t.pins, domain)},
                        {"role": "user", "content": t.query}],
             "tools": tool_schemas(t.pins, domain=domain), "task_id": t.task_id, "level": t.level, "seed": seed + i}
            for i, t in enumerate(tasks)]


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
    obs, _ = env.reset(seed=seed, options={"task_id": task.task_id})
    prompt = orjson.loads(obs)
    messages: list[dict[str, Any]] = [{"role": "system", "content": env.system_prompt_for_tools_api},
                                      {"role": "user", "content": prompt["user"]}]
    steps: list[tuple[str, dict[str, Any], str | None]] = []
    first = task.gold_calls[0] if task.gold_calls else None
    if recovery == "unknown_tool" and first is not None:
        steps.append((hallucinated_name(first.name, env.domain), dict(first.arguments), "Let me look that up."))
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
                         "tools": tool_schemas(task.pins, domain=env.domain),  # its pinned versions
                         "task_id": task.task_id, "level": task.level, "kind": f"recovery_{kind}" if kind else "gold"})
    return rows


def write_jsonl(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for row in rows:
            fh.write(orjson.dumps(row) + b"\n")


def row_features(json_lists: Sequence[str], **values: str) -> Any:
    """The ``datasets.Features`` of exported rows: each column of ``json_lists`` a list of JSON
    values (messages, tool schemas), kept as the JSON they are; each of ``values`` a column of
    that ``datasets`` dtype (``"string"``, ``"int64"``, ``"float64"``)."""
    # datasets: the train extra; writing the rows needs only orjson
    from datasets import Features, Json, List, Value  # optional: the train extra

    return Features({**{name: List(Json()) for name in json_lists},
                     **{name: Value(dtype) for name, dtype in values.items()}})


def sft_features() -> Any:
    """The ``datasets.Features`` of ``sft.jsonl``: each message and each tool schema as JSON."""
    return row_features(("messages", "tools"), task_id="string", level="string", kind="string")


def grpo_features(environment: bool = False) -> Any:
    """The ``datasets.Features`` of ``grpo.jsonl``: the prompt's messages, each tool schema as JSON;
    with ``environment``, the column that picks each row's environment (TRL's per-row selection)."""
    # datasets: the train extra (see row_features)
    from datasets import Features, List, Value  # optional: the train extra

    routing = {"environment": "string"} if environment else {}
    return Features({"prompt": List({"role": Value("string"), "content": Value("string")}),
                     **row_features(("tools",), task_id="string", level="string", seed="int64", **routing)})


def dpo_features() -> Any:
    """The ``datasets.Features`` of the DPO stage's pairs: the prompt's and each answer's
    messages, and each tool schema, as JSON."""
    return row_features(("prompt", "chosen", "rejected", "tools"))


def environment_class_name(domain: str | Domain | None = None) -> str:
    """The name of ``domain``'s ``environment_factory`` class (``trainer.adapters.environment_class``):
    ``AdvisorEnvironment`` for the default domain, ``AdvisorEnvironment_<name>`` for another."""
    found = get_domain(domain)
    return "AdvisorEnvironment" if found.name == DEFAULT_DOMAIN else f"AdvisorEnvironment_{found.name}"


def dataset_card(suite: str, as_of: str, seed: int, prompt_mode: str, grpo: Sequence[dict[str, Any]],
                 sft: Sequence[dict[str, Any]], domain: str | Domain | None = None) -> str:
    """The export folder's ``README.md``: what each file holds and how to load it. ``domain``:
    the suite's (default: the default domain), whose ``environment_factory`` class it names."""
    found = get_domain(domain)
    environment = environment_class_name(found)
    levels = ", ".join(f"{level} {sum(1 for r in grpo if r['level'] == level)}"
                       for level in sorted({r["level"] for r in grpo}))
    kinds = ", ".join(f"`{kind}` {sum(1 for r in sft if r['kind'] == kind)}"
                      for kind in sorted({r["kind"] for r in sft}))
    return f"""---
license: apache-2.0
task_categories:
- text-generation
tags:
- tool-calling
- agents
- {found.name}
configs:
- config_name: grpo
  data_files: grpo.jsonl
- config_name: sft
  data_files: sft.jsonl
---

# advisorgym training rows

Exported by `advisorgym tasks export` from the task suite `{suite}` ({len(grpo)} tasks: {levels}),
on the replica as of {as_of}; task *i* has seed {seed} + *i*. The rows are synthetic: a
seeded mock back office of the `{found.name}` domain ({found.description.rstrip(".")}), no real person.

## `grpo.jsonl`: prompts for GRPO with `{environment}`

One row per task: `prompt` (the system prompt, then the {found.rules.user_role}'s question), `tools` (the
task's tool schemas, Chat Completions shape), `task_id`, `level`, `seed`. The env replays each
rollout from `task_id` and `seed` and scores it with its own reward.

Prompt mode `{prompt_mode}`: {"the system prompt lists no tools; pass `tools` to the chat template (TRL's `environment_factory` does)" if prompt_mode == "tools_via_template" else "the system prompt lists the tools and the action formats, for trainers that show the model no tools of their own"}.

## `sft.jsonl`: gold conversations for SFT

{len(sft)} rows ({kinds}): `messages` (system, user, then each gold tool call as an assistant
message with `tool_calls`, the env's real result as a `tool` message, and the gold answer),
`tools`, `task_id`, `level`, `kind`. The `recovery_*` rows first make a mistake (a tool that
does not exist, or missing arguments), get the env's error, and correct it.

Tool-call `arguments` are JSON objects, as chat templates take them; call ids are nine letters
and digits (Mistral's templates accept no other).

## Loading

Load with explicit features, so that every message and tool schema stays the JSON it is
(without them `datasets` unifies all tools' parameters into one struct and adds the others
as nulls to each schema):

```python
from datasets import load_dataset
from trainer.data import grpo_features, sft_features

sft = load_dataset("json", data_files="sft.jsonl", features=sft_features(), split="train")
grpo = load_dataset("json", data_files="grpo.jsonl", features=grpo_features(), split="train")
```

The features: `messages` and `tools` are `List(Json())`; `prompt` a list of
`{{"role", "content"}}` strings; `task_id`, `level`, `kind` strings; `seed` an int64.
"""
