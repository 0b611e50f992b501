"""TRL's environment-owned reward and per-row environment selection (trainer.adapters):
``AdvisorEnvironment.get_reward`` scores the live episode, a rollout that met a killed service
is left out (``None``), and a real ``GRPOTrainer`` routes rows of several suites to their own
environments and takes the reward from them, with no reward function. The answer tool
``submit_answer`` is one thing on both scoring paths (``get_reward`` and ``advisor_reward``'s
replay), and every trainer configuration offers it."""

from __future__ import annotations

import inspect
import json
import socket

import pytest

from envs.tasks import HANDWRITTEN, HELDOUT, load_tasks
from tests.conftest import needs_train_extra
from mock_apis.catalogue import catalogue
from trainer.adapters import ANSWER_TOOL, AdvisorEnvironment, answer_message, answer_turn


def dead_url() -> str:
    """The URL of a service that was killed: nothing listens on the port any more."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def dead_environment(tasks=HANDWRITTEN) -> AdvisorEnvironment:
    return AdvisorEnvironment(tasks=tasks, backend="http", base_url=dead_url(), token="t", check_replica=False,
                              allow_drift=True)


def play_gold(env: AdvisorEnvironment, task, seed: int = 0) -> float | None:
    """The gold trajectory as TRL's tool loop drives the environment; ``get_reward()``."""
    env.reset(task_id=task.task_id, seed=seed, level=task.level)  # the rest of the row comes too
    for call in task.gold_calls:
        assert "error" not in json.loads(getattr(env, call.name)(**call.arguments)), call
    assert env.submit_answer(answer=task.gold_response) == "Answer submitted."
    return env.get_reward()


@pytest.mark.parametrize("suite", [HANDWRITTEN, HELDOUT], ids=["handwritten", "heldout"])
def test_every_gold_trajectory_scores_3_with_the_environments_own_reward(suite):
    env = AdvisorEnvironment(tasks=suite)
    for task in load_tasks(suite):
        assert play_gold(env, task) == 3.0, task.task_id
        assert not env.infra_failed
    env.env.close()


def test_an_unsubmitted_rollout_ends_where_it_stands_and_a_second_submit_gets_the_envs_error():
    env = AdvisorEnvironment(tasks=HANDWRITTEN)
    task = next(t for t in load_tasks(HANDWRITTEN) if t.gold_calls)
    env.reset(task_id=task.task_id)
    getattr(env, task.gold_calls[0].name)(**task.gold_calls[0].arguments)
    reward = env.get_reward()  # the model stopped without submit_answer
    assert reward is not None and reward < 3.0 and env.reward_info["R_corr"] < 1.0
    assert "episode_done" in env.submit_answer(answer=task.gold_response)
    env.env.close()


def test_a_rollout_that_met_a_killed_service_is_left_out():
    task = next(t for t in load_tasks(HANDWRITTEN) if t.gold_calls)
    env = dead_environment()
    env.reset(task_id=task.task_id)
    call = task.gold_calls[0]
    assert "error" in json.loads(getattr(env, call.name)(**call.arguments))
    env.submit_answer(answer=task.gold_response)
    assert env.get_reward() is None and env.infra_failed  # TRL: out of the group baseline, zero advantage
    env.env.close()


def test_a_rollout_advisor_reward_scored_is_not_counted_again():
    env = AdvisorEnvironment(tasks=HANDWRITTEN)
    task = load_tasks(HANDWRITTEN)[0]
    env.reset(task_id=task.task_id)
    assert env._score(task.gold_actions())["total"] == 3.0  # what advisor_reward does, first
    assert env.get_reward() is None
    env.env.close()


def submit_turns(answer: str) -> dict[str, str]:
    """A ``submit_answer(answer=...)`` call as models write it, by dialect."""
    call = {"name": ANSWER_TOOL, "arguments": {"answer": answer}}
    return {
        "hermes": f"<think>\nI can answer now.\n</think>\n\n<tool_call>\n{json.dumps(call)}\n</tool_call><|im_end|>",
        "openai": json.dumps({"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_9", "type": "function", "function": {"name": ANSWER_TOOL, "arguments": json.dumps(
                {"answer": answer})}}]}),
        "react": json.dumps({"thought": "I can answer now.", "action": call}),
    }


