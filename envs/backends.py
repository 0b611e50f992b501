"""Back-ends: where the environment's tool calls run.

Every back-end exposes the same four operations, so the environment (and the reward's
sandbox re-execution) cannot tell them apart:

- ``reset()``: start a new episode on a pristine copy of the replica;
- ``call(name, arguments)``: run a tool for real in the episode's state;
- ``probe(name, arguments)``: run a tool in the episode's current state and undo its
  effects (used to execute gold calls for parameter accuracy);
- ``replica_meta()``: the replica's metadata (seed, scale, as-of date, versions);
- ``close()``.

A back-end may also offer ``run_ops(ops)``: a list of calls and probes run in order as one
operation (``HttpBackend``: one request for an agent's whole turn, gold probes included); the
environment goes through :func:`run_ops`, which falls back to the separate operations.

A tool name is its default version; a ``mock_apis.catalogue.ToolRef(name, version)`` in its
place calls that version (``HttpBackend``: the route ``/tools/name@version``, a batch
operation's ``version`` field). The environment sends those for a task's pinned versions.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from envs import wire
from mock_apis.catalogue import ToolOutcome, ToolRef, call_tool, probe_tool, sanity_errors
from mock_apis.domain import Domain, get_domain
from mock_apis.sandbox import Sandbox, check_replica

# The service's wire protocol (mock_apis.app; repeated here so the in-process path never imports FastAPI).
TOKEN_ENV = "ADVISORGYM_API_TOKEN"
TOKEN_FILE_ENV = "ADVISORGYM_API_TOKEN_FILE"
SESSION_HEADER = "X-Session-Id"
SESSION_GONE_STATUS = 410
JSON_FALLBACK_HEADER = "X-Advisorgym-Json"
JSON_FALLBACK = JSON_FALLBACK_HEADER.lower().encode()
#: The HTTP client's total deadline per operation, and its retries (see ``HttpBackend``).
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_RETRIES = 2
CLIENT_KEEPALIVE_S = 2.0
#: The most operations the service takes in one batch request (``mock_apis.app.MAX_BATCH_OPS``).
MAX_BATCH_OPS = 64


class Backend(Protocol):
    """Where tool calls run: one episode's sandboxed view of a replica.

    ``reset`` starts a fresh episode state; ``call`` runs a tool (writes stay in the episode);
    ``probe`` runs one and rolls it back (the reward's gold probes); ``replica_meta`` names the
    replica (seed, scale, as-of); ``close`` frees what the back-end holds. Implementations:
    ``InProcessBackend``, ``HttpBackend``, ``BackendPool`` and ``DockerBackend``.
    """

    def reset(self) -> None: ...

    def call(self, name: Any, arguments: Any) -> ToolOutcome: ...

    def probe(self, name: Any, arguments: Any) -> ToolOutcome: ...

    def replica_meta(self) -> dict[str, str]: ...

    def close(self) -> None: ...


#: One operation of a batch: ``(name, arguments, probe)``; a probe is rolled back. ``name``:
#: a tool name (its default version) or a ``ToolRef`` (that version).
Op = tuple[Any, Any, bool]


def run_ops(backend: Backend, ops: Sequence[Op]) -> list[ToolOutcome]:
    """Each operation's outcome, run in order in the episode's state: one request to an
    ``HttpBackend``; separate ``probe``/``call`` operations on a back-end without ``run_ops``."""
    batch = getattr(backend, "run_ops", None)
    if batch is not None:
        return batch(ops)
    return [backend.probe(name, arguments) if probe else backend.call(name, arguments)
            for name, arguments, probe in ops]


class InProcessBackend:
    """Runs ``domain``'s tools (default: the default domain's) in this process on a private
    ``Sandbox`` over the replica file."""

    def __init__(self, replica_path: str | Path, domain: str | Domain | None = None):
        self.domain = get_domain(domain)
        check_replica(replica_path, self.domain.schema)
        self.sandbox = Sandbox(replica_path, self.domain.schema)

    def reset(self) -> None:
        self.sandbox.reset()

    def call(self, name: Any, arguments: Any) -> ToolOutcome:
        return call_tool(self.sandbox, name, arguments, self.domain.tools)

    def probe(self, name: Any, arguments: Any) -> ToolOutcome:
        return probe_tool(self.sandbox, name, arguments, self.domain.tools)

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
    service's JSON as ``service_unavailable``, a full service (``session_capacity``) as
    ``service_unavailable`` too. If the service lost the session (restart, expiry) the calls
    of the rest of the episode fail with ``service_unavailable`` rather than silently running
    on a pristine copy; the next ``reset()`` opens a new session.

    **Time-outs.** ``timeout`` is a total deadline per operation: connecting, sending and
    every read of the answer, and any retries, all end by then, however slowly the server
    trickles bytes (each socket operation gets only the time left). **Retries:** at most
    ``retries`` more attempts, with jittered exponential back-off, within the same deadline:
    for any request that could not connect (it never reached the server), and for idempotent
    ones (reads, probes, resets, deletes, ``/health``) also after a dropped connection or a
    503; never for a write tool call whose request may have arrived. ``check=True`` reads
    ``/health`` at construction and raises ``ConnectionError`` naming the URL if it fails.
    ``domain``: the service's domain (default: the default domain), whose write tools are never retried.

    **The wire.** One kept-alive connection (``envs.wire.Connection``: the request head written
    once per request from prebuilt header lines, the answer read by its ``Content-Length``),
    not a general HTTP client: httpx/httpcore cost ~0.7 ms a request, more than the service
    itself. Environment proxy settings are not used; ``https://`` URLs work.
    """

    _SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
    _SAFE_VERSION = re.compile(r"[A-Za-z0-9._-]{1,64}")

    def __init__(self, base_url: str, token: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES, backoff_s: float = 0.05, check: bool = False,
                 domain: str | Domain | None = None):
        if timeout <= 0 or retries < 0:
            raise ValueError("timeout must be positive and retries not negative")
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.timeout, self.retries, self.backoff_s = float(timeout), retries, backoff_s
        self._connect(base_url)
        self._headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        self._writes = {name for name, spec in get_domain(domain).tools.tools.items() if spec.writes}
        self._session_lost = False  # the service forgot our session mid-episode
        self.last_error: str | None = None  # why the last failed request failed, for messages
        if check:
            self.check()

    def check(self) -> dict[str, Any]:
        """``GET /health``'s answer; ``ConnectionError`` naming the URL if the service is not there."""
        outcome = self._request("GET", "/health")
        if not outcome.ok or not isinstance(outcome.payload.get("replica"), dict):
            self.connection.close()
            reason = outcome.payload.get("message", "no replica metadata in its answer")
            raise ConnectionError(f"the advisorgym tool service at {self.base_url} is not usable: {reason}. Is "
                                  "`advisorgym serve` running there, and is the token right?")
        return outcome.payload

    # -- Backend protocol --------------------------------------------------------------

    def reset(self) -> None:
        """A pristine episode: reset our session, or open one. Never raises."""
        self._session_lost = False
        if self.session_id is not None:
            outcome = self._request("POST", f"/sessions/{self.session_id}/reset")
            if outcome.ok:
                return
            # gone, or we cannot tell whether it was reset: never reuse it (a leftover expires server-side)
            self.session_id = None
        self._open_session()  # on failure the first call retries, and reports if it still fails

    def call(self, name: Any, arguments: Any) -> ToolOutcome:
        return self._run(name, arguments, probe=False)

    def probe(self, name: Any, arguments: Any) -> ToolOutcome:
        return self._run(name, arguments, probe=True)

    def run_ops(self, ops: Sequence[Op]) -> list[ToolOutcome]:
        """The operations in one request (``POST /sessions/{id}/batch``; more than
        ``MAX_BATCH_OPS`` in several, in order), outcomes in order.

        Each outcome is the one the operation's own route (``probe``, ``call``) would give: the
        batch route answers every operation with that route's status and payload, and runs them
        in order under the session's lock, so the results are byte-identical to in-process. An
        operation that cannot travel (a name no tool has, arguments that fail the sanity check
        or are not JSON) is answered here as ``call`` would, without being sent; a failure of
        the request itself (unreachable, time-out, session lost) is every sent operation's
        outcome. Retried like a write call when a call in it writes, else like a read.
        """
        outcomes: list[ToolOutcome | None] = [None] * len(ops)
        sent, parts = [], []
        for i, (name, arguments, probe) in enumerate(ops):
            local = self._local_outcome(name, arguments)
            encoded = _json_body(arguments) if local is None else local
            if isinstance(encoded, ToolOutcome):
                outcomes[i] = encoded
                continue
            sent.append(i)  # names are _SAFE_NAME, versions _SAFE_VERSION: no escaping needed
            head = name.encode() if isinstance(name, str) else b'%s","version":"%s' % (name.name.encode(),
                                                                                       name.version.encode())
            parts.append(b'{"name":"%s","probe":%s,"arguments":%s}' % (head, b"true" if probe else b"false",
                                                                       encoded))
        for start in range(0, len(sent), MAX_BATCH_OPS):  # one request, unless the turn is huge
            chunk = sent[start:start + MAX_BATCH_OPS]
            body = b'{"ops":[' + b",".join(parts[start:start + MAX_BATCH_OPS]) + b"]}"
            writes = any(not ops[i][2] and _tool_name(ops[i][0]) in self._writes for i in chunk)
            for i, outcome in zip(chunk, self._batch(body, len(chunk), idempotent=not writes)):
                outcomes[i] = outcome
        return outcomes  # type: ignore[return-value]  # every slot is filled

    def replica_meta(self) -> dict[str, str]:
        """The service's replica metadata (from ``GET /health``); empty if it can't be read
        (``last_error`` then says why)."""
        outcome = self._request("GET", "/health")
        meta = outcome.payload.get("replica") if outcome.ok else None
        return dict(meta) if isinstance(meta, dict) else {}

    def close(self) -> None:
        try:
            if self.session_id is not None:
                self._request("DELETE", f"/sessions/{self.session_id}")
        finally:
            self.session_id = None
            self.connection.close()

    # -- internals ---------------------------------------------------------------------

    def _connect(self, base_url: str) -> None:
        """Talk to the service at ``base_url`` from now on (a session elsewhere is forgotten)."""
        self.base_url = base_url.rstrip("/")
        self.connection = wire.Connection(self.base_url, keepalive_s=CLIENT_KEEPALIVE_S)
        self.session_id: str | None = None

    def _open_session(self) -> ToolOutcome | None:
        """Open a session; ``None`` on success, else the failure as an outcome."""
        outcome = self._request("POST", "/sessions", idempotent=False)
        if outcome.ok and isinstance(outcome.payload.get("session_id"), str):
            self.session_id = outcome.payload["session_id"]
            return None
        if outcome.payload.get("error") == "session_capacity":  # the service is full: not the agent's doing
            return _unavailable(f"the tool service has no room for a new session (session_capacity): "
                                f"{outcome.payload.get('message')}", reason="session_capacity")
        return outcome if not outcome.ok else _unavailable("the service answered POST /sessions without a session id")

    def _local_outcome(self, name: Any, arguments: Any) -> ToolOutcome | None:
        """The outcome of an operation that cannot travel, answered as ``call_tool`` would; None
        for one that can."""
        if not self._travels(name) or sanity_errors(arguments):
            # no tool has such a name or version (it cannot travel in a URL path), or the arguments cannot be
            # serialised safely (too deep, too big, out-of-range integers): answer as call_tool does
            return call_tool(None, name, arguments)  # type: ignore[arg-type]  # never touches the sandbox
        return None

    def _travels(self, name: Any) -> bool:
        """Whether ``name`` (a tool name, or a ``ToolRef``) can be sent as it is in a URL path."""
        if isinstance(name, str):
            return self._SAFE_NAME.fullmatch(name) is not None
        return (type(name) is ToolRef and isinstance(name.name, str) and isinstance(name.version, str)
                and self._SAFE_NAME.fullmatch(name.name) is not None
                and self._SAFE_VERSION.fullmatch(name.version) is not None)

    def _session_ready(self) -> ToolOutcome | None:
        """None when the episode has a live session (opened now if need be), else why not."""
        if self._session_lost:
            return _lost()
        if self.session_id is None:
            return self._open_session()
        return None

    def _batch(self, body: bytes, n: int, idempotent: bool) -> list[ToolOutcome]:
        """The ``n`` outcomes of one batch request, or its failure ``n`` times."""
        failure = self._session_ready()
        if failure is None:
            outcome = self._request("POST", f"/sessions/{self.session_id}/batch", body, idempotent=idempotent)
            if outcome is _SESSION_GONE:
                failure = self._lose_session()
            elif not outcome.ok:
                failure = outcome
            else:
                results = outcome.payload.get("results")
                if isinstance(results, list) and len(results) == n and all(isinstance(r, dict) for r in results):
                    return [_item_outcome(r.get("status"), r.get("body")) for r in results]
                failure = _unavailable("the tool service answered a batch without one result per operation")
        return [ToolOutcome(failure.ok, dict(failure.payload)) for _ in range(n)]

    def _run(self, name: Any, arguments: Any, probe: bool) -> ToolOutcome:
        local = self._local_outcome(name, arguments)
        if local is not None:
            return local
        failure = self._session_ready()
        if failure is not None:
            return failure
        body = _json_body(arguments)
        if isinstance(body, ToolOutcome):
            return body
        if probe:
            outcome = self._request("POST", f"/sessions/{self.session_id}/probe/{name}", body)
        else:
            outcome = self._request("POST", f"/tools/{name}", body, (b"X-Session-Id", self.session_id.encode()),
                                    idempotent=_tool_name(name) not in self._writes)
        if outcome is _SESSION_GONE:
            return self._lose_session()
        return outcome

    def _lose_session(self) -> ToolOutcome:
        """Forget the session the service lost; the episode's calls fail until ``reset()``."""
        self.session_id, self._session_lost = None, True
        return _lost()

    def _request(self, method: str, path: str, body: bytes | None = None,
                 header: tuple[bytes, bytes] | None = None, idempotent: bool = True) -> ToolOutcome:
        """One operation under one total deadline, retried (within it) where that is safe."""
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            outcome, retry = self._attempt(method, path, body, header, idempotent, deadline)
            if not retry or attempt >= self.retries:
                break
            pause = self.backoff_s * (2 ** attempt) * (0.5 + random.random() / 2)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
            attempt += 1
        self.last_error = None if outcome.ok else outcome.payload.get("message")
        return outcome

    def _attempt(self, method: str, path: str, body: bytes | None, header: tuple[bytes, bytes] | None,
                 idempotent: bool, deadline: float) -> tuple[ToolOutcome, bool]:
        """One HTTP exchange: the outcome, and whether another attempt may be made."""
        headers = self._headers if header is None else self._headers + b"%s: %s\r\n" % header
        try:
            response = self.connection.request(method, path, headers, body, deadline)
        except wire.Timeout as err:
            message = f"the tool service did not answer within {self.timeout:g} s ({err})"
            return ToolOutcome(False, {"error": "timeout", "message": message}), False
        except wire.ConnectFailed as err:  # nothing was sent: always safe to try again
            return _unavailable(f"cannot reach the tool service at {self.base_url} ({err})"), True
        except wire.Dropped as err:  # the connection broke after the request may have arrived
            return _unavailable(f"cannot reach the tool service at {self.base_url} ({err})"), idempotent
        status, content = response.status, response.body
        if status == 204:
            return ToolOutcome(True, {}), False
        try:
            payload = json.loads(content) if JSON_FALLBACK in response.headers else orjson.loads(content)
        except Exception:  # noqa: BLE001
            payload = None
        if not isinstance(payload, dict):
            return _unavailable(f"the tool service answered HTTP {status} without a JSON object"), \
                idempotent and status == 503
        if status == SESSION_GONE_STATUS and payload.get("error") == "not_found":
            return _SESSION_GONE, False
        outcome = _item_outcome(status, payload)
        return outcome, idempotent and status == 503 and _is_tool_error(payload)


