"""The OpenEnv protocol on ``advisorgym serve``: whole episodes for openenv-core's own client.

openenv-core's ``EnvClient`` (and ``GenericEnvClient``) speaks one WebSocket, ``/ws`` under the
base URL, with JSON text messages: ``{"type": "reset", "data": {...}}``, ``{"type": "step",
"data": <action>}``, ``{"type": "state"}``, ``{"type": "close"}``; the server answers
``{"type": "observation", "data": {"observation", "reward", "done"}}``, ``{"type": "state",
"data": {...}}`` or ``{"type": "error", "data": {"code", "message"}}``. The same operations
exist over plain HTTP (``POST /reset``, ``POST /step``, ``GET /state``), with ``GET /schema``
(the action, observation and state JSON Schemas) and ``GET /metadata``.

- **Action**: ``{"message": <one agent turn>}``: text in any form the env parses (a ReAct or
  OpenAI JSON message, Hermes ``<tool_call>`` tags, ..., or the final answer as plain text),
  or a JSON object (an OpenAI assistant message, a ReAct object, ...), which is the same turn
  written as JSON. The env parses and scores it (``Episode.turn``); nothing is parsed here.
- **Reset**: ``task_id`` (a task of the served suite) or ``seed`` (draws one).
- **Observation**: after a reset the task (``task_id``, ``level``, ``user``, the two system
  prompts) and ``episode_id``; after a step ``result`` (the env's observation: a tool's JSON
  result, an error object, or ``{"status": "episode_complete"}``) and, on the final step,
  ``reward_breakdown``. ``reward`` is 0 until the final step, then the total (out of 3).

Sessions are the service's own (``mock_apis.sessions``): capped in all and per token, expired
when idle, owned by the token that opened them, each a private sandbox in which one
``FinAdvisorEnv`` episode runs (``SessionBackend``). A WebSocket opens one when it connects and
deletes it when it closes; over HTTP, ``/reset`` without ``episode_id`` opens one (its id is the
observation's ``episode_id``) and ``DELETE /sessions/{id}`` or expiry ends it.

Auth: the service's bearer tokens, for ``/ws`` too. openenv-core's client sends no headers, so
the token may also come as HTTP Basic credentials (any user name, the token as the password),
which its WebSocket library sends for a URL with user info: ``http://advisorgym:<token>@host:port``.
Errors are structured everywhere: an HTTP error is ``{"error", "message"}`` with its status, a
WebSocket error is an ``error`` message and the socket stays open (except when its session is
gone); a refused handshake is a 401 with the same body.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from envs.env import FinAdvisorEnv
from envs.integrations.episode import INLINE_TURN_CHARS, Episode, EpisodeError
from mock_apis import package_version
from mock_apis.app import (OWNER_SCOPE_KEY, ToolService, json_response, owner_of, refuse_websocket,
                           session_capacity)
from mock_apis.catalogue import ToolOutcome, ToolSpec
from mock_apis.errors import AdvisorGymError
from mock_apis.sessions import DEFAULT_OWNER, Session, SessionCapacity, SessionGone

#: HTTP status of each error code these routes answer (besides the service's 401 and 429).
STATUS = {"invalid_arguments": 422, "unknown_task": 404, "no_episode": 409, "not_found": 410, "internal_error": 500}
RESET_FIELDS = {"task_id", "seed"}
#: a step request's fields: OpenEnv's StepRequest (its timeout_s and request_id accepted and unused) and episode_id
STEP_FIELDS = {"action", "episode_id", "timeout_s", "request_id"}

ACTION_SCHEMA: dict[str, Any] = {
    "title": "AdvisorAction", "type": "object", "required": ["message"], "additionalProperties": False,
    "properties": {
        "message": {"description": "One agent turn: text in any form the env parses (tool calls in a model's "
                                   "native format, or the final answer), or the turn as a JSON object (an OpenAI "
                                   "assistant message, a ReAct object, ...).",
                    "anyOf": [{"type": "string"}, {"type": "object"}]},
        "metadata": {"type": "object", "description": "Ignored (OpenEnv's base action field)."},
    },
}
OBSERVATION_SCHEMA: dict[str, Any] = {
    "title": "AdvisorObservation", "type": "object",
    "properties": {
        "episode_id": {"type": "string", "description": "After a reset: the session the episode runs in."},
        "task_id": {"type": "string"}, "level": {"type": "string"},
        "user": {"type": "string", "description": "After a reset: the advisor's query."},
        "system": {"type": "string", "description": "After a reset: the system prompt for a client that passes "
                                                    "the tools through its API."},
        "system_with_tools": {"type": "string", "description": "After a reset: the system prompt listing the tools, "
                                                               "for a client that writes its calls as text."},
        "reward_version": {"type": "string"},
        "result": {"description": "After a step: the env's observation (a tool's result, an error object, or "
                                  "{\"status\": \"episode_complete\"})."},
        "reward_breakdown": {"type": "object", "description": "On the final step: the reward's components."},
    },
}
STATE_SCHEMA: dict[str, Any] = {
    "title": "AdvisorState", "type": "object", "required": ["episode_id", "step_count"],
    "properties": {"episode_id": {"type": "string"}, "step_count": {"type": "integer", "minimum": 0},
                   "task_id": {"type": ["string", "null"]}, "done": {"type": "boolean"}},
}


class ProtocolError(AdvisorGymError):
    """A request these routes cannot serve: ``code`` (a key of ``STATUS``, or ``session_capacity``),
    a one-line message, and extra fields for the error body."""

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


class SessionBackend:
    """An env ``Backend`` over a service session's sandbox: the session's writes cap, its lock and
    its expiry apply to the episode's calls. The store owns the session: ``close`` leaves it."""

    def __init__(self, session: Session, specs: dict[Any, ToolSpec]):
        self.session, self.specs = session, specs

    def reset(self) -> None:
        self.session.reset()

    def call(self, name: Any, arguments: Any) -> ToolOutcome:
        spec = self.specs.get(name)
        return self.session.run(name, arguments, False, spec is not None and spec.writes)

    def probe(self, name: Any, arguments: Any) -> ToolOutcome:
        return self.session.run(name, arguments, True)

    def replica_meta(self) -> dict[str, str]:
        return dict(self.session.sandbox.meta)

    def close(self) -> None:
        pass


