"""The tool service in a Docker container that the environment starts and removes itself.

``FinAdvisorEnv(backend="docker")`` (or ``backend=DockerBackend(replica, image=...)``) starts
the image built by ``mock_apis/docker/build.sh`` through the ``docker`` Python SDK (extra
``docker``; ``dev`` includes it), waits for ``/health`` within a bounded time, and runs the
episodes over HTTP exactly as ``backend="http"`` does (``DockerBackend`` *is* an
``HttpBackend``, pointed at the container).

The container is hardened the way a platform team runs it: the image's non-root user, a
read-only root filesystem (the only writable places: a small tmpfs on ``/tmp`` and the image's
``/data`` volume, removed with the container), every capability dropped, ``no-new-privileges``,
memory and pid limits, host networking on a free 127.0.0.1 port (nothing leaves loopback). The
replica is bind-mounted read-only (a copy is staged first if the file is not world-readable: the
container's user, uid 10001, could not read it). The token reaches the container as a file
bind-mounted read-only at ``/run/secrets/advisorgym_api_token`` (kept in a private folder on the
host), never as an environment variable: ``docker inspect`` shows no token.

**Sharing.** Envs in one process that ask for the same image, replica and token share one
container: ``DockerService.acquire`` counts references, each backend's ``close()`` drops one and
the last one stops and removes the container. ``DockerService`` can also be used directly (a
context manager), e.g. to start several containers for ``BackendPool``.

**A dead container is replaced.** A container that stops (killed, out of memory, removed by
hand) fails the calls of the episode it interrupts as infra errors (``service_unavailable``),
like any unreachable service. The next ``reset()`` that cannot open a session, and the next env
that acquires the shared service, ask the engine whether the container still runs; if not, a new
one is started (same image, replica and token, on a new port) and every backend on the service
follows it at its next ``reset()``.

**Nothing is left running.** Containers still held at interpreter exit are removed by an
``atexit`` hook. A process killed outright (SIGKILL) cannot run it, so every container carries
labels naming its owner (host, pid and the pid's start time); each start first removes the
containers whose owner on this host is gone (:func:`remove_orphans`).

The engine must be local (host networking): ``DOCKER_HOST`` may name another socket, not another
machine.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from envs.backends import TOKEN_ENV, TOKEN_FILE_ENV, HttpBackend
from mock_apis.errors import AdvisorGymError

#: The image ``mock_apis/docker/build.sh`` builds; ``$ADVISORGYM_DOCKER_IMAGE`` overrides it.
DEFAULT_IMAGE = "advisorgym-api:latest"
IMAGE_ENV = "ADVISORGYM_DOCKER_IMAGE"
BUILD_COMMAND = "mock_apis/docker/build.sh"
#: Every container started here carries this label (value "1") and ``OWNER_LABEL``.
MANAGED_LABEL = "io.advisorgym.managed"
OWNER_LABEL = "io.advisorgym.owner"  # "<hostname>:<pid>:<the pid's start time>"
CONTAINER_REPLICA = "/replica/replica.sqlite"
#: Where the container reads its token: a file bind-mounted read-only, never an environment
#: variable (those are in ``docker inspect`` for anyone who may talk to the engine).
CONTAINER_TOKEN_FILE = "/run/secrets/advisorgym_api_token"
DEFAULT_START_TIMEOUT_S = 60.0
#: The limits of a managed container (the compose file sets the same).
MEMORY_LIMIT = "1g"
PIDS_LIMIT = 256
TMPFS = {"/tmp": "rw,noexec,nosuid,size=64m"}
#: The host folders holding a container's token file: ``<prefix><owner pid>-<random>`` in the temp dir.
TOKEN_FOLDER_PREFIX = "advisorgym-token-"


class DockerBackendError(AdvisorGymError, RuntimeError):
    """The container could not be started or used. ``reason`` is one of ``no_sdk``,
    ``no_engine``, ``image_missing``, ``start_failed``, ``unhealthy``; the message says what to do."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def default_image() -> str:
    return os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE


