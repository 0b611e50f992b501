"""TRL's environment-owned reward and per-row environment selection (trainer.adapters):
``AdvisorEnvironment.get_reward`` scores the live episode, a rollout that met a killed service
is left out (``None``), and a real ``GRPOTrainer`` routes rows of several suites to their own
environments and takes the reward from them, with no reward function."""

from __future__ import annotations

import inspect
import json
import socket

import pytest

from envs.tasks import HANDWRITTEN, HELDOUT, load_tasks
from tests.conftest import needs_train_extra
from trainer.adapters import AdvisorEnvironment


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
