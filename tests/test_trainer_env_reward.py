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

    methods = [m for name, m in inspect.getmembers(AdvisorEnvironment, predicate=inspect.isfunction)
               if name not in ("reset", "get_reward") and not name.startswith("_")]
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
