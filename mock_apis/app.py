"""The FastAPI service: a thin HTTP layer over the tool catalogue.

All tool logic lives in ``call_tool``; this module only moves JSON in and out, maps error
codes to HTTP statuses, keeps per-client episode sessions and publishes an OpenAPI document
built from the very schemas the catalogue validates with.

Routes (every one needs ``Authorization: Bearer <token>`` except ``GET /health`` and
``GET /openapi.json``):

- ``GET /health``: liveness, tool count, replica metadata;
- ``GET /tools``: the tool schemas in OpenAI function-calling shape;
  ``GET /tools/<name>``: one tool's full contract (``ToolSpec.describe()``);
- ``POST /tools/<name>``: one route per tool; the JSON body is the arguments object and the
  answer is exactly ``call_tool``'s payload (the result on 200, the error object otherwise);
- ``POST /sessions`` → ``{"session_id"}``; ``POST /sessions/{id}/reset``;
  ``DELETE /sessions/{id}``; ``POST /sessions/{id}/probe/{name}`` (run and roll back).

A tool call with an ``X-Session-Id`` header runs in that session's sandbox (writes persist
until the session is reset). Without the header the call is *stateless*: it sees the
pristine replica and a write tool's effects are rolled back as soon as it returns (the
result is still reported), so anonymous callers can never change what others see.

Error statuses: invalid_arguments (also malformed JSON) 422, not_found and unknown_tool 404,
rule_violation / insufficient_funds / conflict 409 (well-formed, but the current state
forbids it), unknown or expired session 410, body over 1 MiB 413, missing or wrong token
401, internal_error 500. Every error body is ``{"error": <code>, "message": ...}``
(``ERROR_SCHEMA``); never a stack trace.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_apis.catalogue import ERROR_CODES, ERROR_SCHEMA, ToolOutcome, ToolSpec, call_tool, catalogue, probe_tool
from mock_apis.sandbox import Sandbox

TOKEN_ENV = "ADVISORGYM_API_TOKEN"
SESSION_HEADER = "X-Session-Id"
#: Set on a response whose JSON could not be written by orjson (integers beyond 64 bits,
#: lone surrogates); a client should then parse it with the standard library to keep it exact.
JSON_FALLBACK_HEADER = "X-Advisorgym-Json"
MAX_BODY_BYTES = 1 << 20
DEFAULT_MAX_SESSIONS = 256
PUBLIC_PATHS = frozenset({"/health", "/openapi.json"})
SESSION_ID_PATTERN = "^[0-9a-f]{32}$"

#: HTTP status of each tool error code.
STATUS_FOR_ERROR: dict[str, int] = {
    "invalid_arguments": 422,
    "not_found": 404,
    "unknown_tool": 404,
    "rule_violation": 409,
    "insufficient_funds": 409,
    "conflict": 409,
    "unauthorized": 401,
    "internal_error": 500,
    "service_unavailable": 503,
    "timeout": 504,
    "empty_result": 503,
}
SESSION_GONE_STATUS = 410
WRITE_ERROR_CODES = ("rule_violation", "insufficient_funds", "conflict")


# --------------------------------------------------------------------------- JSON


def dumps(obj: Any) -> tuple[bytes, bool]:
    """``obj`` as JSON bytes, and whether the (exact but slower) standard library was needed."""
    try:
        return orjson.dumps(obj), False
    except TypeError:  # orjson.JSONEncodeError: int beyond 64 bits, lone surrogate, odd type
        return json.dumps(obj, default=str, separators=(",", ":")).encode(), True


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body, fallback = dumps(obj)
    if fallback:
        headers = {**(headers or {}), JSON_FALLBACK_HEADER: "stdlib"}
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(code: str, message: str, status: int | None = None, headers: dict[str, str] | None = None,
                   **extra: Any) -> Response:
    assert code in ERROR_CODES, code
    return json_response({"error": code, "message": message, **extra},
                         status or STATUS_FOR_ERROR.get(code, 500), headers)


def outcome_response(outcome: ToolOutcome) -> Response:
    if outcome.ok:
        return json_response(outcome.payload)
    return json_response(outcome.payload, STATUS_FOR_ERROR.get(outcome.payload.get("error"), 500))


# --------------------------------------------------------------------------- sandboxes


class SessionGone(Exception):
    """The session id is unknown, was deleted, or was evicted."""


class Session:
    __slots__ = ("id", "sandbox", "closed", "created", "last_used")

    def __init__(self, session_id: str, sandbox: Sandbox):
        self.id, self.sandbox, self.closed = session_id, sandbox, False
        self.created = self.last_used = time.time()

    def run(self, name: Any, arguments: Any, probe: bool = False) -> ToolOutcome:
        with self.sandbox.lock:
            if self.closed:
                raise SessionGone(self.id)
            return probe_tool(self.sandbox, name, arguments) if probe else call_tool(self.sandbox, name, arguments)

    def reset(self) -> None:
        with self.sandbox.lock:
            if self.closed:
                raise SessionGone(self.id)
            self.sandbox.reset()

    def close(self) -> None:
        with self.sandbox.lock:  # waits for a call in flight
            if not self.closed:
                self.closed = True
                self.sandbox.close()


class SessionStore:
    """Live episode sessions, at most ``max_sessions`` (the least recently used is evicted)."""

    def __init__(self, replica_path: Path, max_sessions: int = DEFAULT_MAX_SESSIONS):
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.replica_path, self.max_sessions = replica_path, max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self) -> Session:
        session = Session(secrets.token_hex(16), Sandbox(self.replica_path))
        evicted = []
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self.max_sessions:
                evicted.append(self._sessions.popitem(last=False)[1])
        for old in evicted:  # outside the store lock: closing waits for the session's own lock
            old.close()
        return session

    def get(self, session_id: str) -> Session:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise SessionGone(session_id)
            self._sessions.move_to_end(session_id)
        session.last_used = time.time()
        return session

    def delete(self, session_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is None:
            raise SessionGone(session_id)
        session.close()

    def close_all(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            session.close()


class StatelessPool:
    """One sandbox per worker thread for calls without a session; writes are always rolled back.

    ``close()`` (at app shutdown) closes them all; a later call opens fresh ones, so an app
    whose lifespan is cycled (as test clients do) keeps working.
    """

    def __init__(self, replica_path: Path):
        self.replica_path = replica_path
        self._local = threading.local()
        self._all: list[Sandbox] = []
        self._lock = threading.Lock()
        self._generation = 0
        self.meta = dict(self._get().meta)  # fail fast on a bad replica; also serves /health

    def _get(self) -> Sandbox:
        entry = getattr(self._local, "entry", None)
        if entry is None or entry[0] != self._generation:
            sandbox = Sandbox(self.replica_path)
            with self._lock:
                self._all.append(sandbox)
                self._local.entry = entry = (self._generation, sandbox)
        return entry[1]

    def run(self, spec: ToolSpec | None, name: Any, arguments: Any) -> ToolOutcome:
        sandbox = self._get()
        if spec is not None and spec.writes:
            return probe_tool(sandbox, name, arguments)
        return call_tool(sandbox, name, arguments)

    def close(self) -> None:
        with self._lock:
            self._generation += 1
            sandboxes, self._all = self._all, []
        for sandbox in sandboxes:
            with sandbox.lock:
                sandbox.close()


# --------------------------------------------------------------------------- auth


class BearerAuthMiddleware:
    """Pure-ASGI bearer-token check (cheap: no per-request objects on the happy path)."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        credentials = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                if scheme.lower() != b"bearer":
                    credentials = None
                break
        if credentials is not None and hmac.compare_digest(credentials.strip(), self.token):
            await self.app(scope, receive, send)
            return
        challenge = 'Bearer realm="advisorgym"'
        if credentials is not None:
            challenge += ', error="invalid_token"'
        message = "missing bearer token" if credentials is None else "invalid bearer token"
        response = error_response("unauthorized", message, 401, {"WWW-Authenticate": challenge})
        await response(scope, receive, send)


