"""The FastAPI service: a thin HTTP layer over the tool catalogue.

All tool logic lives in ``call_tool``; this module only moves JSON in and out, maps error
codes to HTTP statuses, keeps per-client episode sessions and publishes an OpenAPI document
built from the very schemas the catalogue validates with.

Routes (every one needs ``Authorization: Bearer <token>`` except ``GET /health`` and
``GET /openapi.json``; HTTP Basic credentials with the token as the password are accepted too,
for WebSocket clients that cannot set headers but send a URL's user info; WebSocket handshakes
are checked like requests and refused with the same 401):

- ``GET /health``: liveness, tool count, replica metadata;
- ``GET /tools``: the tool schemas in OpenAI function-calling shape (each tool's default
  version); ``GET /tools?include=versions``: the same, each entry with its default
  ``version`` and every served one in ``versions``;
  ``GET /tools/<name>``: one tool's full contract (``ToolSpec.describe()``);
- ``POST /tools/<name>``: one route per tool; the JSON body is the arguments object and the
  answer is exactly ``call_tool``'s payload (the result on 200, the error object otherwise);
- ``GET|POST /tools/<name>@<version>``: the same for one version of the tool (a version is
  the major number of its semantic version: ``/tools/get_holdings@2``); the plain route is
  the default version, an unknown version answers ``unknown_version`` (404);
- ``POST /sessions`` → ``{"session_id", "expires_in_s", "idle_ttl_s", "max_writes"}``;
  ``GET /sessions/{id}`` (remaining lifetime and writes); ``POST /sessions/{id}/reset``;
  ``DELETE /sessions/{id}``; ``POST /sessions/{id}/probe/{name}`` (run and roll back; the
  name may be ``name@version``);
  ``POST /sessions/{id}/batch``: several calls and probes in one request (``ToolService.batch``;
  an operation's optional ``version`` picks a version).

Several tokens may be configured (one per team); a session belongs to the token that created
it, and for any other token it does not exist (the same answer as an unknown id). Sessions are
bounded (``mock_apis.sessions``): a capacity, a per-token quota, an idle expiry, and a cap on
each session's writes; none is ever evicted to make room.

A tool call with an ``X-Session-Id`` header runs in that session's sandbox (writes persist
until the session is reset). Without the header the call is *stateless*: it sees the
pristine replica and a write tool's effects are rolled back as soon as it returns (the
result is still reported), so anonymous callers can never change what others see.

Error statuses: invalid_arguments (also malformed JSON) 422, not_found, unknown_tool and
unknown_version 404, rule_violation / insufficient_funds / conflict 409 (well-formed, but the
current state forbids it), unknown, expired or foreign session 410, body over the limit (1 MiB) 413,
missing or wrong token 401, the service's own limits 429 (``session_capacity`` with a
``Retry-After`` header, ``session_write_limit``), internal_error 500. Every error body is
``{"error": <code>, "message": ...}`` (``ERROR_SCHEMA``, or ``SERVICE_ERROR_SCHEMA`` for the
429s); never a stack trace, and never more than ~200 characters of the caller's input.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_apis.catalogue import ERROR_SCHEMA  # noqa: F401  (re-exported)
from mock_apis.catalogue import ERROR_CODES, ToolOutcome, ToolRef, ToolSpec, call_tool, echo, parse_ref, probe_tool
from mock_apis import package_version
from mock_apis.domain import Domain, get_domain
from mock_apis.hot_path import ServiceApp
from mock_apis.openapi import build_openapi
from mock_apis.protocol import (JSON_FALLBACK_HEADER, LIMIT_STATUS, MAX_BODY_BYTES, SERVICE_ERROR_CODES,  # noqa: F401
                                SERVICE_ERROR_SCHEMA, SESSION_HEADER, SESSION_ID_PATTERN, TOKEN_ENV, TOKEN_FILE_ENV,  # noqa: F401
                                ServiceLimits)
from mock_apis.sandbox import Sandbox, check_replica
from mock_apis.server import ServerLimits, run_server, serve_in_thread  # noqa: F401  (re-exported)
from mock_apis.sessions import (DEFAULT_IDLE_TTL_S, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_WRITES,  # noqa: F401
                                DEFAULT_OWNER, Session, SessionCapacity, SessionGone, SessionStore)

#: Bodies larger than this are parsed and validated in the thread pool, never on the event loop.
OFFLOAD_BODY_BYTES = 32 * 1024
#: Expired sessions are collected every this fraction of the idle time-out (``collect_expired``).
COLLECT_EVERY = 0.25
OWNER_SCOPE_KEY = "advisorgym.owner"
PUBLIC_PATHS = frozenset({"/health", "/openapi.json"})

#: HTTP status of each error code (a tool's, or the service's own).
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
    "too_many_calls": 429,  # the env's per-turn cap; the service itself never answers it
    "unknown_version": 404,
    **dict.fromkeys(SERVICE_ERROR_CODES, LIMIT_STATUS),  # the service's own limits
}
SESSION_GONE_STATUS = 410
#: The most operations one batch request may carry (an agent's call and the gold probes of
#: its tool need a handful).
MAX_BATCH_OPS = 64


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
    assert code in ERROR_CODES or code in SERVICE_ERROR_CODES, code
    return json_response({"error": code, "message": message, **extra},
                         status or STATUS_FOR_ERROR.get(code, 500),
                         headers)


def outcome_status(outcome: ToolOutcome) -> int:
    """The HTTP status a tool route answers ``outcome`` with."""
    if outcome.ok:
        return 200
    code = outcome.payload.get("error")
    return STATUS_FOR_ERROR.get(code, 500)


def outcome_response(outcome: ToolOutcome) -> Response:
    return json_response(outcome.payload, outcome_status(outcome))


# --------------------------------------------------------------------------- sandboxes


class StatelessPool:
    """One sandbox per worker thread for calls without a session; writes are always rolled back.

    ``close()`` (at app shutdown) closes them all; a later call opens fresh ones, so an app
    whose lifespan is cycled (as test clients do) keeps working.
    """

    def __init__(self, replica_path: Path, domain: Domain):
        self.replica_path, self.domain = replica_path, domain
        self._local = threading.local()
        self._all: list[Sandbox] = []
        self._lock = threading.Lock()
        self._generation = 0
        self.meta = dict(self._get().meta)  # fail fast on a bad replica; also serves /health

    def _get(self) -> Sandbox:
        entry = getattr(self._local, "entry", None)
        if entry is None or entry[0] != self._generation:
            sandbox = Sandbox(self.replica_path, self.domain.schema)
            with self._lock:
                self._all.append(sandbox)
                self._local.entry = entry = (self._generation, sandbox)
        return entry[1]

    def run(self, spec: ToolSpec | None, name: str | ToolRef, arguments: Any) -> ToolOutcome:
        sandbox = self._get()
        if spec is not None and spec.writes:
            return probe_tool(sandbox, name, arguments, self.domain.tools)
        return call_tool(sandbox, name, arguments, self.domain.tools)

    def close(self) -> None:
        with self._lock:
            self._generation += 1
            sandboxes, self._all = self._all, []
        for sandbox in sandboxes:
            with sandbox.lock:
                sandbox.close()


# --------------------------------------------------------------------------- auth


class BearerAuthMiddleware:
    """Pure-ASGI bearer-token check (cheap: no per-request objects on the happy path).

    Every configured token is compared (in constant time each, and all of them every time,
    so the timing says nothing about which one nearly matched); the matching token's owner
    label (``token-<index>``) goes into the scope for the session routes.
    """

    def __init__(self, app: ASGIApp, tokens: list[str]):
        self.app = app
        self.tokens = [(token.encode(), f"token-{i}") for i, token in enumerate(tokens)]  # token-0: DEFAULT_OWNER

    def owner(self, credentials: bytes) -> str | None:
        """The owner label of the token ``credentials`` is, or None."""
        found = None
        for token, label in self.tokens:
            if hmac.compare_digest(credentials, token) and found is None:
                found = label
        return found

    @staticmethod
    def credentials(scope: Scope) -> bytes | None:
        """The token a request presents, or None: ``Authorization: Bearer <token>``, or
        ``Authorization: Basic`` with the token as the password (what a WebSocket client that
        cannot set headers sends for a URL with user info, ``ws://any-user:<token>@host``)."""
        for key, value in scope["headers"]:
            if key == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                scheme = scheme.lower()
                if scheme == b"bearer":
                    return credentials.strip()
                if scheme == b"basic":
                    try:
                        decoded = base64.b64decode(credentials.strip(), validate=True)
                    except ValueError:
                        return None
                    user, colon, password = decoded.partition(b":")
                    return password if colon else None
                return None
        return None

    def authorise(self, scope: Scope) -> bool:
        """True if the request carries a valid token; its owner label then goes into the scope."""
        credentials = self.credentials(scope)
        owner = self.owner(credentials) if credentials is not None else None
        if owner is None:
            return False
        scope[OWNER_SCOPE_KEY] = owner
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or (kind == "http" and scope["path"] in PUBLIC_PATHS) \
                or self.authorise(scope):
            await self.app(scope, receive, send)
            return
        credentials = self.credentials(scope)
        challenge = 'Bearer realm="advisorgym"'
        if credentials is not None:
            challenge += ', error="invalid_token"'
        message = "missing bearer token" if credentials is None else "invalid bearer token"
        response = error_response("unauthorized", message, 401, {"WWW-Authenticate": challenge})
        if kind == "websocket":  # refused before the handshake: the same 401, where the server can send one
            await refuse_websocket(scope, receive, send, response)
            return
        await response(scope, receive, send)


async def refuse_websocket(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    """Refuse a WebSocket handshake with ``response`` (status, headers and JSON body) where the
    server has the denial-response extension (uvicorn does), else with a plain close (403)."""
    await receive()  # websocket.connect
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "websocket.http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    await send({"type": "websocket.http.response.body", "body": response.body})


def owner_of(request: Request) -> str:
    return request.scope.get(OWNER_SCOPE_KEY, DEFAULT_OWNER)


# --------------------------------------------------------------------------- the app


class ToolService:
    """The state behind one app: the catalogue snapshot (``tools``: the defaults by name;
    ``versions``: the others by ``name@version``; ``specs``: every spec by each key ``call_tool``
    takes, a name or a ``ToolRef``), the stateless pool and the sessions, all of one domain's."""

    def __init__(self, replica_path: str | Path, limits: ServiceLimits | None = None, offload: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, audit_log: str | Path | None = None,
                 domain: str | Domain | None = None):
        self.domain = get_domain(domain)
        self.replica_path = Path(replica_path)
        check_replica(self.replica_path, self.domain.schema)
        self.limits = limits = limits or ServiceLimits()
        self.tools: dict[str, ToolSpec] = dict(self.domain.tools.tools)
        self.versions: dict[str, ToolSpec] = self.domain.tools.versioned()
        self.specs: dict[str | ToolRef, ToolSpec] = {
            **self.tools, **{ToolRef(name, spec.major): spec for name, spec in self.tools.items()},
            **{parse_ref(ref): spec for ref, spec in self.versions.items()}}
        self.pool = StatelessPool(self.replica_path, self.domain)
        self.sessions = SessionStore(self.replica_path, limits.max_sessions, idle_ttl_s=limits.idle_ttl_s,
                                     max_writes=limits.max_writes, max_per_owner=limits.max_sessions_per_token,
                                     clock=clock, domain=self.domain)
        self.replica_meta = self.pool.meta
        # which tools run in the thread pool (see ``create_app``)
        self.offloaded = {key for key, spec in self.specs.items() if (spec.composite if offload is None else offload)}
        self.tools_body = orjson.dumps([spec.openai_schema() for spec in self.tools.values()])
        self.versions_body = orjson.dumps([{**spec.openai_schema(), "version": spec.major,
                                            "versions": self.domain.tools.versions_of(name)}
                                           for name, spec in self.tools.items()])
        self.audit = None
        if audit_log is not None:
            from envs.audit import AuditLog

            self.audit = AuditLog(audit_log)

    def commit(self, session_id: str | None, ops: list[tuple[Any, Any, bool, bool]],
               outcomes: list[ToolOutcome]) -> None:
        """Write the audit records of executed calls (``ops`` as ``batch_ops`` gives them; the
        reward's rolled-back probes are not the agent's calls, so not recorded), in one write;
        a version is recorded as ``name@version``. ``AuditUnavailable`` if the write fails (then
        nothing of it is in the log, and ``Session.run_batch`` rolls the calls' writes back)."""
        from envs.audit import result_hash

        with self.audit.lock:  # type: ignore[union-attr]  (only called with a log)
            for (name, arguments, probe, _), outcome in zip(ops, outcomes, strict=True):
                if not probe:
                    self.audit.record_call(str(name) if type(name) is ToolRef else name, arguments,  # type: ignore[union-attr]
                                           result_hash(outcome.payload), ok=outcome.ok, error=outcome.error,
                                           task_id=session_id)
            self.audit.flush()  # type: ignore[union-attr]

    async def execute(self, offload: bool, session_id: str | None, owner: str,
                      ops: list[tuple[Any, Any, bool, bool]]) -> list[ToolOutcome] | Response:
        """Run ``ops`` (in the session, or stateless), and with an audit log, answer only once
        their records are durable: refused before anything runs if the log has failed; written
        as part of the calls (a write that cannot be recorded is rolled back); then fsynced
        (group commit). A ``Response`` for a gone session or an unwritable log."""
        from envs.audit import AuditUnavailable

        audit = self.audit
        if audit is not None and audit.failed is not None:
            return audit_unavailable(f"the audit log {audit.path} failed ({audit.failed}); restart the service")
        commit = None if audit is None else (lambda outcomes: self.commit(session_id, ops, outcomes))
        try:
            if session_id is None:
                (name, arguments, _, _), = ops
                outcomes = [await self.run(offload, self.pool.run, self.specs.get(name), name, arguments)]
                if commit is not None:
                    commit(outcomes)
            else:
                session = self.sessions.get(session_id, owner)
                outcomes = await self.run(offload, session.run_batch, ops, commit)
            if audit is not None:
                await audit.sync()
        except SessionGone:
            return session_gone(session_id)
        except AuditUnavailable as err:
            return audit_unavailable(str(err))
        return outcomes

    async def run(self, offload: bool, fn: Any, *args: Any) -> Any:
        # A thread-pool hop costs ~150 µs; an atomic tool call takes ~20 µs, so it runs on the
        # event loop. Composite tools (many queries) go to the pool, where SQLite, which releases
        # the GIL, lets sessions run in parallel without stalling the loop.
        return await run_in_threadpool(fn, *args) if offload else fn(*args)

    def too_large(self) -> Response:
        return error_response("invalid_arguments", f"request body exceeds {self.limits.max_body_bytes} bytes", 413)

    async def read_body(self, request: Request) -> bytes | Response:
        """The raw body, or an error ``Response`` (too large, or the client went away)."""
        limit = self.limits.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return self.too_large()
        chunks, size = [], 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return self.too_large()
                chunks.append(chunk)
        except ClientDisconnect:  # e.g. dropped by the server's read deadline: nobody to answer
            return error_response("invalid_arguments", "the client disconnected before sending its body", 400)
        return b"".join(chunks)

    async def read_arguments(self, request: Request) -> tuple[Any, bool] | Response:
        """The JSON body (an empty body means ``{}``) and whether it was large, or an error ``Response``."""
        body = await self.read_body(request)
        if isinstance(body, Response):
            return body
        large = len(body) > OFFLOAD_BODY_BYTES
        arguments = await run_in_threadpool(parse_arguments, body) if large else parse_arguments(body)
        return arguments if isinstance(arguments, Response) else (arguments, large)

    async def call(self, request: Request, name: str | ToolRef) -> Response:
        read = await self.read_arguments(request)
        if isinstance(read, Response):
            return read
        arguments, large = read
        spec = self.specs.get(name)
        outcomes = await self.execute(large or name in self.offloaded, request.headers.get(SESSION_HEADER),
                                      owner_of(request), [(name, arguments, False, spec is not None and spec.writes)])
        return outcomes if isinstance(outcomes, Response) else outcome_response(outcomes[0])

    async def probe(self, request: Request) -> Response:
        session_id, name = request.path_params["session_id"], parse_ref(request.path_params["name"])
        read = await self.read_arguments(request)
        if isinstance(read, Response):
            return read
        arguments, large = read
        try:
            session = self.sessions.get(session_id, owner_of(request))
            outcome = await self.run(large or name in self.offloaded, session.run, name, arguments, True)
        except SessionGone:
            return session_gone(session_id)
        return outcome_response(outcome)

    async def batch(self, request: Request) -> Response:
        """``POST /sessions/{id}/batch``: one agent turn's tool work in one round trip.

        Body: ``{"ops": [{"name", "arguments", "probe", "version"}, ...]}`` (at most
        ``MAX_BATCH_OPS``; ``probe`` defaults to false, ``version`` to the tool's default), parsed
        like a tool route's body (the standard library: big integers and NaN exact).
        The operations run in order in the session, as one unit: each probe like
        ``POST /sessions/{id}/probe/{name}`` (run, then rolled back), each other one like
        ``POST /tools/{name}`` with the session header (writes kept and counted). The answer
        is ``{"results": [{"status", "body"}, ...]}``, one per operation, each the status and
        payload its own route would have answered; the request itself fails only as a whole
        (401, 410 for the session, 413, 422 for a malformed batch).
        """
        session_id = request.path_params["session_id"]
        read = await self.read_arguments(request)
        if isinstance(read, Response):
            return read
        body, large = read
        ops = batch_ops(body, self.specs)
        if isinstance(ops, Response):
            return ops
        outcomes = await self.execute(large or any(name in self.offloaded for name, *_ in ops), session_id,
                                      owner_of(request), ops)
        if isinstance(outcomes, Response):
            return outcomes
        return json_response({"results": [{"status": outcome_status(o), "body": o.payload} for o in outcomes]})

    def session_info(self, session: Session) -> dict[str, Any]:
        return {"session_id": session.id, "expires_in_s": self.sessions.expires_in(session),
                "idle_ttl_s": self.sessions.idle_ttl_s, "writes": session.writes, "max_writes": session.max_writes}

    def close(self) -> None:
        self.sessions.close_all()
        self.pool.close()
        if self.audit is not None:
            self.audit.close()


def parse_arguments(body: bytes) -> Any:
    """The arguments in a request body (empty: ``{}``), or a 422 ``Response``."""
    if not body.strip():
        return {}
    try:
        # the standard library, not orjson: it keeps big integers exact and reads NaN, so the
        # tool sees exactly the value an in-process caller would have passed
        return json.loads(body)
    except (ValueError, RecursionError) as err:
        return error_response("invalid_arguments", f"request body is not valid JSON: {echo(str(err))}",
                              details=[{"path": "$", "message": "malformed JSON"}])


def batch_ops(body: Any, specs: dict[str | ToolRef, ToolSpec]) -> list[tuple[Any, Any, bool, bool]] | Response:
    """A batch body's ``(name, arguments, probe, writes)`` operations (``name``: a ``ToolRef``
    where the operation names a ``version``), or a 422 ``Response``."""
    ops = body.get("ops") if isinstance(body, dict) else None
    if not isinstance(ops, list) or not 1 <= len(ops) <= MAX_BATCH_OPS or not all(
            isinstance(op, dict) and isinstance(op.get("name"), str) and isinstance(op.get("probe", False), bool)
            and isinstance(op.get("version", ""), str) and "arguments" in op for op in ops):
        return error_response("invalid_arguments", 'a batch is {"ops": [{"name", "arguments", "probe", "version"}, '
                                                   f"...]}} with 1 to {MAX_BATCH_OPS} operations",
                              details=[{"path": "ops", "message": "not a list of operations"}])
    out = []
    for op in ops:
        name = op["name"] if "version" not in op else ToolRef(op["name"], op["version"])
        spec = specs.get(name)
        out.append((name, op["arguments"], op.get("probe", False), spec is not None and spec.writes))
    return out


def session_gone(session_id: str | None) -> Response:
    return error_response("not_found", f"unknown or expired session {echo(session_id)}; create one with "
                                       "POST /sessions", SESSION_GONE_STATUS)


def audit_unavailable(message: str) -> Response:
    return error_response("service_unavailable", message, 503)


def session_capacity(err: SessionCapacity) -> Response:
    return error_response("session_capacity", err.message, LIMIT_STATUS,
                          {"Retry-After": str(int(err.retry_after_s + 0.999))}, limit=err.limit,
                          retry_after_s=err.retry_after_s)


def resolve_tokens(token: str | None = None, tokens: Sequence[str] | None = None) -> list[str]:
    """The bearer tokens the service accepts: ``token`` and ``tokens``, else ``$ADVISORGYM_API_TOKEN``
    (several separated by commas). Raises if there is none: the service never runs open."""
    given = [*([token] if token is not None else []), *(tokens or [])]
    if not given and token is None and tokens is None:
        given = os.environ.get(TOKEN_ENV, "").split(",")
    cleaned = [t.strip() for t in given if t and t.strip()]
    if not cleaned or len(cleaned) != len(given):
        raise RuntimeError(f"advisorgym API: no bearer token configured (or an empty one); set {TOKEN_ENV} (several "
                           "separated by commas) or pass token=... / tokens=[...]. The service does not run "
                           "without authentication.")
    return list(dict.fromkeys(cleaned))


def read_token_file(path: str | os.PathLike[str]) -> list[str]:
    """The bearer tokens in a file (a Docker secret, a file only the service's user reads): one
    per line or separated by commas, surrounding blanks ignored. ``ValueError`` naming the file
    when it cannot be read or holds no token."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read the token file {path}: {getattr(err, 'strerror', None) or err}") from None
    tokens = [t.strip() for line in text.splitlines() for t in line.split(",") if t.strip()]
    if not tokens:
        raise ValueError(f"the token file {path} holds no token")
    return tokens


def resolve_token(token: str | None) -> str:
    """The single token (kept for callers of the one-token API)."""
    return resolve_tokens(token)[0]


async def collect_expired(sessions: SessionStore) -> None:
    """Close expired sessions every ``COLLECT_EVERY`` of their idle time-out (at most a minute
    apart), so that their descriptors come back without a client having to connect."""
    while True:
        await asyncio.sleep(min(60.0, sessions.idle_ttl_s * COLLECT_EVERY))
        await asyncio.to_thread(sessions.collect_expired)


def create_app(replica_path: str | Path, token: str | None = None, *, tokens: Sequence[str] | None = None,
               max_sessions: int = DEFAULT_MAX_SESSIONS, max_sessions_per_token: int | None = None,
               idle_ttl_s: float = DEFAULT_IDLE_TTL_S, max_writes: int = DEFAULT_MAX_WRITES,
               max_body_bytes: int = MAX_BODY_BYTES, offload: bool | None = None,
               clock: Callable[[], float] = time.monotonic, audit_log: str | Path | None = None,
               domain: str | Domain | None = None) -> FastAPI:
    """The service of ``domain``'s tools (default: the default domain) over ``replica_path`` (a
    replica of that domain), guarded by ``token``/``tokens`` (default: ``$ADVISORGYM_API_TOKEN``).

    ``offload``: ``None`` (default) runs composite tools in the thread pool and atomic ones on
    the event loop; ``True`` runs every tool call in the pool (most parallel), ``False`` none
    (lowest latency for one client). Bodies over 32 KiB are always handled in the pool.
    At most ``max_sessions`` sessions live at once (``max_sessions_per_token`` per token); a
    session idle for ``idle_ttl_s`` expires; it may make ``max_writes`` writes until reset.
    ``clock`` (monotonic seconds) is for tests. ``audit_log``: append every executed tool call
    (not the reward's rolled-back probes) to this hash-chained log (``envs.audit``); a call is
    answered only once its record is on disk (``ToolService.execute``).
    """
    accepted = resolve_tokens(token, tokens)
    limits = ServiceLimits(max_sessions, max_sessions_per_token, idle_ttl_s, max_writes, max_body_bytes)
    service = ToolService(replica_path, limits, offload=offload, clock=clock, audit_log=audit_log, domain=domain)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        collector = asyncio.create_task(collect_expired(service.sessions))
        yield
        collector.cancel()
        service.close()

    app = ServiceApp(title="advisorgym mock financial APIs", version=package_version("0+unknown"),
                     lifespan=lifespan, docs_url=None, redoc_url=None, redirect_slashes=False)
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

    def internal_error(exc: Exception) -> Response:
        return error_response("internal_error", f"unexpected server error ({type(exc).__name__})", 500)

    async def on_exception(_: Request, exc: Exception) -> Response:
        return internal_error(exc)

    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_exception)
    app.add_middleware(BearerAuthMiddleware, tokens=accepted)
    app.serve_batch_directly(service.batch, BearerAuthMiddleware(app, accepted).authorise, internal_error)

    # ---- routes. Plain Starlette routes (no FastAPI dependency solving on the hot path); the
    # OpenAPI document below is written from the catalogue, not introspected from signatures.
    # /health is public, so it says nothing about sessions or load: only what any client of
    # the replica needs (its seed, scale and as-of date, which the env checks).
    health_body = orjson.dumps({"status": "ok", "tools": len(service.tools), "replica": service.replica_meta})

    async def health(_: Request) -> Response:
        return Response(health_body, media_type="application/json")

    async def list_tools(request: Request) -> Response:
        versions = request.query_params.get("include") == "versions"
        return Response(service.versions_body if versions else service.tools_body, media_type="application/json")

    def tool_endpoint(name: str | ToolRef) -> Any:
        description = orjson.dumps(service.specs[name].describe())

        async def endpoint(request: Request) -> Response:
            if request.method == "POST":
                return await service.call(request, name)
            return Response(description, media_type="application/json")  # GET: the tool's contract

        endpoint.__name__ = f"tool_{name}"
        return endpoint

    # every version of every tool, by "name@version" (served by the catch-all route below)
    versioned = {str(key): tool_endpoint(key) for key in service.specs if type(key) is ToolRef}

    async def other_tool_route(request: Request) -> Response:
        endpoint = versioned.get(request.path_params["name"])
        if endpoint is not None:
            return await endpoint(request)
        if request.method == "POST":  # read (and bound) the body like a real tool route
            body = await service.read_body(request)
            if isinstance(body, Response):
                return body
        payload = service.domain.tools.unknown_tool(parse_ref(request.path_params["name"]))  # unknown_tool, or unknown_version
        return json_response(payload, STATUS_FOR_ERROR[payload["error"]])

    async def create_session(request: Request) -> Response:
        try:
            session = await run_in_threadpool(service.sessions.create, owner_of(request))
        except SessionCapacity as err:
            return session_capacity(err)
        info = service.session_info(session)
        del info["writes"]
        return json_response(info, 201)

    async def reset_session(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        try:
            service.sessions.get(session_id, owner_of(request)).reset()  # microseconds: empties the overlay
        except SessionGone:
            return session_gone(session_id)
        return json_response({"session_id": session_id, "reset": True})

    async def session_route(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        try:
            if request.method == "GET":
                session = service.sessions.get(session_id, owner_of(request), touch=False)
                return json_response(service.session_info(session))
            await run_in_threadpool(service.sessions.delete, session_id, owner_of(request))
        except SessionGone:
            return session_gone(session_id)
        return Response(status_code=204)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/tools", list_tools, methods=["GET"]),
        *(Route(f"/tools/{name}", tool_endpoint(name), methods=["GET", "POST"], name=f"tool_{name}")
          for name in service.tools),
        Route("/tools/{name}", other_tool_route, methods=["GET", "POST"]),  # name@version, or no tool
        Route("/sessions", create_session, methods=["POST"]),
        Route("/sessions/{session_id}/reset", reset_session, methods=["POST"]),
        Route("/sessions/{session_id}", session_route, methods=["GET", "DELETE"]),
        Route("/sessions/{session_id}/probe/{name}", service.probe, methods=["POST"]),
        Route("/sessions/{session_id}/batch", service.batch, methods=["POST"]),
    ]
    app.router.routes.extend(routes)

    document = build_openapi({**service.tools, **service.versions}, app.title, app.version, limits)

    def openapi() -> dict[str, Any]:
        return document

    app.openapi = openapi  # type: ignore[method-assign]
    return app
