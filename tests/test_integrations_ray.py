"""The Ray integration on a real local cluster of two nodes (a head and a worker node, one CPU
each, started in this process with ``ray.cluster_utils.Cluster``): evals spread over both nodes
give the records of a single-process eval, killed worker processes lose and duplicate no
episode, GRPO rollouts run on actors, and tool service replicas drain on scale-down."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import ray
    from ray.cluster_utils import Cluster
except ImportError:
    pytest.skip("SKIPPED LOUDLY: the ray extra is not installed (pip install -e '.[ray]'); .ci/scale-out runs "
                "these tests after installing it", allow_module_level=True)

from envs.evaluation.run import run_eval
from envs.integrations.ray import eval_pool
from envs.tasks import HANDWRITTEN, SUITE

pytestmark = [pytest.mark.ray, pytest.mark.timeout(300)]  # a lost node must not hang the run

LATENCY = re.compile(rb'"latency_s":[-0-9.eE+]+,')


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A head node and one worker node, one CPU each; this process is the driver."""
    nodes = Cluster(initialize_head=True, connect=True,
                    head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker = nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    nodes.worker_node = worker  # type: ignore[attr-defined]
    yield nodes
    ray.shutdown()
    nodes.shutdown()


def wait_until_dead(actor, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            ray.get(actor.where.remote(), timeout=5)
        except ray.exceptions.RayActorError:
            return
        except ray.exceptions.GetTimeoutError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the killed actor still answered after {timeout_s:.0f} s")


def episode_lines(out: Path) -> list[bytes]:
    """The episodes file's lines, each byte for byte, less its ``latency_s`` (wall time, which
    differs between any two runs, even two in the same process)."""
    lines = (out / "episodes.jsonl").read_bytes().splitlines()
    assert all(len(LATENCY.findall(line)) == 1 for line in lines)
    return [LATENCY.sub(b"", line) for line in lines]


@pytest.mark.parametrize(("suite", "limit"), [(HANDWRITTEN, None), (SUITE, 50)], ids=["handwritten", "suite-50"])
def test_an_eval_over_both_nodes_gives_the_single_process_records(cluster, tmp_path, suite, limit):
    local = run_eval("oracle", suite, tmp_path / "local", limit=limit, progress=False, plots=False)
    spread = run_eval("oracle", suite, tmp_path / "ray", limit=limit, progress=False, plots=False, concurrency=2,
                      episode_pool=eval_pool(cluster.address))
    assert spread["ran"] == local["ran"] == (limit or 12)
    assert len(spread["pool"]["episodes_by_node"]) == 2, spread["pool"]  # both nodes ran episodes
    assert sum(spread["pool"]["episodes_by_node"].values()) == local["ran"]
    assert spread["pool"]["actors_replaced"] == 0 and spread["pool"]["episodes_retried"] == []
    assert episode_lines(tmp_path / "ray") == episode_lines(tmp_path / "local")
    timeless = [{k: v for k, v in r["metrics"]["overall"].items() if "latency" not in k} for r in (spread, local)]
    assert timeless[0] == timeless[1]


def test_killing_a_nodes_worker_processes_mid_run_loses_and_duplicates_no_episode(cluster, tmp_path):
    """The worker node's actor is frozen (SIGSTOP) while it holds episodes, so that they are
    certainly in flight; a few records later every Ray worker process of that node is killed."""
    import os
    import signal

    import psutil
    from ray._private import ray_constants

    run_eval("oracle", SUITE, tmp_path / "local", limit=50, progress=False, plots=False)
    raylet = cluster.worker_node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid
    killed: list[int] = []

    def pool_with_a_fault(*args):
        pool = eval_pool(cluster.address)(*args)
        victim = next(m.place for m in pool.members if m.place["node_id"] == cluster.worker_node.node_id)
        run = pool.run

        def run_and_kill(jobs):
            for n, item in enumerate(run(jobs)):
                if n == 3:
                    os.kill(victim["pid"], signal.SIGSTOP)  # from now on it finishes nothing
                if n == 10:
                    # the node's Python workers (the actor, idle ones); not its agents, whose loss
                    # would take the node down (the raylet shares their fate)
                    for process in psutil.Process(raylet).children(recursive=True):
                        if process.pid == victim["pid"] or process.name().startswith(("ray::IDLE", "ray::EnvWorker")):
                            process.kill()
                            killed.append(process.pid)
                yield item

        pool.run = run_and_kill
        return pool

    result = run_eval("oracle", SUITE, tmp_path / "ray", limit=50, progress=False, plots=False, concurrency=2,
                      episode_pool=pool_with_a_fault)
    assert killed, "no worker process of the pool was found on the worker node"
    assert ray.cluster_resources()["CPU"] == 2  # both nodes are still there
    # The lost actor was replaced and the episodes it held were run again ...
    assert result["pool"]["actors_replaced"] == 1
    retried = result["pool"]["episodes_retried"]
    assert retried and all("ActorDiedError" in r["reason"] or "ActorUnavailableError" in r["reason"]
                           for r in retried), retried
    # ... and every episode is in the file once, as the single-process eval wrote it.
    assert result["ran"] == 50 and result["infra_failed"] == 0
    assert episode_lines(tmp_path / "ray") == episode_lines(tmp_path / "local")


def test_a_remote_env_whose_actor_is_lost_ends_the_episode_as_an_infra_error_and_resets_elsewhere(cluster):
    from envs import FinAdvisorEnv
    from envs.integrations.ray import RayEnvPool
    from envs.replay import score_trajectory
    from envs.tasks import load_tasks

    task = load_tasks(HANDWRITTEN)[0]
    pool = RayEnvPool(functools.partial(FinAdvisorEnv, tasks=HANDWRITTEN), workers=2)
    try:
        places = pool.wait_ready()
        assert len({p["node_id"] for p in places}) == 2  # spread: one actor per node
        env = pool.remote_env()
        # Driven turn by turn, it scores exactly as a local env.
        local = FinAdvisorEnv(tasks=HANDWRITTEN)
        assert (score_trajectory(env, task, task.gold_actions(), seed=3).reward
                == score_trajectory(local, task, task.gold_actions(), seed=3).reward)
        local.close()
        env.reset(seed=3, options={"task_id": task.task_id})
        ray.kill(env.member.actor, no_restart=True)  # its process dies mid-episode
        wait_until_dead(env.member.actor)  # ray.kill only asks; the next call could still land
        obs, reward, terminated, _, info = env.step(task.gold_actions()[0])
        assert terminated and info["infra_error"] and info["reward"]["infra_error"] and reward == 0.0
        assert '"service_unavailable"' in obs
        assert pool.replaced == 1
        obs, _ = env.reset(seed=3, options={"task_id": task.task_id})  # on a live actor again
        assert task.task_id in obs and not env.lost
        env.close()
    finally:
        pool.close()


def test_a_pool_larger_than_the_cluster_says_so_and_leaves_no_actor(cluster):
    from envs import FinAdvisorEnv
    from envs.integrations.ray import ClusterUnavailable, RayEnvPool

    pool = RayEnvPool(functools.partial(FinAdvisorEnv, tasks=HANDWRITTEN), workers=3)  # one CPU each, two CPUs
    with pytest.raises(ClusterUnavailable, match="no room for 3 env actors"):
        pool.wait_ready(timeout_s=5)
    pool.close()
    deadline = time.monotonic() + 30
    while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray.available_resources().get("CPU", 0) == 2  # the placed actors were stopped


@pytest.mark.train
def test_a_grpo_cpu_step_with_its_rollouts_on_ray_actors(cluster, tmp_path):
    from tests.conftest import needs_train_extra

    needs_train_extra()
    import json

    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    from envs import FinAdvisorEnv
    from envs.integrations.ray import RayEnvPool, RemoteEnv
    from envs.replay import score_trajectory
    from envs.tasks import load_tasks
    from trainer.adapters import AdvisorEnvironment, advisor_reward, bind_tokenizer, split_assistant_turns
    from trainer.data import grpo_features, grpo_rows
    from trainer.grpo import AdvisorGRPOTrainer
    from trainer.tiny import build_tiny_model

    tasks = load_tasks(HANDWRITTEN)
    probe = FinAdvisorEnv(tasks=HANDWRITTEN)
    rows = grpo_rows(tasks[:1], probe.replica_meta["as_of"])
    corpus = [r["prompt"][0]["content"] + r["prompt"][1]["content"] for r in rows]
    corpus += [json.dumps(s) for s in probe.tool_schemas] + [a for t in tasks for a in t.gold_actions()]
    model_dir = build_tiny_model(tmp_path / "tiny", corpus)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    bind_tokenizer(tokenizer)

    pool = RayEnvPool(functools.partial(FinAdvisorEnv, tasks=HANDWRITTEN, prompt_mode="tools_via_template"),
                      workers=2)
    scored: list[tuple] = []

    def reward(completions, environments, completion_ids, **kwargs):
        totals = advisor_reward(completions, environments, completion_ids, **kwargs)
        for completion, env, ids in zip(completions, environments, completion_ids, strict=True):
            turns = split_assistant_turns(tokenizer, tokenizer.decode(ids, skip_special_tokens=False), completion)
            scored.append((env, turns or [""]))
        return totals

    try:
        config = GRPOConfig(output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, max_steps=1,
                            per_device_train_batch_size=4, num_generations=4, max_completion_length=32,
                            learning_rate=1e-4, logging_steps=1, report_to=[], save_strategy="no", seed=0)
        trainer = AdvisorGRPOTrainer(model=model, processing_class=tokenizer, args=config,
                                     train_dataset=Dataset.from_list(rows * 4, features=grpo_features()),
                                     reward_funcs=[reward],
                                     environment_factory=lambda: AdvisorEnvironment(env=pool.remote_env()))
        trainer.train()
        assert trainer.state.global_step == 1
        assert len(scored) == 4 and all(isinstance(env.env, RemoteEnv) for env, _ in scored)
        # The rollouts ran on both nodes' actors, and each was scored there as a local env scores it.
        assert len({ray.get(env.env.member.actor.where.remote())["node_id"] for env, _ in scored}) == 2
        for env, turns in scored:
            assert env.last_scored.reward == score_trajectory(probe, env.task_id, turns, seed=env.seed).reward
    finally:
        probe.close()
        pool.close()


def test_tool_service_replicas_pin_sessions_and_drain_on_scale_down(cluster):
    from envs import FinAdvisorEnv
    from envs.integrations.ray import ToolServiceGroup
    from envs.replica import default_replica
    from envs.tasks import load_tasks

    task = load_tasks(HANDWRITTEN)[0]
    token = "tok-ray-test"
    group = ToolServiceGroup(str(default_replica()), [token], replicas=2, num_cpus=0.5)
    try:
        first, last = urls = list(group.urls)
        assert len({first, last}) == 2
        # An episode whose session lives on the replica a scale-down will remove.
        pinned = FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=last, token=token)
        pinned.reset(seed=0, options={"task_id": task.task_id})
        group.scale(1, drain_timeout_s=120)
        assert group.urls == [first]
        assert group.reap() == []  # it still holds that session: it keeps running
        # A client that still lists both replicas opens its sessions on the one that stays.
        other = FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=urls, token=token)
        for _ in range(2):
            other.reset(seed=0, options={"task_id": task.task_id})
            assert other.backend.base_url == first
        other.close()
        # The pinned episode runs to its end on the draining replica, unharmed.
        for action in task.gold_actions():
            _, _, terminated, truncated, info = pinned.step(action)
            if terminated or truncated:
                break
        assert not info["reward"]["infra_error"] and info["reward"]["task_success"]
        pinned.close()  # its session ends: now the drained replica stops
        assert group.reap() == [last] and group.draining == []
    finally:
        group.close()


def test_the_eval_command_runs_on_the_cluster_and_says_so(cluster, tmp_path):
    from typer.testing import CliRunner

    from envs.cli import app

    result = CliRunner().invoke(app, ["eval", "--ray", cluster.address, "--concurrency", "2", "--tasks",
                                      str(HANDWRITTEN), "--limit", "4", "--out", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "ray: 0 actor(s) replaced, 0 episode(s) retried" in result.output
    assert (tmp_path / "episodes.jsonl").read_bytes().count(b"\n") == 4
    bad = CliRunner().invoke(app, ["eval", "--ray", cluster.address, "--agent", "openai", "--rate-limit", "2",
                                   "--out", str(tmp_path / "refused")])
    assert bad.exit_code == 2 and "--rate-limit" in bad.output
