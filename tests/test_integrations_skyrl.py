"""The SkyRL-Gym text env (envs.integrations.skyrl) through skyrl-gym's own entry points: the env
class resolved from its registry by the rows' ``env_class``, ``init``/``step``/``get_metrics``/
``close`` called as SkyRL's generator calls them, and the metrics aggregated by skyrl-gym."""

from __future__ import annotations

import socket

import pytest

skyrl_gym = pytest.importorskip("skyrl_gym", reason="the skyrl extra is not installed (pip install -e '.[skyrl]')")

from skyrl_gym.metrics import aggregate_for_environment  # noqa: E402 - after the importorskip

from envs.integrations.skyrl import COMPONENTS, ENV_ID, skyrl_rows  # noqa: E402 - likewise
from envs.tasks import HANDWRITTEN, HELDOUT, load_tasks  # noqa: E402 - likewise


def run(row: dict, replies: list[str], env_config: dict | None = None, max_turns: int = 12) -> tuple[list, dict]:
    """One trajectory as SkyRL's generator drives it: the row minus prompt and env_class are the
    env's extras; the replies are the policy's turns. ``(per-step outputs, metrics)``."""
    extras = {k: v for k, v in row.items() if k not in ("prompt", "env_class")}
    env = skyrl_gym.make(row["env_class"], env_config=env_config or {}, extras={**extras, "max_turns": max_turns})
    prompt, _ = env.init(row["prompt"])
    assert prompt == row["prompt"]
    outputs = []
    for reply in replies:
        outputs.append(env.step(reply))
        if outputs[-1]["done"]:
            break
    metrics = env.get_metrics()
    env.close()
    return outputs, metrics


@pytest.mark.parametrize("suite", [HANDWRITTEN, HELDOUT], ids=["handwritten", "heldout"])
def test_every_gold_trajectory_scores_3_through_skyrl_gyms_registry(suite):
    rows = skyrl_rows(suite)
    tasks = load_tasks(suite)
    assert [r["extra_info"]["task_id"] for r in rows] == [t.task_id for t in tasks]
    episodes = []
    for row, task in zip(rows, tasks, strict=True):
        assert row["env_class"] == ENV_ID and row["prompt"][1]["content"] == task.query
        outputs, metrics = run(row, task.gold_actions())
        assert len(outputs) == len(task.gold_actions()) and outputs[-1]["done"], task.task_id
        assert [o["reward"] for o in outputs] == [0.0] * (len(outputs) - 1) + [3.0], task.task_id
        assert all(o["observations"] and o["observations"][0]["role"] == "user" for o in outputs[:-1])
        assert metrics["total"] == 3.0 and sum(metrics[c] for c in COMPONENTS) == 3.0, (task.task_id, metrics)
        episodes.append(metrics)
    # skyrl-gym aggregates the env's metrics per env class (found through the registry)
    aggregated = aggregate_for_environment(ENV_ID, episodes)
    assert aggregated["total"] == 3.0 and aggregated["infra_error"] == 0.0


def test_a_wrong_answer_scores_below_3_and_skyrls_turn_limit_ends_the_episode():
    row, task = skyrl_rows(HANDWRITTEN)[0], load_tasks(HANDWRITTEN)[0]
    outputs, metrics = run(row, ["I cannot tell."])
    assert outputs[-1]["done"] and outputs[-1]["reward"] < 3.0 and metrics["R_corr"] < 1.0
    assert set(metrics) == {"total", *COMPONENTS, "infra_error"}
    # SkyRL stops at its own max_turns: the episode ends where it stands, with the env's reward
    calls = task.gold_actions()[:-1]
    if calls:
        outputs, metrics = run(row, calls, max_turns=1)
        assert len(outputs) == 1 and outputs[0]["done"] and outputs[0]["reward"] == metrics["total"] < 3.0


def test_a_call_to_a_killed_service_is_flagged_as_an_infra_error():
    task = next(t for t in load_tasks(HANDWRITTEN) if t.gold_calls)
    row = next(r for r in skyrl_rows(HANDWRITTEN) if r["extra_info"]["task_id"] == task.task_id)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the block ends
    remote = {"backend": "http", "base_url": f"http://127.0.0.1:{port}", "token": "t", "check_replica": False,
              "allow_drift": True}
    outputs, metrics = run(row, task.gold_actions(), env_config=remote)
    assert outputs[-1]["done"] and metrics["infra_error"] is True


def test_a_row_without_a_task_is_a_clear_error():
    with pytest.raises(ValueError, match="extra_info.task_id"):
        skyrl_gym.make(ENV_ID, env_config={}, extras={"extra_info": {}})
