"""Grounded decoding: numbers and entity ids only as the conversation shows them."""

from __future__ import annotations

import re

import pytest

from envs.evaluation.grounded_decoding import number_forms
from tests.conftest import needs_train_extra

OBSERVATION = ('{"client_id":"C000128","full_name":"Marie Jackson","account_id":"A0000294","as_of":"2025-06-30","total_value":1022512.5,'
               '"weight_pct":63.41,"cash_balance":36451.11,"amount":3000.0,"risk_level":4}')
QUERY = "Buy $5,000 of EQ004 for client C000128, then tell me what the account holds."


def test_forms_are_copies_roundings_amounts_and_dates():
    forms = number_forms(OBSERVATION + " " + QUERY)
    free, money, attached = forms["free"], forms["money"], forms["attached"]
    assert {"1022512.5", "1,022,512.5", "1,022,512.50", "1022513", "1,022,513"} <= free  # copies, grouped, rounded
    assert {"63.41", "63.4", "63", "36,451.11", "36,451.1", "3,000.00", "5,000", "5,000.00"} <= free
    assert {"2025-06-30", "2025", "4"} <= free
    assert "2,025" not in free and "4.00" not in free  # a year is not an amount, a level has no cents
    assert {"3,000.00", "5,000.00", "1,022,512.50"} <= money and not {"2025", "4", "2025-06-30"} & money
    assert {"000128", "0000294", "004"} <= attached and not {"000128", "0000294"} & free  # id digits
    assert not {"64", "1,022,512.6", "36,45", "2025-06-29", "06-30"} & free  # nothing worked out or cut up


@pytest.fixture(scope="module")
def tokenizer():
    needs_train_extra()
    from trainer.tiny import build_tokenizer

    # built locally, with one token per entity id as the demo's tokenizer has
    return build_tokenizer([OBSERVATION, QUERY, "The account holds $1,022,512.50 as of 2025-06-30, cash 36,451.11."],
                           vocab_size=400, id_tokens=["C000128", "C000129", "A0000294"],
                           name_tokens=["Marie Jackson", "Adam Tran"])


def _writable(tokenizer, context: str, answer: str) -> str:
    """"ok", or where the rule stops ``answer`` after ``context`` (each token and the end)."""
    import torch

    from envs.evaluation.grounded_decoding import GroundedNumbers

    prompt = tokenizer(context, add_special_tokens=False)["input_ids"]
    written = tokenizer(answer, add_special_tokens=False)["input_ids"]
    rule = GroundedNumbers(tokenizer)
    ids = torch.tensor([prompt])
    for token in [*written, tokenizer.eos_token_id]:
        scores = rule(ids, torch.zeros(1, len(tokenizer)))
        if scores[0, token] == float("-inf"):
            return f"stopped after {tokenizer.decode(ids[0, len(prompt):])!r} at {tokenizer.decode([token])!r}"
        ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
    return "ok"


@pytest.mark.train
@pytest.mark.parametrize("answer", [
    "Client C000128's account A0000294 is worth $1,022,512.50 as of 2025-06-30.",
    "Marie Jackson (C000128) has cash of $36,451.11.",
    "Total value 1022512.5 (about $1,022,513), 63.4% in one sleeve, cash $36,451.11.",
    "I placed the buy of $5,000.00; it is 63% of nothing I computed.",
    "Risk level 4, reviewed in 2025.",
])
def test_copies_can_be_written(tokenizer, answer):
    assert _writable(tokenizer, OBSERVATION + QUERY, answer) == "ok"


@pytest.mark.train
@pytest.mark.parametrize("answer", [
    "The account is worth $1,004.00.",           # invented
    "Total value 1,022,512.5,522.",              # a copy run on into another number
    "Cash of 36,45 only.",                       # a separator without its three digits
    "Cash of 3,6451.11.",                        # a separator in the wrong place
    "Bought in $2025.",                          # a year as an amount
    "Risk level 4.00.",                          # a level with cents
    "Reviewed 2025-06-29.",                      # a date that is not in the records
    "As of 2025.2025.",                          # digits glued to a finished copy
    "Worth $36,451.11,,10.",                     # ... even after two marks
    "Client C000129 too.",                       # an entity id the conversation never showed
    "Client C0001282025.",                       # digits glued to an id make another id
    "Adam Tran holds the same fund.",            # a name the conversation never showed
])
def test_unseen_figures_and_ids_cannot_be_written(tokenizer, answer):
    assert _writable(tokenizer, OBSERVATION + QUERY, answer).startswith("stopped")


