"""Docker as users run it: the shipped ``docker-compose.yml`` brought up and down, the env's own
managed container (``FinAdvisorEnv(backend="docker")``, ``envs/docker_backend.py``), and the
hardening of both checked with ``docker inspect``.

Marked ``docker`` and built like ``tests/test_docker.py`` (whose ``image`` fixture this reuses:
build.sh installs and starts the engine and Compose when missing). Never a silent skip: without
Docker the tests FAIL with the reason; ``ADVISORGYM_SKIP_DOCKER=1`` skips them loudly.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from envs import FinAdvisorEnv
from envs.docker_backend import (MANAGED_LABEL, OWNER_LABEL, DockerBackend, DockerBackendError, DockerService,
                                 docker_client)
from envs.replica import default_replica
from envs.tasks import HANDWRITTEN, load_tasks
from tests import test_docker
from tests.test_docker import BUILD_TIMEOUT_S, ROOT, _docker, _docker_unavailable, _free_port

image = test_docker.image  # the fixture, shared with tests/test_docker.py

TASKS = load_tasks(HANDWRITTEN)
SEED, SCALE = TASKS[0].replica["seed"], TASKS[0].replica["scale"]
TOKEN = "stack-test-" + uuid.uuid4().hex
HEALTH_TIMEOUT_S = 120

pytestmark = [pytest.mark.docker, pytest.mark.timeout(BUILD_TIMEOUT_S + 300)]


def episodes(env: FinAdvisorEnv) -> list[Any]:
    """Every hand-written task's gold trajectory: each step's observation, reward and flags, and the
    final reward breakdown."""
    out = []
    for task in TASKS:
        obs, _ = env.reset(seed=0, options={"task_id": task.task_id})
        steps: list[Any] = [obs]
        for action in task.gold_actions():
            obs, reward, terminated, truncated, info = env.step(action)
            steps.append((obs, reward, terminated, truncated))
        steps.append(orjson.dumps(info["reward"], option=orjson.OPT_SORT_KEYS))
        out.append(steps)
    return out


def assert_same_episodes(got: list[Any], expected: list[Any]) -> None:
    assert len(got) == len(expected) == len(TASKS)
    for task, g, e in zip(TASKS, got, expected):
        assert g == e, task.task_id
    assert all(steps[-2][1] > 0 for steps in expected), "a gold trajectory scored 0: the comparison proves little"


def wait_healthy(url: str, what: str) -> dict[str, Any]:
    deadline, last = time.monotonic() + HEALTH_TIMEOUT_S, ""
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            try:
                response = client.get(f"{url}/health")
                if response.status_code == 200:
                    return response.json()
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as err:
                last = repr(err)
            time.sleep(0.25)
    raise AssertionError(f"{what} did not answer {url}/health within {HEALTH_TIMEOUT_S}s (last: {last})")


def assert_hardened(container_id: str) -> None:
    """Non-root, read-only root filesystem, no capabilities, no-new-privileges, memory and pid limits."""
    info = orjson.loads(_docker("inspect", container_id).stdout)[0]
    config, host = info["Config"], info["HostConfig"]
    assert config["User"] not in ("", "0", "root") and not config["User"].startswith("0:"), config["User"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd")
    assert "no-new-privileges:true" in host["SecurityOpt"] or "no-new-privileges" in host["SecurityOpt"]
    assert host["Privileged"] is False
    assert host["Memory"] == 1 << 30 and host["PidsLimit"] == 256
    assert host["NetworkMode"] == "host"
    uid = _docker("exec", container_id, "id", "-u").stdout.strip()
    assert uid == "10001"
    for path in ("/opt/venv/x", "/etc/x", "/x"):  # the root filesystem refuses writes, even to its owner's files
        proc = _docker("exec", container_id, "touch", path, check=False)
        assert proc.returncode != 0 and "Read-only file system" in proc.stderr, (path, proc.stderr)
    assert _docker("exec", container_id, "touch", "/tmp/x", check=False).returncode == 0  # the tmpfs


def assert_token_hidden(container_id: str, token: str) -> None:
    """The token is nowhere in ``docker inspect`` (no environment variable, no label, no command):
    the container reads it from a file mounted read-only."""
    raw = _docker("inspect", container_id).stdout
    assert token not in raw, "the token is readable in docker inspect"
    info = orjson.loads(raw)[0]
    assert not any(e.startswith("ADVISORGYM_API_TOKEN=") for e in info["Config"]["Env"]), info["Config"]["Env"]
    assert "ADVISORGYM_API_TOKEN_FILE=/run/secrets/advisorgym_api_token" in info["Config"]["Env"]
    mount = [m for m in info["Mounts"] if m["Destination"] == "/run/secrets/advisorgym_api_token"]
    assert len(mount) == 1 and mount[0]["RW"] is False, info["Mounts"]


def assert_needs_token(url: str) -> None:
    with httpx.Client(base_url=url, trust_env=False, timeout=5.0) as client:
        for method, path in [("POST", "/sessions"), ("GET", "/tools"), ("POST", "/tools/search_funds")]:
            response = client.request(method, path, json={} if method == "POST" else None)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "unauthorized"


def managed_containers(owner_pid: int | None = None) -> list[Any]:
    found = docker_client().containers.list(all=True, filters={"label": f"{MANAGED_LABEL}=1"})
    if owner_pid is None:
        return found
    return [c for c in found if c.labels.get(OWNER_LABEL, "").split(":")[1:2] == [str(owner_pid)]]


@pytest.fixture(scope="module")
def in_process_reference() -> list[Any]:
    """The gold episodes in process, on the tasks' default replica."""
    env = FinAdvisorEnv(tasks=TASKS, replica=default_replica(SEED, SCALE))
    try:
        return episodes(env)
    finally:
        env.close()


