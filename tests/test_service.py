"""The FastAPI service and the HTTP back-end: auth, routes, structured errors, sessions,
OpenAPI from the catalogue, and byte-identical payloads to the in-process back-end."""

from __future__ import annotations

import math
import socket
import sqlite3
import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from envs.backends import HttpBackend, InProcessBackend
from mock_apis.app import (JSON_FALLBACK_HEADER, MAX_BODY_BYTES, SESSION_GONE_STATUS, SESSION_HEADER,
                           STATUS_FOR_ERROR, TOKEN_ENV, TOKEN_FILE_ENV, create_app)
from mock_apis.catalogue import ERROR_CODES, ERROR_SCHEMA, call_tool, catalogue
from mock_apis.sandbox import Sandbox
from tests.conftest import API_TOKEN, wait_until_serving

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
TOOLS = catalogue()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def app(replica_path):
    return create_app(replica_path, API_TOKEN)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def ids(replica_path) -> dict[str, Any]:
    """Real ids from the replica, for calls that succeed (and a few that break a rule)."""
    con = sqlite3.connect(f"file:{replica_path}?mode=ro", uri=True)
    one = lambda sql: con.execute(sql).fetchone()  # noqa: E731 - a one-line helper
    client_id = one("SELECT c.client_id FROM clients c WHERE EXISTS (SELECT 1 FROM risk_assessments r WHERE "
                    "r.client_id = c.client_id) AND EXISTS (SELECT 1 FROM compliance_records k WHERE k.client_id = "
                    "c.client_id) AND EXISTS (SELECT 1 FROM accounts a WHERE a.client_id = c.client_id AND "
                    "a.status = 'active') ORDER BY c.client_id")[0]
    account_id, cash, owner = one("SELECT a.account_id, a.cash_balance, a.client_id FROM accounts a JOIN "
                                  "compliance_records k USING "
                           "(client_id) WHERE a.status = 'active' AND k.kyc_status = 'verified' AND k.restriction = "
                           "'none' ORDER BY a.cash_balance DESC")
    fund, minimum = one("SELECT fund_code, min_investment FROM fund_profiles WHERE min_investment > 0 AND "
                        f"min_investment <= {cash / 20} ORDER BY fund_code")
    out = {
        "client_id": client_id, "account_id": account_id, "account_client": owner, "cash": cash, "fund": fund,
        "amount": max(minimum, 100.0),
        "fund_name": one(f"SELECT name FROM funds WHERE fund_code = '{fund}'")[0],
        "closed_account": one("SELECT account_id FROM accounts WHERE status = 'closed' ORDER BY account_id")[0],
        "advisor_id": one("SELECT advisor_id FROM advisors ORDER BY advisor_id")[0],
        "index": one("SELECT index_code FROM market_indices ORDER BY index_code")[0],
        "order_id": one("SELECT order_id FROM orders WHERE status = 'executed' ORDER BY order_id")[0],
    }
    con.close()
    return out