def docker_client() -> Any:
    """A ``docker.DockerClient`` for the local engine, checked with a ping."""
    try:
        # docker: the docker extra; imported where a Docker back-end is used, so the module loads without it
        import docker  # optional: the docker extra
    except ImportError:
        raise DockerBackendError("no_sdk", "backend='docker' needs the docker Python SDK: pip install "
                                 "'advisorgym[docker]' (or pip install docker)") from None
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except docker.errors.DockerException as err:
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise DockerBackendError("no_engine", f"no Docker engine is reachable at {where} ({err}). Start dockerd "
                                 f"(or run {BUILD_COMMAND} as root: it installs and starts the engine, and "
                                 "builds the image)") from None
    return client


# --------------------------------------------------------------------------- ownership


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22), so a
    reused pid is not mistaken for the owner; None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid()) or '?'}"


def _owner_alive(owner: str) -> bool:
    """Whether the process an owner label names still runs; owners on other hosts count as alive."""
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    return _start_time(int(pid)) == started if started != "?" else Path(f"/proc/{pid}").exists()


def remove_orphans(client: Any) -> list[str]:
    """Remove the managed containers whose owning process on this host is gone (killed before its
    ``atexit`` hook ran), and the token folders such processes left; the containers' names."""
    # docker: the docker extra (see docker_client)
    import docker  # optional: the docker extra

    for folder in Path(tempfile.gettempdir()).glob(f"{TOKEN_FOLDER_PREFIX}*-*"):
        pid = folder.name[len(TOKEN_FOLDER_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and _start_time(int(pid)) is None:
            shutil.rmtree(folder, ignore_errors=True)
    removed = []
    for container in client.containers.list(all=True, filters={"label": f"{MANAGED_LABEL}=1"}):
        if not _owner_alive(container.labels.get(OWNER_LABEL, "")):
            try:
                container.remove(force=True, v=True)
            except docker.errors.NotFound:  # another process removed it first
                continue
            removed.append(container.name)
    return removed


# --------------------------------------------------------------------------- the container


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _token_file(token: str) -> Path:
    """A private folder (mode 700: no other user of this host may enter it) holding ``token``, the
    file the container bind-mounts read-only at ``CONTAINER_TOKEN_FILE``; its mode 444 lets the
    container's own user (uid 10001) read it."""
    folder = Path(tempfile.mkdtemp(prefix=f"{TOKEN_FOLDER_PREFIX}{os.getpid()}-"))
    path = folder / "token"
    path.write_text(token + "\n", encoding="utf-8")
    path.chmod(0o444)
    return folder


def _mountable(replica: Path) -> tuple[Path, Path | None]:
    """The replica file to bind-mount, and the staging folder to delete afterwards (if a copy was needed)."""
    if replica.stat().st_mode & 0o004:
        return replica, None
    folder = Path(tempfile.mkdtemp(prefix="advisorgym-replica-"))
    folder.chmod(0o755)
    copy = folder / "replica.sqlite"
    shutil.copyfile(replica, copy)
    copy.chmod(0o644)
    return copy, folder


class DockerService:
    """One running service container: ``url`` and ``token`` to reach it; ``stop()`` removes it."""

    _lock = threading.Lock()
    _shared: dict[tuple[str, str, str | None], DockerService] = {}
    _running: set[DockerService] = set()

    def __init__(self, replica: str | Path, image: str | None = None, token: str | None = None,
                 start_timeout_s: float = DEFAULT_START_TIMEOUT_S):
        replica = Path(replica).resolve()
        if not replica.is_file():
            raise FileNotFoundError(f"no replica at {replica}")
        self.image = image or default_image()
        self.token = token or os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
        self.client = docker_client()
        self._require_image()
        remove_orphans(self.client)
        self.references = 0
        self._key: tuple[str, str, str | None] | None = None
        self._start_timeout_s = start_timeout_s
        self._revive_lock = threading.Lock()
        self._mount, self._staging = _mountable(replica)
        self._token_folder = _token_file(self.token)
        try:
            self.container, self.port = self._start(self._mount, start_timeout_s)
        except BaseException:
            self._drop_staging()
            raise
        self.url = f"http://127.0.0.1:{self.port}"
        self.pid = os.getpid()  # a forked child inherits the object, not the container
        with DockerService._lock:
            DockerService._running.add(self)

    @classmethod
    def acquire(cls, replica: str | Path, image: str | None = None, token: str | None = None,
                start_timeout_s: float = DEFAULT_START_TIMEOUT_S) -> DockerService:
        """The process's container for (image, replica, token), started on first use; one more reference."""
        key = (image or default_image(), str(Path(replica).resolve()), token)
        with cls._lock:
            service = cls._shared.get(key)
            if service is not None:
                service.references += 1
        if service is not None:
            try:
                service.revive()
            except BaseException:
                service.release()
                raise
            return service
        service = cls(replica, image, token, start_timeout_s)  # slow: outside the lock
        with cls._lock:
            if key in cls._shared:  # another thread started one meanwhile: use that one
                winner = cls._shared[key]
                winner.references += 1
            else:
                cls._shared[key], service._key, winner = service, key, service
                service.references = 1
        if winner is not service:
            service.stop()
        return winner

    def release(self) -> None:
        """Drop a reference from ``acquire``; the last one stops and removes the container."""
        with DockerService._lock:
            self.references -= 1
            if self.references > 0:
                return
            if self._key is not None and DockerService._shared.get(self._key) is self:
                del DockerService._shared[self._key]
        self.stop()

    def running(self) -> bool:
        """Whether the engine says the container still runs."""
        # docker: the docker extra (see docker_client)
        import docker  # optional: the docker extra

        try:
            self.container.reload()
        except docker.errors.NotFound:
            return False
        return self.container.status == "running"

    def revive(self) -> bool:
        """Replace a container that no longer runs with a new one (``url`` and ``port`` change);
        True if it did. Safe from several threads: one of them starts the new container."""
        # docker: the docker extra (see docker_client)
        import docker  # optional: the docker extra

        with self._revive_lock:
            if self.running():
                return False
            with DockerService._lock:
                if self not in DockerService._running:
                    raise DockerBackendError("start_failed", "the container was stopped with stop(); it is not restarted")
            try:
                self.container.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass
            self.container, self.port = self._start(self._mount, self._start_timeout_s)
            self.url = f"http://127.0.0.1:{self.port}"
            return True

    def stop(self) -> None:
        """Stop and remove the container (and its anonymous volume). Idempotent."""
        with DockerService._lock:
            if self not in DockerService._running:
                return
            DockerService._running.discard(self)
        # docker: the docker extra (see docker_client)
        import docker  # optional: the docker extra

        try:
            self.container.remove(force=True, v=True)
        except docker.errors.NotFound:  # already gone (removed by hand, or as an orphan)
            pass
        finally:
            self._drop_staging()

    def __enter__(self) -> DockerService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------

    def _require_image(self) -> None:
        # docker: the docker extra (see docker_client)
        import docker  # optional: the docker extra

        try:
            self.client.images.get(self.image)
        except docker.errors.ImageNotFound:
            raise DockerBackendError("image_missing", f"the Docker image {self.image} does not exist on this engine; "
                                     f"build it with {BUILD_COMMAND} (offline: no registry is used)") from None

    def _start(self, mount: Path, timeout_s: float) -> tuple[Any, int]:
        """A healthy container on a free port; a port taken meanwhile by someone else is retried."""
        for attempt in range(3):
            port = _free_port()
            container = self.client.containers.run(
                self.image, detach=True, name=f"advisorgym-{os.getpid()}-{secrets.token_hex(4)}",
                labels={MANAGED_LABEL: "1", OWNER_LABEL: _owner()},
                environment={TOKEN_FILE_ENV: CONTAINER_TOKEN_FILE, "ADVISORGYM_HOST": "127.0.0.1",
                             "ADVISORGYM_PORT": str(port), "REPLICA": CONTAINER_REPLICA},
                volumes={str(mount): {"bind": CONTAINER_REPLICA, "mode": "ro"},
                         str(self._token_folder / "token"): {"bind": CONTAINER_TOKEN_FILE, "mode": "ro"}},
                network_mode="host", read_only=True, tmpfs=TMPFS, cap_drop=["ALL"],
                security_opt=["no-new-privileges:true"], mem_limit=MEMORY_LIMIT, pids_limit=PIDS_LIMIT)
            try:
                if self._wait_healthy(container, port, timeout_s):
                    return container, port
            except BaseException:
                container.remove(force=True, v=True)
                raise
            logs = container.logs(tail=40).decode(errors="replace")
            container.remove(force=True, v=True)
            if "address already in use" not in logs or attempt == 2:
                raise DockerBackendError("start_failed", f"the container of {self.image} exited before answering "
                                         f"/health on port {port}; its log:\n{logs}")
        raise AssertionError("unreachable")

    def _wait_healthy(self, container: Any, port: int, timeout_s: float) -> bool:
        """True once /health answers 200; False if the container exited; raises on the deadline."""
        deadline, last = time.monotonic() + timeout_s, "no answer yet"
        with httpx.Client(trust_env=False, timeout=2.0) as http:
            while True:
                try:
                    response = http.get(f"http://127.0.0.1:{port}/health")
                    if response.status_code == 200:
                        return True
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as err:
                    last = type(err).__name__
                container.reload()
                if container.status not in ("created", "running"):
                    return False
                if time.monotonic() > deadline:
                    logs = container.logs(tail=40).decode(errors="replace")
                    raise DockerBackendError("unhealthy", f"the container {container.name} ({self.image}) did not "
                                             f"answer /health within {timeout_s:g} s (last: {last}); its log:\n{logs}")
                time.sleep(0.2)

    def _drop_staging(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        shutil.rmtree(self._token_folder, ignore_errors=True)


@atexit.register
def _stop_all() -> None:
    for service in [s for s in DockerService._running if s.pid == os.getpid()]:
        try:
            service.stop()
        except Exception:  # noqa: BLE001  (exiting: the next start removes what is left)
            pass


class DockerBackend(HttpBackend):
    """``HttpBackend`` on a managed container (shared with the process's other envs on the same
    image, replica and token). ``token``: the bearer token the container requires (default:
    ``$ADVISORGYM_API_TOKEN``, else a random one); ``self.token`` holds it."""

    def __init__(self, replica: str | Path, image: str | None = None, token: str | None = None,
                 start_timeout_s: float = DEFAULT_START_TIMEOUT_S, **http_options: Any):
        self.service: DockerService | None = DockerService.acquire(replica, image, token, start_timeout_s)
        self.token = self.service.token
        try:
            super().__init__(self.service.url, token=self.token, **http_options)
        except BaseException:
            self.service.release()
            raise

    def reset(self) -> None:
        """A pristine episode, as ``HttpBackend.reset``; on the service's current container, started
        anew if the one this backend used is dead (the engine is asked only when no session opens).
        Raises ``DockerBackendError`` if a new container cannot be started."""
        if self.service is not None and self.service.url != self.base_url:  # another backend replaced it
            self._follow()
        super().reset()
        if self.session_id is None and self.service is not None and self.service.revive():
            self._follow()
            super().reset()

    def _follow(self) -> None:
        """Point at the service's (new) container; the old container's session is gone with it."""
        assert self.service is not None
        self.connection.close()
        self._connect(self.service.url)

    def close(self) -> None:
        service, self.service = self.service, None
        if service is None:
            return
        try:
            super().close()
        finally:
            service.release()