def trl_tool_names(environment_class: type) -> list[str]:
    """The tools plain ``GRPOTrainer`` lists for an ``environment_factory`` class: its public
    methods but ``reset`` and ``get_reward`` (TRL 1.16's rule, in its order)."""
    return [name for name, _ in inspect.getmembers(environment_class, predicate=inspect.isfunction)
            if name not in ("reset", "get_reward") and not name.startswith("_")]


def test_the_tools_trl_lists_are_the_catalogues_and_the_answer_tool():
    assert sorted(trl_tool_names(AdvisorEnvironment)) == sorted([*catalogue(), ANSWER_TOOL])


@pytest.mark.parametrize("suite", [HANDWRITTEN, HELDOUT], ids=["handwritten", "heldout"])
def test_a_gold_trajectory_ending_in_submit_answer_scores_3_on_both_paths_and_a_plain_text_answer_too(suite):
    """advisor_reward's replay (``_score``, on the raw turns) reads a final ``submit_answer`` call
    as the answer, exactly as the live call gives it to ``get_reward``: the same breakdown; a
    plain-text answer still scores 3.0 there; and neither path counts the rollout twice."""
    env = AdvisorEnvironment(tasks=suite)
    for task in load_tasks(suite):
        assert play_gold(env, task) == 3.0, task.task_id  # get_reward's path
        live = env.reward_info
        for dialect, turn in submit_turns(task.gold_response).items():
            scored = env._score(task.gold_actions()[:-1] + [turn])  # advisor_reward's path
            assert scored == live, (task.task_id, dialect)  # the same answer, the same breakdown: 3.0
            assert env.last_scored.ended_by == "response" and env.last_scored.unused_turns == 0
            assert not any("unknown_tool" in obs for obs in env.last_scored.observations), dialect
            assert env.get_reward() is None  # scored once
        assert env._score(task.gold_actions())["total"] == 3.0, task.task_id  # the plain-text answer
        assert env.get_reward() is None
    env.env.close()


def test_calls_after_submit_answer_count_the_same_on_both_paths():
    """A model that submits, then calls tools: live, the calls get ``episode_done`` and are
    scored as the env scores turns after an answer; the replay of the same turns gives the same
    breakdown (never a free call after the answer on one path only)."""
    env = AdvisorEnvironment(tasks=HANDWRITTEN)
    task = next(t for t in load_tasks(HANDWRITTEN) if t.gold_calls)
    env.reset(task_id=task.task_id)
    assert env.submit_answer(answer=task.gold_response) == "Answer submitted."
    for call in task.gold_calls:
        assert "episode_done" in getattr(env, call.name)(**call.arguments)
    live = env.get_reward()
    late = env.reward_info
    turns = [submit_turns(task.gold_response)["hermes"], *task.gold_actions()[:-1]]
    assert env._score(turns) == late and env.last_scored.unused_turns == len(task.gold_actions()) - 1
    env.reset(task_id=task.task_id)
    env.submit_answer(answer=task.gold_response)
    assert env.get_reward() != live  # the late calls did count
    env.env.close()


def test_only_a_well_formed_lone_submit_answer_call_is_read_as_the_answer():
    turns = submit_turns("All clear.")
    for turn in turns.values():
        assert answer_turn(turn, "native") == answer_message("All clear.")
    assert answer_message({"n": 1}) == json.dumps({"role": "assistant", "content": '{"n":1}'}, separators=(",", ":"))
    unchanged = [
        "All clear.",  # a plain-text answer is already one
        '<tool_call>\n{"name": "get_holdings", "arguments": {"account_id": "A1"}}\n</tool_call>',
        # with another call in the same turn, or another argument: as written (the env judges it)
        '<tool_call>\n{"name": "submit_answer", "arguments": {"answer": "x"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_holdings", "arguments": {"account_id": "A1"}}\n</tool_call>',
        '<tool_call>\n{"name": "submit_answer", "arguments": {"answer": "x", "why": "y"}}\n</tool_call>',
        # a turn that fails the format gate (strict mode: no thought)
        json.dumps({"role": "assistant", "tool_calls": [{"type": "function", "function": {
            "name": "submit_answer", "arguments": {"answer": "x"}}}]}, separators=(",", ":")),
    ]
    for turn in unchanged[:-1]:
        assert answer_turn(turn, "native") == turn
    assert answer_turn(unchanged[-1], "native") != unchanged[-1]
    assert answer_turn(unchanged[-1], "strict") == unchanged[-1]