def sample_calls(ids: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One successful call per read tool, plus place_order (cancel_order needs its order id)."""
    return {
        "search_clients": {"advisor_id": ids["advisor_id"], "limit": 5},
        "get_client_profile": {"client_id": ids["client_id"]},
        "get_risk_assessment": {"client_id": ids["client_id"]},
        "get_compliance_status": {"client_id": ids["client_id"]},
        "add_advisor_note": {"client_id": ids["client_id"], "text": "Discussed rebalancing.", "category": "call"},
        "get_fund_info": {"fund": ids["fund_name"]},
        "search_funds": {"max_risk_level": 3, "limit": 10},
        "get_nav_history": {"fund": ids["fund"], "start_date": "2025-05-01", "end_date": "June 1, 2025"},
        "get_market_index": {"index": ids["index"], "date": "2025-01-04"},
        "list_accounts": {"client_id": ids["client_id"]},
        "get_holdings": {"account_id": ids["account_id"]},
        "get_transactions": {"account_id": ids["account_id"], "start_date": "2024-01-01", "limit": 20},
        "get_client_overview": {"client_id": ids["client_id"]},
        "get_portfolio_summary": {"client_id": ids["client_id"]},
        "check_suitability": {"client_id": ids["client_id"], "fund": ids["fund"]},
        "get_fund_performance": {"fund": ids["fund"]},
        "get_advisor_book": {"advisor_id": ids["advisor_id"]},
        "list_orders": {"account_id": ids["account_id"]},
        "place_order": {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy", "amount": ids["amount"]},
    }


def assert_structured_error(response, status: int | None = None, code: str | None = None) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    body = response.json()
    assert isinstance(body, dict) and "detail" not in body, body
    assert body["error"] in ERROR_CODES and isinstance(body["message"], str), body
    Draft202012Validator(ERROR_SCHEMA).validate(body)
    if status is not None:
        assert response.status_code == status, (response.status_code, body)
    if code is not None:
        assert body["error"] == code, body
    return body


def new_session(client) -> str:
    response = client.post("/sessions", headers=AUTH)
    assert response.status_code == 201
    return response.json()["session_id"]


# --------------------------------------------------------------------------- auth


def test_refuses_to_start_without_a_token(replica_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(RuntimeError, match=TOKEN_ENV):
        create_app(replica_path)
    with pytest.raises(RuntimeError):
        create_app(replica_path, "   ")
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    with TestClient(create_app(replica_path)) as c:
        assert c.get("/tools", headers={"Authorization": "Bearer from-env"}).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": API_TOKEN},
                                     {"Authorization": f"Basic {API_TOKEN}"}, {"Authorization": "Bearer"},
                                     {"Authorization": f"Bearer {API_TOKEN}x"}])
def test_every_route_but_health_needs_the_token(client, headers):
    requests = [("POST", f"/tools/{name}", {"json": {}}) for name in TOOLS]
    requests += [("GET", f"/tools/{name}", {}) for name in TOOLS]
    requests += [("GET", "/tools", {}), ("POST", "/sessions", {}), ("POST", "/sessions/abc/reset", {}),
                 ("DELETE", "/sessions/abc", {}), ("POST", "/sessions/abc/probe/get_client_profile", {"json": {}}),
                 ("POST", "/tools/no_such_tool", {"json": {}}), ("GET", "/no/such/route", {})]
    for method, path, kwargs in requests:
        response = client.request(method, path, headers=headers, **kwargs)
        assert_structured_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer"), path
    assert client.get("/health", headers=headers).status_code == 200
    assert client.get("/openapi.json", headers=headers).status_code == 200


# --------------------------------------------------------------------------- listing and health


def test_health(client, replica_path):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["tools"] == len(TOOLS) == 20
    with Sandbox(replica_path) as sb:
        assert body["replica"] == sb.meta


def test_tools_listing_is_openai_shaped(client):
    body = client.get("/tools", headers=AUTH).json()
    assert len(body) == 20
    assert body == [spec.openai_schema() for spec in TOOLS.values()]
    for entry in body:
        assert entry["type"] == "function"
        assert set(entry["function"]) == {"name", "description", "parameters"}
        assert entry["function"]["parameters"]["type"] == "object"


def test_describe_tool(client):
    for name, spec in TOOLS.items():
        assert client.get(f"/tools/{name}", headers=AUTH).json() == spec.describe()
    body = assert_structured_error(client.get("/tools/nope", headers=AUTH), 404, "unknown_tool")
    assert body["valid_tools"] == list(TOOLS)


# --------------------------------------------------------------------------- tool routes


def test_every_tool_result_matches_its_schema_and_the_in_process_payload(client, ids, replica_path):
    calls = sample_calls(ids)
    assert set(calls) | {"cancel_order"} == set(TOOLS)
    session = new_session(client)
    with Sandbox(replica_path) as sb:
        for name, arguments in calls.items():
            response = client.post(f"/tools/{name}", json=arguments, headers={**AUTH, SESSION_HEADER: session})
            assert response.status_code == 200, (name, response.text)
            result = response.json()
            Draft202012Validator(TOOLS[name].returns).validate(result)
            expected = call_tool(sb, name, arguments)
            assert expected.ok and orjson.dumps(result) == orjson.dumps(expected.payload), name
        order_id = response.json()["order_id"]  # place_order ran last
        response = client.post("/tools/cancel_order", json={"order_id": order_id},
                               headers={**AUTH, SESSION_HEADER: session})
        assert response.status_code == 200, response.text
        Draft202012Validator(TOOLS["cancel_order"].returns).validate(response.json())
        assert response.json() == call_tool(sb, "cancel_order", {"order_id": order_id}).payload


def test_empty_body_means_no_arguments(client):
    response = client.post("/tools/search_funds", headers=AUTH)
    assert response.status_code == 200 and response.json()["count"] > 0


def test_errors_are_structured_with_stable_statuses(client, ids):
    session = new_session(client)
    in_session = {**AUTH, SESSION_HEADER: session}
    cases = [
        ("/tools/get_client_profile", {"json": {"client_id": "C999999"}}, AUTH, 404, "not_found"),
        ("/tools/get_client_profile", {"json": {"client_id": "nope"}}, AUTH, 422, "invalid_arguments"),
        ("/tools/get_client_profile", {"json": {}}, AUTH, 422, "invalid_arguments"),
        ("/tools/get_client_profile", {"json": {"client_id": ids["client_id"], "x": 1}}, AUTH, 422,
         "invalid_arguments"),
        ("/tools/get_client_profile", {"json": [ids["client_id"]]}, AUTH, 422, "invalid_arguments"),
        ("/tools/get_client_profile", {"json": None}, AUTH, 422, "invalid_arguments"),
        ("/tools/get_client_profile", {"content": b"{not json"}, AUTH, 422, "invalid_arguments"),
        ("/tools/get_client_profile", {"content": b"\xff\xfe\x00"}, AUTH, 422, "invalid_arguments"),
        ("/tools/get_client_profile", {"content": b"[" * 100_000}, AUTH, 422, "invalid_arguments"),
        ("/tools/search_clients", {"content": b'{"name": "\\ud800ab"}'}, AUTH, 422, "invalid_arguments"),
        ("/tools/get_nav_history", {"json": {"fund": ids["fund"], "start_date": "not a date"}}, AUTH, 422,
         "invalid_arguments"),
        ("/tools/get_fund_info", {"json": {"fund": "NO SUCH FUND"}}, AUTH, 404, "not_found"),
        ("/tools/nope", {"json": {}}, AUTH, 404, "unknown_tool"),
        ("/tools/place_order", {"json": {"account_id": ids["closed_account"], "fund": ids["fund"], "side": "buy",
                                         "amount": ids["amount"]}}, AUTH, 409, "rule_violation"),
        ("/tools/place_order", {"json": {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy",
                                         "amount": ids["cash"] + 1}}, AUTH, 409, "insufficient_funds"),
        ("/tools/cancel_order", {"json": {"order_id": ids["order_id"]}}, in_session, 409, "conflict"),
        ("/tools/cancel_order", {"json": {"order_id": "O999999999"}}, in_session, 404, "not_found"),
        ("/tools/get_client_profile", {"json": {"client_id": ids["client_id"]}},
         {**AUTH, SESSION_HEADER: "0" * 32}, SESSION_GONE_STATUS, "not_found"),
        ("/tools/get_client_profile", {"content": b" " * (MAX_BODY_BYTES + 1)}, AUTH, 413, "invalid_arguments"),
    ]
    for path, kwargs, headers, status, code in cases:
        response = client.post(path, headers=headers, **kwargs)
        body = assert_structured_error(response, status, code)
        if code == "unknown_tool":
            assert body["valid_tools"] == list(TOOLS)
    for method, path, status in [("GET", "/nowhere", 404), ("POST", "/tools/", 404), ("POST", "/tools", 405),
                                 ("PUT", "/tools/get_client_profile", 405), ("GET", "/sessions", 405)]:
        assert_structured_error(client.request(method, path, headers=AUTH), status, "not_found")
    response = client.put("/tools/get_client_profile", headers=AUTH)
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


@pytest.mark.parametrize(("path", "body"), [
    ("/tools/search_funds", {"max_expense_ratio": 2 ** 63}),  # used to be a 500 (OverflowError in SQLite)
    ("/tools/search_funds", {"max_expense_ratio": -(2 ** 63) - 1}),
    ("/tools/search_funds", {"max_risk_level": 2 ** 64}),
    ("/tools/search_funds", {"limit": 10 ** 30}),
    ("/tools/get_transactions", {"account_id": "A0000001", "limit": 2 ** 63}),
    ("/tools/place_order", {"account_id": "A0000001", "fund": "EQ001", "side": "buy", "amount": 2 ** 70}),
    ("/tools/get_client_profile", {"client_id": [2 ** 63]}),
])
def test_integers_outside_int64_are_422(client, path, body):
    response = client.post(path, headers=AUTH, json=body)
    payload = assert_structured_error(response, 422, "invalid_arguments")
    assert "64-bit" in payload["message"], payload


def test_int64_limits_over_http(client, ids):
    assert client.post("/tools/search_funds", headers=AUTH, json={"max_expense_ratio": 2 ** 63 - 1}).status_code == 200
    session = new_session(client)
    response = client.post(f"/sessions/{session}/probe/search_funds", headers=AUTH,
                           json={"max_expense_ratio": 2 ** 63})
    assert_structured_error(response, 422, "invalid_arguments")
    response = client.post("/tools/search_funds", headers=AUTH, content=b'{"limit": 1' + b"0" * 5000 + b"}")
    assert_structured_error(response, 422, "invalid_arguments")  # too many digits for Python's int parser


@pytest.mark.parametrize("body", [
    b'{"client_id": ' + b"[" * 500 + b'"C000001"' + b"]" * 500 + b"}",
    b'{"client_id": ' + b'{"a": ' * 500 + b"1" + b"}" * 500 + b"}",
    b"[" * 900 + b"]" * 900,
    b'{"client_id": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",  # deeper than the JSON parser goes
])
def test_deep_nesting_is_422(client, body):
    for path in ("/tools/get_client_profile", "/tools/search_clients"):
        response = client.post(path, headers=AUTH, content=body)
        assert_structured_error(response, 422, "invalid_arguments")
        assert len(response.content) < 4_000


def test_error_bodies_are_bounded(client):
    for body in ({"client_id": "x" * 900_000}, {"client_id": "C000001", "k" * 900_000: 1},
                 {"fund": ["y" * 1000] * 800}, {f"k{i}": i for i in range(50_000)}):
        response = client.post("/tools/get_client_profile", headers=AUTH, json=body)
        assert_structured_error(response, 422, "invalid_arguments")
        assert len(response.content) < 8_000, len(response.content)


def test_status_mapping_covers_every_error_code():
    assert set(STATUS_FOR_ERROR) >= set(ERROR_CODES) - {"empty_result"}


def test_unexpected_server_errors_are_structured(replica_path, monkeypatch):
    app = create_app(replica_path, API_TOKEN)

    def explode(*args: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.state.service.pool, "run", explode)
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.post("/tools/get_client_profile", json={"client_id": "C000001"}, headers=AUTH)
    body = assert_structured_error(response, 500, "internal_error")
    assert "secret internals" not in body["message"]


def test_openapi_uses_the_catalogue_schemas(client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["schemas"]["Error"] == orjson.loads(orjson.dumps(ERROR_SCHEMA))
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert doc["paths"]["/health"]["get"]["security"] == []
    for name, spec in TOOLS.items():
        operation = doc["paths"][f"/tools/{name}"]["post"]
        assert operation["operationId"] == name and operation["description"] == spec.description
        assert operation["requestBody"]["content"]["application/json"]["schema"] == spec.parameters
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == spec.returns
        for status in ("401", "404", "410", "422", "500"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}
        assert ("409" in operation["responses"]) == spec.writes
        assert operation["parameters"][0]["name"] == SESSION_HEADER


# --------------------------------------------------------------------------- sessions


def test_sessions_isolate_writes_and_reset_clears_them(client, ids):
    a, b = new_session(client), new_session(client)
    in_a, in_b = {**AUTH, SESSION_HEADER: a}, {**AUTH, SESSION_HEADER: b}
    order = {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy", "amount": ids["amount"]}
    note = {"client_id": ids["client_id"], "text": "Session A only."}

    def orders(headers):
        return client.post("/tools/list_orders", json={"account_id": ids["account_id"]}, headers=headers).json()

    def notes(headers):  # the note id sequence reveals the notes table
        return client.post("/tools/add_advisor_note", json={"client_id": ids["client_id"], "text": "probe"},
                           headers=headers).json()["note_id"]

    before = orders(in_b)
    placed = client.post("/tools/place_order", json=order, headers=in_a).json()
    written = client.post("/tools/add_advisor_note", json=note, headers=in_a).json()
    assert placed["status"] == "pending" and written["text"] == "Session A only."
    assert placed["order_id"] in {o["order_id"] for o in orders(in_a)["orders"]}
    assert orders(in_b) == before and orders(AUTH) == before
    # B's own writes start from the pristine replica, not from A's
    assert client.post("/tools/add_advisor_note", json=note, headers=in_b).json()["note_id"] == written["note_id"]
    def cash(headers):
        return client.post("/tools/list_accounts", json={"client_id": ids["account_client"]}, headers=headers).json()

    assert cash(in_a) != cash(in_b)
    assert client.post(f"/sessions/{a}/reset", headers=AUTH).json() == {"session_id": a, "reset": True}
    assert orders(in_a) == before and cash(in_a) == cash(AUTH)
    assert notes(in_a) == written["note_id"]
    assert client.delete(f"/sessions/{a}", headers=AUTH).status_code == 204
    for response in (client.post("/tools/list_orders", json={"account_id": ids["account_id"]}, headers=in_a),
                     client.post(f"/sessions/{a}/reset", headers=AUTH), client.delete(f"/sessions/{a}", headers=AUTH),
                     client.post(f"/sessions/{a}/probe/list_orders", json={}, headers=AUTH)):
        assert_structured_error(response, SESSION_GONE_STATUS, "not_found")


def test_stateless_calls_never_keep_writes(client, ids):
    note = {"client_id": ids["client_id"], "text": "stateless"}
    first = client.post("/tools/add_advisor_note", json=note, headers=AUTH).json()
    second = client.post("/tools/add_advisor_note", json=note, headers=AUTH).json()
    assert first == second  # the same next id: the first write was rolled back
    order = {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy", "amount": ids["amount"]}
    assert client.post("/tools/place_order", json=order, headers=AUTH).json()["order_id"] == \
        client.post("/tools/place_order", json=order, headers=AUTH).json()["order_id"]


def test_probe_runs_and_rolls_back(client, ids):
    session = new_session(client)
    note = {"client_id": ids["client_id"], "text": "probed"}
    probed = client.post(f"/sessions/{session}/probe/add_advisor_note", json=note, headers=AUTH)
    assert probed.status_code == 200
    real = client.post("/tools/add_advisor_note", json=note, headers={**AUTH, SESSION_HEADER: session}).json()
    assert real == probed.json()  # the probe's note did not take the id
    assert_structured_error(client.post(f"/sessions/{session}/probe/nope", json={}, headers=AUTH), 404,
                            "unknown_tool")
    assert_structured_error(client.post(f"/sessions/{session}/probe/get_client_profile", json=[1], headers=AUTH),
                            422, "invalid_arguments")


def test_session_cap_refuses_instead_of_evicting(replica_path):
    with TestClient(create_app(replica_path, API_TOKEN, max_sessions=2)) as c:
        first, second = new_session(c), new_session(c)
        r = c.post("/sessions", headers=AUTH)
        assert r.status_code == 429 and r.json()["error"] == "session_capacity"
        for live in (first, second):  # no live episode was evicted to make room
            assert c.post(f"/sessions/{live}/reset", headers=AUTH).status_code == 200
        assert c.delete(f"/sessions/{first}", headers=AUTH).status_code in (200, 204)
        assert c.post("/sessions", headers=AUTH).status_code in (200, 201)  # room again


# --------------------------------------------------------------------------- HttpBackend


def parity_script(ids: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(call|probe, name, arguments): reads, writes, every kind of error, odd names and arguments."""
    order = {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy", "amount": ids["amount"]}
    calls = [("call", name, arguments) for name, arguments in sample_calls(ids).items()]
    calls += [
        ("call", "list_orders", {"account_id": ids["account_id"]}),
        ("call", "list_accounts", {"client_id": ids["client_id"]}),
        ("probe", "place_order", order),
        ("probe", "add_advisor_note", {"client_id": ids["client_id"], "text": "gold"}),
        ("call", "place_order", {**order, "amount": ids["cash"] * 10}),
        ("call", "place_order", {**order, "account_id": ids["closed_account"]}),
        ("call", "cancel_order", {"order_id": ids["order_id"]}),
        ("call", "cancel_order", {"order_id": "O999999999"}),
        ("call", "get_client_profile", {"client_id": "C999999"}),
        ("call", "get_client_profile", {"client_id": 42}),
        ("call", "get_client_profile", {}),
        ("call", "get_client_profile", None),
        ("call", "get_client_profile", [ids["client_id"]]),
        ("call", "get_client_profile", "C000001"),
        ("call", "get_client_profile", 7),
        ("call", "search_funds", {"limit": 10**30}),
        ("call", "search_funds", {"limit": math.nan}),
        ("call", "search_funds", {"max_expense_ratio": math.inf}),
        ("call", "search_funds", {"max_expense_ratio": 0.35, "limit": 3}),
        ("call", "get_nav_history", {"fund": ids["fund"], "start_date": "someday"}),
        ("call", "get_market_index", {"index": "Nowhere 42"}),
        ("call", "search_clients", {"name": "é€😀 名前"}),
        ("call", "no_such_tool", {}),
        ("call", "get client profile", {}),
        ("call", "../health", {}),
        ("call", "", {}),
        ("call", None, {}),
        ("call", 3, {"client_id": ids["client_id"]}),
        ("call", ["get_client_profile"], {}),
        ("probe", "no_such_tool", {}),
        ("probe", "get_client_profile", "bad"),
        ("call", "get_client_overview", {"client_id": ids["client_id"]}),
        ("call", "get_portfolio_summary", {"client_id": ids["client_id"]}),
    ]
    return calls


def run_script(backend, script) -> list[bytes]:
    out = []
    for kind, name, arguments in script:
        outcome = getattr(backend, kind)(name, arguments)
        assert isinstance(outcome.payload, dict)
        assert outcome.ok == ("error" not in outcome.payload)
        out.append(orjson.dumps([outcome.ok, outcome.payload]))
    return out


def test_http_backend_gives_byte_identical_payloads(live_server, replica_path, ids):
    url, token = live_server
    script = parity_script(ids)
    local, remote = InProcessBackend(replica_path), HttpBackend(url, token=token)
    try:
        for episode in range(2):  # the second episode checks that reset() restores the pristine state
            local.reset()
            remote.reset()
            expected, got = run_script(local, script), run_script(remote, script)
            for (kind, name, arguments), a, b in zip(script, expected, got, strict=True):
                assert a == b, (episode, kind, name, arguments, a, b)
    finally:
        local.close()
        remote.close()


def test_http_backend_episodes_are_isolated_across_clients(live_server, ids):
    url, token = live_server
    order = {"account_id": ids["account_id"], "fund": ids["fund"], "side": "buy", "amount": ids["amount"]}
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        backend = HttpBackend(url, token=token)
        try:
            backend.reset()
            placed = [backend.call("place_order", order).payload["order_id"] for _ in range(3 + i)]
            listed = backend.call("list_orders", {"account_id": ids["account_id"], "status": "pending"}).payload
            assert [o["order_id"] for o in listed["orders"]] == sorted(placed, reverse=True)
            results[i] = placed
        except BaseException as err:  # noqa: BLE001 - the main thread asserts there is none
            errors.append(err)
        finally:
            backend.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # every session started from the same pristine replica, so each numbered its orders alike
    assert len(results) == 6 and all(placed[:3] == results[0][:3] for placed in results.values())


def test_http_backend_against_a_closed_port_never_raises():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = HttpBackend(f"http://127.0.0.1:{port}", token="x", timeout=2)
    backend.reset()
    for kind in ("call", "probe"):
        outcome = getattr(backend, kind)("get_client_profile", {"client_id": "C000001"})
        assert not outcome.ok and outcome.payload["error"] == "service_unavailable"
        assert isinstance(outcome.payload["message"], str)
    backend.close()


def test_http_backend_times_out_on_a_silent_service():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (kernel backlog) but never answers
    try:
        backend = HttpBackend(f"http://127.0.0.1:{listener.getsockname()[1]}", token="x", timeout=0.3)
        outcome = backend.call("get_client_profile", {"client_id": "C000001"})
        assert not outcome.ok and outcome.payload["error"] == "timeout"
        backend.close()
    finally:
        listener.close()


def test_http_backend_reports_a_non_json_service():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class BadGateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b"<html>502 Bad Gateway</html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), BadGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        backend = HttpBackend(f"http://127.0.0.1:{server.server_address[1]}", token="x")
        backend.reset()
        for kind in ("call", "probe"):
            outcome = getattr(backend, kind)("get_client_profile", {"client_id": "C000001"})
            assert not outcome.ok and outcome.payload["error"] == "service_unavailable", outcome
            assert "502" in outcome.payload["message"]
        backend.close()
    finally:
        server.shutdown()
        server.server_close()


def test_http_backend_with_a_wrong_token(live_server):
    url, _ = live_server
    backend = HttpBackend(url, token="wrong")
    backend.reset()
    outcome = backend.call("get_client_profile", {"client_id": "C000001"})
    assert not outcome.ok and outcome.payload["error"] == "unauthorized"
    backend.close()


def test_http_backend_reports_a_lost_session_until_reset(live_server, ids):
    url, token = live_server
    backend = HttpBackend(url, token=token)
    backend.reset()
    assert backend.call("add_advisor_note", {"client_id": ids["client_id"], "text": "kept"}).ok
    httpx.delete(f"{url}/sessions/{backend.session_id}",  # the server forgets it (restart, eviction)
                 headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    outcome = backend.call("get_client_profile", {"client_id": ids["client_id"]})
    assert outcome.payload["error"] == "service_unavailable" and "session" in outcome.payload["message"]
    assert backend.call("get_client_profile", {"client_id": ids["client_id"]}).payload["error"] == \
        "service_unavailable"
    backend.reset()
    assert backend.call("get_client_profile", {"client_id": ids["client_id"]}).ok
    backend.close()


def test_json_fallback_header_round_trips_exotic_values(client):
    # orjson cannot write integers beyond 64 bits; the service falls back to the standard library
    # and says so, so HttpBackend parses such an answer exactly
    from mock_apis.app import json_response

    response = json_response({"big": 10**30})
    assert response.headers[JSON_FALLBACK_HEADER] == "stdlib"
    assert response.body == b'{"big":1000000000000000000000000000000}'


# --------------------------------------------------------------------------- CLI


def test_serve_command_help_and_token_check(monkeypatch, replica_path):
    from typer.testing import CliRunner

    from envs.cli import app as cli

    runner = CliRunner()
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "--replica" in result.output and "--port" in result.output
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    result = runner.invoke(cli, ["serve", "--replica", str(replica_path), "--port", "1"])
    assert result.exit_code == 2


def test_serve_reads_its_tokens_from_a_file_kept_out_of_its_environment_and_command_line(tmp_path, replica_path):
    """``advisorgym serve --token-file`` in a subprocess with no token in its environment: both
    tokens of the file open sessions, no token is refused, and neither the process's environment
    nor its command line holds a token. An unreadable or empty file is one line with exit 2."""
    import os
    import subprocess
    import sys

    from benchmarks.bench_service_load import free_port

    advisorgym = str(Path(sys.executable).with_name("advisorgym"))
    env = {k: v for k, v in os.environ.items() if k not in (TOKEN_ENV, TOKEN_FILE_ENV)}
    secret = tmp_path / "api_token"
    secret.write_text("first-file-token\n\n  second-file-token , \n")
    secret.chmod(0o400)
    port = free_port()
    proc = subprocess.Popen([advisorgym, "serve", "--replica", str(replica_path), "--port", str(port),
                             "--token-file", str(secret), "--log-level", "warning"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "2 token(s)" in proc.stdout.readline()  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
            wait_until_serving(client, proc)
            for token in ("first-file-token", "second-file-token"):
                assert client.post("/sessions", headers={"Authorization": f"Bearer {token}"}).status_code == 201
            assert client.post("/sessions").status_code == 401
            assert client.post("/sessions", headers={"Authorization": "Bearer second-file-token ,"}).status_code == 401
        seen = Path(f"/proc/{proc.pid}/environ").read_bytes() + Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert b"file-token" not in seen
    finally:
        proc.kill()
        proc.wait(timeout=30)
    empty = tmp_path / "empty"
    empty.write_text(" \n,\n")
    for path, fragment in ((tmp_path / "missing", f"cannot read the token file {tmp_path / 'missing'}: "
                                                   "No such file or directory"),
                           (empty, f"the token file {empty} holds no token")):
        done = subprocess.run([advisorgym, "serve", "--replica", str(replica_path), "--port", str(port),
                               "--token-file", str(path)], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stderr.strip() == f"error: {fragment}", done.stderr


def test_http_backend_speaks_the_service_protocol():
    import envs.backends as backends
    import mock_apis.app as service

    for name in ("TOKEN_ENV", "TOKEN_FILE_ENV", "SESSION_HEADER", "SESSION_GONE_STATUS", "JSON_FALLBACK_HEADER"):
        assert getattr(backends, name) == getattr(service, name), name