@pytest.mark.train
def test_an_unseen_entity_wanted_becomes_the_likeliest_seen_one(tokenizer):
    import torch

    from envs.evaluation.grounded_decoding import GroundedNumbers

    prompt = torch.tensor([tokenizer(OBSERVATION + QUERY + ' {"account_id": "', add_special_tokens=False)["input_ids"]])
    token = tokenizer.convert_tokens_to_ids

    def allowed(scores):
        out = GroundedNumbers(tokenizer)(prompt, scores)
        return {tokenizer.decode([i]) for i in range(len(tokenizer)) if out[0, i] > float("-inf")}

    wants_unseen = torch.zeros(1, len(tokenizer))
    wants_unseen[0, token("C000129")], wants_unseen[0, token("A0000294")] = 5.0, 1.0
    assert allowed(wants_unseen) == {"C000128", "A0000294", "Marie Jackson"}  # the entities the conversation holds
    out = GroundedNumbers(tokenizer)(prompt, wants_unseen)
    assert tokenizer.decode([int(out.argmax())]) == "A0000294"
    wants_text = torch.zeros(1, len(tokenizer))
    wants_text[0, token("C000129")], wants_text[0, token("}")] = 5.0, 6.0
    assert "}" in allowed(wants_text) and "C000129" not in allowed(wants_text)  # text first: only the unseen id goes


@pytest.mark.train
def test_markup_and_special_tokens_are_not_entities(tokenizer):
    from envs.evaluation.grounded_decoding import _vocabulary
    from trainer.tiny import TAG_TOKENS

    entities = {tokenizer.decode([i]) for i in _vocabulary(tokenizer).entity_ids}
    assert entities == {"C000128", "C000129", "A0000294", "Marie Jackson", "Adam Tran"}
    assert not entities & {*TAG_TOKENS, *tokenizer.all_special_tokens}


@pytest.mark.train
def test_sampling_a_digit_hungry_model_writes_only_grounded_numbers(tmp_path):
    """A random tiny model pushed towards digits, sampled: every number it writes is a form of one it was shown."""
    needs_train_extra()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList

    from envs.evaluation.grounded_decoding import GroundedNumbers
    from trainer.tiny import build_tiny_model

    path = build_tiny_model(tmp_path / "m", [OBSERVATION, QUERY], vocab_size=400,
                            id_tokens=["C000128", "C000129", "A0000294"])
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    digits = [i for i in range(len(tokenizer)) if tokenizer.decode([i]).isdigit()]

    def favour_digits(input_ids, scores):
        scores[:, digits] += 6.0
        return scores

    prompt = tokenizer(OBSERVATION + QUERY + "\n", return_tensors="pt", add_special_tokens=False)
    torch.manual_seed(0)
    output = model.generate(**prompt, do_sample=True, max_new_tokens=80, num_return_sequences=4,
                            pad_token_id=tokenizer.pad_token_id,
                            logits_processor=LogitsProcessorList([favour_digits, GroundedNumbers(tokenizer)]))
    forms = number_forms(OBSERVATION + QUERY)
    allowed = forms["free"] | forms["attached"]
    written = [tokenizer.decode(row[prompt["input_ids"].shape[1]:], skip_special_tokens=True) for row in output]
    numbers = [re.findall(r"\d[\d,.\-]*\d|\d", text) for text in written]
    assert sum(map(len, numbers)) >= 8, written  # the push towards digits made it write numbers
    prefixes = {form[:end] for form in allowed for end in range(1, len(form) + 1)}
    for text, found in zip(written, numbers, strict=True):
        # a number ends at its last digit (a trailing mark is punctuation); the token limit may cut the last one
        finished = found[:-1] if text.endswith(tuple("0123456789,.-")) else found
        assert all(n in allowed or n.rstrip(",.-") in allowed for n in finished), (found, text)
        assert not found or found[-1] in prefixes, (found, text)


@pytest.mark.train
def test_the_hf_agent_and_the_trainer_config_take_it(tmp_path):
    needs_train_extra()
    from trainer.config import ConfigError, TrainConfig

    assert TrainConfig.from_dict({"grounded_numbers": True}).grounded_numbers is True
    with pytest.raises(ConfigError, match="grounded_numbers"):
        TrainConfig.from_dict({"grounded_numbers": "yes"})
    with pytest.raises(ConfigError, match="use_vllm"):
        TrainConfig.from_dict({"grounded_numbers": True, "grpo": {"use_vllm": True}})


def test_the_eval_config_and_command_line_take_it():
    from envs.config import ConfigError as EnvConfigError
    from envs.evaluation.config import EvalConfig, from_command_line

    config = from_command_line({"agent": "hf", "model_path": "m", "grounded_numbers": True})
    assert config.agent_kwargs() == {"model_path": "m", "grounded_numbers": True}
    with pytest.raises(EnvConfigError, match="grounded_numbers"):
        EvalConfig.from_dict({"agent": "hf", "agent_options": {"model_path": "m", "grounded_numbers": "yes"}})


@pytest.mark.train
def test_an_hf_agent_evaluates_with_it(tmp_path):
    needs_train_extra()
    from envs.evaluation.model_agents import HFLocalAgent
    from envs.evaluation.run import run_eval
    from envs.tasks import HANDWRITTEN
    from trainer.tiny import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "m", [OBSERVATION, QUERY, "<tool_call> </tool_call>"], vocab_size=400)
    agent = HFLocalAgent(model_dir, max_new_tokens=24, grounded_numbers=True)
    result = run_eval(agent, HANDWRITTEN, tmp_path / "eval", limit=2, max_steps=2, progress=False, plots=False)
    assert result["metrics"]["agent_config"]["grounded_numbers"] is True
    assert len((tmp_path / "eval" / "episodes.jsonl").read_text().splitlines()) == 2
