"""End to end in Docker: build the image with ``mock_apis/docker/build.sh`` (it installs and starts
the engine and builds the debootstrap base when missing, and skips whatever is already done), run
it with host networking on a free 127.0.0.1 port, and talk to it over HTTP: /health, a tool route
checked against the tool's result schema, 401 without the token, and ``HttpBackend`` payloads
byte-identical to the in-process back-end on the same replica. The container is removed at the end.

Marked ``docker``. It never skips silently: if Docker cannot be set up the tests FAIL with the
reason. ``ADVISORGYM_SKIP_DOCKER=1`` skips them (with a loud reason) where Docker is not wanted.
A cold machine needs about 3 minutes (apt, debootstrap, wheels, image); a warm one seconds.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
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
from jsonschema import Draft202012Validator

from envs.backends import HttpBackend, InProcessBackend
from mock_apis.catalogue import ERROR_SCHEMA, call_tool, catalogue
from mock_apis.sandbox import Sandbox
from tests.conftest import REPLICA_SCALE, REPLICA_SEED

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "mock_apis" / "docker" / "build.sh"
IMAGE = os.environ.get("ADVISORGYM_DOCKER_IMAGE", "advisorgym-api:latest")
SKIP_ENV = "ADVISORGYM_SKIP_DOCKER"
BUILD_TIMEOUT_S = 1500  # a cold machine takes ~3 min; a slow mirror may take much longer
START_TIMEOUT_S = 90
TOKEN = "docker-test-" + uuid.uuid4().hex
TOOLS = catalogue()

pytestmark = [pytest.mark.docker, pytest.mark.timeout(BUILD_TIMEOUT_S + 300)]


def _docker_unavailable(reason: str) -> None:
    pytest.fail(f"Docker could not be set up: {reason}\n"
                f"(set {SKIP_ENV}=1 to skip the docker tests on a machine that cannot run them)", pytrace=False)


def _docker(*args: str, check: bool = True, timeout: float = 120, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_built: list[str] = []  # the image, once build.sh has run in this session (the fixture is shared by modules)


@pytest.fixture(scope="module")
def image() -> str:
    """``advisorgym-api:latest``, built (or found up to date) by build.sh, once per session."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"!!! DOCKER END-TO-END TESTS NOT RUN: {SKIP_ENV}=1 is set; the container image was "
                    "neither built nor tested !!!")
    if _built:
        return _built[0]
    if sys.platform != "linux":
        _docker_unavailable(f"build.sh supports Linux (Debian) hosts only, not {sys.platform}")
    env = {**os.environ, "PYTHON": sys.executable}  # the wheelhouse pins this environment's versions
    started = time.monotonic()
    try:
        proc = subprocess.run(["bash", str(BUILD_SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as err:
        _docker_unavailable(f"{BUILD_SCRIPT} did not finish within {BUILD_TIMEOUT_S}s:\n"
                            f"{(err.stderr or b'')[-3000:]!r}")
    if proc.returncode != 0:
        _docker_unavailable(f"{BUILD_SCRIPT} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    print(f"build.sh took {time.monotonic() - started:.0f}s\n{proc.stderr[-1500:]}")
    if shutil.which("docker") is None:
        _docker_unavailable("build.sh succeeded but no docker CLI is on PATH")
    _built.append(IMAGE)
    return IMAGE


@pytest.fixture(scope="module")
def container_replica(replica_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session replica, copied where the container's user (uid 10001) can read it."""
    folder = tmp_path_factory.mktemp("docker-replica")
    folder.chmod(0o755)
    path = folder / "replica.sqlite"
    shutil.copyfile(replica_path, path)
    path.chmod(0o644)
    return path


@pytest.fixture(scope="module")
def service(image: str, container_replica: Path) -> Iterator[dict[str, Any]]:
    """The container, serving ``container_replica`` (mounted read-only) on a free loopback port."""
    port = _free_port()
    name = f"advisorgym-test-{uuid.uuid4().hex[:12]}"
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ADVISORGYM_API_TOKEN": TOKEN}  # passed by name: never on a command line
    _docker("run", "--detach", "--name", name, "--network", "host",
            "--env", "ADVISORGYM_API_TOKEN", "--env", f"ADVISORGYM_PORT={port}",
            "--env", "REPLICA=/replica/replica.sqlite",
            "--health-interval", "2s",  # the image's HEALTHCHECK command, checked sooner than every 10 s
            "--volume", f"{container_replica}:/replica/replica.sqlite:ro", image, env=env)
    try:
        deadline, last = time.monotonic() + START_TIMEOUT_S, ""
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while True:
                try:
                    response = client.get(f"{url}/health")
                    if response.status_code == 200:
                        break
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as err:
                    last = repr(err)
                state = _docker("inspect", "--format", "{{.State.Status}}", name, check=False).stdout.strip()
                if state != "running" or time.monotonic() > deadline:
                    logs = _docker("logs", name, check=False)
                    raise AssertionError(f"the container did not answer /health (state {state!r}, last: {last}):\n"
                                         f"{logs.stdout[-3000:]}\n{logs.stderr[-3000:]}")
                time.sleep(0.25)
        yield {"url": url, "name": name, "port": port}
    finally:
        _docker("stop", "--time", "10", name, check=False)
        _docker("rm", "--force", "--volumes", name, check=False)
        leftover = _docker("ps", "--all", "--quiet", "--filter", f"name=^{name}$", check=False).stdout.strip()
        assert not leftover, f"container {name} is still there after docker rm"


@pytest.fixture(scope="module")
def http(service: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service["url"], trust_env=False, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="module")
def ids(replica_path: Path) -> dict[str, Any]:
    con = sqlite3.connect(f"file:{replica_path}?mode=ro", uri=True)
    try:
        one = lambda sql: con.execute(sql).fetchone()  # noqa: E731 - a one-line helper
        account_id, cash, client_id = one(
            "SELECT a.account_id, a.cash_balance, a.client_id FROM accounts a JOIN compliance_records k "
            "USING (client_id) WHERE a.status = 'active' AND k.kyc_status = 'verified' AND k.restriction = 'none' "
            "ORDER BY a.cash_balance DESC")
        fund, minimum = one("SELECT fund_code, min_investment FROM fund_profiles WHERE min_investment > 0 AND "
                            f"min_investment <= {cash / 20} ORDER BY fund_code")
    finally:
        con.close()
    return {"client_id": client_id, "account_id": account_id, "fund": fund, "amount": max(minimum, 100.0)}


AUTH = {"Authorization": f"Bearer {TOKEN}"}


# --------------------------------------------------------------------------- tests


def test_health_reports_the_mounted_replica(http, container_replica):
    response = http.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["tools"] == len(TOOLS)
    with Sandbox(container_replica) as sandbox:
        assert body["replica"] == dict(sandbox.meta)
    assert body["replica"]["seed"] == str(REPLICA_SEED) and body["replica"]["scale"] == str(REPLICA_SCALE)


@pytest.mark.parametrize("name, make_arguments", [
    ("search_funds", lambda ids: {"max_risk_level": 3, "limit": 5}),
    ("get_client_profile", lambda ids: {"client_id": ids["client_id"]}),
    ("get_holdings", lambda ids: {"account_id": ids["account_id"]}),
    ("get_client_overview", lambda ids: {"client_id": ids["client_id"]}),  # a composite tool
])
def test_tool_route_answers_the_schema_and_the_in_process_payload(http, ids, container_replica, name, make_arguments):
    arguments = make_arguments(ids)
    response = http.post(f"/tools/{name}", json=arguments, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    result = response.json()
    Draft202012Validator(TOOLS[name].returns).validate(result)
    with Sandbox(container_replica) as sandbox:
        expected = call_tool(sandbox, name, arguments)
    assert expected.ok and orjson.dumps(result) == orjson.dumps(expected.payload)


@pytest.mark.parametrize("headers, message", [
    ({}, "missing bearer token"),
    ({"Authorization": "Bearer not-the-token"}, "invalid bearer token"),
    ({"Authorization": f"Basic {TOKEN}"}, "missing bearer token"),
])
def test_tool_routes_need_the_token(http, headers, message):
    for method, path in [("POST", "/tools/search_funds"), ("GET", "/tools"), ("POST", "/sessions")]:
        response = http.request(method, path, json={} if method == "POST" else None, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        body = response.json()
        Draft202012Validator(ERROR_SCHEMA).validate(body)
        assert body["error"] == "unauthorized" and body["message"] == message
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_http_backend_matches_in_process(service, ids, container_replica):
    order = {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy", "amount": ids["amount"]}
    script = [
        ("call", "get_client_profile", {"client_id": ids["client_id"]}),
        ("call", "list_accounts", {"client_id": ids["client_id"]}),
        ("call", "search_funds", {"max_risk_level": 3, "limit": 5}),
        ("probe", "place_order", order),
        ("call", "place_order", order),  # a write: the session sees it, nobody else does
        ("call", "list_orders", {"account_id": ids["account_id"]}),
        ("call", "get_portfolio_summary", {"client_id": ids["client_id"]}),
        ("call", "get_client_profile", {"client_id": "C999999"}),  # not_found
        ("call", "get_client_profile", {"client_id": 42}),  # invalid_arguments
        ("call", "no_such_tool", {}),  # unknown_tool
    ]
    local, remote = InProcessBackend(container_replica), HttpBackend(service["url"], token=TOKEN)
    try:
        assert remote.replica_meta() == local.replica_meta()
        for episode in range(2):  # the second one checks that reset() gives a pristine replica again
            local.reset()
            remote.reset()
            for kind, name, arguments in script:
                expected, got = getattr(local, kind)(name, arguments), getattr(remote, kind)(name, arguments)
                assert got.ok == expected.ok, (episode, kind, name, got.payload)
                assert orjson.dumps(got.payload) == orjson.dumps(expected.payload), (episode, kind, name)
    finally:
        local.close()
        remote.close()


def test_image_healthcheck_turns_healthy(service):
    deadline = time.monotonic() + 45
    while True:
        status = _docker("inspect", "--format", "{{.State.Health.Status}}", service["name"]).stdout.strip()
        if status == "healthy" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert status == "healthy", _docker("inspect", "--format", "{{json .State.Health}}", service["name"]).stdout


def test_image_generates_the_same_replica_as_the_host(image, replica_path, tmp_path):
    """The pinned wheelhouse makes the container's generator byte-identical to the host's."""
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)  # the container runs as uid 10001
    _docker("run", "--rm", "--network", "none", "--volume", f"{out}:/out", image,
            "replica", "generate", "--out", "/out/replica.sqlite", "--seed", str(REPLICA_SEED),
            "--scale", str(REPLICA_SCALE), timeout=300)
    assert (out / "replica.sqlite").read_bytes() == Path(replica_path).read_bytes()
