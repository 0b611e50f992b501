"""Back-ends: where the environment's tool calls run.

Every back-end exposes the same four operations, so the environment (and the reward's
sandbox re-execution) cannot tell them apart:

- ``reset()``: start a new episode on a pristine copy of the replica;
- ``call(name, arguments)``: run a tool for real in the episode's state;
- ``probe(name, arguments)``: run a tool in the episode's current state and undo its
  effects (used to execute gold calls for parameter accuracy);
- ``replica_meta()``: the replica's metadata (seed, scale, as-of date, versions);
- ``close()``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Protocol

import orjson

from mock_apis.catalogue import ToolOutcome, call_tool, probe_tool, sanity_errors
from mock_apis.sandbox import Sandbox

# The service's wire protocol (mock_apis.app; repeated here so the in-process path never imports FastAPI).
TOKEN_ENV = "ADVISORGYM_API_TOKEN"
SESSION_HEADER = "X-Session-Id"
SESSION_GONE_STATUS = 410
JSON_FALLBACK_HEADER = "X-Advisorgym-Json"


class Backend(Protocol):
    def reset(self) -> None: ...

    def call(self, name: Any, arguments: Any) -> ToolOutcome: ...

    def probe(self, name: Any, arguments: Any) -> ToolOutcome: ...

    def replica_meta(self) -> dict[str, str]: ...

    def close(self) -> None: ...


class InProcessBackend:
    """Runs tools in this process on a private ``Sandbox`` over the replica file."""

    def __init__(self, replica_path: str | Path):
        self.sandbox = Sandbox(replica_path)

    def reset(self) -> None:
        self.sandbox.reset()

    def call(self, name: Any, arguments: Any) -> ToolOutcome:
        return call_tool(self.sandbox, name, arguments)

    def probe(self, name: Any, arguments: Any) -> ToolOutcome:
        return probe_tool(self.sandbox, name, arguments)

    def replica_meta(self) -> dict[str, str]:
        return dict(self.sandbox.meta)

    def close(self) -> None:
        self.sandbox.close()


class HttpBackend:
    """Runs tools on the FastAPI service (``advisorgym serve``), in a private episode session.

    Same contract as ``InProcessBackend``: the payloads are exactly those ``call_tool``
    returns in-process for the same state (arguments travel as standard-library JSON, so big
    integers and NaN arrive unchanged). It never raises on a bad service: connection errors
    come back as ``service_unavailable``, timeouts as ``timeout``, an answer that is not the
    service's JSON as ``service_unavailable``. If the service lost the session (restart,
    eviction) the calls of the rest of the episode fail with ``service_unavailable`` rather
    than silently running on a pristine copy; the next ``reset()`` opens a new session.

    Connections are kept alive in one ``httpx.HTTPTransport`` pool, shared with ``self.client``
    (an ``httpx.Client`` for ad-hoc requests). Tool calls go to the transport directly with
    prebuilt headers: ``Client.post`` adds ~0.4 ms of per-request bookkeeping (URL merging,
    cookies, redirects, auth flow) that a fixed loopback endpoint does not need. Environment
    proxy settings are not used.
    """

    _SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0):
        import httpx

        self._httpx = httpx
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.transport = httpx.HTTPTransport()
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                   transport=self.transport, trust_env=False)
        self._headers = [(k.encode(), v.encode()) for k, v in headers.items()]
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}
        self._urls: dict[str, Any] = {}
        self.session_id: str | None = None
        self._session_lost = False  # the service forgot our session mid-episode

    # -- Backend protocol --------------------------------------------------------------

    def reset(self) -> None:
        """A pristine episode: reset our session, or open one. Never raises."""
        self._session_lost = False
        if self.session_id is not None:
            outcome = self._request("POST", f"/sessions/{self.session_id}/reset")
            if outcome.ok:
                return
            # gone, or we cannot tell whether it was reset: never reuse it (a leftover is evicted server-side)
            self.session_id = None
        self._open_session()  # on failure the first call retries, and reports if it still fails

    def call(self, name: Any, arguments: Any) -> ToolOutcome:
        return self._run(name, arguments, probe=False)

    def probe(self, name: Any, arguments: Any) -> ToolOutcome:
        return self._run(name, arguments, probe=True)

    def replica_meta(self) -> dict[str, str]:
        """The service's replica metadata (from ``GET /health``); empty if it can't be read."""
        outcome = self._request("GET", "/health")
        meta = outcome.payload.get("replica") if outcome.ok else None
        return dict(meta) if isinstance(meta, dict) else {}

    def close(self) -> None:
        try:
            if self.session_id is not None:
                self._request("DELETE", f"/sessions/{self.session_id}")
        finally:
            self.session_id = None
            self.client.close()  # closes the shared transport too

    # -- internals ---------------------------------------------------------------------

    def _open_session(self) -> ToolOutcome | None:
        """Open a session; ``None`` on success, else the failure as an outcome."""
        outcome = self._request("POST", "/sessions")
        if outcome.ok and isinstance(outcome.payload.get("session_id"), str):
            self.session_id = outcome.payload["session_id"]
            return None
        return outcome if not outcome.ok else _unavailable("the service answered POST /sessions without a session id")

    def _run(self, name: Any, arguments: Any, probe: bool) -> ToolOutcome:
        if not isinstance(name, str) or self._SAFE_NAME.fullmatch(name) is None or sanity_errors(arguments):
            # no tool has such a name (it cannot travel in a URL path), or the arguments cannot be
            # serialised safely (too deep, too big, out-of-range integers): answer as call_tool does
            return call_tool(None, name, arguments)  # type: ignore[arg-type]  # never touches the sandbox
        if self._session_lost:
            return _unavailable("the service lost this episode's session; the episode state is gone until reset()")
        if self.session_id is None:
            failure = self._open_session()
            if failure is not None:
                return failure
        try:
            body = json.dumps(arguments, separators=(",", ":")).encode()  # exact big ints and NaN, like in-process
        except (TypeError, ValueError) as err:
            return ToolOutcome(False, {"error": "invalid_arguments", "message": f"arguments are not JSON: {err}"})
        if probe:
            outcome = self._request("POST", f"/sessions/{self.session_id}/probe/{name}", body)
        else:
            outcome = self._request("POST", f"/tools/{name}", body, (b"X-Session-Id", self.session_id.encode()))
        if outcome is _SESSION_GONE:
            self.session_id, self._session_lost = None, True
            return _unavailable("the service lost this episode's session; the episode state is gone until reset()")
        return outcome

    def _url(self, path: str) -> Any:
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) > 1024:
                self._urls.clear()
            url = self._urls[path] = self._httpx.URL(self.base_url + path)
        return url

    def _request(self, method: str, path: str, body: bytes | None = None,
                 header: tuple[bytes, bytes] | None = None) -> ToolOutcome:
        httpx = self._httpx
        try:
            request = httpx.Request(method, self._url(path), content=body, extensions=self._extensions,
                                    headers=self._headers if header is None else [*self._headers, header])
            response = self.transport.handle_request(request)
            try:
                content = response.read()
            finally:
                response.close()
        except httpx.TimeoutException as err:
            return ToolOutcome(False, {"error": "timeout", "message": f"the tool service did not answer in time "
                                                                      f"({type(err).__name__})"})
        except Exception as err:  # noqa: BLE001  (connection refused or reset, protocol errors, bad URL, ...)
            return _unavailable(f"cannot reach the tool service at {self.base_url} ({type(err).__name__})")
        status = response.status_code
        if status == 204:
            return ToolOutcome(True, {})
        try:
            payload = json.loads(content) if response.headers.get(JSON_FALLBACK_HEADER) else orjson.loads(content)
        except Exception:  # noqa: BLE001
            payload = None
        if not isinstance(payload, dict):
            return _unavailable(f"the tool service answered HTTP {status} without a JSON object")
        if status == SESSION_GONE_STATUS and payload.get("error") == "not_found":
            return _SESSION_GONE
        if 200 <= status < 300:
            return ToolOutcome(True, payload)
        if isinstance(payload.get("error"), str) and isinstance(payload.get("message"), str):
            return ToolOutcome(False, payload)
        return _unavailable(f"the tool service answered HTTP {status} without a structured error")


def _unavailable(message: str) -> ToolOutcome:
    return ToolOutcome(False, {"error": "service_unavailable", "message": message})


_SESSION_GONE = ToolOutcome(False, {"error": "not_found", "message": "session gone"})