@pytest.mark.train
def test_grpo_trainer_routes_rows_to_their_suites_and_takes_the_environments_reward(tmp_path):
    """A real GRPOTrainer step, no reward function: TRL picks each row's environment by its
    ``environment`` column, calls ``get_reward``, and leaves the rollouts whose service was
    killed out (zero advantage). The model is taught by SFT to call a tool first, so that the
    killed service is met."""
    needs_train_extra()
    from trl import GRPOConfig, GRPOTrainer

    from tests.test_trainer_stages import _tool_calling_model
    from trainer.adapters import grpo_dataset, suite_environments

    # the tools as TRL shows them: the environment's public methods, in TRL's order, their schemas from
    # their signatures and docstrings
    from transformers.utils import get_json_schema

    methods = [getattr(AdvisorEnvironment, name) for name in trl_tool_names(AdvisorEnvironment)]
    model, tokenizer, task = _tool_calling_model(tmp_path, tools=[get_json_schema(m) for m in methods])
    suites = {"live": HANDWRITTEN, "dead": HANDWRITTEN}
    dataset = grpo_dataset(suites).filter(lambda row: row["task_id"] == task.task_id)
    assert sorted(dataset["environment"]) == ["dead", "live"]
    factories = suite_environments({"live": HANDWRITTEN})
    factories["dead"] = dead_environment
    batches: list[dict] = []

    class Recording(GRPOTrainer):
        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            batches.append({"advantages": output["advantages"].tolist(), "rows": [x["environment"] for x in inputs],
                            "environments": list(self.environments),
                            "rewards": [e.reward_info for e in self.environments]})
            return output

    config = GRPOConfig(output_dir=str(tmp_path / "grpo"), use_cpu=True, bf16=False, max_steps=1,
                        per_device_train_batch_size=8, num_generations=4, max_completion_length=256,
                        temperature=0.5, learning_rate=1e-5, logging_steps=1, report_to=[], save_strategy="no",
                        seed=0)
    trainer = Recording(model=model, processing_class=tokenizer, args=config, train_dataset=dataset,
                        environment_factory=factories)
    trainer.train()
    batch = batches[0]
    assert sorted(batch["rows"]) == ["dead"] * 4 + ["live"] * 4
    for row, env, advantage, info in zip(batch["rows"], batch["environments"], batch["advantages"],
                                         batch["rewards"], strict=True):
        assert info is not None  # get_reward scored every rollout
        assert env.env.backend.__class__.__name__ == ("HttpBackend" if row == "dead" else "InProcessBackend")
        if env.infra_failed:
            assert row == "dead" and advantage == 0.0
    assert any(env.infra_failed for env in batch["environments"]), [
        (row, e.observations, e.reward_info) for row, e in zip(batch["rows"], batch["environments"])]
    assert not any(env.infra_failed for row, env in zip(batch["rows"], batch["environments"]) if row == "live")
    logged = [h for h in trainer.state.log_history if "rewards/AdvisorEnvironment/mean" in h]
    assert logged, trainer.state.log_history


def offered_tool_names(tools: list) -> list[str]:
    """The names of an ``_env_tools`` entry's tools (schemas or methods), in order."""
    return [t["function"]["name"] if isinstance(t, dict) else t.__name__ for t in tools]


@pytest.mark.train
def test_every_trainer_configuration_offers_the_tools_the_docs_name(tmp_path):
    """Plain ``GRPOTrainer`` and ``AdvisorGRPOTrainer``, each with and without ``advisor_reward``:
    the prompts show the catalogue's tools and ``submit_answer``; the bundled trainer renders
    the catalogue's own schemas (its patterns), then ``submit_answer``'s."""
    needs_train_extra()
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from envs import FinAdvisorEnv
    from trainer.adapters import advisor_reward, bind_tokenizer
    from trainer.data import grpo_features, grpo_rows
    from trainer.grpo import AdvisorGRPOTrainer
    from trainer.tiny import build_tiny_model

    probe = FinAdvisorEnv(tasks=HANDWRITTEN, prompt_mode="tools_via_template")
    rows, schemas = grpo_rows(probe.tasks[:1], probe.replica_meta["as_of"]), probe.tool_schemas
    probe.close()
    model_dir = build_tiny_model(tmp_path / "tiny", [json.dumps(schemas)], hidden_size=32, vocab_size=600)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    bind_tokenizer(tokenizer)
    pattern = next(p["pattern"] for s in schemas for p in s["function"]["parameters"]["properties"].values()
                   if "pattern" in p)
    for trainer_class in (GRPOTrainer, AdvisorGRPOTrainer):
        for reward_funcs in ([advisor_reward], None):
            trainer = trainer_class(
                model=AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True),
                processing_class=tokenizer, reward_funcs=reward_funcs,
                train_dataset=Dataset.from_list(rows, features=grpo_features()),
                environment_factory=lambda: AdvisorEnvironment(tasks=HANDWRITTEN),
                args=GRPOConfig(output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, max_steps=1,
                                per_device_train_batch_size=2, num_generations=2, report_to=[], save_strategy="no"))
            tools = trainer._env_tools[None]
            names = offered_tool_names(tools)
            assert sorted(names) == sorted([*catalogue(), ANSWER_TOOL]), (trainer_class, reward_funcs)
            prompt = tokenizer.apply_chat_template(rows[0]["prompt"], tools=tools, tokenize=False)
            assert '"name": "submit_answer"' in prompt
            if trainer_class is AdvisorGRPOTrainer:
                assert names[-1] == ANSWER_TOOL and tools[:-1] == schemas  # the catalogue's own schemas
                assert json.dumps(pattern)[1:-1] in prompt


