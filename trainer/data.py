"""Training rows from a task suite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envs.env import system_prompt
from envs.tasks import Task


def grpo_rows(tasks: Sequence[Task], as_of: str, seed: int = 0) -> list[dict[str, Any]]:
    """One row per task, as ``GRPOTrainer`` takes it with ``AdvisorEnvironment``: the prompt as
    messages (the system prompt made for tools passed through the chat template, then the
    advisor's query), and the ``task_id``/``seed`` that ``AdvisorEnvironment.reset`` receives.
    Task *i* gets seed ``seed + i``, as in ``advisorgym eval``."""
    system = system_prompt(as_of, "tools_via_template")
    return [{"prompt": [{"role": "system", "content": system}, {"role": "user", "content": t.query}],
             "task_id": t.task_id, "level": t.level, "seed": seed + i} for i, t in enumerate(tasks)]
