"""Every model family's tool-call dialect (docs/dialects.md), on the held-out suite.

- A gold trajectory written in each dialect scores exactly 3.0 on every held-out task (the
  same as the ReAct JSON form), with ``info["action_form"]`` naming the dialect. The samples
  are written as the families write them: their spacing, their thought slots, their ids, in
  more than one variant per family (alternating over the tasks).
- Broken samples of each dialect are malformed, never answers; no prefix of a call that still
  carries a call marker ends an episode.
- Histories of real SDK objects (``openai``, ``anthropic``) score exactly like the same
  history as dicts; a history the scorer cannot read raises.
- Parsing stays linear: hostile inputs aimed at each dialect's scanner parse fast.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anthropic.types as anthropic_types
import openai.types.chat as openai_chat
import openai.types.responses as openai_responses
import pytest

from envs import FinAdvisorEnv, tool_messages
from envs.actions import DIALECT_SHAPES, FORMS, call_marker, parse_action
from envs.replay import assistant_turns, score_trajectory
from envs.replay.scoring import HistoryError
from envs.reward import GoldCall
from envs.tasks import HELDOUT, Task, load_tasks

TASKS = load_tasks(HELDOUT)  # through the loader: the suite may be regenerated under us

DS_CALLS, DS_CALLS_END = "<\uff5ctool\u2581calls\u2581begin\uff5c>", "<\uff5ctool\u2581calls\u2581end\uff5c>"
DS_CALL, DS_CALL_END = "<\uff5ctool\u2581call\u2581begin\uff5c>", "<\uff5ctool\u2581call\u2581end\uff5c>"
DS_SEP, DS_EOS = "<\uff5ctool\u2581sep\uff5c>", "<\uff5cend\u2581of\u2581sentence\uff5c>"


@pytest.fixture(scope="module")
def env():
    e = FinAdvisorEnv(tasks=HELDOUT)
    yield e
    e.close()


def compact(args: dict[str, Any]) -> str:
    return json.dumps(args, separators=(",", ":"), ensure_ascii=False)


def spaced(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


def py_args(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


def xml_value(value: Any) -> str:
    """How GLM-4.5's and Qwen3-Coder's templates render a value: strings raw, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --- each dialect: (call turn for the i-th gold call, answer turn, call form, answer form) ----
# Turn builders get (call, i, task) / (answer, task); `i` alternates the variants.

def harmony_call(c: GoldCall, i: int, t: Task) -> str:
    if i % 2:  # the recipient in the role section, as the gpt-oss chat template renders it
        return (f"<|channel|>analysis<|message|>Next I need {c.name}.<|end|>"
                f"<|start|>assistant to=functions.{c.name}<|channel|>commentary json<|message|>{compact(c.arguments)}<|call|>")
    return (f"<|channel|>analysis<|message|>User asks: \"{t.query[:60]}\". Need to call {c.name}.<|end|>"
            f"<|start|>assistant<|channel|>commentary to=functions.{c.name} <|constrain|>json"
            f"<|message|>{compact(c.arguments)}<|call|>")


def harmony_answer(r: str, t: Task) -> str:
    return ("<|channel|>analysis<|message|>I have the results; answer.<|end|>"
            f"<|start|>assistant<|channel|>final<|message|>{r}<|return|>")


def deepseek_v3_call(c: GoldCall, i: int, t: Task) -> str:
    think = "<think>\nI should look this up.\n</think>\n\n" if i % 2 else ""  # R1-style reasoning
    return (f"{think}{DS_CALLS}{DS_CALL}function{DS_SEP}{c.name}\n```json\n{spaced(c.arguments)}\n```"
            f"{DS_CALL_END}{DS_CALLS_END}{DS_EOS}")


def deepseek_v31_call(c: GoldCall, i: int, t: Task) -> str:
    prefix = "I'll check that for you." if i % 2 else ""
    return f"{prefix}{DS_CALLS}{DS_CALL}{c.name}{DS_SEP}{compact(c.arguments)}{DS_CALL_END}{DS_CALLS_END}{DS_EOS}"


def granite_call(c: GoldCall, i: int, t: Task) -> str:
    call = f'<|tool_call|>[{{"name": "{c.name}", "arguments": {spaced(c.arguments)}}}]'
    return f"Let me look that up.\n{call}" if i % 2 else call


def functionary_v31_call(c: GoldCall, i: int, t: Task) -> str:
    return f"<function={c.name}>{spaced(c.arguments)}</function><|eom_id|>"


def functionary_v32_call(c: GoldCall, i: int, t: Task) -> str:
    # The generation prompt ends with ">>>": the turn starts with the name (or "all\n").
    if i % 2:
        return f"all\nLet me check {c.name}.>>>{c.name}\n{spaced(c.arguments)}"
    return f"{c.name}\n{spaced(c.arguments)}"


def command_r7b_call(c: GoldCall, i: int, t: Task) -> str:
    return (f"<|START_THINKING|>I will use {c.name} to answer.<|END_THINKING|><|START_ACTION|>[\n"
            f'    {{"tool_call_id": "{i}", "tool_name": "{c.name}", "parameters": {spaced(c.arguments)}}}\n'
            "]<|END_ACTION|><|END_OF_TURN_TOKEN|>")


