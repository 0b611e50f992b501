"""The OpenEnv protocol on the service (envs.integrations.openenv) through openenv-core's own
client (``GenericEnvClient``, unchanged) on a real uvicorn server on 127.0.0.1, plus its HTTP
routes and raw WebSocket messages for what that client cannot send (malformed JSON, headers)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("openenv.core", reason="SKIPPED LOUDLY: the openenv extra is not installed (pip install -e "
                                           "'.[openenv]'); .ci/openenv runs these tests after installing it")

from openenv.core import GenericEnvClient  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from envs.tasks import HANDWRITTEN, HELDOUT, load_tasks  # noqa: E402
from tests.conftest import API_TOKEN  # noqa: E402

OTHER_TOKEN = "other-team-token"
HELDOUT_SAMPLE = 15  # held-out tasks served (see ``suite``)


def client_url(url: str, token: str | None = API_TOKEN) -> str:
    """The base URL openenv-core's client is given: the token as the password of the user info."""
    return url if token is None else url.replace("http://", f"http://advisorgym:{token}@")


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws"


def openai_turn(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A tool call as a JSON object: an OpenAI assistant message."""
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}]}


def hermes_turn(name: str, arguments: dict[str, Any]) -> str:
    """A tool call as text: Hermes / Qwen tags."""
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def play_gold(env: Any, task: Any, turn: Any) -> Any:
    """The task's gold trajectory through a sync openenv-core client; the last step's result."""
    started = env.reset(task_id=task.task_id)
    assert started.observation["user"] == task.query and started.done is False
    for call in task.gold_calls:
        result = env.step({"message": turn(call.name, call.arguments)})
        assert result.done is False and result.reward == 0.0
        assert not (isinstance(result.observation["result"], dict) and "error" in result.observation["result"]), \
            result.observation
    return env.step({"message": task.gold_response})


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written tasks, every tenth held-out one and the first held-out order, in one suite file."""
    heldout = [line for line in Path(HELDOUT).read_text().splitlines() if line.strip()]
    order = next(line for line, task in zip(heldout, load_tasks(HELDOUT), strict=True)
                 if [c.name for c in task.gold_calls] == ["place_order"])
    sample = heldout[::10][:HELDOUT_SAMPLE - 1]
    lines = Path(HANDWRITTEN).read_text().splitlines() + sample + ([] if order in sample else [order])
    path = tmp_path_factory.mktemp("suite") / "tasks.jsonl"
    path.write_text("\n".join(line for line in lines if line.strip()) + "\n")
    return path


def serve(suite: Path | None, **limits: Any) -> Any:
    """The service with its episode endpoints on the suite's replica, under uvicorn in a thread."""
    from envs.cli import mount_episode_endpoints
    from envs.replica import default_replica
    from mock_apis.app import create_app, serve_in_thread

    task = load_tasks(suite or HELDOUT)[0]
    replica = default_replica(task.replica["seed"], task.replica["scale"])
    app = create_app(replica, tokens=[API_TOKEN, OTHER_TOKEN], **limits)
    added = mount_episode_endpoints(app, replica, suite, max_sessions=limits.get("max_sessions", 8),
                                    idle_ttl_s=limits.get("idle_ttl_s", 60.0), host="127.0.0.1")
    assert added.startswith("OpenEnv episodes at /ws"), added
    return app, serve_in_thread(app)


@pytest.fixture(scope="module")
def server(suite: Path) -> Iterator[str]:
    app, running = serve(suite)
    with running as url:
        yield url


def test_handwritten_golds_score_3_through_the_client_with_json_object_actions(server):
    tasks = load_tasks(HANDWRITTEN)
    with GenericEnvClient(base_url=client_url(server)).sync() as env:
        for task in tasks:
            final = play_gold(env, task, openai_turn)
            assert (final.reward, final.done) == (3.0, True), (task.task_id, final.observation)
            assert final.observation["reward_breakdown"]["total"] == 3.0
            assert final.observation["result"] == {"status": "episode_complete"}
            state = env.state()
            assert state["task_id"] == task.task_id and state["done"] is True
            assert state["step_count"] == len(task.gold_calls) + 1


def test_heldout_golds_score_3_through_the_client_with_text_actions(server, suite):
    tasks = [t for t in load_tasks(suite) if t.task_id not in {h.task_id for h in load_tasks(HANDWRITTEN)}]
    assert len(tasks) >= HELDOUT_SAMPLE - 1
    with GenericEnvClient(base_url=client_url(server)).sync() as env:
        scores = [(task.task_id, play_gold(env, task, hermes_turn).reward) for task in tasks]
    assert [s for s in scores if s[1] != 3.0] == []


def test_a_gold_over_the_http_routes(server):
    task = load_tasks(HANDWRITTEN)[0]
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(base_url=server, headers=headers) as http:
        started = http.post("/reset", json={"task_id": task.task_id}).json()
        episode_id = started["observation"]["episode_id"]
        assert started["observation"]["user"] == task.query and started["done"] is False
        for call in task.gold_calls:
            step = http.post("/step", json={"episode_id": episode_id,
                                            "action": {"message": {"name": call.name, "parameters": call.arguments}}})
            assert step.status_code == 200 and step.json()["done"] is False
        final = http.post("/step", json={"episode_id": episode_id, "action": {"message": task.gold_response}}).json()
        assert (final["reward"], final["done"]) == (3.0, True)
        state = http.get("/state", params={"episode_id": episode_id}).json()
        assert state == {"episode_id": episode_id, "step_count": len(task.gold_calls) + 1,
                         "task_id": task.task_id, "done": True}
        # a new task in the same episode session, then the session ends like any other
        again = http.post("/reset", json={"episode_id": episode_id, "seed": 3}).json()
        assert again["observation"]["episode_id"] == episode_id
        assert http.delete(f"/sessions/{episode_id}").status_code == 204
        gone = http.get("/state", params={"episode_id": episode_id})
        assert gone.status_code == 410 and gone.json()["error"] == "not_found"
        schema = http.get("/schema").json()
        assert set(schema) == {"action", "observation", "state"} and schema["action"]["required"] == ["message"]
        assert http.get("/metadata").json()["name"] == "advisorgym"


def test_two_concurrent_sessions_are_isolated(server, suite):
    task = next(t for t in load_tasks(suite) if [c.name for c in t.gold_calls] == ["place_order"])
    order = task.gold_calls[0].arguments
    listing = {"account_id": order["account_id"], "status": "pending"}

    async def main() -> tuple[int, int, int, list[float]]:
        async with GenericEnvClient(base_url=client_url(server)) as a, \
                GenericEnvClient(base_url=client_url(server)) as b:
            ids = set()
            for env in (a, b):
                ids.add((await env.reset(task_id=task.task_id)).observation["episode_id"])
            assert len(ids) == 2

            async def orders(env: Any) -> int:
                return len((await env.step({"message": openai_turn("list_orders", listing)})).observation["result"]
                           ["orders"])

            before = await orders(b)
            placed = await a.step({"message": openai_turn("place_order", order)})
            assert "order_id" in placed.observation["result"], placed.observation
            in_a, in_b = await asyncio.gather(orders(a), orders(b))

            async def gold(env: Any) -> float:  # both episodes again, their turns interleaved
                await env.reset(task_id=task.task_id)
                for call in task.gold_calls:
                    await env.step({"message": openai_turn(call.name, call.arguments)})
                return (await env.step({"message": task.gold_response})).reward

            return before, in_a, in_b, list(await asyncio.gather(gold(a), gold(b)))

    before, in_a, in_b, rewards = asyncio.run(main())
    assert (in_a, in_b) == (before + 1, before)
    assert rewards == [3.0, 3.0]


def test_malformed_websocket_messages_get_structured_errors_and_the_socket_stays_open(server):
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    bad = {
        "not json": "invalid_arguments",
        "[]": "invalid_arguments",
        '{"type": "teleport"}': "invalid_arguments",
        '{"type": "mcp", "data": {}}': "invalid_arguments",
        '{"type": "step", "data": {"message": "hello"}}': "no_episode",  # before any reset
        '{"type": "step"}': "invalid_arguments",
        '{"type": "reset", "data": {"seed": "x"}}': "invalid_arguments",
        '{"type": "reset", "data": {"seed": -1}}': "invalid_arguments",
        '{"type": "reset", "data": {"task_id": "no-such-task"}}': "unknown_task",
        '{"type": "reset", "data": {"episode_id": "abc"}}': "invalid_arguments",
        '{"type": "reset", "data": []}': "invalid_arguments",
        '{"type": "step", "data": {"message": 5}}': "invalid_arguments",
        '{"type": "step", "data": {"text": "hi"}}': "invalid_arguments",
        '{"type": "step", "data": "hi"}': "invalid_arguments",
        json.dumps({"type": "step", "data": {"message": "x" * (1 << 20)}}): "invalid_arguments",  # over 1 MiB
    }
    with connect(ws_url(server), additional_headers=headers) as ws:
        for message, code in bad.items():
            ws.send(message)
            answer = json.loads(ws.recv(timeout=30))
            assert answer["type"] == "error" and answer["data"]["code"] == code, (message[:80], answer)
            assert isinstance(answer["data"]["message"], str) and len(answer["data"]["message"]) < 400
        ws.send(b'{"type": "reset", "data": {"seed": 1}}')  # a binary frame is read the same way
        started = json.loads(ws.recv(timeout=30))
        assert started["type"] == "observation" and started["data"]["observation"]["user"]
        ws.send('{"type": "step", "data": {"message": {"role": "assistant"}}}')  # a turn the env finds malformed
        step = json.loads(ws.recv(timeout=30))
        assert step["type"] == "observation" and "error" in step["data"]["observation"]["result"]
    with GenericEnvClient(base_url=client_url(server)).sync() as env:
        with pytest.raises(RuntimeError, match=r"code: no_episode"):
            env.step({"message": "hi"})
        env.reset(seed=0)
        with pytest.raises(RuntimeError, match=r"code: invalid_arguments"):
            env.step({"msg": 1})
        assert env.step({"message": "final answer"}).done is True  # the socket and session are still there


@pytest.mark.parametrize("path,body", [
    ("/reset", b"{"), ("/reset", b"[]"), ("/reset", b'{"seed": 1.5}'), ("/reset", b'{"task_id": 7}'),
    ("/reset", b'{"task_id": "no-such-task"}'), ("/reset", b'{"episode_id": "nope"}'), ("/reset", b'{"x": 1}'),
    ("/step", b""), ("/step", b"null"), ("/step", b'{"action": {"message": "hi"}}'),
    ("/step", b'{"action": {"message": "hi"}, "episode_id": "nope"}'), ("/step", b'{"action": 1, "episode_id": "x"}'),
    ("/step", b'{"action": {"message": "hi"}, "episode_id": "x", "extra": 1}'), ("/step", b"\xff\xfe"),
    ("/state", None), ("/step", b'{"action": {"message": "' + b"x" * (1 << 20) + b'"}}'),
])
def test_malformed_http_requests_get_structured_errors(server, path, body):
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    if body is None:
        response = httpx.get(server + path, headers=headers)
    else:
        response = httpx.post(server + path, content=body, headers={**headers, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, (path, body[:40] if body else None, response.text)
    error = response.json()
    assert set(error) >= {"error", "message"} and error["error"] in {
        "invalid_arguments", "unknown_task", "not_found"}, error


def test_auth_bearer_or_basic_and_never_open(server):
    # openenv-core's client with no credentials, or a wrong token: the handshake is refused (401)
    for url in (client_url(server, None), client_url(server, "not-the-token")):
        with pytest.raises(ConnectionError, match="HTTP 401"):
            with GenericEnvClient(base_url=url).sync() as env:
                env.reset()
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(server)).close()
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["error"] == "unauthorized"
    # a client that can set headers: the bearer token, as on every other route
    with connect(ws_url(server), additional_headers={"Authorization": f"Bearer {API_TOKEN}"}) as ws:
        ws.send('{"type": "reset", "data": {"seed": 0}}')
        assert json.loads(ws.recv(timeout=30))["type"] == "observation"
    # Basic works on the HTTP routes too; none of them is open
    basic = "Basic " + base64.b64encode(f"advisorgym:{API_TOKEN}".encode()).decode()
    for method, path in (("POST", "/reset"), ("POST", "/step"), ("GET", "/state"), ("GET", "/schema"),
                         ("GET", "/metadata")):
        assert httpx.request(method, server + path).status_code == 401
    assert httpx.get(server + "/schema", headers={"Authorization": basic}).status_code == 200
    # an episode belongs to the token that opened it
    started = httpx.post(server + "/reset", json={"seed": 0}, headers={"Authorization": basic}).json()
    episode_id = started["observation"]["episode_id"]
    other = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    step = httpx.post(server + "/step", json={"episode_id": episode_id, "action": {"message": "x"}}, headers=other)
    assert step.status_code == 410 and step.json()["error"] == "not_found"
    assert httpx.get(server + "/state", params={"episode_id": episode_id}, headers=other).status_code == 410


def test_sessions_are_capped_and_expire_as_the_service_s_own():
    now = [1000.0]
    app, running = serve(None, max_sessions=1, idle_ttl_s=30.0, clock=lambda: now[0])
    with running as url:
        env = GenericEnvClient(base_url=client_url(url)).sync()
        env.connect()
        env.reset(seed=0)
        assert len(app.state.service.sessions) == 1
        with pytest.raises(ConnectionError, match="HTTP 429"):  # no room: refused at the handshake
            GenericEnvClient(base_url=client_url(url)).sync().connect()
        refused = httpx.post(url + "/reset", json={}, headers={"Authorization": f"Bearer {API_TOKEN}"})
        assert refused.status_code == 429 and refused.json()["error"] == "session_capacity"
        now[0] += 31  # idle past the session time-out
        with pytest.raises(RuntimeError, match=r"code: not_found"):
            env.step({"message": "hello"})
        env.close()
        assert len(app.state.service.sessions) == 0
        with GenericEnvClient(base_url=client_url(url)).sync() as again:  # its room is free again
            assert again.reset(seed=0).observation["episode_id"]
        # a closed socket deletes its session (once the server has read the close)
        deadline = time.monotonic() + 30
        while len(app.state.service.sessions) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(app.state.service.sessions) == 0


def test_the_doc_example_runs_as_written(capsys):
    """docs/openenv.md's block, against a service with the default suite (only host:port and token differ)."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "openenv.md").read_text()
    fence = "```python extra=openenv tested-by=tests/test_integrations_openenv.py\n"
    block = doc[doc.index(fence) + len(fence):]
    block = block[:block.index("\n```\n")]
    assert len(block.splitlines()) <= 5
    _, running = serve(None)
    with running as url:
        exec(block.replace("127.0.0.1:8080", url.removeprefix("http://")).replace("<token>", API_TOKEN), {})  # noqa: S102
    assert capsys.readouterr().out.strip() == "3.0"
