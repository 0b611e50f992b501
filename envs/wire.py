"""A lean HTTP/1.1 keep-alive client for the tool service: one socket, one request at a time.

``HttpBackend`` makes one request per agent turn to a fixed endpoint, so a general client's
machinery (httpx/httpcore: request and response models, a pure-Python h11 parser, a
connection pool) is most of a remote step's cost: about 0.7 ms of a 1.0 ms loopback round
trip on a 2-core machine, against 0.3 ms for the same request written on a plain socket
(``docs/benchmarks.md``). ``Connection`` writes the request head itself and reads exactly
the answer the service gives (a status line, headers, a ``Content-Length`` or chunked body).

Every socket operation gets only the time left until the caller's deadline, however slowly
the server trickles bytes. Errors say whether the request may have reached the server:
``ConnectFailed`` (it did not: always safe to retry), ``Timeout`` and ``Dropped`` (it may
have). A kept-alive connection that the server closed while idle is detected before reuse
(the socket is readable with nothing to read), and one idle longer than ``keepalive_s`` is
not reused at all, so a request is never written into a connection already being closed.

Through an HTTP proxy (``proxy="http://user:pass@proxy:3128"``; ``proxy_for`` picks one from
``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` the way urllib, requests and httpx
do) an ``https://`` server is reached through a ``CONNECT host:port`` tunnel, opened once
per connection, and a plain ``http://`` server by sending each request to the proxy in
absolute form (``POST http://host:port/path``); the proxy URL's user info goes along as
``Proxy-Authorization: Basic``. Both are settled when the connection is made, so a request
costs the same with or without a proxy. A proxy that refuses the tunnel is ``ConnectFailed``
with its status line.
"""

from __future__ import annotations

import base64
import select
import socket
import ssl
import time
import urllib.request
from urllib.parse import unquote, urlsplit

from mock_apis.errors import AdvisorGymError

#: Largest response head accepted (the service's are a few hundred bytes).
MAX_HEAD_BYTES = 64 * 1024
_READ_BYTES = 256 * 1024


class WireError(AdvisorGymError):
    """A request that got no complete HTTP answer."""


class ConnectFailed(WireError):
    """No connection could be made: nothing was sent."""


class Timeout(WireError):
    """The deadline passed before the whole answer arrived."""


class Dropped(WireError):
    """The connection broke, or the answer was not HTTP, after the request may have been sent."""


class Response:
    """One HTTP response: status, lower-cased headers and the whole body."""
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[bytes, bytes], body: bytes):
        self.status, self.headers, self.body = status, headers, body


