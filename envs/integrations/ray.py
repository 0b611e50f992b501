"""Environments and tool services on a Ray cluster (extra ``ray``), where RL trainers run.

**The env pool** (``RayEnvPool``): ``workers`` Ray actors (``EnvWorker``), placed with the
``SPREAD`` strategy so that they land on different nodes where there is room, each declaring
what it uses (``num_cpus``, ``memory``: Ray places an actor only where they are free). Each
actor holds its own environments (``FinAdvisorEnv``, built where it runs by the ``make_env``
the pool was given) and serves them two ways:

- whole eval episodes (``RayEnvPool.run``: the eval's own ``EpisodeWorker``, one env and one
  agent per actor, ``run_episode`` unchanged), which ``advisorgym eval --ray ADDRESS`` runs on
  (``eval_pool``): the records are those of a single-process eval for the same seeds, because
  each episode's record depends only on its task, seed and agent, never on where it ran (the
  eval puts the file in suite order when the run ends);
- single episodes driven turn by turn (``RayEnvPool.remote_env``: a ``RemoteEnv`` proxy with
  the env's ``reset``/``step``/``score_late_turns``/``end_episode``), for clients that hold an
  episode themselves, such as the TRL adapter: ``AdvisorEnvironment(env=pool.remote_env())``
  gives GRPO rollouts whose episodes live on the cluster.

**Faults.** A worker process or node that dies takes its actor with it (``max_restarts=0``:
the pool, not Ray, decides what happens next). The pool starts a replacement actor, placed by
the same strategy, and uses it once it answers. In ``run``, each episode that was running or
queued on the lost actor is an infrastructure failure and is **retried** on another actor, up
to ``max_attempts`` runs in all; after that it comes back as an infrastructure-error record
(``infra_errors``), which the eval never stores and re-runs on resume. Every job is in exactly
one pending Ray call at a time and is handed back only from a call that returned, so no
episode is lost or counted twice: a call whose actor died returns nothing, whatever it had
done before dying. ``RayEnvPool.retried`` lists each retry (task, trial, reason). A
``RemoteEnv`` whose actor is lost answers its episode's next steps with a
``service_unavailable`` observation and an ended episode whose reward carries
``infra_error`` (the TRL adapter masks such rollouts); its next ``reset`` starts on a live actor.

**Tool services** (``ToolServiceGroup``): ``replicas`` actors (``ToolServer``), each running
the service (``mock_apis.app``, as ``advisorgym serve`` does) on its node's address and a free
port. A session lives in the memory of the replica that created it, so each session is pinned
to its replica by its URL: the clients (``FinAdvisorEnv(backend="http",
base_url=group.urls)``, a ``BackendPool``) open the session on one replica and send every call
of that episode there; no load balancer re-routes a call. Scaling up adds replicas (new
clients see them in ``urls``). **Scaling down drains**: a replica chosen for removal leaves
``urls`` at once and refuses new sessions (``session_capacity``, which a ``BackendPool``
answers by opening the session on another replica), but it keeps serving its live sessions;
it is stopped only once none is left, or once ``drain_timeout_s`` has passed (then those
sessions' calls fail as ``service_unavailable``: infrastructure errors, not the agent's). So no
session loses its replica to a scale-down that its drain timeout covers.

Actors import this package where they run: every node needs the project installed (the same
version) and the suite and replica paths it is given (the default replica is generated
deterministically on each node, under its ``ADVISORGYM_CACHE``).
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import orjson

try:
    import ray
    from ray.exceptions import GetTimeoutError, NodeDiedError, RayActorError
except ImportError as err:  # pragma: no cover - the message is the point
    raise ImportError("the Ray integration needs the ray extra: pip install -e '.[ray]'") from err

from envs.evaluation.run import TRANSCRIPT_CHARS, EpisodeWorker, Job
from mock_apis.app import create_app
from mock_apis.errors import AdvisorGymError
from mock_apis.server import serve_in_thread

#: Errors that mean the actor (its process or its node) is gone, not that the episode failed.
LOST = (RayActorError, NodeDiedError)
#: Memory each env actor declares: its measured resident set is ~164 MiB (docs/scale.md); an
#: agent that holds a model needs its own figure (``RayEnvPool(memory=...)``).
ACTOR_MEMORY = 256 * 2**20
#: Seconds ``run`` waits without any call finishing before it gives up (a stuck cluster).
STALL_TIMEOUT_S = 600.0


class ClusterUnavailable(AdvisorGymError, ConnectionError):
    """The cluster cannot run the pool: no room for its actors, or no episode finishes."""


def connect(address: str | None) -> None:
    """Join the Ray cluster at ``address`` (``"auto"``: the one started on this machine by
    ``ray start``) unless this process already has; ``None``: a cluster must be joined already."""
    if ray.is_initialized():
        return
    if address is None:
        raise ValueError("no Ray cluster: pass its address (ray://host:10001, host:6379 or auto)")
    ray.init(address=address, logging_level="WARNING", log_to_driver=False)


def eval_pool(address: str | None) -> Callable[..., RayEnvPool]:
    """What ``run_eval(episode_pool=...)`` takes to run an eval on the cluster at ``address``: a
    pool of one actor per eval worker, all placed before the first episode (as a local eval
    builds its workers first)."""

    def start(make_env: Callable[[], Any], make_agent: Callable[[], Any], workers: int,
              transcript_chars: int) -> RayEnvPool:
        pool = RayEnvPool(make_env, make_agent, workers=workers, transcript_chars=transcript_chars, address=address)
        try:
            pool.wait_ready()
        except BaseException:
            pool.close()
            raise
        return pool

    return start


class EnvWorker:
    """One actor of the pool: its environments (``make_env()`` each) and, for eval episodes, one
    agent (``make_agent()``) with its own environment (``EpisodeWorker``)."""

    def __init__(self, make_env: Callable[[], Any], make_agent: Callable[[], Any] | None = None,
                 transcript_chars: int = TRANSCRIPT_CHARS):
        self.make_env = make_env
        self.episodes = EpisodeWorker(make_env, make_agent(), transcript_chars) if make_agent is not None else None
        if self.episodes is not None:
            self.episodes.open()
        self.envs: dict[int, Any] = {}
        self._next_slot = 0

    def where(self) -> dict[str, Any]:
        """The node and process this actor runs in."""
        return {"node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}

    def run(self, job: Job) -> dict[str, Any]:
        """One whole eval episode: its record."""
        assert self.episodes is not None, "this pool was built without an agent"
        return self.episodes.run(job)

    def contract_status(self) -> Any:
        return self.episodes.env.contract_status if self.episodes is not None else None

    # -- single episodes driven turn by turn (RemoteEnv) ----------------------------------

    def open_env(self) -> int:
        slot, self._next_slot = self._next_slot, self._next_slot + 1
        self.envs[slot] = self.make_env()
        return slot

    def tool_schemas(self, slot: int) -> list[dict[str, Any]]:
        return list(self.envs[slot].tool_schemas)

    def reward_config(self, slot: int) -> Any:
        return self.envs[slot].reward_config

    def reset(self, slot: int, seed: int | None, options: dict[str, Any] | None) -> tuple[Any, dict[str, Any]]:
        return self.envs[slot].reset(seed=seed, options=options)

    def step(self, slot: int, action: Any) -> tuple[Any, ...]:
        return self.envs[slot].step(action)

    def score_late_turns(self, slot: int, turns: list[Any]) -> dict[str, Any]:
        return self.envs[slot].score_late_turns(turns)

    def end_episode(self, slot: int) -> dict[str, Any]:
        return self.envs[slot].end_episode()

    def close_env(self, slot: int) -> None:
        env = self.envs.pop(slot, None)
        if env is not None:
            env.close()

    def close(self) -> None:
        if self.episodes is not None:
            self.episodes.close()
        for slot in list(self.envs):
            self.close_env(slot)


@dataclass
class _Member:
    """An actor of the pool and what the pool knows of it."""

    actor: Any
    ready: Any  # the pending where() call; None once it answered
    place: dict[str, Any]
    in_flight: int = 0
    lost: bool = False


class RayEnvPool:
    """``workers`` ``EnvWorker`` actors on the cluster (see the module doc).

    ``make_env``: builds one environment, on the actor (a closure Ray pickles: it must only
    reference importable code and picklable values). ``make_agent``: builds the agent of an
    eval actor (``None``: a pool for ``remote_env`` only). ``num_cpus``/``memory`` (bytes):
    what each actor declares (``memory=None``: none). ``in_flight``: episodes queued on an actor at once (2 keeps it
    busy while the driver collects a result). ``max_attempts``: runs of one episode before it
    is handed back as an infrastructure failure.
    """

    def __init__(self, make_env: Callable[[], Any], make_agent: Callable[[], Any] | None = None, *,
                 workers: int = 2, num_cpus: float = 1.0, memory: int | None = ACTOR_MEMORY,
                 transcript_chars: int = TRANSCRIPT_CHARS, in_flight: int = 2, max_attempts: int = 3,
                 address: str | None = None, stall_timeout_s: float = STALL_TIMEOUT_S):
        if workers < 1 or in_flight < 1 or max_attempts < 1:
            raise ValueError("workers, in_flight and max_attempts must be at least 1")
        connect(address)
        options: dict[str, Any] = {"num_cpus": num_cpus, "max_restarts": 0, "max_task_retries": 0,
                                   "scheduling_strategy": "SPREAD"}
        if memory is not None:
            options["memory"] = int(memory)
        self._options = {k: options[k] for k in ("num_cpus", "memory") if k in options}
        self._actor_class = ray.remote(EnvWorker).options(**options)
        self._args = (make_env, make_agent, transcript_chars)
        self.in_flight, self.max_attempts, self.stall_timeout_s = in_flight, max_attempts, stall_timeout_s
        self.members = [self._start() for _ in range(workers)]
        self.replaced = 0
        self.retried: list[dict[str, Any]] = []
        self.episodes_by_node: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._next = 0

    def _start(self) -> _Member:
        actor = self._actor_class.remote(*self._args)
        return _Member(actor, actor.where.remote(), {})

    def wait_ready(self, timeout_s: float = 120.0) -> list[dict[str, Any]]:
        """Wait until every actor is placed and built its environments (as a local eval builds
        its workers before the first episode); where each runs (``node_id``, ``pid``)."""
        for member in self.members:
            if member.ready is not None:
                try:
                    member.place, member.ready = ray.get(member.ready, timeout=timeout_s), None
                except GetTimeoutError:
                    raise ClusterUnavailable(
                        f"the Ray cluster found no room for {len(self.members)} env actors in {timeout_s:.0f} s "
                        f"(each asks for {self._options}); use fewer, or add nodes") from None
        return [m.place for m in self.members]

    def _replace(self, member: _Member) -> None:
        """Start a new actor in ``member``'s place (once, however many calls report the loss)."""
        with self._lock:
            if member.lost:
                return
            member.lost = True
            ray.kill(member.actor, no_restart=True)
            self.members[self.members.index(member)] = self._start()
            self.replaced += 1

    # -- eval episodes ------------------------------------------------------------------

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, dict[str, Any], bool]]:
        """Run every job on the actors; ``(job, record, False)`` as each finishes, once per job
        (``False``: the eval syncs each record as it comes, as in a sequential run).

        An episode whose actor was lost is retried (module doc); an exception raised by the
        episode itself (an env failure) is raised here, as in a local eval.
        """
        pending = collections.deque(jobs)
        attempts: dict[tuple[int, int], int] = {}
        calls: dict[Any, tuple[_Member, Job]] = {}
        while pending or calls:
            for member in self.members:
                if member.ready is not None:
                    continue
                while pending and member.in_flight < self.in_flight:
                    job = pending.popleft()
                    attempts[(job.index, job.trial)] = attempts.get((job.index, job.trial), 0) + 1
                    calls[member.actor.run.remote(job)] = (member, job)
                    member.in_flight += 1
            readiness = {m.ready: m for m in self.members if m.ready is not None}
            waiting = list(calls) + list(readiness)
            done, _ = ray.wait(waiting, num_returns=1, timeout=self.stall_timeout_s)
            if not done:
                raise ClusterUnavailable(f"no episode finished on the Ray cluster for {self.stall_timeout_s:.0f} s "
                                   f"({len(calls)} running, {len(pending)} waiting)")
            ref = done[0]
            if ref in readiness:
                member = readiness[ref]
                try:
                    member.place, member.ready = ray.get(ref), None
                except LOST:
                    self._replace(member)
                continue
            member, job = calls.pop(ref)
            member.in_flight -= 1
            try:
                record = ray.get(ref)
            except LOST as err:
                reason = _reason(err)
                self._replace(member)
                key = (job.index, job.trial)
                if attempts[key] >= self.max_attempts:
                    yield job, {"task_id": job.task.task_id, "index": job.index, "trial": job.trial,
                                "infra_errors": [f"ray worker lost {attempts[key]} times: {reason}"]}, False
                else:
                    self.retried.append({"task_id": job.task.task_id, "trial": job.trial, "reason": reason})
                    pending.appendleft(job)
                continue
            self.episodes_by_node[member.place.get("node_id", "?")] += 1
            yield job, record, False

    def report(self) -> dict[str, Any]:
        """What the pool did: episodes per node, actors replaced, episodes retried (and why)."""
        return {"episodes_by_node": dict(self.episodes_by_node), "actors_replaced": self.replaced,
                "episodes_retried": list(self.retried)}

    def contract_status(self) -> Any:
        """The tool contract check of the first live actor's environment (as a local eval reports it)."""
        for member in self.members:
            if member.ready is None:
                try:
                    return ray.get(member.actor.contract_status.remote(), timeout=60)
                except LOST:
                    continue
        return None

    # -- episodes driven turn by turn ---------------------------------------------------

    def remote_env(self) -> RemoteEnv:
        """An environment on one of the actors (round-robin), driven through Ray."""
        return RemoteEnv(self)

    def _lease(self) -> tuple[_Member, int]:
        """A new environment slot on the next actor that answers (a lost one is replaced)."""
        for _ in range(self.max_attempts * len(self.members)):
            with self._lock:
                member = self.members[self._next % len(self.members)]
                self._next += 1
            try:
                return member, ray.get(member.actor.open_env.remote(), timeout=self.stall_timeout_s)
            except LOST:
                self._replace(member)
        raise RuntimeError("no actor of the pool could open an environment")

    def close(self) -> None:
        """Close every actor's environments and stop the actors."""
        for member in self.members:
            if member.ready is None:  # one still being placed (no room on the cluster) holds nothing yet
                try:
                    ray.get(member.actor.close.remote(), timeout=60)
                except LOST:
                    pass
            ray.kill(member.actor, no_restart=True)
        self.members = []