def _tool_name(name: Any) -> Any:
    """The tool a call names: a ``ToolRef``'s tool, else ``name`` itself."""
    return name.name if type(name) is ToolRef else name


def _json_body(arguments: Any) -> bytes | ToolOutcome:
    """Arguments as JSON bytes (the standard library: exact big ints and NaN, like in-process),
    or the ``invalid_arguments`` outcome of arguments that are not JSON."""
    try:
        return json.dumps(arguments, separators=(",", ":")).encode()
    except (TypeError, ValueError) as err:
        return ToolOutcome(False, {"error": "invalid_arguments", "message": f"arguments are not JSON: {err}"})


def _item_outcome(status: Any, payload: Any) -> ToolOutcome:
    """The outcome of a tool route's answer (or of one batch result): its status and JSON object."""
    if not isinstance(payload, dict) or not isinstance(status, int):
        return _unavailable(f"the tool service answered HTTP {status} without a JSON object")
    if 200 <= status < 300:
        return ToolOutcome(True, payload)
    if _is_tool_error(payload):
        return ToolOutcome(False, payload)
    return _unavailable(f"the tool service answered HTTP {status} without a structured error")


def _is_tool_error(payload: dict[str, Any]) -> bool:
    return isinstance(payload.get("error"), str) and isinstance(payload.get("message"), str)


def _unavailable(message: str, **extra: Any) -> ToolOutcome:
    return ToolOutcome(False, {"error": "service_unavailable", "message": message, **extra})


_SESSION_GONE = ToolOutcome(False, {"error": "not_found", "message": "session gone"})


def _lost() -> ToolOutcome:
    return _unavailable("the service lost this episode's session; the episode state is gone until reset()")