@pytest.mark.train
def test_a_real_grpo_step_reads_a_submit_answer_call_as_the_answer_on_both_paths(tmp_path):
    """Plain ``GRPOTrainer`` with ``advisor_reward``, a model taught to answer with
    ``submit_answer``: TRL runs the call in the live episode (``get_reward``'s path) and the
    replay of the raw text reads it as the same answer: no ``unknown_tool``, the same total."""
    needs_train_extra()
    from datasets import Dataset
    from transformers.utils import get_json_schema
    from trl import GRPOConfig, GRPOTrainer

    from envs import FinAdvisorEnv
    from tests.test_trainer_stages import _tool_calling_model
    from trainer.adapters import advisor_reward, bind_tokenizer
    from trainer.data import grpo_features, grpo_rows

    methods = [getattr(AdvisorEnvironment, name) for name in trl_tool_names(AdvisorEnvironment)]
    model, tokenizer, task = _tool_calling_model(tmp_path, tools=[get_json_schema(m) for m in methods], submit=True)
    bind_tokenizer(tokenizer)
    probe = FinAdvisorEnv(tasks=HANDWRITTEN)
    dataset = Dataset.from_list(grpo_rows([task], probe.replica_meta["as_of"]) * 4, features=grpo_features())
    probe.close()
    live: list[dict | None] = []
    rollouts: list[tuple] = []

    def reward(completions, environments, completion_ids, **kwargs):
        live.extend(e.env._episode.final for e in environments)  # before the replay resets the episode
        totals = advisor_reward(completions, environments, completion_ids, **kwargs)
        rollouts.extend((c, e.last_scored) for c, e in zip(completions, environments, strict=True))
        return totals

    config = GRPOConfig(output_dir=str(tmp_path / "grpo"), use_cpu=True, bf16=False, max_steps=1,
                        per_device_train_batch_size=4, num_generations=4, max_completion_length=320,
                        temperature=0.5, learning_rate=1e-5, logging_steps=1, report_to=[], save_strategy="no", seed=0)
    trainer = GRPOTrainer(model=model, processing_class=tokenizer, args=config, train_dataset=dataset,
                          reward_funcs=[reward], environment_factory=lambda: AdvisorEnvironment(tasks=HANDWRITTEN))
    trainer.train()
    submitted = [(final, scored) for final, (completion, scored) in zip(live, rollouts, strict=True)
                 if any(m.get("role") == "tool" and m.get("name") == ANSWER_TOOL for m in completion)]
    assert submitted, [c for c, _ in rollouts]  # the taught model answered with the tool
    for final, scored in submitted:
        assert final is not None  # the live call ended the live episode
        assert scored.ended_by == "response", scored.observations
        assert not any("unknown_tool" in obs for obs in scored.observations)
        for key in ("R_corr", "R_comp", "answer_factor", "answered", "S_name", "S_cover", "S_param", "late_calls"):
            assert scored.reward.get(key) == final.get(key), (key, scored.reward, final)
        if scored.reward["R_fmt"] == final["R_fmt"]:  # the replay's format gate judges the raw markup
            assert scored.reward["total"] == final["total"], (scored.reward, final)
    # the submitted text is read as the episode's answer (how much the tiny model got right is not this test's)
    assert all(scored.reward["answered"] == 1.0 and scored.reward["proper_answer"] == 1.0
               for _, scored in submitted), [s.reward for _, s in submitted]
