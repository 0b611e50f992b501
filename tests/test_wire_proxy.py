"""``envs.wire.Connection`` and the openai agent through an HTTP proxy: a real forwarding proxy
on 127.0.0.1 (``CONNECT`` tunnels and absolute-form requests, optional Basic credentials) that
records every request it was asked to carry."""

from __future__ import annotations

import base64
import http.client
import select
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from envs import wire
from envs.cli import app as cli
from envs.evaluation.run import run_eval
from envs.tasks import HANDWRITTEN
from tests.test_eval_scale import Endpoint
from tests.test_wire import answer, raw_server, read_message, read_request, soon

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class ForwardingProxy:
    """An HTTP proxy: tunnels ``CONNECT host:port`` and forwards absolute-form requests to their
    server (one upstream connection per client connection). With ``credentials`` it answers 407 to
    any request without the matching ``Proxy-Authorization: Basic``. ``seen``: (request line,
    Proxy-Authorization value or None) of every request; ``tunnelled``: bytes carried each way."""

    def __init__(self, credentials: str | None = None):
        self.expected = None if credentials is None else "Basic " + base64.b64encode(credentials.encode()).decode()
        self.seen: list[tuple[str, str | None]] = []
        self.tunnelled = {"to_server": 0, "to_client": 0}
        self.lock = threading.Lock()

    def handle(self, conn: socket.socket, n: int) -> None:
        upstream: http.client.HTTPConnection | None = None
        while True:
            head, body = read_message(conn)
            if head is None:
                break
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
            authorization = headers.get("proxy-authorization")
            with self.lock:
                self.seen.append((request_line, authorization))
            if self.expected is not None and authorization != self.expected:
                conn.sendall(answer(b"407 Proxy Authentication Required", b"credentials, please",
                                    b'proxy-authenticate: Basic realm="test"\r\n'))
                continue
            method, target, _ = request_line.split(" ")
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                server = socket.create_connection((host, int(port)))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._pipe(conn, server)
                return
            url = urlsplit(target)
            if upstream is None:
                upstream = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            forwarded = {k: v for k, v in headers.items() if k not in ("proxy-authorization", "content-length")}
            upstream.request(method, url.path + (f"?{url.query}" if url.query else ""), body=body, headers=forwarded)
            response = upstream.getresponse()
            payload = response.read()
            status = f"{response.status} {response.reason}".encode()
            conn.sendall(answer(status, payload, *(f"{k}: {v}\r\n".encode() for k, v in response.getheaders()
                                                   if k.lower() not in ("content-length", "transfer-encoding"))))
        if upstream is not None:
            upstream.close()

    def _pipe(self, client: socket.socket, server: socket.socket) -> None:
        with server:
            while True:
                readable, _, _ = select.select([client, server], [], [], 10)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (server if source is client else client).sendall(data)
                    with self.lock:
                        self.tunnelled["to_server" if source is client else "to_client"] += len(data)


@contextmanager
def running(proxy: ForwardingProxy) -> Iterator[str]:
    with raw_server(proxy.handle) as url:
        yield url


@contextmanager
def chat_endpoint(ep: Endpoint) -> Iterator[str]:
    from mock_apis.app import serve_in_thread

    with serve_in_thread(ep.app()) as url:
        yield url + "/v1"