def turn_text(action: Any) -> str:
    """The agent turn an action carries, as the text the env parses; ``ProtocolError`` if malformed."""
    if not isinstance(action, dict) or "message" not in action or not set(action) <= {"message", "metadata"}:
        raise ProtocolError("invalid_arguments", 'an action is {"message": <the turn as text, or as a JSON object>}')
    message = action["message"]
    if isinstance(message, str):
        return message
    if isinstance(message, dict):
        return orjson.dumps(message).decode()
    raise ProtocolError("invalid_arguments", "the action's message must be text or a JSON object")


def reset_options(data: Any, allowed: set[str]) -> tuple[str | None, int | None]:
    """``(task_id, seed)`` of reset parameters; ``ProtocolError`` if malformed."""
    if not isinstance(data, dict) or not set(data) <= allowed:
        raise ProtocolError("invalid_arguments", f"reset takes {', '.join(sorted(allowed))} (all optional)")
    task_id, seed = data.get("task_id"), data.get("seed")
    if task_id is not None and not isinstance(task_id, str):
        raise ProtocolError("invalid_arguments", "task_id must be a string")
    if seed is not None and (type(seed) is not int or seed < 0):
        raise ProtocolError("invalid_arguments", "seed must be a non-negative integer")
    return task_id, seed


def step_body(obs: str, breakdown: dict[str, Any] | None, done: bool) -> bytes:
    """The ``{"observation", "reward", "done"}`` of a step (the env's observation is already JSON)."""
    observation: dict[str, Any] = {"result": orjson.Fragment(obs)}
    if breakdown is not None:
        observation["reward_breakdown"] = breakdown
    return orjson.dumps({"observation": observation, "reward": breakdown["total"] if breakdown else 0.0,
                         "done": done})


