"""Fixtures shared by test files: a small seeded replica and a live HTTP service on it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Under pytest-xdist, each worker's torch (and anything else on OpenMP) gets its share of the
# cores: two workers with a thread per core each slow each other several-fold.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // _WORKERS)))


# The files whose tests take longest, longest first (test seconds on 2 cores, from --junitxml:
# Docker's image build, then 179, 152, 140, 109, 102, 61, 56, 48, 35, 29 s). pytest-xdist hands
# whole files out in collection order (pyproject: --no-loadscope-reorder); by its own order, the
# most tests first, the few slow ones came last and ran on one worker while the other idled.
LONGEST_FILES_FIRST = ("test_docker.py", "test_packaging.py", "test_reward_v12.py", "test_docs.py",
                       "test_durability.py", "test_service_hardening.py", "test_replica.py",
                       "test_agents_eval.py", "test_actions.py", "test_reward_v11.py", "test_fuzz_openapi.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test keeps its own node id: pytest-xdist schedules tests by node id and runs one of
    each duplicate. schemathesis names each operation's test ``test_x[GET /path]`` but, under
    pytest 9, leaves all of them the function's node id; the operation goes back into the id.
    The longest files come first (``LONGEST_FILES_FIRST``); a file's tests keep their order."""
    rank = {name: i for i, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    for item in items:
        if type(item).__name__ != "SchemathesisFunction" or item.nodeid.endswith("]"):
            continue
        operation = item.name[len(item.originalname) + 1:-1]
        if hasattr(item, "_id"):  # pytest 9: a structured node id
            item._id = item._id.with_params(operation)
        else:  # pytest 8
            item._nodeid = f"{item.nodeid}[{operation}]"
    shared = sorted(node for node, n in Counter(item.nodeid for item in items).items() if n > 1)
    if shared:
        raise pytest.UsageError(f"tests share a node id, so pytest-xdist would run one of each: {shared[:5]}")


REPLICA_SEED = 0
REPLICA_SCALE = 2000
API_TOKEN = "test-token-9f2c6d1e"


def needs_train_extra() -> None:
    """Skip, loudly, a test that needs the train extra when it is not installed."""
    try:
        import datasets  # noqa: F401 - only whether the extra is installed
        import torch  # noqa: F401 - likewise
        import trl  # noqa: F401 - likewise
    except ImportError:
        pytest.skip("SKIPPED LOUDLY: the train extra is not installed (pip install torch==2.13.0, then "
                    "pip install -e '.[train]'); .ci/run runs these tests after installing it")


def wait_until_serving(client: Any, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    """Until ``advisorgym serve`` in ``proc`` answers ``GET /health`` with 200 through ``client``
    (an ``httpx.Client`` on its URL); fails if it exits or does not answer within ``timeout_s``."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if client.get("/health").status_code == 200:
                return
        assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
        time.sleep(0.1)


@pytest.fixture(scope="session")
def replica_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A replica generated into a temporary folder (seed 0, scale 2000)."""
    from mock_apis.domains.finance.generate import generate_replica

    path = tmp_path_factory.mktemp("replica") / "replica.sqlite"
    generate_replica(path, seed=REPLICA_SEED, scale=REPLICA_SCALE)
    return path


@pytest.fixture(scope="session")
def live_server(replica_path: Path) -> Iterator[tuple[str, str]]:
    """``(base_url, token)`` of the FastAPI service running under uvicorn on a free 127.0.0.1 port."""
    from mock_apis.app import create_app, serve_in_thread

    with serve_in_thread(create_app(replica_path, API_TOKEN)) as url:
        yield url, API_TOKEN
