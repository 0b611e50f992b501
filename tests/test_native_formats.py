"""Each model family's native output is a valid turn (a gold trajectory in it scores 3.0), a
broken tool-call attempt is malformed (R_fmt = 0), in process and over HTTP; the strict gate."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from envs import FinAdvisorEnv
from envs.reward import GoldCall
from envs.tasks import HANDWRITTEN, Task, load_tasks

TASKS = load_tasks(HANDWRITTEN)


def _args(call: GoldCall) -> str:
    return json.dumps(call.arguments)


def _openai_call(calls: list[GoldCall], content: str | None) -> str:
    return json.dumps({"role": "assistant", "content": content, "tool_calls": [
        {"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": _args(c)}}
        for i, c in enumerate(calls)]})


def _hermes(c: GoldCall) -> str:
    return f'<tool_call>\n{{"name": "{c.name}", "arguments": {_args(c)}}}\n</tool_call>'


# form -> (tool-call turn, final-answer turn)
NATIVE: dict[str, tuple[Callable[[GoldCall], str], Callable[[str], str]]] = {
    "openai_null_content": (lambda c: _openai_call([c], None),
                            lambda r: json.dumps({"role": "assistant", "content": r})),
    "openai_empty_content": (lambda c: _openai_call([c], ""),
                             lambda r: json.dumps({"role": "assistant", "content": r, "tool_calls": []})),
    "openai_content_parts": (lambda c: _openai_call([c], None),
                             lambda r: json.dumps({"role": "assistant", "content": [{"type": "text", "text": r}]})),
    "hermes_no_think": (_hermes, lambda r: r),
    "qwen3_think": (lambda c: f"<think>\nI need {c.name} for this.\n</think>\n\n" + _hermes(c),
                    lambda r: f"<think>\nI have what I need.\n</think>\n\n{r}"),
    "qwen3_empty_think": (lambda c: "<think>\n\n</think>\n\n" + _hermes(c), lambda r: f"<think>\n\n</think>\n\n{r}"),
    "qwen_prefilled_think": (lambda c: f"Looking it up.\n</think>\n\n{_hermes(c)}", lambda r: f"Done.\n</think>\n\n{r}"),
    "prose_then_tool_call": (lambda c: f"Let me check that.\n{_hermes(c)}", lambda r: r),
    "llama_json": (lambda c: f'{{"name": "{c.name}", "parameters": {_args(c)}}}', lambda r: r),
    "llama_python_tag": (lambda c: f'<|python_tag|>{{"name": "{c.name}", "parameters": {_args(c)}}}<|eom_id|>',
                         lambda r: f"{r}<|eot_id|>"),
    "mistral": (lambda c: f'[TOOL_CALLS][{{"name": "{c.name}", "arguments": {_args(c)}}}]', lambda r: r),
    "mistral_v11": (lambda c: f"[TOOL_CALLS]{c.name}[ARGS]{_args(c)}", lambda r: r),
    "openai_markup_in_content": (lambda c: json.dumps({"role": "assistant", "content": _hermes(c)}),
                                 lambda r: json.dumps({"role": "assistant", "content": r})),
}

# A broken tool-call attempt: malformed (or, for the OpenAI arguments, not an object), never an answer.
BROKEN = {
    "unclosed_tool_call": '<tool_call>{"name": "get_client_profile", "arguments": {"client_id": "C000002"}}',
    "truncated_tagged_arguments": '<think>t</think><tool_call>{"name": "get_client_profile", "arguments": '
                                  '{"client_id": "C0</tool_call>',
    "invalid_json_call": '{"name": "get_client_profile", "arguments": {"client_id": ',
    "truncated_mistral": '[TOOL_CALLS][{"name": "get_client_profile", "arguments": {',
    "truncated_python_tag": '<|python_tag|>{"name": "get_client_profile", "parameters": ',
    "mistral_without_args": "[TOOL_CALLS]get_client_profile",
    "unclosed_think": "<think>I should look up the client and then",
    "truncated_openai_arguments": json.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "get_client_profile", "arguments": '{"client_id": '}}]}),
    "fenced_call_in_prose": 'Here:\n```json\n{"name": "get_client_profile", "arguments": {}}\n```',
    "json_number": "42",
}


def native_actions(task: Task, form: str) -> list[str]:
    call, answer = NATIVE[form]
    return [call(c) for c in task.gold_calls] + [answer(task.gold_response)]


def play(env: FinAdvisorEnv, task: Task, actions: list[str]) -> tuple[float, dict, list[dict]]:
    env.reset(seed=0, options={"task_id": task.task_id})
    infos = []
    for action in actions:
        _, reward, terminated, truncated, info = env.step(action)
        infos.append(info)
        if terminated or truncated:
            return reward, info["reward"], infos
    raise AssertionError("episode did not end")


@pytest.fixture(scope="module", params=["inprocess", "http"])
def env(request) -> Iterator[FinAdvisorEnv]:
    if request.param == "inprocess":
        e = FinAdvisorEnv(tasks=HANDWRITTEN)
        yield e
        e.close()
        return
    from envs.replica import default_replica
    from mock_apis.app import create_app, serve_in_thread

    with serve_in_thread(create_app(default_replica(), "tok")) as url:
        e = FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=url, token="tok")
        yield e
        e.close()


@pytest.mark.parametrize("form", sorted(NATIVE))
def test_a_gold_trajectory_in_each_native_form_scores_3(env, form):
    for task in TASKS:
        reward, r, infos = play(env, task, native_actions(task, form))
        assert reward == 3.0 and r["R_fmt"] == 1.0 and r["task_success"], (form, task.task_id, r)
        assert infos[-1]["action_kind"] == "final"


def test_several_calls_in_one_native_turn(env):
    task = next(t for t in TASKS if len(t.gold_calls) == 2 and t.gold_calls[0].name != t.gold_calls[1].name
                and not any(g.name in ("place_order", "cancel_order") for g in t.gold_calls))
    reward, r, infos = play(env, task, [_openai_call(list(task.gold_calls), None), task.gold_response])
    assert reward == 3.0 and len(infos[0]["calls"]) == 2


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_tool_call_attempt_fails_the_gate_and_the_episode_goes_on(env, name):
    task = TASKS[0]
    reward, r, infos = play(env, task, [BROKEN[name], *task.gold_actions()])
    assert r["slips"] == 1 and r["R_fmt"] < 1.0 and reward < 3.0, name  # recovered by the gold calls
    assert infos[0]["action_kind"] != "final" and not infos[0]["format_ok"], name
    assert len(infos) == len(task.gold_actions()) + 1  # the episode went on
    gold = task.gold_actions()
    reward, r, _ = play(env, task, [*gold[:-1], BROKEN[name], gold[-1]])
    assert r["R_fmt"] == 0.0 and reward <= 0.0, name  # nothing recovered it


def test_strict_mode_requires_a_thought_on_every_turn():
    strict = FinAdvisorEnv(tasks=HANDWRITTEN, reward_config={"format": "strict"})
    task = TASKS[0]
    assert play(strict, task, task.gold_actions())[0] == 3.0  # the ReAct protocol passes
    for form in ("openai_null_content", "hermes_no_think", "llama_json", "mistral"):
        reward, r, _ = play(strict, task, native_actions(task, form))
        assert r["R_fmt"] == 0.0 and r["format"] == "strict" and reward <= 0.0, form
    reward, r, infos = play(strict, task, native_actions(task, "qwen3_think"))
    assert r["R_fmt"] == 0.0 and "plain_text" in infos[-1]["format_errors"]  # the answer is outside <response>
    strict.close()


def test_native_mode_still_requires_the_react_thought():
    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    task = TASKS[0]
    c = task.gold_calls[0]
    no_thought = json.dumps({"action": {"name": c.name, "arguments": c.arguments}})
    _, r, infos = play(env, task, [no_thought, *task.gold_actions()[1:]])
    assert r["R_fmt"] == 0.0 and infos[0]["format_errors"] == ["missing_thought"]
    env.close()
