"""Building the back-end an ``EnvConfig`` names (``BackendConfig``), outside the env.

``make_backend`` builds it: ``inprocess`` (``InProcessBackend`` over the replica), ``http``
(``HttpBackend``; several URLs: ``BackendPool``, round-robin per episode) or ``docker``
(``DockerBackend``, a container started for it). ``served_replica`` reads the replica it
serves and refuses one the tasks were not written for. (A module of its own: the pool and
the Docker back-end build on ``envs.backends``.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envs.backend_pool import BackendPool, split_urls
from envs.backends import Backend, HttpBackend, InProcessBackend
from envs.config import BackendConfig
from envs.docker_backend import DockerBackend
from envs.replica import default_replica
from envs.tasks import Task
from mock_apis.domain import Domain


def make_backend(config: BackendConfig, replica: Mapping[str, Any],
                 domain: Domain) -> tuple[Backend, str | None]:
    """The back-end ``config`` describes for ``domain``, and the token to check it with (a
    Docker container's own, random unless given). ``replica``: the tasks' replica (``seed``,
    ``scale``), served in-process or in the container when ``config.replica`` is unset."""
    if config.kind == "http":
        urls = split_urls(config.base_url)  # type: ignore[arg-type]  # BackendConfig requires it for http
        if len(urls) == 1:
            return HttpBackend(urls[0], token=config.token, domain=domain), config.token
        return BackendPool(urls, token=config.token, domain=domain), config.token
    path = config.replica or default_replica(replica["seed"], replica["scale"], domain)
    if config.kind == "docker":
        container = DockerBackend(path, token=config.token)
        return container, container.token
    return InProcessBackend(path, domain), config.token


def served_replica(backend: Backend, tasks: Sequence[Task], check: bool) -> dict[str, str]:
    """The metadata of the replica ``backend`` serves. With ``check``: ``ConnectionError`` when
    it cannot be read, ``ValueError`` when the tasks were written for another replica (their
    gold rewards would be meaningless there)."""
    meta = backend.replica_meta()
    if not check:
        return meta
    if not meta:
        where = getattr(backend, "base_url", "the back-end")
        cause = getattr(backend, "last_error", None)
        raise ConnectionError(f"cannot read the replica's metadata from {where} (GET /health failed"
                              f"{': ' + cause if cause else ''}): is the "
                              "service running there? (check_replica=False, CLI --no-check-replica, skips "
                              "this check)")
    have = {k: meta.get(k) for k in ("seed", "scale")}
    wanted = {(str(t.replica["seed"]), str(t.replica["scale"])) for t in tasks}
    if wanted != {(have["seed"], have["scale"])}:
        raise ValueError(f"the tasks were written for replica(s) {sorted(wanted)} (seed, scale) but the back-end "
                         f"serves seed={have['seed']} scale={have['scale']}; their gold rewards would be "
                         "meaningless there. Pass check_replica=False (CLI: --no-check-replica) to run anyway.")
    return meta