# --------------------------------------------------------------------------- compose


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    _docker_unavailable("neither docker-compose nor the docker compose plugin is installed (build.sh installs "
                        "Debian's docker-compose)")
    raise AssertionError("unreachable")


@pytest.fixture
def compose_stack(image: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The shipped docker-compose.yml, up under a unique project name on a free port; down -v after."""
    project, port = f"agtest{uuid.uuid4().hex[:10]}", _free_port()
    secret = tmp_path / "api_token"  # as the compose file says: owned by the image's user, mode 400
    secret.write_text(TOKEN + "\n")
    if os.geteuid() == 0:
        os.chown(secret, 10001, -1)
        secret.chmod(0o400)
    else:
        secret.chmod(0o444)
    env = {**{k: v for k, v in os.environ.items() if k != "ADVISORGYM_API_TOKEN"},
           "ADVISORGYM_API_TOKEN_FILE": str(secret), "ADVISORGYM_PORT": str(port),
           "REPLICA_SEED": str(SEED), "REPLICA_SCALE": str(SCALE)}
    compose = [*compose_command(), "--project-name", project, "--file", str(ROOT / "docker-compose.yml")]

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*compose, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=timeout)
        assert proc.returncode == 0, f"{' '.join(compose)} {' '.join(args)} exited {proc.returncode}:\n" \
                                     f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc

    started = time.monotonic()
    try:
        run("up", "--detach")
        url = f"http://127.0.0.1:{port}"
        health = wait_healthy(url, f"compose project {project}")
        api = run("ps", "--quiet", "advisorgym-api").stdout.split()
        assert len(api) == 1, api
        print(f"compose up + healthy in {time.monotonic() - started:.1f}s")
        yield {"url": url, "container": api[0], "health": health, "project": project}
    finally:
        down = subprocess.run([*compose, "down", "--volumes", "--timeout", "10"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
    assert down.returncode == 0, down.stderr
    label = f"label=com.docker.compose.project={project}"
    assert not _docker("ps", "--all", "--quiet", "--filter", label).stdout.strip(), "containers left after down"
    assert not _docker("volume", "ls", "--quiet", "--filter", label).stdout.strip(), "volumes left after down -v"


def test_compose_file_accepts_every_profile(image):
    """The scale and train profiles too (the GPU trainer cannot run here, but Compose must take the file)."""
    env = {**{k: v for k, v in os.environ.items() if k != "ADVISORGYM_API_TOKEN"},
           "ADVISORGYM_API_TOKEN_FILE": "/run/agtest/api_token"}
    command = [*compose_command(), "--file", str(ROOT / "docker-compose.yml"), "--profile", "scale",
               "--profile", "train", "config"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rendered = proc.stdout
    assert "ADVISORGYM_API_TOKEN:" not in rendered and "file: /run/agtest/api_token" in rendered
    assert rendered.count("source: advisorgym_api_token") == 4  # every service that checks tokens
    del env["ADVISORGYM_API_TOKEN_FILE"]  # without a token file, Compose refuses the file, saying why
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "set ADVISORGYM_API_TOKEN_FILE" in proc.stderr, proc.stderr
    for service in ("replica:", "advisorgym-api:", "advisorgym-api-2:", "advisorgym-api-4:", "trainer:"):
        assert f"\n  {service}\n" in rendered, service
    assert rendered.count("no-new-privileges:true") >= 6  # v2 also renders the x- blocks; the values: inspect, below
    assert "driver: nvidia" in rendered and "gpu" in rendered


def test_compose_stack_serves_the_gold_trajectories_as_in_process(compose_stack, tmp_path, in_process_reference):
    """The shipped file, as a user runs it: hardened, token-protected, and every hand-written task's gold
    trajectory gives the observations and rewards the in-process env gives on the replica it serves."""
    assert compose_stack["health"]["replica"]["seed"] == str(SEED)
    assert compose_stack["health"]["replica"]["scale"] == str(SCALE)
    assert_hardened(compose_stack["container"])
    assert_token_hidden(compose_stack["container"], TOKEN)
    assert_needs_token(compose_stack["url"])
    served = tmp_path / "served.sqlite"  # the replica the container generated, byte for byte
    _docker("cp", f"{compose_stack['container']}:/data/replica.sqlite", str(served))
    local = FinAdvisorEnv(tasks=TASKS, replica=served)
    remote = FinAdvisorEnv(tasks=TASKS, backend="http", base_url=compose_stack["url"], token=TOKEN)
    try:
        assert remote.replica_meta == local.replica_meta
        expected = episodes(local)
        assert_same_episodes(episodes(remote), expected)
    finally:
        local.close()
        remote.close()
    assert served.read_bytes() == default_replica(SEED, SCALE).read_bytes()  # container and host generate alike
    assert expected == in_process_reference


# --------------------------------------------------------------------------- backend="docker"


def test_docker_backend_end_to_end_shares_one_container_and_leaves_none(image, in_process_reference):
    first = FinAdvisorEnv(tasks=TASKS, backend="docker")
    second = FinAdvisorEnv(tasks=TASKS, backend="docker")
    try:
        assert isinstance(first.backend, DockerBackend) and first.backend.service is second.backend.service
        assert first.contract_status["checked"] and first.contract_status["ok"]
        mine = managed_containers(os.getpid())
        assert [c.id for c in mine] == [first.backend.service.container.id]  # one container for both envs
        assert_hardened(mine[0].id)
        assert_token_hidden(mine[0].id, first.backend.token)
        token_folder = first.backend.service._token_folder
        assert token_folder.stat().st_mode & 0o777 == 0o700  # no other user of the host enters it
        assert_needs_token(first.backend.base_url)
        assert_same_episodes(episodes(first), in_process_reference)
        assert_same_episodes(episodes(second), in_process_reference)
        first.close()
        assert managed_containers(os.getpid()), "closing one of two envs must keep the shared container"
    finally:
        first.close()
        second.close()
    assert not managed_containers(os.getpid()), "a container is left after close()"
    assert not token_folder.exists(), "the token file is left after close()"


def test_an_env_that_fails_to_start_leaves_no_container(image):
    """The container is up before the env's own checks run: a check that fails removes it."""
    with pytest.raises(ValueError, match="replica"):
        FinAdvisorEnv(tasks=[dataclasses.replace(TASKS[0], replica={"seed": 1, "scale": 5000})],
                      replica=default_replica(SEED, SCALE), backend="docker")
    assert not managed_containers(os.getpid()), "a failed start left its container behind"


KILLED_CHILD = """
import sys, time
from envs.docker_backend import DockerBackend
backend = DockerBackend(sys.argv[1])
print(backend.service.container.name, backend.service._token_folder, flush=True)
time.sleep(600)
"""


def test_a_killed_process_leaves_its_container_to_the_next_start(image):
    replica = default_replica(SEED, SCALE)
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(replica)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().split()  # type: ignore[union-attr]
        assert line, child.stderr.read()  # type: ignore[union-attr]
        name, token_folder = line[0], Path(line[1])
        assert [c.name for c in managed_containers(child.pid)] == [name]
    finally:
        child.send_signal(signal.SIGKILL)  # no atexit hook runs
        child.wait(timeout=30)
    assert [c.name for c in managed_containers(child.pid)] == [name], "the orphan should still be there"
    assert token_folder.is_dir()
    with DockerService(replica) as service:  # the next start removes it, and the token file it left
        assert not managed_containers(child.pid)
        assert not token_folder.exists()
        assert [c.id for c in managed_containers(os.getpid())] == [service.container.id]
    assert not managed_containers(os.getpid())


def test_clear_errors_without_the_image_or_the_engine(image, monkeypatch):
    replica = default_replica(SEED, SCALE)
    with pytest.raises(DockerBackendError, match="mock_apis/docker/build.sh") as missing:
        DockerService(replica, image="advisorgym-api:no-such-tag")
    assert missing.value.reason == "image_missing" and "advisorgym-api:no-such-tag" in str(missing.value)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(DockerBackendError, match="no Docker engine is reachable at unix:///nonexistent") as engine:
        FinAdvisorEnv(tasks=TASKS, backend="docker")
    assert engine.value.reason == "no_engine"


def kill_9(container: Any) -> None:
    """SIGKILL the container's first process from the host, and wait until the engine sees it gone."""
    container.reload()
    os.kill(container.attrs["State"]["Pid"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while container.status == "running":
        assert time.monotonic() < deadline, f"{container.name} still runs after kill -9"
        time.sleep(0.1)
        container.reload()


def test_a_killed_container_fails_its_episode_as_infra_and_the_next_episode_and_a_new_env_run(
        image, in_process_reference):
    env = FinAdvisorEnv(tasks=TASKS, backend="docker")
    late = None
    try:
        service = env.backend.service
        first, first_url = service.container, service.url
        task = TASKS[0]
        env.reset(seed=0, options={"task_id": task.task_id})
        kill_9(first)
        _, _, _, _, info = env.step(task.gold_actions()[0])  # mid-episode: an infra error, not the agent's
        assert info["infra_error"] and [c["outcome"] for c in info["calls"]] == ["infra_error"]
        assert_same_episodes(episodes(env), in_process_reference)  # the next episodes: on a new container
        assert service.url != first_url and service.container.id != first.id
        assert [c.id for c in managed_containers(os.getpid())] == [service.container.id]  # the dead one removed
        assert_hardened(service.container.id)
        assert_token_hidden(service.container.id, service.token)

        kill_9(service.container)  # between episodes: a new env in the same process starts a new one
        late = FinAdvisorEnv(tasks=TASKS, backend="docker")
        assert late.backend.service is service and late.contract_status["ok"]
        assert_same_episodes(episodes(late), in_process_reference)
        assert_same_episodes(episodes(env), in_process_reference)  # the first env follows at its next reset
        assert env.backend.base_url == late.backend.base_url == service.url
    finally:
        env.close()
        if late is not None:
            late.close()
    assert not managed_containers(os.getpid()), "a container is left after close()"
