"""The bundled trainer: configs with the paper's defaults, GRPO on a model that calls tools
(what the env received, the logged components, the loss mask), resume from a checkpoint, the
CLI, the quick demo, and docs/training.md's adapter example run as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envs.cli import app
from envs.tasks import HANDWRITTEN, load_tasks
from tests.conftest import needs_train_extra

pytestmark = pytest.mark.train
ROOT = Path(__file__).resolve().parents[1]
TASKS = load_tasks(HANDWRITTEN)


def test_config_defaults_are_the_papers_and_bad_configs_are_refused(tmp_path):
    needs_train_extra()
    from trl import DPOConfig, GRPOConfig, SFTConfig

    from trainer.config import ConfigError, TrainConfig

    config = TrainConfig.from_dict({"output_dir": str(tmp_path), "use_cpu": True})
    grpo = GRPOConfig(**config.trl_args("grpo"))
    assert grpo.num_generations == 8 and grpo.epsilon == 0.2
    assert DPOConfig(**config.trl_args("dpo")).beta == 0.2
    assert SFTConfig(**config.trl_args("sft")).output_dir == str(tmp_path / "sft")
    assert config.ours("grpo")["turn_credit"]["enabled"] is False  # per-turn credit is off by default
    import yaml

    tiny_dir = tmp_path / "local-model"
    tiny_dir.mkdir()
    (tiny_dir / "config.json").write_text("{}")
    for shipped in sorted((ROOT / "trainer" / "configs").glob("*.yaml")):
        if shipped.name.startswith("accelerate"):
            continue
        raw = yaml.safe_load(shipped.read_text())
        if raw["model"] != "tiny":  # a GPU config names a model directory this machine does not have
            raw["model"] = str(tiny_dir)
        loaded = TrainConfig.from_dict(raw)
        for stage in ("sft", "grpo", "dpo"):
            args = loaded.trl_args(stage)
            if not args.get("use_cpu"):  # a GPU config: TRL's checks need the GPU (bf16); check the keys
                args.update(use_cpu=True, bf16=False)
            {"sft": SFTConfig, "grpo": GRPOConfig, "dpo": DPOConfig}[stage](**args)
    with pytest.raises(ConfigError, match="unknown top-level"):
        TrainConfig.from_dict({"grpo_steps": 3})
    (tmp_path / "bad.yaml").write_text("grpo: [1, 2]\n")
    with pytest.raises(ConfigError, match="mapping"):
        TrainConfig.load(tmp_path / "bad.yaml")
    runner = CliRunner()
    res = runner.invoke(app, ["train", "grpo", "--config", str(tmp_path / "missing.yaml")])
    assert res.exit_code == 2 and "config file not found" in res.output
    res = runner.invoke(app, ["train", "sft", "--config", str(tmp_path / "bad.yaml")])
    assert res.exit_code == 2 and "mapping" in res.output
    (tmp_path / "ok.yaml").write_text("seed: 0\n")
    res = runner.invoke(app, ["train", "sft", "--config", str(tmp_path / "ok.yaml"), "--output-dir",
                              str(tmp_path / "run"), "--resume", "latest"])
    assert res.exit_code == 2 and "no complete checkpoint" in res.output


@pytest.mark.parametrize(("raw", "message"), [
    ({"sft": {"learnig_rate": 1.0e-3}}, r"unknown key\(s\) \['learnig_rate'\] in `sft` .*did you mean \['learning_rate'\]"),
    ({"grpo": {"num_generation": 4}}, r"unknown key\(s\) \['num_generation'\] in `grpo` \(not a GRPOConfig field"),
    ({"dpo": {"samples_per_promt": 4}}, r"in `dpo` \(not a DPOConfig field"),
    ({"eval": {"limt": 3}}, r"unknown key\(s\) \['limt'\] in `eval`"),
    ({"tiny": {"hidden": 3}}, r"in `tiny`"),
    ({"model": "MISSING_DIR"}, r"`model`: '.*' is not a local model directory \(no config.json"),
    ({"sft": {"init_from": "MISSING_DIR"}}, r"`sft.init_from`: .*no config.json"),
    ({"tasks": "no/such/tasks.jsonl"}, r"`tasks`: task file .* not found"),
    ({"sft": {"learning_rate": "1e-4"}}, r"`sft.learning_rate` must be a number, not '1e-4' \(YAML reads 1e-4 as text"),
    ({"sft": {"max_steps": 2.5}}, r"`sft.max_steps` must be an integer"),
    ({"sft": {"learning_rate": 0}}, r"`sft.learning_rate` must be > 0"),
    ({"dpo": {"beta": -0.1}}, r"`dpo.beta` must be >= 0"),
    ({"dpo": {"samples_per_prompt": 0}}, r"`dpo.samples_per_prompt` must be >= 1"),
    ({"dpo": {"over_caution_pairs": "no"}}, r"`dpo.over_caution_pairs` must be true/false"),
    ({"grpo": {"turn_credit": {"enabled": "yes"}}}, r"`grpo.turn_credit.enabled` must be true/false"),
    ({"grpo": {"num_generations": 3, "per_device_train_batch_size": 8}},
     r"`grpo`: GRPOConfig refuses these settings: .*divisible by num_generations"),
    ({"eval": {"max_new_tokens": "many"}}, r"`eval.max_new_tokens` must be an integer"),
    ({"tiny": {"compact_tools": "yes"}}, r"`tiny.compact_tools` must be true/false"),
    ({"tiny": {"tool_result_chars": 0}}, r"`tiny.tool_result_chars` must be >= 1"),
    ({"sft": {"relabel_ids": -1}}, r"`sft.relabel_ids` must be >= 0"),
    ({"sft": {"first_call_drill_steps": 1.5}}, r"`sft.first_call_drill_steps` must be an integer"),
    ({"sft": {"first_call_drill_batch_size": 0}}, r"`sft.first_call_drill_batch_size` must be >= 1"),
])
def test_config_errors_are_caught_at_load_time_in_one_line(tmp_path, monkeypatch, raw, message):
    """Before any model or data is built: the loader refuses, and the CLI prints one line and exits 2."""
    needs_train_extra()
    import yaml

    from trainer import stages
    from trainer.config import ConfigError, TrainConfig

    raw = json.loads(json.dumps(raw).replace("MISSING_DIR", str(tmp_path / "no-model")))
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(raw)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a model or the data was built before the config was checked")

    for name in ("base_model", "train_tasks", "_load", "_env"):
        monkeypatch.setattr(stages, name, must_not_run)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"output_dir": str(tmp_path / "run"), **raw}))
    for stage in ("sft", "grpo", "dpo"):
        res = CliRunner().invoke(app, ["train", stage, "--config", str(tmp_path / "bad.yaml")])
        assert res.exit_code == 2, res.output
        assert len(res.output.strip().splitlines()) == 1 and res.output.startswith("error: "), res.output
        assert re.search(message, res.output), res.output


def test_the_shortened_template_lists_tools_by_name_cuts_long_results_and_trains_what_it_shows(tmp_path):
    """``tiny.compact_tools`` and ``tiny.tool_result_chars``: the tools as ``name(argument,
    optional?)`` lines, each tool result cut to that many characters; one rendering at training
    and at evaluation (prefix-preserving, the assistant's tokens marked for the loss), and TRL
    parses the model's calls through it."""
    needs_train_extra()
    from transformers import AutoTokenizer

    from envs import FinAdvisorEnv
    from trainer.data import sft_conversation
    from trainer.tiny import build_tiny_model, build_tokenizer, tiny_chat_template

    env = FinAdvisorEnv(tasks=HANDWRITTEN, prompt_mode="tools_via_template")
    task = next(t for t in env.tasks if t.task_id == "hw-L1-01")
    messages, tools = sft_conversation(env, task, seed=0), env.tool_schemas
    env.close()
    result = next(m["content"] for m in messages if m["role"] == "tool")
    template = tiny_chat_template(compact_tools=True, tool_result_chars=40)
    render = build_tokenizer(["x"], vocab_size=300, chat_template=template)
    full = build_tokenizer(["x"], vocab_size=300)  # TRL's Qwen3 template, the default
    text = render.apply_chat_template(messages, tools=tools, tokenize=False)
    assert "\nget_client_profile(client_id)\n" in text and "search_clients(name?, advisor_id?, segment?, limit?)" in text
    assert '"description"' not in text and '"description"' in full.apply_chat_template(messages, tools=tools,
                                                                                           tokenize=False)
    assert len(result) > 40 and f"<tool_response>\n{result[:40]}…\n</tool_response>" in text
    assert len(text) < len(full.apply_chat_template(messages, tools=tools, tokenize=False)) / 3
    uncut = render.apply_chat_template(messages, tools=tools, tokenize=False,
                                       chat_template=tiny_chat_template(compact_tools=True))
    assert f"<tool_response>\n{result}\n</tool_response>" in uncut
    # What evaluation renders before the model's turn is what training rendered before it.
    first_turn = render.apply_chat_template(messages[:2], tools=tools, tokenize=False, add_generation_prompt=True)
    assert text.startswith(first_turn)
    model_dir = build_tiny_model(tmp_path / "tiny", [text] * 4, hidden_size=32, layers=1, vocab_size=512,
                                 chat_template=template)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    encoded = tokenizer.apply_chat_template(messages, tools=tools, return_dict=True, return_assistant_tokens_mask=True)
    learnt = tokenizer.decode([t for t, m in zip(encoded["input_ids"], encoded["assistant_masks"]) if m])
    assert task.gold_calls[0].name in learnt and task.gold_response in learnt and "get_client_profile(" not in learnt
    call = messages[2]["tool_calls"][0]["function"]
    parsed = tokenizer.parse_response(f'<tool_call>\n{{"name": "{call["name"]}", "arguments": '
                                      f'{json.dumps(call["arguments"])}}}\n</tool_call><|im_end|>', prefix=first_turn)
    assert parsed["tool_calls"][0]["function"]["name"] == call["name"]


def test_unknown_tool_names_reach_the_env_not_trls_own_error():
    needs_train_extra()
    from trainer.adapters import AdvisorEnvironment
    from trainer.grpo import _EnvTools

    env = AdvisorEnvironment(tasks=HANDWRITTEN)
    env.reset(task_id="hw-L1-01")
    tools = _EnvTools({"get_risk_assessment": env.get_risk_assessment}, env)
    assert "get_risk_profile_v2" in tools  # so TRL calls it instead of raising "Tool not found"
    error = json.loads(tools["get_risk_profile_v2"](client_id="C000002"))
    assert error["error"] == "unknown_tool" and "get_risk_assessment" in json.dumps(error)
    assert "error" not in json.loads(tools["get_risk_assessment"](client_id="C000002"))


def _tool_calling_model(tmp_path: Path, tools: list[dict] | None = None, submit: bool = False):
    """A tiny model taught, by SFT on one gold conversation, to call the task's tool first;
    ``tools``: the schemas its prompts show (default: the catalogue's and then ``submit_answer``'s, as the
    bundled trainer shows them);
    ``submit``: the conversation gives its answer with the ``submit_answer`` tool, not as plain text."""
    from datasets import Dataset, Features, Json, List
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import get_json_schema
    from trl import SFTConfig, SFTTrainer

    from envs import FinAdvisorEnv
    from trainer.adapters import AdvisorEnvironment
    from trainer.data import sft_conversation
    from trainer.tiny import build_tiny_model, build_tokenizer

    env = FinAdvisorEnv(tasks=HANDWRITTEN, prompt_mode="tools_via_template")
    task = next(t for t in env.tasks if t.task_id == "hw-L1-01")
    messages = sft_conversation(env, task, seed=0)
    if submit:
        answer = messages.pop()["content"]
        messages += [{"role": "assistant", "content": "", "tool_calls": [{"id": "call00001", "type": "function",
                      "function": {"name": "submit_answer", "arguments": {"answer": answer}}}]},
                     {"role": "tool", "tool_call_id": "call00001", "name": "submit_answer",
                      "content": "Answer submitted."}, {"role": "assistant", "content": "Done."}]
    tools = tools if tools is not None else [*env.tool_schemas, get_json_schema(AdvisorEnvironment.submit_answer)]
    template = build_tokenizer(["x"], vocab_size=300)
    corpus = [template.apply_chat_template(messages, tools=tools, tokenize=False)] * 4
    env.close()
    model_dir = build_tiny_model(tmp_path / "tiny", corpus, hidden_size=64, vocab_size=4096)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    rows = [{"messages": messages, "tools": tools}] * 8
    dataset = Dataset.from_list(rows, features=Features({"messages": List(Json()), "tools": List(Json())}))
    SFTTrainer(model=model, processing_class=tokenizer, train_dataset=dataset,
               args=SFTConfig(output_dir=str(tmp_path / "sft"), use_cpu=True, bf16=False, max_steps=80,
                              per_device_train_batch_size=4, learning_rate=3e-3, report_to=[], save_strategy="no",
                              logging_steps=10, max_length=4096, assistant_only_loss=True, seed=0)).train()
    return model, tokenizer, task


def test_grpo_rollouts_are_env_episodes_and_tool_results_are_masked_out(tmp_path):
    needs_train_extra()
    from datasets import Dataset
    from trl import GRPOConfig

    from envs import FinAdvisorEnv
    from envs.replay import score_trajectory
    from trainer.adapters import LOGGED_COMPONENTS, AdvisorEnvironment, advisor_reward, bind_tokenizer, \
        split_assistant_turns
    from trainer.data import grpo_features, grpo_rows
    from trainer.grpo import AdvisorGRPOTrainer

    model, tokenizer, task = _tool_calling_model(tmp_path)
    bind_tokenizer(tokenizer)
    probe = FinAdvisorEnv(tasks=HANDWRITTEN)
    rows = grpo_rows([task], probe.replica_meta["as_of"]) * 4
    probe.close()
    batches: list[dict] = []

    class Recording(AdvisorGRPOTrainer):
        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            batches.append({"output": output, "scored": [e.last_scored for e in self.environments],
                            "observations": [list(e.observations) for e in self.environments]})
            return output

    logged: dict[str, list[float]] = {}
    rewarded: list[list] = []

    def reward(completions, environments, completion_ids, log_metric=None, **kwargs):
        def record(name, value):
            logged.setdefault(name, []).append(value)
            log_metric(name, value)
        rewarded.append(completions)
        return advisor_reward(completions, environments, completion_ids, log_metric=record, **kwargs)

    config = GRPOConfig(output_dir=str(tmp_path / "grpo"), use_cpu=True, bf16=False, max_steps=1,
                        per_device_train_batch_size=4, num_generations=4, max_completion_length=512,
                        temperature=0.5, learning_rate=1e-5, logging_steps=1, report_to=[], save_strategy="no",
                        seed=0)
    trainer = Recording(model=model, processing_class=tokenizer, args=config,
                        train_dataset=Dataset.from_list(rows, features=grpo_features()),
                        reward_funcs=[reward], environment_factory=lambda: AdvisorEnvironment(tasks=HANDWRITTEN))
    trainer.train()
    batch = batches[0]
    output = batch["output"]
    tool_mask, ids = output["tool_mask"], output["completion_ids"]
    completion_mask = output["completion_mask"]
    called = [i for i in range(len(ids)) if (tool_mask[i][completion_mask[i].bool()] == 0).any()]
    assert called, "the SFT'd model made no tool call: the masking cannot be checked"
    check = FinAdvisorEnv(tasks=HANDWRITTEN)
    for i in range(len(ids)):
        valid = completion_mask[i].bool()
        text = tokenizer.decode(ids[i][valid], skip_special_tokens=False)
        scored = batch["scored"][i]
        # The env scored exactly the text the model generated (its turns, tool results removed) ...
        turns = split_assistant_turns(tokenizer, text, rewarded[0][i])
        assert scored is not None and scored.turns_used + scored.unused_turns == len(turns or [""])
        # ... and an independent env replaying those turns gives the same breakdown.
        assert score_trajectory(check, task, turns or [""]).reward == scored.reward
        if i in called:
            model_text = tokenizer.decode(ids[i][valid & (tool_mask[i] == 1)], skip_special_tokens=False)
            result_text = tokenizer.decode(ids[i][valid & (tool_mask[i] == 0)], skip_special_tokens=False)
            assert "<tool_call>" in model_text and "<tool_response>" not in model_text
            assert "<tool_response>" in result_text and "<tool_call>" not in result_text
            # The masked-out tokens are the env's own observations of the rollout's calls.
            assert batch["observations"][i] and all(obs in result_text for obs in batch["observations"][i])
    check.close()
    # The logged components are the env's numbers for these episodes.
    for key in LOGGED_COMPONENTS:
        expected = sum(float(s.reward[key]) for s in batch["scored"]) / len(batch["scored"])
        assert logged[f"advisor/{key}"][0] == pytest.approx(expected)


def test_turn_credit_gives_per_token_advantages_in_a_real_grpo_step(tmp_path):
    needs_train_extra()
    from datasets import Dataset
    from trl import GRPOConfig

    from envs import FinAdvisorEnv
    from trainer.adapters import AdvisorEnvironment, advisor_reward, bind_tokenizer
    from trainer.data import grpo_features, grpo_rows
    from trainer.grpo import AdvisorGRPOTrainer

    model, tokenizer, task = _tool_calling_model(tmp_path)
    bind_tokenizer(tokenizer)
    probe = FinAdvisorEnv(tasks=HANDWRITTEN)
    rows = grpo_rows([task], probe.replica_meta["as_of"]) * 4
    probe.close()
    seen = []

    class Recording(AdvisorGRPOTrainer):
        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            seen.append(output)
            return output

    config = GRPOConfig(output_dir=str(tmp_path / "grpo"), use_cpu=True, bf16=False, max_steps=1,
                        per_device_train_batch_size=4, num_generations=4, max_completion_length=256,
                        temperature=1.0, learning_rate=1e-5, report_to=[], save_strategy="no", seed=1)
    trainer = Recording(model=model, processing_class=tokenizer, args=config,
                        train_dataset=Dataset.from_list(rows, features=grpo_features()),
                        reward_funcs=[advisor_reward], environment_factory=lambda: AdvisorEnvironment(tasks=HANDWRITTEN),
                        turn_credit={"enabled": True, "alpha": 0.5})
    trainer.train()
    advantages, mask = seen[0]["advantages"], seen[0]["completion_mask"] * seen[0]["tool_mask"]
    assert advantages.dim() == 2 and advantages.shape == mask.shape
    assert trainer.state.global_step == 1


def test_a_stage_resumes_from_its_checkpoint(tmp_path):
    needs_train_extra()
    from trainer.config import TrainConfig
    from trainer.stages import run_sft

    raw = {"output_dir": str(tmp_path), "use_cpu": True, "tasks": str(HANDWRITTEN),
           "tiny": {"hidden_size": 32, "layers": 1, "vocab_size": 512},
           "sft": {"max_steps": 4, "save_steps": 2, "per_device_train_batch_size": 2, "report_to": []}}
    run_sft(TrainConfig.from_dict(raw))
    assert (tmp_path / "sft" / "checkpoint-4").is_dir() and (tmp_path / "sft" / "final" / "config.json").is_file()
    raw["sft"]["max_steps"] = 6
    run_sft(TrainConfig.from_dict(raw), resume=True)
    steps = [json.loads(line)["step"] for line in (tmp_path / "sft" / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps == [1, 2, 3, 4, 5, 6]  # the second run went on from step 4, not from 0
    state = json.loads((tmp_path / "sft" / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6


def test_dpo_samples_depend_on_the_model_and_the_seed_not_on_what_ran_before(tmp_path):
    needs_train_extra()
    import torch

    from trainer.config import TrainConfig
    from trainer.stages import _load, base_model, dpo_dataset

    raw = {"output_dir": str(tmp_path), "use_cpu": True, "tasks": str(HANDWRITTEN), "seed": 3,
           "tiny": {"hidden_size": 32, "layers": 1, "vocab_size": 512},
           "dpo": {"prompts": 3, "samples_per_prompt": 3, "max_new_tokens": 12}}
    config = TrainConfig.from_dict(raw)
    model, tokenizer = _load(base_model(config))
    first = dpo_dataset(config, model, tokenizer)
    torch.rand(1000)  # what another stage or an evaluation would draw in the same process
    again = dpo_dataset(config, model, tokenizer)
    assert [r for r in first if r["source"] == "sampled"], "no sampled pair to compare"
    assert again == first
    config.seed = 4
    assert dpo_dataset(config, model, tokenizer) != first


def test_train_demo_quick_runs_the_three_stages_and_reports_held_out_metrics(tmp_path):
    needs_train_extra()
    from trainer.call_metrics import CALL_FIGURES
    from trainer.demo import SMOKE_TEST, TABLE_KEYS

    res = CliRunner().invoke(app, ["train", "demo", "--quick", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "demo_metrics.json").read_text())
    assert list(summary["stages"]) == ["base", "sft", "grpo", "dpo"]
    for stage in summary["stages"].values():
        assert set(TABLE_KEYS) <= set(stage["heldout"]) and stage["heldout"]["episodes"] == 6
        assert set(CALL_FIGURES) <= set(stage["heldout"]) and len(stage["heldout"]["per_task"]) == 6
    assert summary["stages"]["grpo"]["diagnostics"]["steps"] == 2
    assert "| dpo |" in res.output
    # it says plainly that it is a smoke test, first and last
    assert res.output.count(SMOKE_TEST) == 2
    assert res.output.index(SMOKE_TEST) < res.output.index("[demo") and res.output.rindex(SMOKE_TEST) > res.output.rindex("| dpo |")
    # a progress line before every stage's training and every evaluation
    for stage in ("base", "sft", "grpo", "dpo"):
        assert re.search(rf"\[demo +\d+ s\] (evaluating {stage}|{stage}: trained in \d+ s; evaluating) on 6 held-out",
                         res.output), stage
    for stage in ("sft", "grpo", "dpo"):
        assert re.search(rf"\[demo +\d+ s\] {stage}: training", res.output), stage
    # the final tables: call-level figures, and paired deltas with 95% confidence intervals
    assert "| stage | " + " | ".join(CALL_FIGURES) in res.output
    assert re.search(r"\| dpo \| [+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\] \|", res.output)
    for stage in ("sft", "grpo", "dpo"):
        delta = summary["deltas"][stage]["vs_previous"]
        assert delta["tasks"] == 6 and delta["low"] <= delta["mean"] <= delta["high"]
    pairs = summary["stages"]["dpo"]["pairs"]
    assert pairs["sampled_chosen_by_policy"] <= pairs["sampled"] <= pairs["pairs"]
    pairs = [json.loads(line) for line in (tmp_path / "dpo" / "pairs.jsonl").read_text().splitlines()]
    # the recipe's mix (dpo.over_caution_pairs: false): the policy's own pairs and the expert ones
    assert pairs and "over_caution" not in {p["source"] for p in pairs}
    assert any(p["source"].startswith("expert:") for p in pairs) and summary["stages"]["dpo"]["pairs"]["over_caution"] == 0
    for stage in ("sft", "grpo", "dpo"):
        assert (tmp_path / stage / "final" / "config.json").is_file()
        assert (tmp_path / stage / "metrics.jsonl").stat().st_size > 0
        assert list((tmp_path / stage).rglob("events.out.tfevents.*")), f"no TensorBoard events for {stage}"
    heldout_ids = {json.loads(line)["task_id"] for line in (tmp_path / "eval" / "sft" / "heldout.jsonl").open()}
    assert all(i.startswith("h1-") for i in heldout_ids)  # evaluated on the held-out suite only
    # the learning curve: base, the drills' model, then each stage's final model, steps counted across stages
    curve = summary["curve"]
    assert [(p["stage"], p["global_step"]) for p in curve] == [
        ("base", 0), ("first-call drills", 150), ("sft", 190), ("grpo", 192), ("dpo", 194)]
    # the direction of travel: SFT's turns are more often well formed than the untrained model's
    assert summary["stages"]["sft"]["heldout"]["format_valid"] > summary["stages"]["base"]["heldout"]["format_valid"]
    assert curve[-1]["mean_reward"] == summary["stages"]["dpo"]["heldout"]["mean_reward"]
    assert re.search(r"\[demo +\d+ s\] learning curve: first-call drills step 150", res.output)
    svg = (tmp_path / "learning_curve.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 5 and "untrained base" in svg


def test_the_training_page_adapter_example_runs_as_written(tmp_path, monkeypatch):
    """docs/training.md's two blocks (get a model, then the GRPO trainer), executed verbatim; only
    GRPOConfig gets the CPU test sizes."""
    needs_train_extra()
    import trl

    page = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    section = page[page.index("## The adapters in your own script"):page.index("## The bundled trainer")]
    model_code, trainer_code = re.findall(r"```python[^\n]*\n(.*?)```", section, re.DOTALL)[:2]
    assert "base_model(" in model_code and "local_files_only=True" in model_code
    assert "environment_factory=AdvisorEnvironment" in trainer_code and "advisor_reward" in trainer_code
    assert "use_cpu=True, bf16=False" in trainer_code  # the block states its CPU settings
    original = trl.GRPOConfig

    def cpu_config(**kwargs):
        assert kwargs["use_cpu"] is True and kwargs["bf16"] is False
        kwargs.update(output_dir=str(tmp_path / "grpo"), max_steps=2, num_generations=4,
                      per_device_train_batch_size=4, max_completion_length=32, report_to=[], save_strategy="no")
        return original(**kwargs)

    monkeypatch.setattr(trl, "GRPOConfig", cpu_config)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(model_code, "docs/training.md", "exec"), namespace)  # noqa: S102 - the page's own example
    assert (tmp_path / "runs" / "tiny" / "tiny-base" / "config.json").is_file()
    exec(compile(trainer_code, "docs/training.md", "exec"), namespace)  # noqa: S102 - the page's own example
    namespace["trainer"].train()
    assert namespace["trainer"].state.global_step == 2


def test_train_resume_latest_skips_a_half_written_checkpoint_with_one_line_and_goes_on(tmp_path):
    """`advisorgym train sft --resume latest` in a subprocess, after a run whose last saves were
    cut short (as by kill -9 mid-save: checkpoint-4's trainer_state.json half written, checkpoint-6
    a folder without one): one line names both and the run goes on from checkpoint-2."""
    needs_train_extra()
    import subprocess
    import sys

    import yaml

    advisorgym = str(Path(sys.executable).with_name("advisorgym"))
    raw = {"output_dir": str(tmp_path / "run"), "use_cpu": True, "tasks": str(HANDWRITTEN),
           "tiny": {"hidden_size": 32, "layers": 1, "vocab_size": 512},
           "sft": {"max_steps": 4, "save_steps": 2, "per_device_train_batch_size": 2, "report_to": []}}
    config = tmp_path / "sft.yaml"
    config.write_text(yaml.safe_dump(raw))
    first = subprocess.run([advisorgym, "train", "sft", "--config", str(config)], capture_output=True, text=True,
                           timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    stage = tmp_path / "run" / "sft"
    state = stage / "checkpoint-4" / "trainer_state.json"
    state.write_bytes(state.read_bytes()[: len(state.read_bytes()) // 2])
    (stage / "checkpoint-6").mkdir()
    (stage / "checkpoint-6" / "model.safetensors").write_bytes(b"\0" * 100)
    raw["sft"]["max_steps"] = 6
    config.write_text(yaml.safe_dump(raw))
    resumed = subprocess.run([advisorgym, "train", "sft", "--config", str(config), "--resume", "latest"],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    notes = [line for line in resumed.stderr.splitlines() if "--resume latest" in line]
    assert notes == ["--resume latest: skipping incomplete checkpoint(s) checkpoint-6, checkpoint-4 (no readable "
                     "trainer_state.json: the save was interrupted)"], resumed.stderr[-3000:]
    assert "Traceback" not in resumed.stderr
    steps = [json.loads(line)["step"] for line in (stage / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps[-4:] == [3, 4, 5, 6]  # the second run went on from checkpoint-2
    assert json.loads((stage / "checkpoint-6" / "trainer_state.json").read_text())["global_step"] == 6
def test_call_figures_and_paired_deltas_from_episode_records():
    from envs.tasks import HELDOUT
    from trainer.call_metrics import call_figures, query_ids
    from trainer.demo import paired_delta

    task = next(t for t in load_tasks(HELDOUT) if t.task_id == "h1-L1-0001")
    assert query_ids(task) == {"C000179"}

    def record(first_turn, calls, violations=(), ended="response"):
        return {"task_id": task.task_id, "level": "L1", "calls": calls, "violations": list(violations),
                "terminated_by": ended, "transcript": [{"role": "env", "text": "{}"},
                                                       {"role": "agent", "text": first_turn}]}

    ok = {"name": "get_client_overview", "valid_tool": True, "outcome": "ok", "error": None, "param_accuracy": 1.0}
    right = '<tool_call>\n{"name": "get_client_overview", "arguments": {"client_id": "C000179"}}\n</tool_call>'
    off_by_one = right.replace("C000179", "C000129")
    records = [record(right, [ok]),
               record(off_by_one, [{**ok, "param_accuracy": 0.0}], violations=["fabricated_figure"]),
               record("Barbara has $5.", [], ended="max_steps"),
               record(right.replace("get_client_overview", "get_everything"),
                      [{**ok, "name": "get_everything", "valid_tool": False, "outcome": "error",
                        "error": "unknown_tool", "param_accuracy": None}])]
    figures = call_figures(records, {task.task_id: task})
    assert figures == {"first_call_valid": 0.5, "first_call_exact_ids": 0.25, "param_accuracy": 0.5,
                       "call_success": 2 / 3, "answers_without_invented_figures": 0.5}

    before = {"a": {"R": 1.0}, "b": {"R": -1.0}, "c": {"R": 0.0}}
    after = {"a": {"R": 2.0}, "b": {"R": 0.0}, "c": {"R": 1.0}, "d": {"R": 3.0}}
    delta = paired_delta(after, before)
    assert delta == {"mean": 1.0, "low": 1.0, "high": 1.0, "tasks": 3}  # only common tasks, paired
    after["c"]["R"] = 3.0
    delta = paired_delta(after, before)
    assert delta["mean"] == pytest.approx(5 / 3) and delta["low"] < delta["mean"] < delta["high"]


def test_the_gpu_smoke_script_runs_its_two_steps_on_cpu(tmp_path):
    """trainer/configs/gpu-smoke.sh with SMOKE_DEVICE=cpu: everything but vLLM (no GPU here)."""
    needs_train_extra()
    import os
    import subprocess
    import sys

    env = {**os.environ, "SMOKE_DEVICE": "cpu", "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(ROOT / "trainer" / "configs" / "gpu-smoke.sh"), "tiny", str(tmp_path / "smoke")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "gpu smoke passed in" in done.stdout and "sampled pairs chose the policy's own answer" in done.stdout
    written = (tmp_path / "smoke" / "gpu-smoke.yaml").read_text()
    assert "use_vllm" not in written and "bf16: false" in written
    shipped = (ROOT / "trainer" / "configs" / "gpu-smoke.yaml").read_text()
    assert "use_vllm: true" in shipped and "vllm_mode: colocate" in shipped and "max_steps: 1" in shipped


def test_id_tokens_start_from_a_direction_their_kind_shares(tmp_path):
    """Two client ids start close to each other and far from an account id, so that one head can
    find "a client id" in the query; each keeps a part of its own, which tells them apart."""
    needs_train_extra()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.tiny import build_tiny_model

    ids = ["C000001", "C000002", "C000003", "A0000001", "A0000002"]
    names = ["Marie Jackson", "Adam Tran"]
    path = build_tiny_model(tmp_path / "tiny", ["client C000001 holds A0000001"] * 20, hidden_size=64,
                            vocab_size=300, id_tokens=ids, name_tokens=names)
    model, tokenizer = AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    assert [tokenizer.decode([i]) for i in tokenizer("Marie Jackson and Adam Tran", add_special_tokens=False)["input_ids"]
            if tokenizer.decode([i]) in names] == names  # a name is one token
    rows = model.get_input_embeddings().weight[tokenizer.convert_tokens_to_ids([*ids, *names])].detach()

    def cosine(a: int, b: int) -> float:
        return float(torch.nn.functional.cosine_similarity(rows[a], rows[b], dim=0))

    assert cosine(0, 1) > 0.3 and cosine(3, 4) > 0.3 and cosine(5, 6) > 0.3  # same kind (names are one kind)
    assert abs(cosine(0, 3)) < 0.3 and abs(cosine(0, 5)) < 0.3  # another kind
    assert cosine(0, 1) < 0.8  # and a part of its own