def command_r7b_answer(r: str, t: Task) -> str:
    return ("<|START_THINKING|>I have everything I need.<|END_THINKING|>"
            f"<|START_RESPONSE|>{r}<|END_RESPONSE|><|END_OF_TURN_TOKEN|>")


def command_r_call(c: GoldCall, i: int, t: Task) -> str:
    params = json.dumps(c.arguments, indent=4).replace("\n", "\n        ")
    plan = f"Plan: First I will use {c.name}.\n" if i % 2 else ""
    return (f'{plan}Action: ```json\n[\n    {{\n        "tool_name": "{c.name}",\n'
            f'        "parameters": {params}\n    }}\n]\n```')


def kimi_call(c: GoldCall, i: int, t: Task) -> str:
    return (f"I'll call {c.name}.<|tool_calls_section_begin|><|tool_call_begin|>functions.{c.name}:{i}"
            f"<|tool_call_argument_begin|>{compact(c.arguments)}<|tool_call_end|><|tool_calls_section_end|><|im_end|>")


def gemma_call(c: GoldCall, i: int, t: Task) -> str:
    if i % 2:
        return f"```tool_code\nprint(default_api.{c.name}({py_args(c.arguments)}))\n```"
    return f"I need to call {c.name}.\n```tool_code\n{c.name}({py_args(c.arguments)})\n```"


def pythonic_call(c: GoldCall, i: int, t: Task) -> str:
    if i % 2:  # Llama 4
        return f"<|python_start|>[{c.name}({py_args(c.arguments)})]<|python_end|><|eom|>"
    return f"[{c.name}({py_args(c.arguments)})]<|eot_id|>"


def hermes_parameters_call(c: GoldCall, i: int, t: Task) -> str:
    think = "<think>\nI need the data first.\n</think>\n\n" if i % 2 else ""
    return f'{think}<tool_call>\n{{"name": "{c.name}", "parameters": {spaced(c.arguments)}}}\n</tool_call><|im_end|>'


def glm_call(c: GoldCall, i: int, t: Task) -> str:
    pairs = "".join(f"<arg_key>{k}</arg_key>\n<arg_value>{xml_value(v)}</arg_value>\n" for k, v in c.arguments.items())
    stop = "<|observation|>" if i % 2 else ""  # the token GLM-4.5 stops a tool-calling turn with
    return f"<think>I should call {c.name}.</think>\n<tool_call>{c.name}\n{pairs}</tool_call>{stop}"


def qwen3_coder_call(c: GoldCall, i: int, t: Task) -> str:
    params = "".join(f"<parameter={k}>\n{xml_value(v)}\n</parameter>\n" for k, v in c.arguments.items())
    prose = "I'll look that up.\n" if i % 2 else ""
    return f"{prose}<tool_call>\n<function={c.name}>\n{params}</function>\n</tool_call><|im_end|>"


def responses_call(c: GoldCall, i: int, t: Task) -> str:
    item = {"id": f"fc_{i:04x}", "type": "function_call", "status": "completed", "arguments": compact(c.arguments),
            "call_id": f"call_{i}abc", "name": c.name}
    if i % 2:
        return json.dumps(item)
    return json.dumps([{"id": f"rs_{i}", "type": "reasoning", "summary": [
        {"type": "summary_text", "text": f"Need {c.name}."}]}, item])


