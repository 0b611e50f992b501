"""``BackendPool`` (envs/backend_pool.py): episodes spread round-robin over several services, a
failed one out of rotation and back once it answers again, results byte-identical to one URL.

Two real ``advisorgym serve`` processes on loopback (not Docker: the pool is plain HTTP, and this
keeps the test fast); one is killed and restarted on the same port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from envs import FinAdvisorEnv
from envs.backend_pool import BackendPool
from envs.backends import HttpBackend
from envs.replica import default_replica
from envs.tasks import HANDWRITTEN, load_tasks
from tests.test_docker import _free_port

TASKS = load_tasks(HANDWRITTEN)
REPLICA = {"seed": TASKS[0].replica["seed"], "scale": TASKS[0].replica["scale"]}
TOKEN = "pool-test-token"
ADVISORGYM = str(Path(sys.executable).with_name("advisorgym"))


class Server:
    """``advisorgym serve`` in a subprocess on a fixed loopback port; ``start()`` again after ``kill()``."""

    def __init__(self, replica: Path):
        self.replica, self.port = replica, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "ADVISORGYM_API_TOKEN": TOKEN}
        self.process = subprocess.Popen([ADVISORGYM, "serve", "--replica", str(self.replica), "--port",
                                         str(self.port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.process.stderr.read().decode()  # type: ignore[union-attr]
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise AssertionError(f"advisorgym serve on {self.url} did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def replica() -> Path:
    return default_replica(REPLICA["seed"], REPLICA["scale"])


@pytest.fixture(scope="module")
def servers(replica: Path) -> Iterator[list[Server]]:
    pair = [Server(replica), Server(replica)]
    try:
        for server in pair:
            server.start()
        yield pair
    finally:
        for server in pair:
            server.kill()


@pytest.fixture(scope="module")
def reference(replica: Path) -> dict[str, Any]:
    """Each hand-written task's gold episode in process: observations, rewards, breakdown."""
    env = FinAdvisorEnv(tasks=TASKS, replica=replica)
    try:
        return {task.task_id: gold_episode(env, task.task_id) for task in TASKS}
    finally:
        env.close()


def gold_episode(env: FinAdvisorEnv, task_id: str) -> list[Any]:
    obs, _ = env.reset(seed=0, options={"task_id": task_id})
    steps: list[Any] = [obs]
    for action in next(t for t in TASKS if t.task_id == task_id).gold_actions():
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append((obs, reward, terminated, truncated))
    return [*steps, orjson.dumps(info["reward"], option=orjson.OPT_SORT_KEYS)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_list_or_commas_select_the_pool_and_one_url_does_not(servers):
    urls = [s.url for s in servers]
    for base_url in (urls, ",".join(urls), f" {urls[0]} , {urls[1]} "):
        env = FinAdvisorEnv(tasks=TASKS, backend="http", base_url=base_url, token=TOKEN)
        try:
            assert isinstance(env.backend, BackendPool)
            assert [m.base_url for m in env.backend.members] == urls
            assert env.contract_status["checked"] and env.contract_status["ok"]
        finally:
            env.close()
    env = FinAdvisorEnv(tasks=TASKS, backend="http", base_url=urls[0], token=TOKEN)
    try:
        assert type(env.backend) is HttpBackend
    finally:
        env.close()
    with pytest.raises(ValueError, match="twice"):
        BackendPool([urls[0], urls[0]])


def test_round_robin_per_episode_gives_the_single_url_results(servers, reference):
    urls = [s.url for s in servers]
    env = FinAdvisorEnv(tasks=TASKS, backend="http", base_url=urls, token=TOKEN)
    pool = env.backend
    try:
        where = []
        for task in TASKS:
            assert gold_episode(env, task.task_id) == reference[task.task_id], task.task_id
            where.append(pool.base_url)
        assert where == [urls[i % 2] for i in range(len(TASKS))]
        assert pool.episodes == [len(TASKS) // 2] * 2
    finally:
        env.close()


def test_a_killed_server_leaves_the_rotation_and_returns_when_it_answers(servers, reference):
    urls = [s.url for s in servers]
    clock = Clock()
    pool = BackendPool(urls, token=TOKEN, retry_after_s=5.0, clock=clock)
    env = FinAdvisorEnv(tasks=TASKS, backend=pool, token=TOKEN)
    first, second = TASKS[0].task_id, TASKS[1].task_id
    try:
        assert gold_episode(env, first) == reference[first] and pool.base_url == urls[0]
        # an episode running on the second server when it dies: its calls fail, and it leaves the rotation
        env.reset(seed=0, options={"task_id": second})
        assert pool.base_url == urls[1]
        servers[1].kill()
        obs, *_ = env.step(TASKS[1].gold_actions()[0])
        assert orjson.loads(obs)["error"] == "service_unavailable"
        assert pool.healthy() == [urls[0]]
        for task in TASKS[:4]:  # every episode now runs on the first one, with the same results
            assert gold_episode(env, task.task_id) == reference[task.task_id]
            assert pool.base_url == urls[0]
        clock.now += 6  # past retry_after_s, but still dead: tried at the next reset, out again
        assert gold_episode(env, first) == reference[first] and pool.base_url == urls[0]
        assert pool.healthy() == [urls[0]]
        servers[1].start()  # back on the same port
        assert gold_episode(env, second) == reference[second] and pool.base_url == urls[0]  # not yet retried
        clock.now += 6
        where = []
        for task in TASKS[:4]:
            assert gold_episode(env, task.task_id) == reference[task.task_id]
            where.append(pool.base_url)
        assert sorted(set(where)) == sorted(urls) and pool.healthy() == urls
    finally:
        env.close()
        if servers[1].process is None or servers[1].process.poll() is not None:
            servers[1].start()  # for any later test of the module


def test_all_down_episodes_fail_cleanly_and_differing_replicas_are_refused(servers, tmp_path):
    dead = [f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{_free_port()}"]
    pool = BackendPool(dead, token=TOKEN)
    try:
        assert pool.replica_meta() == {} and pool.healthy() == []
        pool.reset()
        assert pool.call("get_client_profile", {"client_id": "C000002"}).payload["error"] == "service_unavailable"
    finally:
        pool.close()
    with pytest.raises(ConnectionError, match="cannot read the replica's metadata"):
        FinAdvisorEnv(tasks=TASKS, backend="http", base_url=dead, token=TOKEN)
    other = Server(default_replica(REPLICA["seed"], 2000))
    other.start()
    try:
        pool = BackendPool([servers[0].url, other.url], token=TOKEN)
        with pytest.raises(ValueError, match="different replicas"):
            pool.replica_meta()
        pool.close()
    finally:
        other.kill()
