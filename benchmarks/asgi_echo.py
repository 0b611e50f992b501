"""A minimal ASGI app under uvicorn (httptools): the floor of an HTTP round trip on loopback.

    python benchmarks/asgi_echo.py [--port 8765] [--host 127.0.0.1]

``app`` is a raw ASGI callable (no framework): it reads the request body and answers every
request ``200`` with a fixed small JSON body. Served by uvicorn with the httptools parser and
its default event loop (uvloop where installed), access log off, as ``advisorgym serve``
serves the tool service. ``bench_remote_step.py`` runs it in a child process
(``echo_server``) and times round trips to it through the tool client's own connection
(``envs.wire.Connection``), so that a remote step's distance to the limit is visible.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BODY = b'{"ok":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


@contextlib.contextmanager
def echo_server() -> Iterator[str]:
    """This app in a child process on a free loopback port; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--port", str(port)],
                             stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            if child.poll() is not None:
                raise SystemExit(f"the echo server exited with {child.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise SystemExit("the echo server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=10)


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, http="httptools", log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
