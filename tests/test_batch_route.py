"""One request per agent turn over HTTP: the batch route (``POST /sessions/{id}/batch``) and
``HttpBackend.run_ops``, byte-identical to the in-process back-end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from envs import FinAdvisorEnv
from envs.backends import HttpBackend, InProcessBackend, run_ops
from envs.evaluation.agents import make_agent
from envs.evaluation.run import run_episode
from envs.tasks import HANDWRITTEN, load_tasks
from mock_apis.app import MAX_BATCH_OPS, create_app
from tests.conftest import API_TOKEN
from tests import test_service
from tests.test_service import parity_script

ids = test_service.ids  # the fixture, shared with tests/test_service.py
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture(scope="module")
def client(replica_path) -> Iterator[TestClient]:
    with TestClient(create_app(replica_path, API_TOKEN, max_writes=2), raise_server_exceptions=False) as c:
        yield c


def gold_probes(ids: dict[str, Any]) -> list[tuple[str, Any]]:
    """Probes as the env sends them: reads, writes (rolled back), and errors."""
    order = {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy", "amount": ids["amount"]}
    return [("place_order", order), ("add_advisor_note", {"client_id": ids["client_id"], "text": "gold"}),
            ("get_client_profile", {"client_id": ids["client_id"]}), ("get_client_profile", "bad"),
            ("no_such_tool", {})]


def run_batches(backend: Any, script: list, probes: list) -> list[bytes]:
    """The script's operations (calls and probes) in batches of 1 to 7, each call after 0 to 5
    gold probes: every outcome."""
    ops = []
    for n, (kind, name, arguments) in enumerate(script):
        ops += [(p, a, True) for p, a in probes[: n % (len(probes) + 1)]] + [(name, arguments, kind == "probe")]
    out, start = [], 0
    while start < len(ops):
        size = start % 7 + 1
        out += [orjson.dumps([o.ok, o.payload]) for o in run_ops(backend, ops[start:start + size])]
        start += size
    return out


def test_batches_give_byte_identical_outcomes(live_server, replica_path, ids) -> None:
    url, token = live_server
    script, probes = parity_script(ids), gold_probes(ids)
    local, remote = InProcessBackend(replica_path), HttpBackend(url, token=token)
    requests = count_requests(remote)
    try:
        for episode in range(2):
            local.reset()
            remote.reset()
            before = len(requests)
            expected, got = run_batches(local, script, probes), run_batches(remote, script, probes)
            assert len(expected) == len(got)
            for n, (a, b) in enumerate(zip(expected, got)):
                assert a == b, (episode, n, a, b)
            batches = sum(1 for _, path in requests[before:] if path.endswith("/batch"))
            assert batches <= len(expected) // 2  # one request per batch at most (none when nothing travels)
            assert all(path.endswith("/batch") for _, path in requests[before:])
    finally:
        local.close()
        remote.close()


def count_requests(backend: HttpBackend) -> list[tuple[str, str]]:
    """The (method, path) of every request ``backend`` makes from now on."""
    seen: list[tuple[str, str]] = []
    request = backend._request

    def counted(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        seen.append((method, path))
        return request(method, path, *args, **kwargs)

    backend._request = counted  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("spec", ["oracle", "noisy_params", "unrequested_write"])
def test_http_episodes_equal_in_process_with_one_request_per_turn(live_server, replica_path, spec) -> None:
    url, token = live_server
    tasks = load_tasks(HANDWRITTEN)
    local = FinAdvisorEnv(tasks=tasks, replica=replica_path, check_replica=False)
    remote = FinAdvisorEnv(tasks=tasks, backend="http", base_url=url, token=token, check_replica=False)
    requests = count_requests(remote.backend)
    try:
        for i, task in enumerate(tasks):
            a = run_episode(local, make_agent(spec), task, seed=i)
            del requests[:]
            b = run_episode(remote, make_agent(spec), task, seed=i)
            a.pop("latency_s"), b.pop("latency_s")
            assert orjson.dumps(a) == orjson.dumps(b), task.task_id
            tool_requests = [p for _, p in requests if not p.endswith("/reset") and p != "/sessions"]
            assert len(tool_requests) <= sum(1 for t in b["transcript"] if t["role"] == "agent"), task.task_id
            assert all(p.endswith("/batch") for p in tool_requests)
    finally:
        local.close()
        remote.close()


def new_session(client: TestClient) -> str:
    return client.post("/sessions", headers=AUTH).json()["session_id"]


def test_batch_runs_probes_then_calls_in_order_and_counts_writes(client, ids) -> None:
    session = new_session(client)
    note = {"client_id": ids["client_id"], "text": "batched"}
    ops = [{"name": "add_advisor_note", "arguments": note, "probe": True},
           {"name": "add_advisor_note", "arguments": note, "probe": False},
           {"name": "add_advisor_note", "arguments": note},
           {"name": "add_advisor_note", "arguments": note, "probe": False},
           {"name": "get_client_profile", "arguments": {"client_id": "C999999"}, "probe": False}]
    response = client.post(f"/sessions/{session}/batch", json={"ops": ops}, headers=AUTH)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [200, 200, 200, 429, 404]
    assert results[0]["body"]["note_id"] == results[1]["body"]["note_id"]  # the probe was rolled back
    assert results[2]["body"]["note_id"] > results[1]["body"]["note_id"]
    assert results[3]["body"]["error"] == "session_write_limit"


@pytest.mark.parametrize("body", [{}, {"ops": []}, {"ops": "x"}, {"ops": [{"name": 3, "arguments": {}}]},
                                  {"ops": [{"name": "get_client_profile"}]},
                                  {"ops": [{"name": "get_client_profile", "arguments": {}, "probe": "yes"}]},
                                  {"ops": [{"name": "list_funds", "arguments": {}}] * (MAX_BATCH_OPS + 1)}, [1]])
def test_malformed_batches_are_422(client, body) -> None:
    response = client.post(f"/sessions/{new_session(client)}/batch", json=body, headers=AUTH)
    assert response.status_code == 422 and response.json()["error"] == "invalid_arguments"


def test_batch_needs_a_live_session_of_the_token(client) -> None:
    ops = {"ops": [{"name": "list_funds", "arguments": {}}]}
    assert client.post("/sessions/0123456789abcdef0123456789abcdef/batch", json=ops, headers=AUTH).status_code == 410
    assert client.post(f"/sessions/{new_session(client)}/batch", json=ops).status_code == 401


def test_the_direct_batch_route_answers_as_the_framework_does(replica_path, ids, monkeypatch) -> None:
    """``ServiceApp`` serves the batch route ahead of FastAPI's stack: every answer (results,
    malformed bodies, a gone session, no or a wrong token, a too-large body, an endpoint that
    raises) must be the one the full stack gives, status, headers and bytes."""
    def answers(direct: bool) -> list[tuple[int, dict[str, str], bytes]]:
        app = create_app(replica_path, API_TOKEN, max_body_bytes=4096)
        if not direct:
            monkeypatch.setattr(app, "_batch", None)
        out = []
        with TestClient(app, raise_server_exceptions=False) as c:
            session = new_session(c)
            path = f"/sessions/{session}/batch"
            read = {"ops": [{"name": "get_client_profile", "arguments": {"client_id": ids["client_id"]}},
                            {"name": "add_advisor_note", "arguments": {"client_id": ids["client_id"], "text": "t"},
                             "probe": True}, {"name": "nope", "arguments": {}}]}
            requests = [(path, read, AUTH), (path, {"ops": "x"}, AUTH), (path, read, {}),
                        (path, read, {"Authorization": "Bearer wrong"}), (path, read, {"Authorization": "Basic x"}),
                        ("/sessions/0123456789abcdef0123456789abcdef/batch", read, AUTH),
                        (path, {"ops": [{"name": "list_funds", "arguments": {"q": "z" * 5000}}]}, AUTH),
                        ("/sessions//batch", read, AUTH), (f"/sessions/{session}/x/batch", read, AUTH)]
            for url, body, headers in requests:
                response = c.post(url, json=body, headers=headers)
                out.append((response.status_code, {k: v for k, v in response.headers.items() if k != "date"},
                            response.content))
            monkeypatch.setattr(app.state.service.sessions, "get", lambda *a, **k: 1 / 0)
            response = c.post(path, json=read, headers=AUTH)
            out.append((response.status_code, dict(response.headers), response.content))
        return out

    direct, framework = answers(True), answers(False)
    assert [a[0] for a in direct] == [200, 422, 401, 401, 401, 410, 413, 404, 404, 500]
    assert direct == framework


def test_the_client_knows_the_batch_limit() -> None:
    import envs.backends as backends

    assert backends.MAX_BATCH_OPS == MAX_BATCH_OPS


def openai_turn(calls: list[tuple[Any, Any]]) -> str:
    return orjson.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": orjson.dumps(args).decode()}}
        for i, (name, args) in enumerate(calls)]}).decode()


@pytest.mark.parametrize("faults", [None, {"rate": 0.5, "latency_s": 0.0}])
def test_a_turn_of_many_calls_is_one_request_and_equals_in_process(live_server, replica_path, ids,
                                                                   faults) -> None:
    url, token = live_server
    task = next(t for t in load_tasks(HANDWRITTEN) if any(g.name == "place_order" for g in t.gold_calls))
    order = {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy", "amount": ids["amount"]}
    turn = openai_turn([("place_order", order), ("list_orders", {"account_id": ids["account_id"]}),
                        ("place_order", {**order, "amount": ids["amount"] + 1}), ("no_such_tool", {}),
                        ("get_client_profile", {"client_id": 7}), *[("list_funds", {})] * 3])
    pair = [FinAdvisorEnv(tasks=[task], replica=replica_path, check_replica=False, faults=faults,
                          max_calls_per_turn=6),
            FinAdvisorEnv(tasks=[task], backend="http", base_url=url, token=token, check_replica=False,
                          faults=faults, max_calls_per_turn=6)]
    requests = count_requests(pair[1].backend)
    try:
        steps, turn_batches = [], 0
        for env in pair:
            env.reset(seed=5)
            steps.append([env.step(turn) for _ in range(3)])
            turn_batches = sum(1 for _, p in requests if p.endswith("/batch"))
            steps[-1].append(env.step(task.gold_actions()[-1]))  # the final step may probe (reward 1.2)
        assert orjson.dumps(steps[0]) == orjson.dumps(steps[1])
        # one per turn (none if all faulted), and once per task the subject clients' accounts,
        # which reward 1.2's least privilege asks for when a read names an account the gold does not
        assert turn_batches <= 3 + 1
        assert any(c["error"] == "too_many_calls" for c in steps[1][0][4]["calls"])
    finally:
        for env in pair:
            env.close()


def test_a_batch_past_the_limit_goes_in_several_requests(live_server, replica_path, ids) -> None:
    url, token = live_server
    ops = [("add_advisor_note", {"client_id": ids["client_id"], "text": f"note {i}"}, i % 3 == 0)
           for i in range(2 * MAX_BATCH_OPS + 5)]
    local, remote = InProcessBackend(replica_path), HttpBackend(url, token=token)
    requests = count_requests(remote)
    try:
        for backend in (local, remote):
            backend.reset()
        expected, got = run_ops(local, ops), run_ops(remote, ops)
        assert [orjson.dumps([o.ok, o.payload]) for o in expected] == [orjson.dumps([o.ok, o.payload]) for o in got]
        assert sum(1 for _, p in requests if p.endswith("/batch")) == 3
    finally:
        local.close()
        remote.close()
