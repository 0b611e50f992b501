"""Call-level figures of held-out episodes, which move before mean R does while invented
figures dominate it (one invented figure costs more than every call-level gain).

Over the episodes of tasks that have gold calls:

- ``first_call_valid``: the first turn is a tool call to a catalogue tool whose arguments
  the env accepted (no error);
- ``first_call_exact_ids``: of the tasks whose query names an id that the first gold call
  takes (a client, an account, an advisor, a fund code...), the share whose first call is
  valid and carries every one of them among its argument values;

over all calls made:

- ``param_accuracy``: the mean of the env's per-call parameter accuracy;
- ``call_success``: the share of calls the env ran without an error;

and over all episodes:

- ``answers_without_invented_figures``: the share that ended in an answer with no
  ``fabricated_figure`` violation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envs.actions import parse_action
from envs.tasks import Task
from trainer.relabel import ENTITY_ID

CALL_FIGURES = ("first_call_valid", "first_call_exact_ids", "param_accuracy", "call_success",
                "answers_without_invented_figures")




def query_ids(task: Task) -> set[str]:
    """The ids among the first gold call's arguments that the query itself names."""
    if not task.gold_calls:
        return set()
    return {v for v in task.gold_calls[0].arguments.values()
            if isinstance(v, str) and ENTITY_ID.fullmatch(v) and v in task.query}


def _first_call(record: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first agent turn's first call (name, arguments) if that turn was a call, and the
    env's signal for it."""
    turns = [t["text"] for t in record.get("transcript", ()) if t.get("role") == "agent"]
    if not turns or not record.get("calls"):
        return None, None
    parsed = parse_action(turns[0])
    if parsed.kind != "tool_call":
        return None, None
    call = parsed.calls[0]
    return {"name": call.name, "arguments": call.arguments}, record["calls"][0]


def _arguments_values(arguments: Any) -> set[str]:
    if isinstance(arguments, dict):
        return {str(v) for v in arguments.values() if isinstance(v, (str, int))}
    return set()


def call_figures(records: Sequence[Mapping[str, Any]], tasks: Mapping[str, Task]) -> dict[str, float | None]:
    """The figures of the module doc (None where no episode or call qualifies)."""
    with_calls = [r for r in records if tasks[r["task_id"]].gold_calls]
    valid = exact = named = 0
    for record in with_calls:
        call, signal = _first_call(record)
        ok = call is not None and bool(signal and signal.get("valid_tool")) and not (signal or {}).get("error")
        valid += ok
        ids = query_ids(tasks[record["task_id"]])
        if ids:
            named += 1
            exact += ok and ids <= _arguments_values(call["arguments"] if call else None)
    calls = [c for r in records for c in r.get("calls", ())]
    accuracies = [float(c["param_accuracy"]) for c in calls if c.get("param_accuracy") is not None]
    answered_clean = sum(1 for r in records if r.get("terminated_by") == "response"
                         and "fabricated_figure" not in r.get("violations", ()))

    def share(n: int, d: int) -> float | None:
        return n / d if d else None

    return {"first_call_valid": share(valid, len(with_calls)), "first_call_exact_ids": share(exact, named),
            "param_accuracy": sum(accuracies) / len(accuracies) if accuracies else None,
            "call_success": share(sum(1 for c in calls if not c.get("error")), len(calls)),
            "answers_without_invented_figures": share(answered_clean, len(records))}
