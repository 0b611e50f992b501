"""The TRL reward and the exported rows across model families' chat templates.

- ``advisor_reward`` splits a completion into the model's turns with the tokenizer's own chat
  template, whatever the family: gold completions written through the chat templates of
  Qwen2.5, Qwen3, Llama 3.1, Llama 3.2, Mistral v3, gpt-oss, DeepSeek-V3 and GLM-4.5 score
  3.0 on every held-out task.
- The exported SFT rows (``advisorgym tasks export``) and the rows exported from production
  logs (``advisorgym replay export --to sft/dpo``) render the same tool calls through each of
  those templates.

The templates are the ones TRL ships (``trl.chat_template_utils``), as shipped; for DeepSeek-V3,
TRL's training variant, the one TRL trains it with (the original concatenates the arguments
as a string and fails on the documented dict form). Mistral v3's is not shipped by TRL or
transformers: ``chat_templates/mistral_v3.jinja`` is Mistral-7B-Instruct-v0.3's published
template. Each family's tokenizer is built locally (a byte-level BPE) with the family's own
special tokens as single tokens.

A completion is built as the rollout loop builds it: the model's turn (what the template
renders for the assistant message after the generation prompt), then the tool results as
TRL's multi-turn loop renders them (TRL's own ``GRPOTrainer._get_tool_suffix_ids``), then the
next turn. Mistral v3's template refuses calls and results without nine-character ids, which
TRL's loop does not give, so its completions are built as a loop that renders the whole
conversation builds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from envs.tasks import HELDOUT, load_tasks
from tests.conftest import needs_train_extra

pytestmark = pytest.mark.train

TASKS = load_tasks(HELDOUT)
MISTRAL_V3 = (Path(__file__).parent / "chat_templates" / "mistral_v3.jinja").read_text(encoding="utf-8")

QWEN = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
LLAMA = ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
         "<|eom_id|>", "<|python_tag|>")
DEEPSEEK = tuple(f"<\uff5c{name}\uff5c>" for name in (
    "begin\u2581of\u2581sentence", "end\u2581of\u2581sentence", "User", "Assistant", "tool\u2581calls\u2581begin",
    "tool\u2581calls\u2581end", "tool\u2581call\u2581begin", "tool\u2581call\u2581end", "tool\u2581sep",
    "tool\u2581outputs\u2581begin", "tool\u2581outputs\u2581end", "tool\u2581output\u2581begin",
    "tool\u2581output\u2581end"))


@dataclass(frozen=True)
class Family:
    template: str  # the name of TRL's template, or the template itself
    special_tokens: tuple[str, ...]
    eos: str
    pad: str
    bos: str | None = None
    thought_in: str = "content"  # the message field the family's template renders as the model's thought
    parallel_calls: bool = True  # False: the template renders one call a turn (Llama 3.1/3.2, gpt-oss)
    trl_loop: bool = True  # TRL's multi-turn loop can render the template's tool results


FAMILIES = {
    "qwen2_5": Family("qwen2_5_chat_template", QWEN, "<|im_end|>", "<|endoftext|>"),
    "qwen3": Family("qwen3_chat_template", QWEN, "<|im_end|>", "<|endoftext|>", thought_in="reasoning_content"),
    "llama3_1": Family("llama3_1_chat_template", LLAMA, "<|eot_id|>", "<|end_of_text|>", "<|begin_of_text|>",
                       parallel_calls=False),
    "llama3_2": Family("llama3_2_chat_template", LLAMA, "<|eot_id|>", "<|end_of_text|>", "<|begin_of_text|>",
                       parallel_calls=False),
    "mistral_v3": Family(MISTRAL_V3, ("<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]",
                                      "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]"),
                         "</s>", "<unk>", "<s>", trl_loop=False),
    "gpt_oss": Family("gptoss_chat_template", ("<|startoftext|>", "<|endoftext|>", "<|start|>", "<|end|>", "<|message|>",
                                               "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>"),
                      "<|return|>", "<|endoftext|>", "<|startoftext|>", thought_in="thinking", parallel_calls=False),
    "deepseek_v3": Family("deepseekv3_training_chat_template", DEEPSEEK, DEEPSEEK[1], DEEPSEEK[1], DEEPSEEK[0]),
    "glm4_5": Family("glm4moe_chat_template", ("<|endoftext|>", "[gMASK]", "<sop>", "<|system|>", "<|user|>",
                                              "<|assistant|>", "<|observation|>"),
                     "<|endoftext|>", "<|endoftext|>", thought_in="reasoning_content"),
}


def family_tokenizer(family: Family) -> Any:
    import trl.chat_template_utils as templates

    from trainer.tiny import build_tokenizer

    template = getattr(templates, family.template) if family.template.endswith("_chat_template") else family.template
    return build_tokenizer(["x"], vocab_size=300, chat_template=template, special_tokens=family.special_tokens,
                           eos_token=family.eos, pad_token=family.pad, bos_token=family.bos)


def common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def model_turn(tokenizer: Any, tools: list[dict[str, Any]], question: dict[str, Any], message: dict[str, Any]) -> str:
    """What the family's model writes for ``message``: the template's rendering of it after the
    generation prompt (rendered after the question alone, so no earlier turn moves it)."""
    prompt = tokenizer.apply_chat_template([question], tools=tools, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template([question, message], tools=tools, tokenize=False)
    return full[common_prefix(prompt, full):]


def trl_tool_frame_ids(tokenizer: Any, tool_messages: list[dict[str, Any]]) -> list[int]:
    """The token ids TRL's multi-turn loop appends after a tool-calling turn, by TRL's own code
    (with the chat template TRL's ``GRPOTrainer`` picks for the tokenizer)."""
    from trl import GRPOTrainer
    from trl.chat_template_utils import get_training_chat_template, is_chat_template_prefix_preserving

    template = None if is_chat_template_prefix_preserving(tokenizer) else get_training_chat_template(tokenizer)
    trainer = SimpleNamespace(processing_class=tokenizer, _tokenizer=tokenizer, _is_vlm=False, chat_template=template,
                              chat_template_kwargs={})
    return GRPOTrainer._get_tool_suffix_ids(trainer, tool_messages)


def whole_conversation_frame(tokenizer: Any, history: list[dict[str, Any]], tool_messages: list[dict[str, Any]]) -> str:
    """The tool results as a loop that renders the whole conversation adds them."""
    before = tokenizer.apply_chat_template(history, tokenize=False)
    after = tokenizer.apply_chat_template(history + tool_messages, tokenize=False, add_generation_prompt=True)
    assert after.startswith(before)
    return after[len(before):]


def gold_messages(env: Any, task: Any, seed: int, family: Family) -> list[dict[str, Any]]:
    """The task's gold conversation (the env's real tool results) as the family's model holds
    it: thoughts in the family's thought field, the first two calls in one turn where the
    template takes parallel calls."""
    from trainer.data import sft_conversation

    messages = sft_conversation(env, task, seed)
    out: list[dict[str, Any]] = messages[:2]
    for message in messages[2:]:
        message = dict(message)
        if message["role"] == "assistant" and message.get("tool_calls") and message["content"]:
            if family.thought_in != "content":
                message[family.thought_in] = message["content"]
                message["content"] = ""
        if message["role"] == "tool" and family.trl_loop:
            message = {"role": "tool", "name": message["name"], "content": message["content"]}  # as TRL makes them
        out.append(message)
    calls = [i for i, m in enumerate(out) if m.get("tool_calls")]
    if family.parallel_calls and len(calls) >= 2 and calls[1] == calls[0] + 2:
        first, second = out[calls[0]], out[calls[1]]
        merged = {**first, "tool_calls": first["tool_calls"] + second["tool_calls"]}
        out = out[:calls[0]] + [merged, out[calls[0] + 1], out[calls[1] + 1]] + out[calls[1] + 2:]
    return out


def rollout(tokenizer: Any, family: Family, tools: list[dict[str, Any]], messages: list[dict[str, Any]]) -> tuple[
        list[int], list[dict[str, Any]]]:
    """``(completion_ids, completion)`` of a rollout that wrote ``messages[2:]``, as TRL hands them to the reward."""
    question = messages[1]
    completion = messages[2:]
    ids: list[int] = []
    i = 0
    while i < len(completion):
        message = completion[i]
        ids += tokenizer.encode(model_turn(tokenizer, tools, question, message), add_special_tokens=False)
        i += 1
        results = []
        while i < len(completion) and completion[i]["role"] == "tool":
            results.append(completion[i])
            i += 1
        if results:
            if family.trl_loop:
                ids += trl_tool_frame_ids(tokenizer, results)
            else:
                frame = whole_conversation_frame(tokenizer, messages[:2 + i - len(results)], results)
                ids += tokenizer.encode(frame, add_special_tokens=False)
    return ids, completion


@pytest.mark.parametrize("name", list(FAMILIES))
def test_gold_completions_score_3_through_each_familys_chat_template_on_every_heldout_task(name):
    needs_train_extra()
    from envs.actions import parse_action
    from trainer.adapters import AdvisorEnvironment, advisor_reward, bind_tokenizer, split_assistant_turns

    family = FAMILIES[name]
    tokenizer = family_tokenizer(family)
    bind_tokenizer(tokenizer)
    environment = AdvisorEnvironment(tasks=HELDOUT)
    env = environment.env
    forms: set[str] = set()
    several = 0
    for i, task in enumerate(TASKS):
        messages = gold_messages(env, task, i, family)
        ids, completion = rollout(tokenizer, family, env.tool_schemas, messages)
        environment.reset(task_id=task.task_id, seed=i)
        [reward] = advisor_reward([completion], [environment], [ids])
        assert reward == 3.0, (name, task.task_id, environment.last_scored.reward["violations"], tokenizer.decode(ids))
        turns = split_assistant_turns(tokenizer, tokenizer.decode(ids, skip_special_tokens=False), completion)
        assert len(turns) == sum(1 for m in completion if m["role"] == "assistant")
        forms |= {parse_action(turn).form for turn in turns}
        several += any(len(m.get("tool_calls") or ()) > 1 for m in completion)
    env.close()
    assert forms - {"text"}, forms  # the family's own dialect was read, not only plain answers
    assert several > 0 or not family.parallel_calls


def tasks_export_conversations(tmp_path: Path) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """``advisorgym tasks export``'s SFT rows (gold and error-recovery), through ``datasets``."""
    from datasets import load_dataset

    from envs import FinAdvisorEnv
    from trainer.data import sft_features, sft_rows, write_jsonl

    env = FinAdvisorEnv(tasks=HELDOUT, prompt_mode="tools_via_template")
    write_jsonl(sft_rows(env, env.tasks[:40]), tmp_path / "sft.jsonl")
    env.close()
    rows = load_dataset("json", data_files=str(tmp_path / "sft.jsonl"), features=sft_features(), split="train")
    assert {"gold", "recovery_unknown_tool"} <= set(rows["kind"])
    return [(row["messages"], row["tools"]) for row in rows]


def replay_export_conversations(tmp_path: Path) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """``advisorgym replay export``'s SFT rows (every scored session) and DPO pairs (the prompt
    with the chosen, and with the rejected, session) of the sample logs, through ``datasets``."""
    from datasets import load_dataset

    from envs.replay.export import export_features, export_logs
    from envs.replay.ingest import ingest_logs
    from envs.replay.rescore import score_logs

    ingest_logs([Path(__file__).resolve().parents[1] / "fixtures" / "logs"], tmp_path)
    score_logs(tmp_path, "strict")
    conversations = []
    for to in ("sft", "dpo"):
        export_logs(tmp_path, to, min_reward=0.0 if to == "sft" else None)
        rows = load_dataset("json", data_files=str(tmp_path / "export" / f"{to}.jsonl"),
                            features=export_features(to), split="train")
        assert len(rows) > 0
        conversations += [(row["messages"], row["tools"]) for row in rows] if to == "sft" else \
            [(row["prompt"] + row[side], row["tools"]) for row in rows for side in ("chosen", "rejected")]
    return conversations


@pytest.mark.parametrize("export", [tasks_export_conversations, replay_export_conversations],
                         ids=["tasks_export", "replay_export"])
def test_exported_rows_render_the_same_tool_calls_through_every_familys_chat_template(tmp_path, export):
    """The rows as a trainer reads them (the export's files through ``datasets`` with its
    features) render through each template without an error, and every family's own parser
    (TRL's response templates where TRL ships one, else the env's dialect parser) reads back
    exactly the calls written: arguments as objects, never a JSON string encoded twice."""
    needs_train_extra()
    from envs.actions import parse_action

    conversations = export(tmp_path)
    assert sum(1 for messages, _ in conversations for m in messages if m.get("tool_calls")) > 0
    for name, family in FAMILIES.items():
        tokenizer = family_tokenizer(family)
        for messages, tools in conversations:
            text = tokenizer.apply_chat_template(messages, tools=tools, tokenize=False)
            question = messages[1]
            for message in messages[2:]:
                if not message.get("tool_calls"):
                    continue
                written = [(c["function"]["name"], c["function"]["arguments"]) for c in message["tool_calls"]]
                turn = model_turn(tokenizer, tools, question, message)
                assert all(tool in text for tool, _ in written), (name, messages[1])
                read = [(c.name, c.arguments) for c in parse_action(turn).calls]
                assert read == written, (name, messages[1], turn)
                assert '\\"' not in turn.split(written[0][0], 1)[1], (name, turn)  # no string-encoded arguments
