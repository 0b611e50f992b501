"""The environment as an MCP server (the official ``mcp`` SDK; extra ``mcp``).

Tools: every catalogue tool with its input and output JSON Schemas exactly as the catalogue
declares them (``ToolSpec.parameters``, ``ToolSpec.returns``) and hints from its contract
(``readOnlyHint`` for tools that only read, ``destructiveHint`` for those that write), plus
two episode tools: ``start_task`` (a task by id, or one drawn by seed) and ``submit_answer``
(ends the episode; returns the reward breakdown). A tool's result is its JSON payload as
structured content (and as text); an error payload (bad arguments, unknown client, ...) comes
back as a tool error with the same JSON, and the episode goes on, as in the env.

Each MCP connection is its own episode (``envs.integrations.episode.Episode``) on its own
``FinAdvisorEnv``, i.e. its own sandbox: two sessions never see each other's writes. Episodes
need a session, so the server speaks the session (``initialize`` handshake) era of MCP; its
``server/discover`` answer says so, and clients in ``auto`` mode fall back to the handshake.

- ``advisorgym mcp``: one episode over stdio (``run_stdio``);
- ``advisorgym serve``: ``/mcp`` (streamable HTTP) behind the service's bearer tokens
  (``mount``), at most ``max_sessions`` live episodes, each expiring after ``idle_ttl_s`` idle.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import mcp_types as types
import orjson
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from envs.env import FinAdvisorEnv
from envs.integrations.episode import INLINE_TURN_CHARS, NO_EPISODE, Episode, EpisodeError
from mock_apis import package_version
from mock_apis.domain import Domain, get_domain

EPISODE_KEY, OWNER_KEY, RELEASE_KEY = "advisorgym.episode", "advisorgym.owner", "advisorgym.release"
START_TASK = types.Tool(
    name="start_task",
    description="Start an episode: the task with this id (or one drawn with seed). Returns the advisor's query "
                "(user) and the system prompt. Starting again begins a new episode on a pristine sandbox.",
    input_schema={"type": "object", "additionalProperties": False,
                  "properties": {"task_id": {"type": "string", "description": "A task id of the loaded suite."},
                                 "seed": {"type": "integer", "description": "Draws the task when no task_id."}}},
    output_schema={"type": "object", "required": ["task_id", "level", "system", "user"],
                   "properties": {"task_id": {"type": "string"}, "level": {"type": "string"},
                                  "system": {"type": "string"}, "user": {"type": "string"},
                                  "reward_version": {"type": "string"}}},
    annotations=types.ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                                      open_world_hint=False),
)
SUBMIT_ANSWER = types.Tool(
    name="submit_answer",
    description="Give the advisor the final answer; ends the episode and returns its reward breakdown "
                "(total out of 3, and each component).",
    input_schema={"type": "object", "required": ["answer"], "additionalProperties": False,
                  "properties": {"answer": {"type": "string", "description": "The answer to the advisor."}}},
    output_schema={"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}},
    annotations=types.ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                                      open_world_hint=False),
)


def catalogue_tools(domain: str | Domain | None = None) -> list[types.Tool]:
    """The tools of ``domain`` (default: the default domain; default versions) as MCP tools,
    schemas as declared."""
    return [types.Tool(name=spec.name, description=spec.description, input_schema=spec.parameters,
                       output_schema=spec.returns,
                       annotations=types.ToolAnnotations(read_only_hint=not spec.writes, destructive_hint=spec.writes,
                                                         open_world_hint=False))
            for spec in get_domain(domain).tools.tools.values()]


def _result(payload: Any, ok: bool) -> types.CallToolResult:
    text = orjson.dumps(payload).decode()
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=payload if ok else None,
                                is_error=not ok)


def _error(code: str, message: str) -> types.CallToolResult:
    return _result({"error": code, "message": message}, False)


def build_server(make_env: Callable[[], FinAdvisorEnv], *, per_connection: bool, max_episodes: int | None = None,
                 owner: Callable[[Any], str | None] | None = None,
                 domain: str | Domain | None = None) -> Server[Any]:
    """The MCP server over episodes on envs from ``make_env``. ``per_connection``: one episode
    per MCP session (streamable HTTP; the server then advertises only the session era), else
    one for the whole process (stdio, whose process is the session). ``max_episodes``: live
    episodes at most (``session_capacity`` beyond); ``owner``: the credential owner of an HTTP
    request (an episode answers only the owner that started it). ``domain``: the envs'
    (default: the default domain), whose tools are listed."""
    tools = [START_TASK, SUBMIT_ANSWER, *catalogue_tools(domain)]
    composite = {name for name, spec in get_domain(domain).tools.tools.items() if spec.composite}
    listing = types.ListToolsResult(tools=tools)
    live = {"episodes": 0}
    process_state: dict[str, Any] = {}

    def state_of(ctx: Any) -> dict[str, Any]:
        # mcp 2: a request context's session carries its connection, whose ``state`` persists
        # across the session's requests and whose ``exit_stack`` unwinds when it ends.
        return ctx.session._connection.state if per_connection else process_state  # noqa: SLF001

    def request_owner(ctx: Any) -> str | None:
        return owner(ctx.request) if owner is not None and ctx.request is not None else None

    async def open_episode(ctx: Any) -> Episode:
        state = state_of(ctx)
        episode = state.get(EPISODE_KEY)
        if episode is not None:
            return episode
        if max_episodes is not None and live["episodes"] >= max_episodes:
            raise EpisodeError("session_capacity", f"{max_episodes} episodes are live; end a session or retry later")
        episode = Episode(await anyio.to_thread.run_sync(make_env))
        live["episodes"] += 1
        state[EPISODE_KEY], state[OWNER_KEY] = episode, request_owner(ctx)

        def release() -> None:
            live["episodes"] -= 1
            episode.close()

        if per_connection:
            ctx.session._connection.exit_stack.callback(release)  # noqa: SLF001
        else:
            state[RELEASE_KEY] = release
        return episode

    async def on_list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return listing

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = params.arguments or {}
        try:
            if params.name == "start_task":
                episode = await open_episode(ctx)
                if not isinstance(arguments.get("task_id", ""), str) or not isinstance(arguments.get("seed", 0), int):
                    return _error("invalid_arguments", "start_task takes task_id (string) and/or seed (integer)")
                task = await anyio.to_thread.run_sync(episode.start, arguments.get("task_id"), arguments.get("seed"))
                return _result(task, True)
            state = state_of(ctx)
            episode = state.get(EPISODE_KEY)
            if episode is None or state[OWNER_KEY] != request_owner(ctx):
                return _error(*NO_EPISODE)
            if params.name == "submit_answer":
                answer = arguments.get("answer")
                if not isinstance(answer, str):
                    return _error("invalid_arguments", "submit_answer takes answer (string)")
                return _result(await episode.run(len(answer) <= INLINE_TURN_CHARS, episode.submit, answer), True)
            # as the service runs its tools: atomic ones on the event loop, composite ones in the pool
            payload, ok, _ = await episode.run(params.name not in composite, episode.call_tool, params.name,
                                               arguments)
            return _result(payload, ok)
        except EpisodeError as err:
            return _error(err.code, err.message)

    server: Server[Any] = Server("advisorgym", version=package_version("0+unknown"),
                                 instructions="Call start_task, then the back-office tools, then submit_answer.",
                                 on_list_tools=on_list_tools, on_call_tool=on_call_tool)
    if per_connection:
        async def on_discover(ctx: Any, params: Any) -> types.DiscoverResult:
            # Episodes live in sessions, which only the handshake era has over HTTP.
            return types.DiscoverResult(supported_versions=list(HANDSHAKE_PROTOCOL_VERSIONS),
                                        capabilities=server.get_capabilities(protocol_version=ctx.protocol_version),
                                        instructions=server.instructions)

        server.add_request_handler("server/discover", types.RequestParams, on_discover)
    else:
        server.release = lambda: process_state.get(RELEASE_KEY, lambda: None)()  # type: ignore[attr-defined]
    return server


async def run_stdio(make_env: Callable[[], FinAdvisorEnv], domain: str | Domain | None = None) -> None:
    """Serve one client over stdin/stdout: one episode (a new task resets it) until stdin closes."""
    from mcp.server.stdio import stdio_server

    server = build_server(make_env, per_connection=False, domain=domain)
    try:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        server.release()  # type: ignore[attr-defined]


def mount(app: Any, make_env: Callable[[], FinAdvisorEnv], *, max_episodes: int, idle_ttl_s: float,
          host: str = "127.0.0.1", owner: Callable[[Any], str | None] | None = None,
          domain: str | Domain | None = None) -> None:
    """Add ``/mcp`` (streamable HTTP) to the service ``app``: its bearer-token middleware guards
    it like every other route; the session manager runs inside the app's lifespan."""
    server = build_server(make_env, per_connection=True, max_episodes=max_episodes, owner=owner, domain=domain)
    loopback = host in ("127.0.0.1", "localhost", "::1")
    security = TransportSecuritySettings(  # the SDK's DNS-rebinding guard, as it sets it for loopback hosts
        enable_dns_rebinding_protection=True, allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]) if loopback else None
    manager = StreamableHTTPSessionManager(app=server, security_settings=security, session_idle_timeout=idle_ttl_s,
                                         json_response=True)
    from starlette.routing import Route

    app.router.routes.append(Route("/mcp", StreamableHTTPASGIApp(manager), methods=["GET", "POST", "DELETE"]))
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(scope_app: Any) -> AsyncIterator[Any]:
        async with manager.run(), inner(scope_app) as state:
            yield state

    app.router.lifespan_context = lifespan