class OpenEnvRoutes:
    """The protocol's operations over the service's sessions; HTTP and WebSocket share them."""

    def __init__(self, service: ToolService, make_env: Callable[[SessionBackend], FinAdvisorEnv]):
        self.service, self.make_env = service, make_env

    # -- sessions and their episodes -------------------------------------------------

    async def open_session(self, owner: str) -> Session:
        try:
            return await run_in_threadpool(self.service.sessions.create, owner)
        except SessionCapacity as err:
            raise ProtocolError("session_capacity", err.message, limit=err.limit,
                                retry_after_s=err.retry_after_s) from None

    def session(self, episode_id: Any, owner: str) -> Session:
        if not isinstance(episode_id, str):
            raise ProtocolError("invalid_arguments", "episode_id (the one /reset returned) is required")
        try:
            return self.service.sessions.get(episode_id, owner)
        except SessionGone:
            raise ProtocolError("not_found", "unknown or expired episode; start one with reset") from None

    async def episode(self, session: Session) -> Episode:
        if session.attachment is None:
            env = await run_in_threadpool(self.make_env, SessionBackend(session, self.service.specs))
            if session.attachment is None:
                session.attachment = Episode(env)
            else:  # another request of the session made its episode meanwhile
                env.close()
        return session.attachment

    async def close_session(self, session: Session) -> None:
        with contextlib.suppress(SessionGone):
            await run_in_threadpool(self.service.sessions.delete, session.id, session.owner)

    # -- the operations -----------------------------------------------------------------

    async def reset(self, session: Session, data: Any, allowed: set[str]) -> bytes:
        task_id, seed = reset_options(data, allowed)
        episode = await self.episode(session)
        try:
            started = await run_in_threadpool(episode.start, task_id, seed)
        except EpisodeError as err:
            raise ProtocolError(err.code, err.message) from None
        except SessionGone:
            raise ProtocolError("not_found", "the episode's session expired; start one with reset") from None
        return orjson.dumps({"observation": {"episode_id": session.id, **started}, "reward": None, "done": False})

    async def step(self, session: Session, action: Any) -> bytes:
        text = turn_text(action)
        episode = session.attachment
        if episode is None or not episode.started:
            raise ProtocolError("no_episode", "no task started in this session: reset first")
        try:
            obs, breakdown = await episode.run(len(text) <= INLINE_TURN_CHARS, episode.turn, text)
        except SessionGone:
            raise ProtocolError("not_found", "the episode's session expired; start one with reset") from None
        return step_body(obs, breakdown, episode.done)

    def state(self, session: Session) -> bytes:
        episode = session.attachment
        started = episode is not None and episode.started
        return orjson.dumps({"episode_id": session.id, "step_count": episode.turns if started else 0,
                             "task_id": episode.task_id if started else None,
                             "done": episode.done if started else False})

    # -- HTTP ---------------------------------------------------------------------------

    async def read_json(self, request: Request) -> Any:
        body = await self.service.read_body(request)
        if isinstance(body, Response):
            raise HttpAnswer(body)
        if not body.strip():
            return {}
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ProtocolError("invalid_arguments", "request body is not valid JSON") from None

    async def http_reset(self, request: Request) -> Response:
        async def answer() -> Response:
            data = await self.read_json(request)
            if isinstance(data, dict) and "episode_id" in data:
                session = self.session(data["episode_id"], owner_of(request))
                return json_bytes(await self.reset(session, {k: v for k, v in data.items() if k != "episode_id"},
                                                   RESET_FIELDS))
            reset_options(data, RESET_FIELDS | {"episode_id"})  # malformed parameters open no session
            session = await self.open_session(owner_of(request))
            try:
                return json_bytes(await self.reset(session, data, RESET_FIELDS))
            except BaseException:
                await self.close_session(session)  # a failed start leaves no session behind
                raise

        return await http_answer(answer)

    async def http_step(self, request: Request) -> Response:
        async def answer() -> Response:
            data = await self.read_json(request)
            if not isinstance(data, dict) or "action" not in data:
                raise ProtocolError("invalid_arguments", 'a step is {"action": {"message": ...}, "episode_id": ...}')
            unknown = set(data) - STEP_FIELDS
            if unknown:
                raise ProtocolError("invalid_arguments", f"unknown step fields: {', '.join(sorted(unknown))[:200]}")
            return json_bytes(await self.step(self.session(data.get("episode_id"), owner_of(request)),
                                              data["action"]))

        return await http_answer(answer)

    async def http_state(self, request: Request) -> Response:
        async def answer() -> Response:
            return json_bytes(self.state(self.session(request.query_params.get("episode_id"), owner_of(request))))

        return await http_answer(answer)

    # -- WebSocket ----------------------------------------------------------------------

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``/ws`` (an ASGI app): one session for the connection's lifetime, one answer per
        message, in order. With no room for a session the handshake is refused with the service's
        429 ``session_capacity`` (status, ``Retry-After`` and body)."""
        try:
            session = await self.open_session(scope.get(OWNER_SCOPE_KEY, DEFAULT_OWNER))
        except ProtocolError as err:
            await refuse_websocket(scope, receive, send, error_response(err))
            return
        websocket = WebSocket(scope, receive, send)
        try:
            await websocket.accept()
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    return
                raw = received.get("text")
                if raw is None:
                    raw = received.get("bytes") or b""
                try:
                    answer = await self.ws_answer(session, raw)
                except ProtocolError as err:
                    await send_error(websocket, err)
                    if err.code == "not_found":  # the session expired: nothing more to serve
                        await websocket.close(1000)
                        return
                    continue
                except Exception as exc:  # noqa: BLE001  (a bug: still a structured answer)
                    await send_error(websocket, ProtocolError(
                        "internal_error", f"unexpected server error ({type(exc).__name__})"))
                    continue
                if answer is None:  # close
                    await websocket.close(1000)
                    return
                await websocket.send_text(answer)
        except WebSocketDisconnect:  # the client went away before its answer was sent
            pass
        finally:
            await self.close_session(session)

    async def ws_answer(self, session: Session, raw: str | bytes) -> str | None:
        """The answer to one WebSocket message (None: close the session)."""
        limit = self.service.limits.max_body_bytes
        if len(raw) > limit:
            raise ProtocolError("invalid_arguments", f"message exceeds {limit} bytes")
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ProtocolError("invalid_arguments", "message is not valid JSON") from None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "close":
            return None
        self.session(session.id, session.owner)  # expiry and the idle clock, as for any use of a session
        if kind == "reset":
            body = await self.reset(session, message.get("data", {}), RESET_FIELDS)
            return '{"type":"observation","data":' + body.decode() + "}"
        if kind == "step":
            if "data" not in message:
                raise ProtocolError("invalid_arguments", 'a step message is {"type": "step", "data": <action>}')
            return '{"type":"observation","data":' + (await self.step(session, message["data"])).decode() + "}"
        if kind == "state":
            return '{"type":"state","data":' + self.state(session).decode() + "}"
        raise ProtocolError("invalid_arguments", 'a message is {"type": "reset" | "step" | "state" | "close", '
                                                 '"data": ...} (MCP is served at /mcp)')


class WebSocketEndpoint:
    """``OpenEnvRoutes.websocket`` as an ASGI app (Starlette would wrap a method as a session
    handler that has already lost the chance to refuse the handshake with a status)."""

    def __init__(self, routes: OpenEnvRoutes):
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.routes.websocket(scope, receive, send)


class HttpAnswer(Exception):
    """A finished error ``Response`` to return as is (the service's own, e.g. 413)."""

    def __init__(self, response: Response):
        self.response = response


def json_bytes(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def error_body(err: ProtocolError) -> dict[str, Any]:
    return {"error": err.code, "message": err.message, **err.extra}


def error_response(err: ProtocolError) -> Response:
    if err.code == "session_capacity":
        return session_capacity(SessionCapacity(err.message, err.extra["limit"], err.extra["retry_after_s"]))
    return json_response(error_body(err), STATUS[err.code])


async def http_answer(answer: Callable[[], Any]) -> Response:
    try:
        return await answer()
    except HttpAnswer as done:
        return done.response
    except ProtocolError as err:
        return error_response(err)


async def send_error(websocket: WebSocket, err: ProtocolError) -> None:
    data = {"code": err.code, "message": err.message, **err.extra}
    await websocket.send_text(orjson.dumps({"type": "error", "data": data}).decode())


def mount(app: Any, make_env: Callable[[SessionBackend], FinAdvisorEnv]) -> None:
    """Add the OpenEnv routes to the service ``app`` (its bearer tokens guard them, ``/ws`` included).
    ``make_env(backend)``: a ``FinAdvisorEnv`` over the served suite on that back-end."""
    routes = OpenEnvRoutes(app.state.service, make_env)
    schema = orjson.dumps({"action": ACTION_SCHEMA, "observation": OBSERVATION_SCHEMA, "state": STATE_SCHEMA})
    metadata = orjson.dumps({"name": "advisorgym", "version": package_version("0+unknown"),
                             "description": "A financial advisor's copilot in a mock back office: tool-calling "
                                            "episodes scored out of 3 (format, correctness, efficiency, "
                                            "compliance)."})

    async def get_schema(_: Request) -> Response:
        return json_bytes(schema)

    async def get_metadata(_: Request) -> Response:
        return json_bytes(metadata)

    app.router.routes.extend([
        Route("/reset", routes.http_reset, methods=["POST"]),
        Route("/step", routes.http_step, methods=["POST"]),
        Route("/state", routes.http_state, methods=["GET"]),
        Route("/schema", get_schema, methods=["GET"]),
        Route("/metadata", get_metadata, methods=["GET"]),
        WebSocketRoute("/ws", WebSocketEndpoint(routes)),
    ])
