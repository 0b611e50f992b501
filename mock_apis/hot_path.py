"""The service's hot route, served ahead of the framework: ``POST /sessions/{id}/batch``.

A remote episode makes one batch request per agent turn (``envs.backends.HttpBackend``), so
that route's cost is the service's cost per step. Through FastAPI a request passes its whole
middleware stack (server errors, exception telemetry, body limit, authentication, exception
handling, exit stacks) and the router's matching over every route before the endpoint runs:
about half the app's time for a one-call batch (measured by calling the ASGI app directly:
~120 µs through the stack, ~60 µs to the endpoint). ``ServiceApp`` recognises that one route
by its path, authorises it with the same bearer check, and calls the same endpoint
(``ToolService.batch``) with a Starlette ``Request`` built from the scope. Everything else,
including a batch request it cannot authorise, goes through FastAPI unchanged, so errors
keep their one shape and status (``tests/test_batch_route.py`` holds both paths to the same
bytes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

_PREFIX, _SUFFIX = "/sessions/", "/batch"


class ServiceApp(FastAPI):
    """FastAPI, plus ``POST /sessions/{id}/batch`` served directly (see the module docstring)."""

    _batch: Callable[[Request], Awaitable[Response]] | None = None
    _authorise: Callable[[Scope], bool]
    _on_error: Callable[[Exception], Response]

    def serve_batch_directly(self, endpoint: Callable[[Request], Awaitable[Response]],
                             authorise: Callable[[Scope], bool], on_error: Callable[[Exception], Response]) -> None:
        """Serve the batch route with ``endpoint``. ``authorise(scope)`` is the bearer check: True
        (and the caller's identity put in the scope) or False, and FastAPI answers the request
        (401). ``on_error`` answers an exception the endpoint raised, as the app's handler does."""
        self._batch, self._authorise, self._on_error = endpoint, authorise, on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        batch = self._batch
        session_id = self._batch_session(scope) if batch is not None else None
        if batch is None or session_id is None or not self._authorise(scope):
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        scope["path_params"] = {"session_id": session_id}
        try:
            response = await batch(Request(scope, receive))
        except Exception as exc:  # noqa: BLE001  (as the app's catch-all handler: a structured 500)
            response = self._on_error(exc)
        await response(scope, receive, send)

    @staticmethod
    def _batch_session(scope: Scope) -> Any:
        """The session id of a ``POST /sessions/{id}/batch`` request, else None."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
            return None
        session_id = path[len(_PREFIX):-len(_SUFFIX)]
        return session_id if session_id and "/" not in session_id else None