# --------------------------------------------------------------------------- the app


class ToolService:
    """The state behind one app: the catalogue snapshot, the stateless pool and the sessions."""

    def __init__(self, replica_path: str | Path, max_sessions: int = DEFAULT_MAX_SESSIONS,
                 offload: bool | None = None):
        self.replica_path = Path(replica_path)
        self.tools: dict[str, ToolSpec] = dict(catalogue())
        self.pool = StatelessPool(self.replica_path)
        self.sessions = SessionStore(self.replica_path, max_sessions)
        self.replica_meta = self.pool.meta
        # which tools run in the thread pool (see ``create_app``)
        self.offloaded = {name for name, spec in self.tools.items()
                          if (spec.composite if offload is None else offload)}
        self.tools_body = orjson.dumps([spec.openai_schema() for spec in self.tools.values()])

    async def run(self, name: Any, fn: Any, *args: Any) -> Any:
        # A thread-pool hop costs ~150 µs; an atomic tool call takes ~20 µs, so it runs on the
        # event loop. Composite tools (many queries) go to the pool, where SQLite, which releases
        # the GIL, lets sessions run in parallel without stalling the loop.
        return await run_in_threadpool(fn, *args) if name in self.offloaded else fn(*args)

    async def read_arguments(self, request: Request) -> Any:
        """The JSON body (an empty body means ``{}``), or an error ``Response``."""
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return error_response("invalid_arguments", f"request body exceeds {MAX_BODY_BYTES} bytes", 413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return error_response("invalid_arguments", f"request body exceeds {MAX_BODY_BYTES} bytes", 413)
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body.strip():
            return {}
        try:
            # the standard library, not orjson: it keeps big integers exact and reads NaN, so the
            # tool sees exactly the value an in-process caller would have passed
            arguments = json.loads(body)
        except (ValueError, RecursionError) as err:
            return error_response("invalid_arguments", f"request body is not valid JSON: {err}",
                                  details=[{"path": "$", "message": "malformed JSON"}])
        return arguments

    async def call(self, request: Request, name: str) -> Response:
        arguments = await self.read_arguments(request)
        if isinstance(arguments, Response):
            return arguments
        session_id = request.headers.get(SESSION_HEADER)
        try:
            if session_id is None:
                outcome = await self.run(name, self.pool.run, self.tools.get(name), name, arguments)
            else:
                session = self.sessions.get(session_id)
                outcome = await self.run(name, session.run, name, arguments)
        except SessionGone:
            return session_gone(session_id)
        return outcome_response(outcome)

    async def probe(self, request: Request) -> Response:
        session_id, name = request.path_params["session_id"], request.path_params["name"]
        arguments = await self.read_arguments(request)
        if isinstance(arguments, Response):
            return arguments
        try:
            session = self.sessions.get(session_id)
            outcome = await self.run(name, session.run, name, arguments, True)
        except SessionGone:
            return session_gone(session_id)
        return outcome_response(outcome)

    def close(self) -> None:
        self.sessions.close_all()
        self.pool.close()


def session_gone(session_id: str | None) -> Response:
    return error_response("not_found", f"unknown or expired session {session_id!r}; create one with POST /sessions",
                          SESSION_GONE_STATUS)


def unknown_tool(name: Any, tools: dict[str, ToolSpec]) -> Response:
    return json_response({"error": "unknown_tool", "message": f"no tool named {name!r}", "valid_tools": list(tools)},
                         STATUS_FOR_ERROR["unknown_tool"])


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("advisorgym")
    except PackageNotFoundError:
        return "0+unknown"


def resolve_token(token: str | None) -> str:
    token = token if token is not None else os.environ.get(TOKEN_ENV)
    if not token or not token.strip():
        raise RuntimeError(f"advisorgym API: no bearer token configured; set {TOKEN_ENV} (or pass token=...). "
                           "The service does not run without authentication.")
    return token.strip()


def create_app(replica_path: str | Path, token: str | None = None, *, max_sessions: int = DEFAULT_MAX_SESSIONS,
               offload: bool | None = None) -> FastAPI:
    """The service over ``replica_path``, guarded by ``token`` (default: ``$ADVISORGYM_API_TOKEN``).

    ``offload``: ``None`` (default) runs composite tools in the thread pool and atomic ones on
    the event loop; ``True`` runs every tool call in the pool (most parallel), ``False`` none
    (lowest latency for one client). At most ``max_sessions`` sessions live at once.
    """
    token = resolve_token(token)
    service = ToolService(replica_path, max_sessions=max_sessions, offload=offload)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        yield
        service.close()

    app = FastAPI(title="advisorgym mock financial APIs", version=_package_version(), lifespan=lifespan,
                  docs_url=None, redoc_url=None, redirect_slashes=False)
    app.state.service = service

    # ---- exception handlers: every error is {"error", "message"}
    async def on_http_exception(_: Request, exc: StarletteHTTPException) -> Response:
        code = {401: "unauthorized", 404: "not_found", 405: "not_found"}.get(exc.status_code)
        if code is None:
            code = "internal_error" if exc.status_code >= 500 else "invalid_arguments"
        message = {404: "no such route", 405: "method not allowed on this route"}.get(exc.status_code, str(exc.detail))
        return error_response(code, message, exc.status_code, dict(exc.headers or {}))

    async def on_validation_error(_: Request, exc: RequestValidationError) -> Response:
        details = [{"path": "/".join(map(str, e.get("loc", ()))) or "$", "message": str(e.get("msg", ""))}
                   for e in exc.errors()]
        return error_response("invalid_arguments", "request does not match the route's parameters", 422,
                              details=details)

    async def on_exception(_: Request, exc: Exception) -> Response:
        return error_response("internal_error", f"unexpected server error ({type(exc).__name__})", 500)

    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_exception)
    app.add_middleware(BearerAuthMiddleware, token=token)

    # ---- routes. Plain Starlette routes (no FastAPI dependency solving on the hot path); the
    # OpenAPI document below is written from the catalogue, not introspected from signatures.
    health_extra = {"status": "ok", "tools": len(service.tools), "replica": service.replica_meta}

    async def health(_: Request) -> Response:
        return json_response({**health_extra, "sessions": len(service.sessions)})

    async def list_tools(_: Request) -> Response:
        return Response(service.tools_body, media_type="application/json")

    def tool_endpoint(name: str) -> Any:
        description = orjson.dumps(service.tools[name].describe())

        async def endpoint(request: Request) -> Response:
            if request.method == "POST":
                return await service.call(request, name)
            return Response(description, media_type="application/json")  # GET: the tool's contract

        endpoint.__name__ = f"tool_{name}"
        return endpoint

    async def no_such_tool(request: Request) -> Response:
        if request.method == "POST":  # read (and bound) the body like a real tool route
            arguments = await service.read_arguments(request)
            if isinstance(arguments, Response):
                return arguments
        return unknown_tool(request.path_params["name"], service.tools)

    async def create_session(_: Request) -> Response:
        session = await run_in_threadpool(service.sessions.create)
        return json_response({"session_id": session.id}, 201)

    async def reset_session(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        try:
            service.sessions.get(session_id).reset()  # microseconds: empties the overlay
        except SessionGone:
            return session_gone(session_id)
        return json_response({"session_id": session_id, "reset": True})

    async def delete_session(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        try:
            await run_in_threadpool(service.sessions.delete, session_id)
        except SessionGone:
            return session_gone(session_id)
        return Response(status_code=204)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/tools", list_tools, methods=["GET"]),
        *(Route(f"/tools/{name}", tool_endpoint(name), methods=["GET", "POST"], name=f"tool_{name}")
          for name in service.tools),
        Route("/tools/{name}", no_such_tool, methods=["GET", "POST"]),  # undocumented: any other name
        Route("/sessions", create_session, methods=["POST"]),
        Route("/sessions/{session_id}/reset", reset_session, methods=["POST"]),
        Route("/sessions/{session_id}", delete_session, methods=["DELETE"]),
        Route("/sessions/{session_id}/probe/{name}", service.probe, methods=["POST"]),
    ]
    app.router.routes.extend(routes)

    document = build_openapi(service.tools, app.title, app.version)

    def openapi() -> dict[str, Any]:
        return document

    app.openapi = openapi  # type: ignore[method-assign]
    return app


# --------------------------------------------------------------------------- OpenAPI


def build_openapi(tools: dict[str, ToolSpec], title: str, version: str) -> dict[str, Any]:
    """OpenAPI 3.1 for the service; tool bodies and results are the catalogue's own JSON Schemas."""
    error_ref = {"$ref": "#/components/schemas/Error"}

    def error(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": error_ref}}}

    def ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    unauthorized = error("Missing or invalid bearer token (`unauthorized`).")
    gone = error("Unknown, deleted or evicted session (`not_found`).")
    too_large = error("Request body over 1 MiB (`invalid_arguments`).")
    session_param = {"name": "session_id", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": SESSION_ID_PATTERN}}
    session_header = {"name": SESSION_HEADER, "in": "header", "required": False,
                      "schema": {"type": "string", "pattern": SESSION_ID_PATTERN},
                      "description": "Run in this episode session (from `POST /sessions`). Without it the call "
                                     "is stateless: it sees the pristine replica and writes are rolled back."}
    any_object = {"type": "object"}
    tool_name_param = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    describe_schema = {
        "type": "object",
        "required": ["name", "description", "version", "criticality", "composite", "writes", "parameters", "returns"],
        "properties": {"name": {"type": "string"}, "description": {"type": "string"}, "version": {"type": "string"},
                       "criticality": {"type": "number"}, "composite": {"type": "boolean"},
                       "writes": {"type": "boolean"}, "parameters": any_object, "returns": any_object}}

    paths: dict[str, Any] = {
        "/health": {"get": {
            "operationId": "health", "summary": "Liveness, tool count and replica metadata.", "security": [],
            "tags": ["service"],
            "responses": {"200": ok("The service is up.", {
                "type": "object", "required": ["status", "tools", "replica", "sessions"],
                "properties": {"status": {"const": "ok"}, "tools": {"type": "integer"},
                               "replica": {"type": "object", "additionalProperties": {"type": "string"}},
                               "sessions": {"type": "integer"}}})}}},
        "/tools": {"get": {
            "operationId": "list_tools", "summary": "Every tool, in OpenAI function-calling shape.",
            "tags": ["service"],
            "responses": {"200": ok("The tool schemas.", {"type": "array", "items": {
                "type": "object", "required": ["type", "function"],
                "properties": {"type": {"const": "function"}, "function": {
                    "type": "object", "required": ["name", "description", "parameters"],
                    "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                                   "parameters": {"type": "object"}}}}}}),
                "401": unauthorized}}},
    }
    for name, spec in tools.items():
        responses = {
            "200": ok("The tool's result.", spec.returns),
            "401": unauthorized,
            "404": error("`not_found` (no such entity) or `unknown_tool`."),
            "410": gone,
            "413": too_large,
            "422": error("`invalid_arguments`: the body is not JSON or does not match the parameters schema."),
            "500": error("`internal_error`: a bug in the tool (never expected)."),
        }
        if spec.writes:
            responses["409"] = error("A domain rule forbids it in the current state: `rule_violation`, "
                                     "`insufficient_funds` or `conflict`.")
        paths[f"/tools/{name}"] = {"get": {
            "operationId": f"describe_{name}", "summary": f"The full contract of {name}.", "tags": ["tool contracts"],
            "responses": {"200": ok("The tool's contract.", describe_schema), "401": unauthorized},
        }, "post": {
            "operationId": name, "summary": spec.description.split(". ")[0].rstrip(".") + ".",
            "description": spec.description,
            "tags": ["composite tools" if spec.composite else "tools"],
            "parameters": [session_header],
            "requestBody": {"required": False, "description": "The arguments object; an empty body means `{}`.",
                            "content": {"application/json": {"schema": spec.parameters}}},
            "responses": dict(sorted(responses.items())),
            "x-advisorgym": {"version": spec.version, "criticality": spec.criticality, "composite": spec.composite,
                             "writes": spec.writes},
        }}
    paths["/sessions"] = {"post": {
        "operationId": "create_session", "summary": "Start an isolated episode session on a pristine replica.",
        "tags": ["sessions"],
        "responses": {"201": ok("The new session.", {
            "type": "object", "required": ["session_id"],
            "properties": {"session_id": {"type": "string", "pattern": SESSION_ID_PATTERN}}}),
            "401": unauthorized}}}
    paths["/sessions/{session_id}/reset"] = {"post": {
        "operationId": "reset_session", "summary": "Drop every write of the session.", "tags": ["sessions"],
        "parameters": [session_param],
        "responses": {"200": ok("Reset.", {"type": "object", "required": ["session_id", "reset"],
                                           "properties": {"session_id": {"type": "string"},
                                                          "reset": {"const": True}}}),
                      "401": unauthorized, "410": gone}}}
    paths["/sessions/{session_id}"] = {"delete": {
        "operationId": "delete_session", "summary": "End the session and free its sandbox.", "tags": ["sessions"],
        "parameters": [session_param],
        "responses": {"204": {"description": "Deleted."}, "401": unauthorized, "410": gone}}}
    paths["/sessions/{session_id}/probe/{name}"] = {"post": {
        "operationId": "probe_tool",
        "summary": "Run a tool in the session's current state, then roll its writes back.",
        "tags": ["sessions"],
        "parameters": [session_param, tool_name_param],
        "requestBody": {"required": False, "description": "The arguments object; an empty body means `{}`.",
                        "content": {"application/json": {"schema": {}}}},
        "responses": {"200": ok("The tool's result (see the tool's own route for its schema).", any_object),
                      "401": unauthorized, "404": error("`not_found` or `unknown_tool`."),
                      "409": error("`rule_violation`, `insufficient_funds` or `conflict`."), "410": gone,
                      "413": too_large, "422": error("`invalid_arguments`."),
                      "500": error("`internal_error` (never expected).")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Mock financial back-ends for the advisorgym environment. Each tool is one "
                                "`POST /tools/<name>` route; bodies and results use the tool catalogue's schemas."},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR_SCHEMA},
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    }


# --------------------------------------------------------------------------- running it


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0,
                    log_level: str = "warning") -> Iterator[str]:
    """Run ``app`` under uvicorn in a daemon thread; yields its base URL (``port=0``: a free port)."""
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="advisorgym-api")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