@pytest.fixture()
def no_proxy_env(monkeypatch):
    """A clean slate: none of the proxy variables set, in either case."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_the_eval_reaches_an_http_endpoint_through_the_proxy_in_http_proxy(tmp_path, no_proxy_env) -> None:
    proxy, ep = ForwardingProxy(), Endpoint(latency_s=0.0)
    with running(proxy) as proxy_url, chat_endpoint(ep) as url:
        no_proxy_env.setenv("HTTP_PROXY", proxy_url)
        result = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs={"base_url": url, "model": "scripted"},
                          limit=4, concurrency=2, progress=False, plots=False)  # worker copies keep the proxy
    assert ep.script.failures == [] and result["metrics"]["overall"]["TCR"] == 1.0
    port = urlsplit(url).port
    assert ep.script.requests > 4 and len(proxy.seen) == ep.script.requests  # every request went through it
    assert {line for line, _ in proxy.seen} == {f"POST http://127.0.0.1:{port}/v1/chat/completions HTTP/1.1"}
    assert {auth for _, auth in proxy.seen} == {None}


def test_no_proxy_exempts_the_host(tmp_path, no_proxy_env) -> None:
    proxy, ep = ForwardingProxy(), Endpoint(latency_s=0.0)
    with running(proxy) as proxy_url, chat_endpoint(ep) as url:
        no_proxy_env.setenv("HTTP_PROXY", proxy_url)
        no_proxy_env.setenv("NO_PROXY", "example.org,127.0.0.1")
        result = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs={"base_url": url, "model": "scripted"},
                          limit=2, progress=False, plots=False)
    assert result["metrics"]["overall"]["TCR"] == 1.0 and ep.script.requests > 2
    assert proxy.seen == []


def test_the_proxy_is_chosen_by_scheme_with_all_proxy_as_fallback(no_proxy_env) -> None:
    assert wire.proxy_for("https://api.example.com/v1") is None
    no_proxy_env.setenv("ALL_PROXY", "http://all:3128")
    assert wire.proxy_for("https://api.example.com/v1") == "http://all:3128"
    no_proxy_env.setenv("HTTPS_PROXY", "http://secure:3128")
    no_proxy_env.setenv("HTTP_PROXY", "http://plain:3128")
    assert wire.proxy_for("https://api.example.com/v1") == "http://secure:3128"
    assert wire.proxy_for("http://api.example.com/v1") == "http://plain:3128"
    no_proxy_env.setenv("NO_PROXY", ".example.com")
    assert wire.proxy_for("https://api.example.com/v1") is None
    for unsupported in ("socks5://proxy:1080", "https://proxy:443", "http://:3128"):
        with pytest.raises(ValueError, match="proxy"):
            wire.Connection("https://api.example.com", proxy=unsupported)


def _tls_server_context(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, trusted by the client through ``SSL_CERT_FILE``."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed to make the test certificate (apt-get install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@contextmanager
def tls_server(context: ssl.SSLContext, heads: list[bytes]) -> Iterator[str]:
    def handle(conn: socket.socket, n: int) -> None:
        with context.wrap_socket(conn, server_side=True) as tls:
            while head := read_request(tls):
                heads.append(head)
                tls.sendall(answer(b"200 OK", b'{"tls":true}'))

    with raw_server(handle) as url:
        yield url.replace("http://", "https://")


def test_an_https_server_is_reached_through_a_connect_tunnel(tmp_path, no_proxy_env) -> None:
    context = _tls_server_context(tmp_path, no_proxy_env)
    proxy, heads = ForwardingProxy(), []
    with running(proxy) as proxy_url, tls_server(context, heads) as https:
        c = wire.Connection(https + "/v1", proxy=proxy_url)
        assert c.request("POST", "/chat/completions", b"", b"{}", soon()).body == b'{"tls":true}'
        assert c.request("POST", "/chat/completions", b"", b"{}", soon()).body == b'{"tls":true}'
        c.close()
    port = urlsplit(https).port
    assert proxy.seen == [(f"CONNECT 127.0.0.1:{port} HTTP/1.1", None)]  # one tunnel, kept alive
    assert [h.split(b"\r\n")[0] for h in heads] == [b"POST /v1/chat/completions HTTP/1.1"] * 2
    assert proxy.tunnelled["to_server"] > 0 and proxy.tunnelled["to_client"] > 0  # the TLS bytes went through it


def test_the_proxy_urls_credentials_go_along_as_basic_authorization(tmp_path, no_proxy_env) -> None:
    context = _tls_server_context(tmp_path, no_proxy_env)
    proxy, heads, ep = ForwardingProxy(credentials="bank user:p@ss:word"), [], Endpoint(latency_s=0.0)
    with running(proxy) as proxy_url, tls_server(context, heads) as https, chat_endpoint(ep) as url:
        with_credentials = proxy_url.replace("http://", "http://bank%20user:p%40ss%3Aword@")
        tunnelled = wire.Connection(https, proxy=with_credentials)
        assert tunnelled.request("GET", "/", b"", None, soon()).status == 200
        tunnelled.close()
        no_proxy_env.setenv("HTTP_PROXY", with_credentials)
        result = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs={"base_url": url, "model": "scripted"},
                          limit=1, progress=False, plots=False)
    assert result["metrics"]["overall"]["TCR"] == 1.0 and len(heads) == 1
    assert proxy.seen[0][0].startswith("CONNECT ") and proxy.seen[1][0].startswith("POST http://")
    assert {auth for _, auth in proxy.seen} == {proxy.expected}
    assert len(proxy.seen) == 1 + ep.script.requests


def test_a_proxy_asking_for_credentials_is_a_one_line_error(tmp_path, no_proxy_env) -> None:
    context = _tls_server_context(tmp_path, no_proxy_env)
    proxy, ep = ForwardingProxy(credentials="user:secret"), Endpoint(latency_s=0.0)
    with running(proxy) as proxy_url, tls_server(context, []) as https, chat_endpoint(ep) as url:
        port = urlsplit(https).port
        with pytest.raises(wire.ConnectFailed, match=rf"refused the tunnel to 127\.0\.0\.1:{port} \(HTTP 407\): "
                                                     r"HTTP/1\.1 407 Proxy Authentication Required"):
            wire.Connection(https, proxy=proxy_url).request("GET", "/", b"", None, soon())
        no_proxy_env.setenv("HTTP_PROXY", proxy_url.replace("http://", "http://user:wrong@"))
        res = CliRunner().invoke(cli, ["eval", "--agent", "openai", "--base-url", url, "--model", "scripted",
                                       "--tasks", str(HANDWRITTEN), "--out", str(tmp_path / "out"), "--no-progress"])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert res.output.strip().splitlines() == [res.output.strip()] and "HTTP 407" in res.output, res.output
    assert ep.script.requests == 0  # the proxy stopped every request