class Connection:
    """One keep-alive connection to ``base_url`` (``http://`` or ``https://``), reopened as needed,
    directly or through the ``http://`` ``proxy`` (see the module's notes)."""

    def __init__(self, base_url: str, keepalive_s: float = 2.0, proxy: str | None = None):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/").encode()
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        host_header = parts.netloc.rsplit("@", 1)[-1].encode("idna")
        self._host_line = b"Host: " + host_header + b"\r\n"
        self._address = (self.host, self.port)  # where the TCP connection goes
        self._via = ""  # how errors name the proxy
        self._tunnel_request = b""  # the CONNECT head, for https through a proxy
        if proxy is not None:
            proxy_host, proxy_port, authorization = _parse_proxy(proxy)
            self._address = (proxy_host, proxy_port)
            self._via = f" (through the proxy {proxy_host}:{proxy_port})"
            if self._tls is not None:
                authority = b"%s:%d" % (_bracketed(self.host).encode("idna"), self.port)
                self._tunnel_request = (b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n"
                                        % (authority, authority, authorization))
            else:  # absolute form: the proxy reads the target from the request line
                self.prefix = b"http://" + host_header + self.prefix
                self._host_line += authorization
        self.keepalive_s = keepalive_s
        self._sock: socket.socket | None = None
        self._idle_since = 0.0
        self._buffer = b""

    def copy(self) -> Connection:
        """Another connection to the same server, not yet open, sharing this one's TLS context
        (making a context reads the system's certificates: tens of milliseconds)."""
        twin = Connection.__new__(Connection)
        twin.__dict__.update(self.__dict__)
        twin._sock, twin._idle_since, twin._buffer = None, 0.0, b""
        return twin

    def request(self, method: str, path: str, headers: bytes, body: bytes | None, deadline: float) -> Response:
        """Send one request and read its whole answer before ``deadline`` (``time.monotonic``).

        ``headers`` are complete header lines (``b"Name: value\\r\\n"`` each), sent as given.
        """
        sock = self._ready_socket(deadline)
        head = b"%s %s%s HTTP/1.1\r\n%s%s" % (method.encode(), self.prefix, path.encode(), self._host_line, headers)
        if body is not None:
            head += b"Content-Length: %d\r\n" % len(body)
        message = head + b"\r\n" + (body or b"")
        try:
            sock.settimeout(_left(deadline))
            sock.sendall(message)
            response = self._read_response(sock, deadline, head_only=method == "HEAD")
        except (socket.timeout, TimeoutError):
            self.close()
            raise Timeout("no complete answer before the deadline") from None
        except (OSError, ValueError, IndexError) as err:
            self.close()
            raise Dropped(f"{type(err).__name__}: {err}") from None
        if response.headers.get(b"connection", b"").lower() == b"close":
            self.close()
        else:
            self._idle_since = time.monotonic()
        return response

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock, self._buffer = None, b""

    # -- internals ---------------------------------------------------------------------

    def _ready_socket(self, deadline: float) -> socket.socket:
        sock = self._sock
        if sock is not None and (time.monotonic() - self._idle_since > self.keepalive_s or _readable(sock)):
            self.close()  # idle too long, or the server closed it (or sent something unasked)
            sock = None
        if sock is None:
            sock = self._sock = self._connect(deadline)
        return sock

    def _connect(self, deadline: float) -> socket.socket:
        try:
            sock = socket.create_connection(self._address, timeout=_left(deadline))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tunnel_request:
                self._open_tunnel(sock, deadline)
            if self._tls is not None:
                sock.settimeout(_left(deadline))
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except (socket.timeout, TimeoutError):
            raise Timeout(f"could not connect to {self.host}:{self.port} before the deadline{self._via}") from None
        except (OSError, ValueError) as err:  # refused, unreachable, unresolvable, TLS handshake failed
            raise ConnectFailed(f"{type(err).__name__}: {err}{self._via}") from None
        self._buffer = b""
        return sock

    def _open_tunnel(self, sock: socket.socket, deadline: float) -> None:
        """Ask the proxy for a tunnel to the server; raises ``ConnectionError`` unless it answers 2xx.

        Reads no further than the answer's head: the server speaks only after the TLS client hello.
        """
        sock.settimeout(_left(deadline))
        sock.sendall(self._tunnel_request)
        head = b""
        while b"\r\n\r\n" not in head:
            if len(head) > MAX_HEAD_BYTES:
                raise ConnectionError("the proxy's answer to CONNECT has too large a head")
            chunk = self._recv(sock, deadline, eof_ok=True)
            if not chunk:
                raise ConnectionError("the proxy closed the connection before answering CONNECT")
            head += chunk
        status_line = head.split(b"\r\n", 1)[0]
        fields = status_line.split(b" ", 2)
        if not (fields[0].startswith(b"HTTP/1.") and len(fields) > 1 and fields[1][:1] == b"2"):
            code = fields[1][:3].decode("latin-1") if len(fields) > 1 else "?"
            raise ConnectionError(f"the proxy refused the tunnel to {self.host}:{self.port} (HTTP {code}): "
                                  f"{status_line[:120].decode('latin-1')}")
        if not head.endswith(b"\r\n\r\n"):
            raise ConnectionError("the proxy sent data after its answer to CONNECT")

    def _read_response(self, sock: socket.socket, deadline: float, head_only: bool) -> Response:
        data = self._buffer
        while (end := data.find(b"\r\n\r\n")) < 0:
            if len(data) > MAX_HEAD_BYTES:
                raise ValueError("response head too large")
            data += self._recv(sock, deadline)
        lines = data[:end].split(b"\r\n")
        version, status, *_ = lines[0].split(b" ", 2)
        if not version.startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if version == b"HTTP/1.0" and headers.get(b"connection", b"").lower() != b"keep-alive":
            headers[b"connection"] = b"close"  # HTTP/1.0 closes after each answer unless it says otherwise
        rest = data[end + 4:]
        code = int(status)
        if head_only or code in (204, 304) or 100 <= code < 200:
            body, self._buffer = b"", rest
        elif b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            body = self._read_chunked(sock, rest, deadline)
        elif b"content-length" in headers:
            size = int(headers[b"content-length"])
            while len(rest) < size:
                rest += self._recv(sock, deadline)
            body, self._buffer = rest[:size], rest[size:]
        else:  # delimited by the connection closing
            headers[b"connection"] = b"close"
            chunks = [rest]
            while chunk := self._recv(sock, deadline, eof_ok=True):
                chunks.append(chunk)
            body = b"".join(chunks)
        return Response(code, headers, body)

    def _read_chunked(self, sock: socket.socket, data: bytes, deadline: float) -> bytes:
        body = []
        while True:
            while (eol := data.find(b"\r\n")) < 0:
                data += self._recv(sock, deadline)
            size = int(data[:eol].split(b";", 1)[0], 16)
            data = data[eol + 2:]
            if size == 0:
                while (end := data.find(b"\r\n")) != 0:  # trailers, up to the blank line
                    if end > 0:
                        data = data[end + 2:]
                    else:
                        data += self._recv(sock, deadline)
                self._buffer = data[2:]
                return b"".join(body)
            while len(data) < size + 2:
                data += self._recv(sock, deadline)
            body.append(data[:size])
            data = data[size + 2:]

    @staticmethod
    def _recv(sock: socket.socket, deadline: float, eof_ok: bool = False) -> bytes:
        sock.settimeout(_left(deadline))
        chunk = sock.recv(_READ_BYTES)
        if not chunk and not eof_ok:
            raise ConnectionResetError("the server closed the connection mid-answer")
        return chunk


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``/``HTTP_PROXY`` by scheme,
    else ``ALL_PROXY``), or None when there is none or ``NO_PROXY`` exempts the host."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return proxy


def _parse_proxy(proxy: str) -> tuple[str, int, bytes]:
    """Host, port and ``Proxy-Authorization`` header line (b"" without user info) of an
    ``http://`` proxy URL; a URL without a scheme is taken as ``http://`` (as requests does)."""
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    if parts.scheme != "http":
        raise ValueError(f"proxy URLs must be http:// ({parts.scheme}:// proxies are not supported; "
                         "see HTTPS_PROXY, HTTP_PROXY and ALL_PROXY)")
    if not parts.hostname:
        raise ValueError("the proxy URL names no host (see HTTPS_PROXY, HTTP_PROXY and ALL_PROXY)")
    authorization = b""
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = b"Proxy-Authorization: Basic " + base64.b64encode(credentials) + b"\r\n"
    return parts.hostname, parts.port or 80, authorization


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _readable(sock: socket.socket) -> bool:
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True
