"""Running the service: uvicorn (httptools, or h11) with time-outs and a connection cap for hostile clients.

uvicorn alone times out only idle keep-alive connections: a client that connects and sends
half a request header, or trickles a body, holds its connection (and a file descriptor)
forever, and once descriptors run out every ``accept`` fails and asyncio logs a traceback
for each. The guarded protocols (uvicorn's own ``HttpToolsProtocol`` and ``H11Protocol``,
each with ``_RequestGuard`` mixed in) add:

- a **request read deadline**: each request (head and body) must arrive in full within
  ``ServerLimits.request_timeout_s`` of its first byte (or of the connection opening);
  otherwise the server answers 408 and closes the connection;
- a **descriptor budget**: each live session keeps its replica file open, so ``session_cap``
  lowers the session limit to half of the descriptors left after ``FD_RESERVE`` (``advisorgym
  serve`` says so in one line), and the connections get the rest: at capacity ``POST /sessions``
  answers 429 ``session_capacity`` while ``/health`` and the live sessions keep working;
- a **connection cap** below the descriptor limit: at the cap, a new connection first
  evicts the oldest connection still waiting for its request (a slow client, answered 408),
  so well-behaved clients keep getting in during a slow-client flood; only when every held
  connection is busy with a real request is the newcomer refused with 503;
- a **bounded request head** (``max_header_bytes``): h11 bounds it itself; for httptools the
  guard counts the head's bytes and answers 431 past the bound;
- **bounded logging**: ``RateLimitFilter`` on uvicorn's and asyncio's loggers passes a few
  records per message per window (tracebacks only on the first) and counts the rest.

``run_server`` (the CLI) and ``serve_in_thread`` (tests, benchmarks) both raise the
descriptor soft limit to the hard limit first, where the OS allows it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Descriptors kept free for everything that is not a client connection (SQLite files of the
#: sessions' sandboxes, the thread pool, logs, the listening socket).
FD_RESERVE = 128
FD_SOFT_LIMIT_TARGET = 65_536
LOGGERS = ("uvicorn", "uvicorn.error", "asyncio")


@dataclass(frozen=True)
class ServerLimits:
    """Time-outs and caps of the HTTP server (not of the app: see ``create_app`` for those)."""

    request_timeout_s: float = 10.0  # a whole request (head and body) must arrive within this
    keep_alive_s: float = 5.0  # an idle keep-alive connection is closed after this
    max_connections: int | None = None  # None: the descriptor soft limit less FD_RESERVE
    max_header_bytes: int = 16 * 1024  # a request head larger than this is refused (400)
    backlog: int = 2048
    http: str = "httptools"  # the HTTP parser: "httptools" (C) or "h11" (pure Python); see HTTP_PARSERS


def raise_fd_limit(target: int = FD_SOFT_LIMIT_TARGET) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``target`` (never above the hard limit, never
    lower); returns the soft limit in force. A no-op where ``resource`` does not exist."""
    try:
        import resource  # POSIX only: elsewhere the limit is left as it is
    except ImportError:  # not POSIX
        return 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def accept_batch(limits: ServerLimits, fd_soft_limit: int) -> int:
    """The listen backlog, which is also how many connections asyncio accepts in one go."""
    return max(8, min(limits.backlog, max(32, fd_soft_limit - FD_RESERVE) // 8))


def descriptor_room(limits: ServerLimits, fd_soft_limit: int) -> int:
    """The descriptors sessions and connections may share: the soft limit less ``FD_RESERVE``
    and four accept batches (asyncio accepts up to a backlog's worth of sockets before any
    protocol sees them, and an evicted connection's descriptor is closed a few loop turns later)."""
    return max(8, fd_soft_limit - FD_RESERVE - 4 * accept_batch(limits, fd_soft_limit))


def session_cap(limits: ServerLimits, fd_soft_limit: int, requested: int, pools: int = 1) -> int:
    """The live sessions each of ``pools`` session stores may hold (each session keeps one
    replica file open): ``requested``, but never more than half of ``descriptor_room`` in all,
    so that connections keep the other half."""
    return max(1, min(requested, descriptor_room(limits, fd_soft_limit) // (2 * pools)))


def connection_cap(limits: ServerLimits, fd_soft_limit: int, session_fds: int = 0) -> int:
    """The connection cap actually used: the requested one, but always within the descriptors
    that ``session_fds`` (the sessions' open files at capacity) leave of ``descriptor_room``."""
    ceiling = max(8, descriptor_room(limits, fd_soft_limit) - session_fds)
    return ceiling if limits.max_connections is None else max(1, min(limits.max_connections, ceiling))


def _raw_response(status: str, code: str, message: str) -> bytes:
    body = ('{"error":"%s","message":"%s"}' % (code, message)).encode()
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n").encode() + body


REQUEST_TIMEOUT_RESPONSE = _raw_response("408 Request Timeout", "timeout",
                                         "the request did not arrive in time; the connection is closed")
AT_CAPACITY_RESPONSE = _raw_response("503 Service Unavailable", "service_unavailable",
                                     "the server is at its connection limit; retry shortly")


HEAD_TOO_LARGE_RESPONSE = _raw_response("431 Request Header Fields Too Large", "invalid_arguments",
                                         "the request head is too large; the connection is closed")


class _RequestGuard:
    """The read deadline and connection cap, mixed into one of uvicorn's HTTP protocols.

    Use ``guarded_protocol(limits, cap, http)`` to get a class bound to one server's settings:
    ``waiting`` (the connections still receiving a request, oldest first) is per server.
    """

    limits: ServerLimits = ServerLimits()
    cap: int = 1024
    waiting: OrderedDict[Any, None]
    stats: dict[str, int]
    connections: set[Any]
    transport: Any
    loop: Any
    cycle: Any

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]  # a mixin: the protocol class is its sibling base
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # uvicorn writes a response's head and body separately: without TCP_NODELAY, Nagle
            # holds the body until the client's delayed ACK (~40 ms a request on loopback).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._deadline: Any = None
        if len(self.connections) > self.cap and not self._evict_oldest_waiting():
            self.stats["refused"] += 1
            transport.write(AT_CAPACITY_RESPONSE)
            transport.close()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]  # a mixin (see connection_made)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.limits.request_timeout_s, self._on_deadline)
        self.waiting[self] = None

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()
            self._deadline = None
        self.waiting.pop(self, None)

    def _on_deadline(self) -> None:
        self._deadline = None
        self.stats["timed_out"] += 1
        self._drop()

    def _drop(self, response: bytes = REQUEST_TIMEOUT_RESPONSE) -> None:
        """Close a connection whose request is late (or too large): ``response`` if no response has started."""
        self.waiting.pop(self, None)
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(response)
        self.transport.close()  # an app still reading the body gets http.disconnect

    def _evict_oldest_waiting(self) -> bool:
        for victim in self.waiting:
            if victim is not self:
                victim._disarm()
                self.stats["evicted"] += 1
                victim._drop()
                return True
        return False


class GuardedH11Protocol(_RequestGuard, H11Protocol):
    """uvicorn's pure-Python h11 protocol, guarded (h11 itself bounds the request head)."""

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is not h11.DONE:
            self._arm()  # the first byte of a new request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is h11.DONE:
            self._disarm()  # the whole request is in


class GuardedHttpToolsProtocol(_RequestGuard, HttpToolsProtocol):
    """uvicorn's httptools (C parser) protocol, guarded; it also bounds the request head,
    which httptools does not (431 and close past ``max_header_bytes``)."""

    _head_bytes: int | None = None  # bytes of the current request head so far; None outside a head

    def data_received(self, data: bytes) -> None:
        if self._deadline is None:
            self._arm()  # the first byte of a new request on a kept-alive connection
        super().data_received(data)
        if self._head_bytes is not None:  # this chunk ended inside a request head
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes:
                self._disarm()
                self._drop(HEAD_TOO_LARGE_RESPONSE)

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()  # the whole request is in


#: The guarded protocol of each HTTP parser: httptools (C; about a third less server time per
#: request) or h11 (pure Python).
HTTP_PARSERS: dict[str, type[_RequestGuard]] = {"httptools": GuardedHttpToolsProtocol, "h11": GuardedH11Protocol}


def guarded_protocol(limits: ServerLimits, cap: int, http: str = "httptools") -> type[_RequestGuard]:
    """A guarded protocol class for one server (its own cap, deadline and waiting list), on the
    ``http`` parser (a key of ``HTTP_PARSERS``)."""
    base = HTTP_PARSERS.get(http)
    if base is None:
        raise ValueError(f"http must be one of {sorted(HTTP_PARSERS)}, got {http!r}")
    stats = {"refused": 0, "timed_out": 0, "evicted": 0}
    return type(base.__name__, (base,), {"limits": limits, "cap": cap, "waiting": OrderedDict(), "stats": stats})


class RateLimitFilter(logging.Filter):
    """At most ``burst`` records per (logger, level, message template) per ``window_s`` seconds.

    Only the first record of a window keeps its traceback; the first record after a window in
    which some were dropped says how many. Bounded memory: the table is cleared past 1,024 keys.
    """

    def __init__(self, burst: int = 5, window_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.burst, self.window_s, self.clock = burst, window_s, clock
        self._seen: dict[tuple[Any, ...], list[float | int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.msg if isinstance(record.msg, str) else type(record.msg))
        now = self.clock()
        with self._lock:
            if len(self._seen) > 1024:
                self._seen.clear()
            entry = self._seen.setdefault(key, [now, 0, 0])  # window start, passed, dropped
            if now - entry[0] >= self.window_s:
                if entry[2] and isinstance(record.msg, str):
                    record.msg += f" [{int(entry[2])} similar log records dropped]"
                entry[:] = [now, 0, 0]
            entry[1] += 1
            if entry[1] > self.burst:
                entry[2] += 1
                return False
        if entry[1] > 1:
            record.exc_info, record.exc_text = None, None
        return True


def install_log_limits(burst: int = 5, window_s: float = 10.0) -> RateLimitFilter:
    """Attach one ``RateLimitFilter`` to uvicorn's and asyncio's loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for existing in logger.filters:
            if isinstance(existing, RateLimitFilter):
                break
        else:
            logger.addFilter(RateLimitFilter(burst, window_s))
    return next(f for f in logging.getLogger(LOGGERS[0]).filters if isinstance(f, RateLimitFilter))


def uvicorn_config(app: ASGIApp, limits: ServerLimits, log_level: str = "warning", access_log: bool = False,
                   session_fds: int = 0, **extra: Any) -> Any:
    """A ``uvicorn.Config`` serving ``app`` with a guarded protocol (``guarded_protocol``) under
    ``limits``; ``session_fds``: the descriptors the app's sessions hold at capacity."""
    fd_limit = raise_fd_limit()
    cap = connection_cap(limits, fd_limit, session_fds)
    config = uvicorn.Config(app, http=guarded_protocol(limits, cap, limits.http), log_level=log_level, access_log=access_log,
                            lifespan="on", timeout_keep_alive=limits.keep_alive_s,  # type: ignore[arg-type]  # uvicorn takes a float too
                            h11_max_incomplete_event_size=limits.max_header_bytes,
                            backlog=accept_batch(limits, fd_limit),
                            # WebSocket messages (the OpenEnv route's) are a step's small JSON: deflating
                            # each costs both ends more time than the bytes it saves on a local network
                            ws_per_message_deflate=False,
                            timeout_graceful_shutdown=5, **extra)
    install_log_limits()
    return config


def run_server(app: ASGIApp, host: str, port: int, limits: ServerLimits | None = None, log_level: str = "info",
               access_log: bool = False, session_fds: int = 0) -> None:
    """Serve ``app`` in the foreground (the ``advisorgym serve`` command)."""
    uvicorn.Server(uvicorn_config(app, limits or ServerLimits(), log_level, access_log, session_fds,
                                  host=host, port=port)).run()


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                    limits: ServerLimits | None = None) -> Iterator[str]:
    """Run ``app`` under uvicorn in a daemon thread; yields its base URL (``port=0``: a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn_config(app, limits or ServerLimits(), log_level))
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
