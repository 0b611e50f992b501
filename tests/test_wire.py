"""``envs.wire.Connection``, the HTTP back-end's own HTTP/1.1 client, against raw socket
servers that answer in every way the standard allows (and some it does not): bodies by
length, chunks or close, answers split into single bytes, HTTP/1.0, a server that closes
a kept-alive connection, garbage, silence. Each failure must be the right ``WireError``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from envs import wire
from envs.backends import HttpBackend


def read_message(conn: socket.socket) -> tuple[bytes | None, bytes]:
    """One request's head and ``Content-Length`` body from ``conn``; ``(None, b"")`` when it
    closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536)
    return head, body


def read_request(conn: socket.socket) -> bytes:
    """One request's head from ``conn`` (its body read too); b"" when it closed first."""
    return read_message(conn)[0] or b""


@contextmanager
def raw_server(handle: Callable[[socket.socket, int], None]) -> Iterator[str]:
    """A loopback server calling ``handle(conn, n)`` for the n-th connection (each in a thread)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        n = 0
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=_guarded, args=(handle, conn, n), daemon=True).start()
            n += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def _guarded(handle: Callable[[socket.socket, int], None], conn: socket.socket, n: int) -> None:
    with conn:
        try:
            handle(conn, n)
        except OSError:
            pass


def answer(status: bytes, body: bytes, *extra: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\ncontent-length: %d\r\n" % len(body) + b"".join(extra) + b"\r\n" + body


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def test_kept_alive_answers_by_length_chunks_and_single_bytes() -> None:
    chunked = (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
               b"4;ext=1\r\n{\"a\"\r\n5\r\n:[1]}\r\n0\r\nx-trailer: t\r\n\r\n")

    def handle(conn: socket.socket, n: int) -> None:
        for reply in (answer(b"200 OK", b'{"n":1}'), chunked, answer(b"201 Created", b'{"n":3}')):
            assert read_request(conn)
            if reply is chunked:
                for i in range(len(reply)):  # one byte at a time
                    conn.sendall(reply[i:i + 1])
            else:
                conn.sendall(reply)
        read_request(conn)

    with raw_server(handle) as url:
        c = wire.Connection(url)
        first = c.request("POST", "/x", b"", b"{}", soon())
        sock = c._sock
        second = c.request("GET", "/y", b"", None, soon())
        third = c.request("GET", "/z", b"", None, soon())
        assert (first.status, first.body) == (200, b'{"n":1}')
        assert (second.status, second.body) == (200, b'{"a":[1]}')
        assert (third.status, third.body) == (201, b'{"n":3}')
        assert c._sock is sock  # one connection for all three
        c.close()


def test_http_1_0_and_close_delimited_answers_end_the_connection() -> None:
    def handle(conn: socket.socket, n: int) -> None:
        read_request(conn)
        if n == 0:
            conn.sendall(b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            time.sleep(0.2)  # closes a little later: the client must not reuse the connection
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 100_000)  # no length: delimited by close

    with raw_server(handle) as url:
        c = wire.Connection(url)
        assert c.request("GET", "/", b"", None, soon()).body == b"{}"
        assert c._sock is None
        assert c.request("GET", "/", b"", None, soon()).body == b"x" * 100_000
        assert c._sock is None


def test_a_kept_alive_connection_the_server_closed_is_replaced_before_reuse() -> None:
    def handle(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(answer(b"200 OK", b'{"n":%d}' % n))  # then closes, as an idle server does

    with raw_server(handle) as url:
        c = wire.Connection(url)
        assert c.request("POST", "/w", b"", b"{}", soon()).body == b'{"n":0}'
        time.sleep(0.1)  # the server's close has arrived
        assert c.request("POST", "/w", b"", b"{}", soon()).body == b'{"n":1}'  # a new connection, no error


def test_an_idle_connection_past_keepalive_is_not_reused() -> None:
    def handle(conn: socket.socket, n: int) -> None:
        while read_request(conn):
            conn.sendall(answer(b"200 OK", b'{"n":%d}' % n))

    with raw_server(handle) as url:
        c = wire.Connection(url, keepalive_s=0.05)
        assert c.request("GET", "/", b"", None, soon()).body == b'{"n":0}'
        assert c.request("GET", "/", b"", None, soon()).body == b'{"n":0}'  # within keep-alive: reused
        time.sleep(0.1)
        assert c.request("GET", "/", b"", None, soon()).body == b'{"n":1}'


@pytest.mark.parametrize("reply, expected", [
    (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", wire.Dropped),  # not HTTP
    (b"HTTP/1.1 abc OK\r\n\r\n", wire.Dropped),  # no status code
    (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}", wire.Dropped),  # the body is cut short
    (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", wire.Dropped),  # a bad chunk size
    (b"HTTP/1.1 200 OK\r\nx-pad: " + b"p" * (wire.MAX_HEAD_BYTES + 10), wire.Dropped),  # an endless head
    (b"", wire.Dropped),  # closed without a word
])
def test_broken_answers_are_dropped(reply: bytes, expected: type[wire.WireError]) -> None:
    def handle(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(reply)

    with raw_server(handle) as url:
        c = wire.Connection(url)
        with pytest.raises(expected):
            c.request("GET", "/", b"", None, soon())
        assert c._sock is None  # never reused after a failure


def test_the_deadline_is_total_however_slowly_the_server_trickles() -> None:
    def handle(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.05)

    with raw_server(handle) as url:
        c = wire.Connection(url)
        started = time.monotonic()
        with pytest.raises(wire.Timeout):
            c.request("GET", "/", b"", None, time.monotonic() + 0.5)
        assert time.monotonic() - started < 3.0  # the 0.5 s deadline, not the 5 s trickle


def test_a_closed_port_is_connect_failed_and_a_bad_url_is_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(wire.ConnectFailed):
        wire.Connection(f"http://127.0.0.1:{port}").request("GET", "/", b"", None, soon())
    for bad in ("ftp://x", "127.0.0.1:8080", "http://"):
        with pytest.raises(ValueError):
            wire.Connection(bad)


def test_the_backend_sends_its_token_session_and_path_prefix() -> None:
    heads: list[bytes] = []

    def handle(conn: socket.socket, n: int) -> None:
        while head := read_request(conn):
            heads.append(head)
            if head.startswith(b"POST /api/sessions "):
                conn.sendall(answer(b"201 Created", b'{"session_id":"s1"}'))
            else:
                conn.sendall(answer(b"200 OK", b'{"results":[{"status":200,"body":{"ok":1}}]}'))

    with raw_server(handle) as url:
        backend = HttpBackend(url + "/api/", token="tok")
        backend.reset()
        assert backend.run_ops([("get_client_profile", {"client_id": "C000001"}, False)])[0].payload == {"ok": 1}
        backend.connection.close()
    first, second = heads[0].split(b"\r\n"), heads[1].split(b"\r\n")
    assert first[0] == b"POST /api/sessions HTTP/1.1" and second[0] == b"POST /api/sessions/s1/batch HTTP/1.1"
    assert b"Authorization: Bearer tok" in second and any(line.startswith(b"Host: 127.0.0.1:") for line in second)


def test_https_with_the_ca_the_environment_names(tmp_path, monkeypatch) -> None:
    """``https://`` URLs verify the server against the default CA paths, which
    ``SSL_CERT_FILE`` extends (an internal CA); a certificate nobody vouches for is refused."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed to make the test certificate (apt-get install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def handle(conn: socket.socket, n: int) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                while read_request(tls):
                    tls.sendall(answer(b"200 OK", b'{"tls":true}'))
        except ssl.SSLError:
            pass  # the client refused our certificate

    with raw_server(handle) as url:
        https = url.replace("http://", "https://")
        with pytest.raises(wire.ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
            wire.Connection(https).request("GET", "/", b"", None, soon())
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        c = wire.Connection(https)
        assert c.request("GET", "/", b"", None, soon()).body == b'{"tls":true}'
        sock = c._sock
        time.sleep(0.05)  # TLS 1.3 session tickets arrive after the handshake: not a closed connection
        assert c.request("GET", "/", b"", None, soon()).body == b'{"tls":true}'
        assert c._sock is sock  # kept alive over TLS
        c.close()