def responses_answer(r: str, t: Task) -> str:
    return json.dumps([{"id": "rs_9", "type": "reasoning", "summary": []},
                       {"id": "msg_9", "type": "message", "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "annotations": [], "text": r}]}])


def anthropic_call(c: GoldCall, i: int, t: Task) -> str:
    use = {"type": "tool_use", "id": f"toolu_01A{i}", "name": c.name, "input": c.arguments}
    if i % 2:
        return json.dumps(use)  # a bare content block
    return json.dumps({"id": "msg_01", "type": "message", "role": "assistant", "model": "claude",
                       "content": [{"type": "text", "text": f"I'll use {c.name}."}, use],
                       "stop_reason": "tool_use", "stop_sequence": None,
                       "usage": {"input_tokens": 10, "output_tokens": 5}})


def anthropic_answer(r: str, t: Task) -> str:
    return json.dumps({"id": "msg_02", "type": "message", "role": "assistant", "model": "claude",
                       "content": [{"type": "thinking", "thinking": "I can answer now.", "signature": "sig"},
                                   {"type": "text", "text": r}],
                       "stop_reason": "end_turn", "stop_sequence": None,
                       "usage": {"input_tokens": 10, "output_tokens": 5}})


def plain(suffix: str = "", think: bool = False) -> Callable[[str, Task], str]:
    return lambda r, t: ("<think>\nDone.\n</think>\n\n" if think else "") + r + suffix


def openai_refusal_answer(r: str, t: Task) -> str:
    return json.dumps({"role": "assistant", "content": None, "refusal": r})


DIALECTS: dict[str, tuple[Callable[[GoldCall, int, Task], str], Callable[[str, Task], str], str, str]] = {
    "harmony": (harmony_call, harmony_answer, "harmony", "harmony"),
    "deepseek_v3": (deepseek_v3_call, plain(DS_EOS, think=True), "deepseek_v3", "text"),
    "deepseek_v31": (deepseek_v31_call, plain(DS_EOS), "deepseek_v31", "text"),
    "granite": (granite_call, plain("<|end_of_text|>"), "granite", "text"),
    "functionary_v31": (functionary_v31_call, plain("<|eot_id|>"), "functionary_v31", "text"),
    "functionary_v32": (functionary_v32_call, lambda r, t: f"all\n{r}<|eot_id|>", "functionary_v32", "functionary_v32"),
    "command_r7b": (command_r7b_call, command_r7b_answer, "command_r7b", "command_r7b"),
    "command_r": (command_r_call, plain(), "command_r", "text"),
    "kimi_k2": (kimi_call, plain("<|im_end|>"), "kimi_k2", "text"),
    "gemma_tool_code": (gemma_call, plain("<end_of_turn>"), "gemma_tool_code", "text"),
    "pythonic": (pythonic_call, plain("<|eot_id|>"), "pythonic", "text"),
    "hermes_parameters": (hermes_parameters_call, plain("<|im_end|>", think=True), "tagged", "text"),
    "glm45": (glm_call, plain(think=True), "glm45", "text"),
    "qwen3_coder": (qwen3_coder_call, plain("<|im_end|>"), "qwen3_coder", "text"),
    "responses": (responses_call, responses_answer, "responses", "responses"),
    "anthropic": (anthropic_call, anthropic_answer, "anthropic", "anthropic"),
}


def dialect_turns(task: Task, dialect: str) -> list[str]:
    call, answer, _, _ = DIALECTS[dialect]
    return [call(c, i, task) for i, c in enumerate(task.gold_calls)] + [answer(task.gold_response, task)]


def play(env: FinAdvisorEnv, task: Task, turns: list[Any]) -> tuple[float, dict[str, Any], list[dict[str, Any]]]:
    env.reset(seed=0, options={"task_id": task.task_id})
    infos = []
    for turn in turns:
        _, reward, terminated, truncated, info = env.step(turn)
        infos.append(info)
        if terminated or truncated:
            return reward, info["reward"], infos
    raise AssertionError(f"{task.task_id}: the episode did not end")


def test_every_dialect_form_is_a_known_form():
    for _, _, call_form, answer_form in DIALECTS.values():
        assert call_form in FORMS and answer_form in FORMS
    assert {"json_calls", "openai_refusal"} <= set(FORMS)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_gold_trajectories_in_each_dialect_score_3_on_every_heldout_task(env, dialect):
    _, _, call_form, answer_form = DIALECTS[dialect]
    for task in TASKS:
        reward, r, infos = play(env, task, dialect_turns(task, dialect))
        assert reward == 3.0 and r["R_fmt"] == 1.0, (dialect, task.task_id, r)
        assert len(infos) == len(task.gold_calls) + 1, (dialect, task.task_id)
        assert [i["action_form"] for i in infos[:-1]] == [call_form] * len(task.gold_calls), (dialect, task.task_id)
        assert infos[-1]["action_kind"] == "final" and infos[-1]["action_form"] == answer_form, (dialect, task.task_id)


# Dialects with several calls in one turn: the whole gold trajectory in one turn, then the answer.
PARALLEL: dict[str, Callable[[list[GoldCall]], str]] = {
    "json_calls_newline": lambda cs: "\n".join(f'{{"name": "{c.name}", "arguments": {spaced(c.arguments)}}}' for c in cs),
    "json_calls_concatenated": lambda cs: "".join(f'{{"name":"{c.name}","parameters":{compact(c.arguments)}}}'
                                                  for c in cs),
    "deepseek_v31": lambda cs: DS_CALLS + "\n".join(f"{DS_CALL}{c.name}{DS_SEP}{compact(c.arguments)}{DS_CALL_END}"
                                                     for c in cs) + DS_CALLS_END,
    "granite": lambda cs: "<|tool_call|>" + json.dumps([{"name": c.name, "arguments": c.arguments} for c in cs]),
    "functionary_v32": lambda cs: "".join(f">>>{c.name}\n{spaced(c.arguments)}" for c in cs)[3:],
    "command_r7b": lambda cs: "<|START_THINKING|>Several lookups.<|END_THINKING|><|START_ACTION|>[\n" + ",\n".join(
        f'    {{"tool_call_id": "{n}", "tool_name": "{c.name}", "parameters": {spaced(c.arguments)}}}'
        for n, c in enumerate(cs)) + "\n]<|END_ACTION|>",
    "command_r": lambda cs: "Action: ```json\n" + json.dumps(
        [{"tool_name": c.name, "parameters": c.arguments} for c in cs], indent=4) + "\n```",
    "kimi_k2": lambda cs: "<|tool_calls_section_begin|>" + "".join(
        f"<|tool_call_begin|>functions.{c.name}:{n}<|tool_call_argument_begin|>{compact(c.arguments)}<|tool_call_end|>"
        for n, c in enumerate(cs)) + "<|tool_calls_section_end|>",
    "gemma_tool_code": lambda cs: "```tool_code\n" + "\n".join(f"{c.name}({py_args(c.arguments)})" for c in cs) + "\n```",
    "pythonic": lambda cs: "[" + ", ".join(f"{c.name}({py_args(c.arguments)})" for c in cs) + "]",
    "glm45": lambda cs: "\n".join(f"<tool_call>{c.name}\n" + "".join(
        f"<arg_key>{k}</arg_key>\n<arg_value>{xml_value(v)}</arg_value>\n" for k, v in c.arguments.items())
        + "</tool_call>" for c in cs),
    "qwen3_coder": lambda cs: "\n".join("<tool_call>\n<function=" + c.name + ">\n" + "".join(
        f"<parameter={k}>\n{xml_value(v)}\n</parameter>\n" for k, v in c.arguments.items()) + "</function>\n</tool_call>"
        for c in cs),
    "functionary_v31": lambda cs: "".join(f"<function={c.name}>{spaced(c.arguments)}</function>" for c in cs),
    "responses": lambda cs: json.dumps([{"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{n}",
                                         "name": c.name, "arguments": compact(c.arguments), "status": "completed"}
                                        for n, c in enumerate(cs)]),
    "anthropic": lambda cs: json.dumps({"role": "assistant", "content": [
        {"type": "tool_use", "id": f"toolu_{n}", "name": c.name, "input": c.arguments} for n, c in enumerate(cs)]}),
}
PARALLEL_FORMS = {"json_calls_newline": "json_calls", "json_calls_concatenated": "json_calls"}
MULTI = [t for t in TASKS if len(t.gold_calls) >= 2]


@pytest.mark.parametrize("dialect", sorted(PARALLEL))
def test_several_calls_in_one_turn_score_3(env, dialect):
    assert MULTI
    for task in MULTI:
        reward, r, infos = play(env, task, [PARALLEL[dialect](list(task.gold_calls)), task.gold_response])
        assert reward == 3.0, (dialect, task.task_id, r)
        assert infos[0]["action_form"] == PARALLEL_FORMS.get(dialect, dialect)
        assert len(infos[0]["calls"]) == len(task.gold_calls)


def test_openai_structured_refusal_is_the_answer(env):
    refusing = [t for t in TASKS if t.compliance.expect_refusal]
    assert refusing
    for task in refusing:
        turns = [json.dumps({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": compact(c.arguments)}}]})
            for i, c in enumerate(task.gold_calls)] + [openai_refusal_answer(task.gold_response, task)]
        reward, r, infos = play(env, task, turns)
        assert reward == 3.0 and r["refused"], (task.task_id, r)
        assert infos[-1]["action_form"] == "openai_refusal"


# --- broken samples of each dialect: malformed, never an answer ---------------------------

BROKEN: dict[str, list[str]] = {
    "harmony": [
        '<|channel|>commentary to=functions.get_holdings <|constrain|>json<|message|>{"client_id": "C0',
        "<|channel|>analysis<|message|>I need the holdings.<|end|>",
        '<|start|>assistant<|channel|>commentary to=functions.get_holdings <|constrain|>json',
        '<|start|>functions.get_holdings to=assistant<|channel|>commentary<|message|>{"x": 1}<|end|>',
        '<|channel|>commentary to=functions.get_holdings<|message|>{"a": 1}<|message|>{"b": 2}<|call|>',
    ],
    "deepseek_v3": [
        f"{DS_CALLS}{DS_CALL}function{DS_SEP}get_holdings\n```json\n{{\"client_id\": \"C1\"}}{DS_CALL_END}{DS_CALLS_END}",
        f"{DS_CALLS}{DS_CALL}function{DS_SEP}get_holdings\n```json\n{{\"client_id\": \"C1\"}}\n```{DS_CALL_END}",
    ],
    "deepseek_v31": [
        f"{DS_CALLS}{DS_CALL}get_holdings{DS_SEP}{{\"client_id\": {DS_CALL_END}{DS_CALLS_END}",
        f"{DS_CALLS}{DS_CALL}get_holdings{{\"client_id\": \"C1\"}}{DS_CALL_END}{DS_CALLS_END}",
        f"{DS_CALL}get_holdings{DS_SEP}{{}}{DS_CALL_END}",
    ],
    "granite": ['<|tool_call|>[{"name": "get_holdings", "arguments": {"client_id": "C1"}', "Checking. <|tool_call|>",
                '<|tool_call|>"get_holdings"'],
    "functionary_v31": ['<function=get_holdings>{"client_id": "C1"}', '<function=get_holdings>{"client_id": }</function>',
                        '<function=>{}</function>'],
    "functionary_v32": ['>>>get_holdings\n{"client_id": ', ">>>get_holdings", 'get_holdings\n{"client_id": "C1"'],
    "command_r7b": ['<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_holdings", "parameters": {}}]',
                    '<|START_ACTION|>[{"tool_call_id": "0", "parameters": {}}]<|END_ACTION|>',
                    "<|START_THINKING|>I will look it up.<|END_THINKING|>",
                    "<|START_RESPONSE|>Answer"],
    "command_r": ['Action: ```json\n[{"tool_name": "get_holdings", "parameters": {}}]',
                  'Action: ```json\n[{"name": "get_holdings"}]\n```', "Action: ```json\n[{\"tool_name\": \n```"],
    "kimi_k2": ["<|tool_calls_section_begin|><|tool_call_begin|>functions.get_holdings:0<|tool_call_argument_begin|>"
                '{"client_id": "C1"}<|tool_calls_section_end|>',
                "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_holdings:0"
                '{"client_id": "C1"}<|tool_call_end|><|tool_calls_section_end|>',
                '<|tool_call_begin|>functions.get_holdings:0<|tool_call_argument_begin|>{}<|tool_call_end|>'],
    "gemma_tool_code": ['```tool_code\nget_holdings(client_id="C1"\n```', '```tool_code\nget_holdings("C1")\n```',
                        '```tool_code\nget_holdings(client_id=__import__("os").getcwd())\n```',
                        '```tool_code\nget_holdings(client_id="C1")'],
    "pythonic": ['[get_holdings(client_id="C1")', '[get_holdings(client_id=open("/etc/passwd").read())]',
                 "[get_holdings(**{'client_id': 'C1'})]", '[get_holdings(client_id="C1"), 42]'],
    "tagged": ['<tool_call>\n{"name": "get_holdings", "parameters": {"client_id": "C1"}}',
               '<tool_call>\n{"name": "get_holdings", "parameters": {"client_id": }}\n</tool_call>'],
    "glm45": ["<tool_call>get_holdings\n<arg_key>client_id</arg_key>\n</tool_call>",
              "<tool_call>get_holdings\n<arg_key>client_id</arg_key>\n<arg_value>C1\n</tool_call>",
              "<tool_call>get holdings now\n<arg_key>client_id</arg_key><arg_value>C1</arg_value></tool_call>"],
    "qwen3_coder": ["<tool_call>\n<function=get_holdings>\n<parameter=client_id>\nC1\n</function>\n</tool_call>",
                    "<tool_call>\n<function=get_holdings>\n<parameter=client_id>\nC1\n</parameter>\n</tool_call>",
                    "<function=get_holdings>\n<parameter=client_id>\nC1\n</parameter>\n"],
    "json_calls": ['{"name": "get_holdings", "arguments": {}}\n{"name": "list_accounts", "arguments": ',
                   '{"name": "get_holdings", "arguments": {}}\n{"thought": "x", "response": "y"}'],
    "responses": ['{"type": "function_call", "call_id": "c", "arguments": "{}"}',
                  '[{"type": "reasoning", "summary": [{"type": "summary_text", "text": "thinking"}]}]',
                  '[{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "x"}]}, '
                  '{"type": "function_call", "name": "get_holdings"'],
    "anthropic": ['{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "input": {}}]}',
                  '[{"type": "thinking", "thinking": "hmm", "signature": "s"}]',
                  '{"role": "assistant", "content": [{"type": "text", "text": "x"}, {"type": "tool_use", "name": 1'],
    "openai_refusal": ['{"role": "assistant", "content": null, "refusal": null}',
                       '{"role": "assistant", "content": "<tool_call>{\\"name\\": \\"get_holdings\\"", "refusal": null}'],
}


@pytest.mark.parametrize("dialect", sorted(BROKEN))
def test_broken_samples_of_each_dialect_are_malformed_with_its_shape(dialect):
    for sample in BROKEN[dialect]:
        r = parse_action(sample)
        assert r.kind == "malformed", (dialect, sample, r)
        assert r.error is not None and len(r.error["message"]) < 1000
        if r.form in DIALECT_SHAPES:
            assert DIALECT_SHAPES[r.form] in r.error["message"], (dialect, sample, r.error["message"])


def test_broken_dialect_turns_fail_the_gate_and_the_episode_goes_on(env):
    task = next(t for t in TASKS if t.gold_calls)
    for dialect, samples in BROKEN.items():
        for sample in samples:
            reward, r, infos = play(env, task, [sample, *task.gold_actions()])
            assert infos[0]["action_kind"] == "malformed" and not infos[0]["format_ok"], (dialect, sample)
            assert r["slips"] == 1 and r["R_fmt"] < 1.0 and reward < 3.0, (dialect, sample)  # recovered
            assert len(infos) == len(task.gold_actions()) + 1
            gold = task.gold_actions()
            reward, r, _ = play(env, task, [*gold[:-1], sample, gold[-1]])
            assert r["R_fmt"] == 0.0 and reward <= 0.0, (dialect, sample)  # nothing recovered it


def test_the_malformed_message_names_the_dialect_shape():
    r = parse_action('<|tool_call|>[{"name": "get_holdings", "arguments": {')
    assert r.form == "granite" and "<|tool_call|>[" in r.error["message"]
    r = parse_action(f"{DS_CALLS}{DS_CALL}get_holdings{DS_SEP}{{{DS_CALL_END}{DS_CALLS_END}")
    assert r.form == "deepseek_v31" and DS_SEP in r.error["message"]


def test_no_prefix_of_a_call_that_carries_a_marker_is_an_answer():
    """Every prefix of every dialect's call turns (a generation cut anywhere): while it
    carries a call marker it is a call or malformed, never a final answer."""
    task = next(t for t in TASKS if len(t.gold_calls) >= 2)
    samples = [call(c, i, task) for call, _, _, _ in DIALECTS.values() for i, c in enumerate(task.gold_calls[:2])]
    samples += [make(list(task.gold_calls)) for make in PARALLEL.values()]
    checked = 0
    for sample in samples:
        for cut in range(1, len(sample) + 1):
            prefix = sample[:cut]
            if call_marker(prefix) is not None:
                checked += 1
                assert parse_action(prefix).kind != "final", prefix
    assert checked > 1000


def test_answers_with_a_call_marker_are_never_final():
    for answer in ['{"thought": "t", "response": "Done. <|tool_call|>[{\\"name\\": \\"x\\"}]"}',
                   '{"role": "assistant", "content": "Sure <function=get_holdings>{}"}',
                   "<|START_RESPONSE|>Calling [TOOL_CALLS] now<|END_RESPONSE|>",
                   "<|channel|>final<|message|>Let me call <|tool_call_begin|> it<|return|>",
                   '[{"type": "message", "role": "assistant", "content": [{"type": "output_text", '
                   '"text": "```tool_code\\nget_x(a=1)\\n```"}]}]']:
        assert parse_action(answer).kind == "malformed", answer


def test_values_in_xml_dialects_are_json_where_they_parse():
    r = parse_action("<tool_call>search_funds\n<arg_key>limit</arg_key>\n<arg_value>5</arg_value>\n"
                     "<arg_key>query</arg_key>\n<arg_value>bond fund</arg_value>\n"
                     "<arg_key>tags</arg_key>\n<arg_value>[\"a\", \"b\"]</arg_value>\n</tool_call>")
    assert r.form == "glm45" and r.calls[0].arguments == {"limit": 5, "query": "bond fund", "tags": ["a", "b"]}
    r = parse_action("<tool_call>\n<function=search_funds>\n<parameter=limit>\n5\n</parameter>\n"
                     "<parameter=query>\nmulti\nline\n</parameter>\n</function>\n</tool_call>")
    assert r.form == "qwen3_coder" and r.calls[0].arguments == {"limit": 5, "query": "multi\nline"}


def test_a_glm_turn_ending_with_its_stop_token_is_its_calls():
    """GLM-4.5 stops a tool-calling turn with ``<|observation|>`` (the env's results follow it)."""
    turn = ("<think>I need the holdings.</think>\n<tool_call>get_holdings\n<arg_key>client_id</arg_key>\n"
            "<arg_value>CL-0001</arg_value>\n</tool_call>\n<tool_call>get_accounts\n<arg_key>client_id</arg_key>\n"
            "<arg_value>CL-0001</arg_value>\n</tool_call><|observation|>")
    r = parse_action(turn)
    assert (r.kind, r.form) == ("tool_call", "glm45")
    assert [(c.name, c.arguments) for c in r.calls] == [("get_holdings", {"client_id": "CL-0001"}),
                                                       ("get_accounts", {"client_id": "CL-0001"})]
    assert r.thought == "I need the holdings."


def test_ids_are_kept_where_the_dialect_has_them():
    assert parse_action('{"type": "function_call", "call_id": "call_9", "id": "fc_1", "name": "a", '
                        '"arguments": "{}", "status": "completed"}').calls[0].call_id == "call_9"
    assert parse_action('{"type": "tool_use", "id": "toolu_7", "name": "a", "input": {}}').calls[0].call_id == "toolu_7"
    kimi = parse_action("<|tool_calls_section_begin|><|tool_call_begin|>functions.a:3<|tool_call_argument_begin|>{}"
                        "<|tool_call_end|><|tool_calls_section_end|>")
    assert (kimi.calls[0].name, kimi.calls[0].call_id) == ("a", "functions.a:3")
    r7b = parse_action('<|START_ACTION|>[{"tool_call_id": "5", "tool_name": "a", "parameters": {}}]<|END_ACTION|>')
    assert r7b.calls[0].call_id == "5"


# --- SDK objects: in step, assistant_turns and score_trajectory -----------------------------

def usage() -> Any:
    return anthropic_types.Usage(input_tokens=10, output_tokens=5)


def chat_histories(env: FinAdvisorEnv, task: Task) -> tuple[list[Any], list[Any]]:
    """The gold trajectory as an OpenAI Chat Completions history, built the SDK docs' way
    (``messages.append(completion.choices[0].message)``), and the same history as dicts."""
    sdk: list[Any] = [{"role": "system", "content": env.system_prompt_for_tools_api}, {"role": "user", "content": task.query}]
    env.reset(seed=0, options={"task_id": task.task_id})
    for i, c in enumerate(task.gold_calls):
        message = openai_chat.ChatCompletionMessage(role="assistant", content=None, tool_calls=[
            openai_chat.ChatCompletionMessageFunctionToolCall(
                id=f"call_{i}", type="function", function={"name": c.name, "arguments": compact(c.arguments)})])
        obs, *_ = env.step(message)
        sdk.append(message)
        sdk.extend(tool_messages(message, obs))
    sdk.append(openai_chat.ChatCompletionMessage(role="assistant", content=task.gold_response))
    plain_history = [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else m for m in sdk]
    return sdk, plain_history


def responses_histories(env: FinAdvisorEnv, task: Task) -> tuple[list[Any], list[Any]]:
    """A Responses API history: ``input += response.output`` then function_call_output items."""
    sdk: list[Any] = [{"role": "user", "content": task.query}]
    env.reset(seed=0, options={"task_id": task.task_id})
    for i, c in enumerate(task.gold_calls):
        output = [openai_responses.ResponseReasoningItem(id=f"rs_{i}", type="reasoning", summary=[
                      {"type": "summary_text", "text": f"Need {c.name}."}]),
                  openai_responses.ResponseFunctionToolCall(type="function_call", id=f"fc_{i}", call_id=f"call_{i}",
                                                            name=c.name, arguments=compact(c.arguments),
                                                            status="completed")]
        obs, *_ = env.step(output)
        sdk.extend(output)
        sdk.extend(tool_messages(output, obs, "responses"))
    sdk.append(openai_responses.ResponseOutputMessage(
        id="msg_1", type="message", role="assistant", status="completed",
        content=[openai_responses.ResponseOutputText(type="output_text", text=task.gold_response, annotations=[])]))
    plain_history = [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else m for m in sdk]
    return sdk, plain_history


def anthropic_histories(env: FinAdvisorEnv, task: Task) -> tuple[list[Any], list[Any]]:
    """An Anthropic Messages history: ``{"role": "assistant", "content": response.content}`` with
    the SDK's blocks, then a user message of tool_result blocks; the last turn the Message itself."""
    sdk: list[Any] = [{"role": "user", "content": task.query}]
    plain_history: list[Any] = [{"role": "user", "content": task.query}]
    env.reset(seed=0, options={"task_id": task.task_id})
    for i, c in enumerate(task.gold_calls):
        blocks = [anthropic_types.TextBlock(type="text", text=f"I'll use {c.name}."),
                  anthropic_types.ToolUseBlock(type="tool_use", id=f"toolu_{i}", name=c.name, input=c.arguments)]
        message = {"role": "assistant", "content": blocks}
        obs, *_ = env.step(message)
        sdk.append(message)
        plain_history.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in blocks]})
        results = tool_messages(message, obs, "anthropic")
        sdk.extend(results)
        plain_history.extend(results)
    final = anthropic_types.Message(id="msg_9", type="message", role="assistant", model="claude", stop_reason="end_turn",
                                    stop_sequence=None, usage=usage(),
                                    content=[anthropic_types.TextBlock(type="text", text=task.gold_response)])
    sdk.append(final)
    plain_history.append(final.model_dump(exclude_none=True))
    return sdk, plain_history


HISTORIES = {"chat": chat_histories, "responses": responses_histories, "anthropic": anthropic_histories}


@pytest.mark.parametrize("api", sorted(HISTORIES))
def test_sdk_object_histories_score_exactly_like_dict_histories(env, api):
    for task in TASKS:
        sdk, plain_history = HISTORIES[api](env, task)
        assert all(isinstance(t, str) for t in assistant_turns(sdk))
        assert assistant_turns(sdk) == assistant_turns(plain_history), (api, task.task_id)
        from_sdk = score_trajectory(env, task, sdk)
        from_dicts = score_trajectory(env, task, plain_history)
        assert from_sdk.reward == from_dicts.reward, (api, task.task_id)
        assert from_sdk.reward["total"] == 3.0 and from_sdk.ended_by == "response", (api, task.task_id, from_sdk.reward)
        assert from_sdk.turns_used == len(task.gold_calls) + 1 and from_sdk.unused_turns == 0


def test_sdk_objects_step_directly(env):
    task = next(t for t in TASKS if t.gold_calls)
    c = task.gold_calls[0]
    env.reset(seed=0, options={"task_id": task.task_id})
    for action, form in [
        (openai_chat.ChatCompletionMessage(role="assistant", content="Looking it up.", tool_calls=[
            openai_chat.ChatCompletionMessageFunctionToolCall(
                id="call_1", type="function", function={"name": c.name, "arguments": compact(c.arguments)})]), "openai"),
        (openai_responses.ResponseFunctionToolCall(type="function_call", call_id="call_2", name=c.name,
                                                   arguments=compact(c.arguments)), "responses"),
        (anthropic_types.ToolUseBlock(type="tool_use", id="toolu_3", name=c.name, input=c.arguments), "anthropic"),
        ([anthropic_types.ThinkingBlock(type="thinking", thinking="Need it.", signature="s"),
          anthropic_types.ToolUseBlock(type="tool_use", id="toolu_4", name=c.name, input=c.arguments)], "anthropic"),
    ]:
        _, _, terminated, _, info = env.step(action)
        assert info["action_kind"] == "tool_call" and info["action_form"] == form and info["format_ok"], (form, info)
        assert not terminated
    refusal = openai_chat.ChatCompletionMessage(role="assistant", content=None, refusal="I can't help with that.")
    _, _, terminated, _, info = env.step(refusal)
    assert terminated and info["action_form"] == "openai_refusal" and info["reward"]["refused"]


def test_a_history_the_scorer_cannot_read_raises_naming_the_message(env):
    task = TASKS[0]
    for bad, index in [([{"role": "user", "content": "q"}, 42], 1),
                       ([{"role": "user", "content": "q"}, object()], 1),
                       (["turn", {"role": "critic", "content": "x"}], 1),
                       ([None], 0)]:
        with pytest.raises(HistoryError, match=f"message {index}"):
            score_trajectory(env, task, bad)


def test_tool_messages_map_a_multi_call_observation_to_each_id(env):
    task = MULTI[0]
    calls = list(task.gold_calls)
    action = openai_chat.ChatCompletionMessage(role="assistant", content=None, tool_calls=[
        openai_chat.ChatCompletionMessageFunctionToolCall(
            id=f"call_{n}x", type="function", function={"name": c.name, "arguments": compact(c.arguments)})
        for n, c in enumerate(calls)])
    env.reset(seed=0, options={"task_id": task.task_id})
    obs, *_ = env.step(action)
    results = [item["result"] for item in json.loads(obs)]
    chat = tool_messages(action, obs)
    assert [m["tool_call_id"] for m in chat] == [f"call_{n}x" for n in range(len(calls))]
    assert [json.loads(m["content"]) for m in chat] == results and all(m["role"] == "tool" for m in chat)
    responses = tool_messages(action, obs, "responses")
    assert [(m["type"], m["call_id"]) for m in responses] == [("function_call_output", f"call_{n}x")
                                                              for n in range(len(calls))]
    (anthropic_message,) = tool_messages(action, obs, "anthropic")
    assert [b["tool_use_id"] for b in anthropic_message["content"]] == [f"call_{n}x" for n in range(len(calls))]
    # a dialect without ids: positions
    text = "[" + ", ".join(f"{c.name}({py_args(c.arguments)})" for c in calls) + "]"
    env.reset(seed=0, options={"task_id": task.task_id})
    obs, *_ = env.step(text)
    assert [m["tool_call_id"] for m in tool_messages(text, obs)] == [f"call_{n}" for n in range(len(calls))]
    with pytest.raises(ValueError):
        tool_messages("The answer.", obs)


def test_tools_are_offered_in_responses_and_anthropic_shapes(env):
    from anthropic.types import ToolParam
    from openai.types.responses import FunctionToolParam

    env.reset(seed=0, options={"task_id": TASKS[0].task_id})
    chat = env.tools_in("chat")
    assert chat == env.reset(seed=0, options={"task_id": TASKS[0].task_id})[1]["tools"]
    for shape, param in (("responses", FunctionToolParam), ("anthropic", ToolParam)):
        tools = env.tools_in(shape)
        assert [t["name"] for t in tools] == [t["function"]["name"] for t in chat]
        for tool in tools:
            assert set(tool) <= set(param.__annotations__) and param.__required_keys__ <= set(tool) | {"strict"}
    assert all(t["strict"] is False and t["parameters"] == c["function"]["parameters"]
               for t, c in zip(env.tools_in("responses"), chat))
    assert all(t["input_schema"] == c["function"]["parameters"] for t, c in zip(env.tools_in("anthropic"), chat))
    with pytest.raises(ValueError):
        env.tools_in("gemini")


# --- linear time: hostile inputs aimed at each scanner ---------------------------------------

N = 1_000_000
HOSTILE = {
    "command_r_whitespace": "Action:" + " " * N,
    "command_r_repeated": "Action: " * (N // 8),
    "functionary_arrows": ">>>" * (N // 3),
    "functionary_lines": ">>>a\n" * (N // 5),
    "functionary_head": ("a" * 100 + "\n") * (N // 101),
    "pythonic_open": "[" + " " * N,
    "pythonic_nested": "[a(b=" * (N // 5),
    "pythonic_long": "[" + "f(a=1)," * (N // 7) + "]",
    "harmony_channels": "<|channel|>" * (N // 11),
    "harmony_messages": "<|message|>x<|end|>" * (N // 19),
    "function_tags": "<function=" * (N // 10),
    "qwen3_parameters": "<tool_call><function=a>" + "<parameter=" * (N // 11) + "</function></tool_call>",
    "glm_pairs": "<tool_call>a\n" + "<arg_key>k</arg_key><arg_value>v</arg_value>" * (N // 45) + "</tool_call>",
    "tool_code_fences": "```tool_code" * (N // 12),
    "deepseek_calls": DS_CALLS + DS_CALL * (N // 20) + DS_CALLS_END,
    "kimi_calls": "<|tool_calls_section_begin|>" + "<|tool_call_begin|>" * (N // 19) + "<|tool_calls_section_end|>",
    "r7b_blocks": "<|START_THINKING|>x<|END_THINKING|>" * (N // 35),
    "json_objects": "{}" * (N // 2),
    "responses_items": "[" + ",".join(['{"type":"reasoning","summary":[]}'] * (N // 34)) + "]",
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_inputs_parse_in_linear_time(name):
    text = HOSTILE[name]
    started = time.perf_counter()
    r = parse_action(text)
    elapsed = time.perf_counter() - started
    assert r.kind != "final" or call_marker(text) is None
    # a bound only super-linear scanning crosses (quadratic on 1 MB takes minutes), with room for a
    # loaded 2-core machine; the figures belong to benchmarks/bench_step_worst_case.py
    assert elapsed < 20.0, (name, elapsed)