def _reason(err: BaseException) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0][:300] if str(err) else ''}"


#: The observation of a step whose actor was lost (an infrastructure error, as the env reports one).
LOST_OBSERVATION = {"error": "service_unavailable",
                    "message": "the Ray actor holding this episode was lost; the episode cannot go on"}
_LOST = object()  # RemoteEnv._on_actor's answer once the episode's actor is gone


class RemoteEnv:
    """A ``FinAdvisorEnv`` living on one of a pool's actors, with the env's episode methods
    (``reset``, ``step``, ``score_late_turns``, ``end_episode``, ``tool_schemas``,
    ``reward_config``), so that code written for the env (``AdvisorEnvironment``,
    ``score_trajectory``) drives it unchanged.

    Like the env, ``step`` never raises: if the actor is lost mid-episode, the step and every
    later one until ``reset`` answer ``service_unavailable`` and end the episode with a reward
    that carries ``infra_error`` (module doc).
    """

    def __init__(self, pool: RayEnvPool):
        self.pool = pool
        self.member, self.slot = pool._lease()
        self.lost: str | None = None
        self._schemas: list[dict[str, Any]] | None = None
        self._reward_config: Any = None

    def _call(self, method: str, *args: Any) -> Any:
        return ray.get(getattr(self.member.actor, method).remote(self.slot, *args), timeout=self.pool.stall_timeout_s)

    @property
    def tool_schemas(self) -> list[dict[str, Any]]:
        if self._schemas is None:
            self._schemas = self._call("tool_schemas")
        return self._schemas

    @property
    def reward_config(self) -> Any:
        if self._reward_config is None:
            self._reward_config = self._call("reward_config")
        return self._reward_config

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start an episode; on a live actor (a new one if this one was lost)."""
        for _ in range(self.pool.max_attempts):
            if self.lost is not None or self.member.lost:
                self.member, self.slot = self.pool._lease()
                self.lost = None
            try:
                return self._call("reset", seed, options)
            except LOST as err:
                self.pool._replace(self.member)
                self.lost = _reason(err)
        raise RuntimeError(f"no actor of the pool could start the episode ({self.lost})")

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        result = self._on_actor("step", action)
        if result is not _LOST:
            return result
        return (orjson.dumps(LOST_OBSERVATION).decode(), 0.0, True, False,
                {"infra_error": True, "calls": [], "reward": self._lost_reward()})

    def score_late_turns(self, turns: list[Any]) -> dict[str, Any]:
        result = self._on_actor("score_late_turns", turns)
        return self._lost_reward() if result is _LOST else result

    def end_episode(self) -> dict[str, Any]:
        result = self._on_actor("end_episode")
        return self._lost_reward() if result is _LOST else result

    def _on_actor(self, method: str, *args: Any) -> Any:
        """``method`` on this episode's actor; ``_LOST`` once the actor is gone (it is replaced
        in the pool, and the episode stays lost until the next ``reset``)."""
        if self.lost is None:
            try:
                return self._call(method, *args)
            except LOST as err:
                self.pool._replace(self.member)
                self.lost = _reason(err)
        return _LOST

    def _lost_reward(self) -> dict[str, Any]:
        """The reward of an episode whose actor was lost: nothing the policy did, all zero,
        ``infra_error`` set (masked by the trainer, never stored by the eval)."""
        return {"total": 0.0, "R_fmt": 0.0, "R_corr": 0.0, "R_eff": 0.0, "R_comp": 0.0, "S_name": 0.0,
                "S_cover": 0.0, "S_param": 0.0, "infra_error": True, "terminated_by": "infra_error",
                "task_success": False, "violations": [], "lost": self.lost}

    def close(self) -> None:
        if self.lost is None and not self.member.lost:
            try:
                self._call("close_env")
            except LOST:
                pass


# -- tool services -----------------------------------------------------------------------


class ToolServer:
    """One replica of the tool service (``mock_apis.app``) running in an actor, on its node's
    address and a free port."""

    def __init__(self, replica: str, tokens: list[str], max_sessions: int, idle_ttl_s: float):
        self.app = create_app(replica, tokens=tokens, max_sessions=max_sessions, idle_ttl_s=idle_ttl_s)
        self._stack = ExitStack()
        self.url = self._stack.enter_context(serve_in_thread(self.app, host=ray.util.get_node_ip_address()))

    def where(self) -> dict[str, Any]:
        return {"url": self.url, "node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}

    def live_sessions(self) -> int:
        sessions = self.app.state.service.sessions
        sessions.collect_expired()
        return len(sessions)

    def drain(self) -> int:
        """Refuse new sessions from now on (``session_capacity``); the live sessions stay. How many."""
        self.app.state.service.sessions.max_sessions = 0
        return self.live_sessions()

    def stop(self) -> None:
        self._stack.close()


class ToolServiceGroup:
    """``replicas`` tool service replicas on the cluster; ``urls`` for the clients (module doc).

    ``replica``: the SQLite replica path on every node (each replica serves its own copy);
    ``tokens``: the bearer tokens the service accepts. ``num_cpus``: what each replica declares.
    """

    def __init__(self, replica: str, tokens: list[str], replicas: int = 2, *, num_cpus: float = 1.0,
                 max_sessions: int = 256, idle_ttl_s: float = 900.0, address: str | None = None):
        connect(address)
        self._actor_class = ray.remote(ToolServer).options(num_cpus=num_cpus, max_restarts=0,
                                                            scheduling_strategy="SPREAD")
        self._args = (str(replica), list(tokens), max_sessions, idle_ttl_s)
        self.servers: list[tuple[Any, dict[str, Any]]] = []
        self.draining: list[tuple[Any, dict[str, Any], float]] = []
        self.scale(replicas)

    @property
    def urls(self) -> list[str]:
        """The replicas new sessions may open on (the draining ones are not listed)."""
        return [place["url"] for _, place in self.servers]

    def scale(self, replicas: int, drain_timeout_s: float = 900.0) -> None:
        """Run ``replicas`` replicas: start new ones, or drain the last ones (module doc)."""
        if replicas < 1:
            raise ValueError("a tool service needs at least one replica")
        started = [self._actor_class.remote(*self._args) for _ in range(replicas - len(self.servers))]
        self.servers += [(actor, ray.get(actor.where.remote(), timeout=120)) for actor in started]
        while len(self.servers) > replicas:
            actor, place = self.servers.pop()
            ray.get(actor.drain.remote(), timeout=60)
            self.draining.append((actor, place, time.monotonic() + drain_timeout_s))
        self.reap()

    def reap(self) -> list[str]:
        """Stop the draining replicas that hold no session any more (or whose drain timed out);
        their URLs."""
        stopped, kept = [], []
        for actor, place, deadline in self.draining:
            try:
                idle = ray.get(actor.live_sessions.remote(), timeout=60) == 0
            except LOST:
                idle = True
            if idle or time.monotonic() >= deadline:
                _stop(actor)
                stopped.append(place["url"])
            else:
                kept.append((actor, place, deadline))
        self.draining = kept
        return stopped

    def close(self) -> None:
        for actor, *_ in self.servers + self.draining:
            _stop(actor)
        self.servers, self.draining = [], []


def _stop(actor: Any) -> None:
    try:
        ray.get(actor.stop.remote(), timeout=30)
    except LOST:
        pass
    ray.kill(actor, no_restart=True)
