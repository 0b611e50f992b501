"""Episode sessions of the service: bounded in number, owned by a token, expired when idle.

A session is one sandbox (a private copy-on-write overlay over the replica). The store never
evicts a live session to make room: when it is full, ``create`` raises ``SessionCapacity``
(the service answers ``session_capacity``) and the caller deletes a session or waits for one
to expire. A session idle for longer than ``idle_ttl_s`` is expired: it is reclaimed on the
next access or the next ``create``, and looks exactly like an unknown id from then on.
A session also counts its successful writes and refuses more than ``max_writes`` until it is
reset, which bounds both its memory and the per-write cost that grows with the overlay.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mock_apis.catalogue import ToolOutcome, ToolRegistry, call_tool, probe_tool
from mock_apis.domain import Domain, get_domain
from mock_apis.sandbox import Sandbox

DEFAULT_MAX_SESSIONS = 256
DEFAULT_IDLE_TTL_S = 15 * 60.0
DEFAULT_MAX_WRITES = 256
#: The owner of sessions created without one: the app labels its first token so.
DEFAULT_OWNER = "token-0"


class SessionGone(Exception):
    """The session id is unknown, was deleted, expired, or belongs to another token."""


class SessionCapacity(Exception):
    """No room for another session (the store, or the token's quota, is full)."""

    def __init__(self, message: str, limit: int, retry_after_s: float):
        super().__init__(message)
        self.message, self.limit, self.retry_after_s = message, limit, retry_after_s


class Session:
    """One client's live session on the service: its own sandbox, owner, write budget and last
    use. ``attachment``: what a layer above keeps with the session for as long as it lives (the
    OpenEnv routes: the env episode running in it); the store drops it with the session."""

    __slots__ = ("id", "owner", "sandbox", "closed", "created", "last_used", "writes", "max_writes", "attachment",
                 "tools")

    def __init__(self, session_id: str, owner: str, sandbox: Sandbox, max_writes: int, now: float,
                 tools: ToolRegistry | None = None):
        self.id, self.owner, self.sandbox, self.closed = session_id, owner, sandbox, False
        self.tools = tools  # the domain's tools (None: the default domain's)
        self.created = self.last_used = now
        self.writes, self.max_writes = 0, max_writes
        self.attachment: Any = None

    def run(self, name: Any, arguments: Any, probe: bool = False, writes: bool = False) -> ToolOutcome:
        """Run a tool in this session; ``writes``: the tool writes (counted against ``max_writes``)."""
        with self.sandbox.lock:
            if self.closed:
                raise SessionGone(self.id)
            if probe:
                return probe_tool(self.sandbox, name, arguments, self.tools)
            if writes and self.writes >= self.max_writes:
                return write_limit_outcome(self.max_writes)
            outcome = call_tool(self.sandbox, name, arguments, self.tools)
            if writes and outcome.ok:
                self.writes += 1
            return outcome

    def run_batch(self, ops: list[tuple[Any, Any, bool, bool]],
                  commit: Callable[[list[ToolOutcome]], None] | None = None) -> list[ToolOutcome]:
        """``(name, arguments, probe, writes)`` operations run in order as one unit: no other
        request of this session runs between them (the batch route of ``mock_apis.app``).

        ``commit`` (the audit log's write) runs after them, still as part of the unit: if it
        raises, every write of the operations is rolled back (a savepoint) and the error
        propagates, so nothing is kept that was not recorded."""
        with self.sandbox.lock:
            if commit is None or not any(writes and not probe for _, _, probe, writes in ops):
                outcomes = [self.run(name, arguments, probe, writes) for name, arguments, probe, writes in ops]
                if commit is not None:
                    commit(outcomes)
                return outcomes
            con, writes_before = self.sandbox.con, self.writes
            con.execute("SAVEPOINT audited")
            try:
                outcomes = [self.run(name, arguments, probe, writes) for name, arguments, probe, writes in ops]
                commit(outcomes)
            except BaseException:
                con.execute("ROLLBACK TO audited")
                con.execute("RELEASE audited")
                self.writes = writes_before
                raise
            con.execute("RELEASE audited")
            return outcomes

    def reset(self) -> None:
        with self.sandbox.lock:
            if self.closed:
                raise SessionGone(self.id)
            self.sandbox.reset()
            self.writes = 0

    def close(self) -> None:
        with self.sandbox.lock:  # waits for a call in flight
            if not self.closed:
                self.closed = True
                self.sandbox.close()
        self.attachment = None


def write_limit_outcome(limit: int) -> ToolOutcome:
    return ToolOutcome(False, {"error": "session_write_limit", "limit": limit,
                               "message": f"this session already made {limit} writes, the most one session may "
                                          "make; reset the session (a new episode) to write again"})


class SessionStore:
    """Live sessions: at most ``max_sessions`` in all and ``max_per_owner`` per token.

    ``clock`` is injectable so tests can expire sessions without sleeping. Sessions are kept
    in least-recently-used order, so expired ones are always at the front.
    """

    def __init__(self, replica_path: Path, max_sessions: int = DEFAULT_MAX_SESSIONS, *,
                 idle_ttl_s: float = DEFAULT_IDLE_TTL_S, max_writes: int = DEFAULT_MAX_WRITES,
                 max_per_owner: int | None = None, clock: Callable[[], float] = time.monotonic,
                 domain: str | Domain | None = None):
        self.domain = get_domain(domain)
        if max_sessions < 1 or (max_per_owner is not None and max_per_owner < 1):
            raise ValueError("max_sessions and max_per_owner must be at least 1")
        if idle_ttl_s <= 0 or max_writes < 0:
            raise ValueError("idle_ttl_s must be positive and max_writes not negative")
        self.replica_path, self.max_sessions = replica_path, max_sessions
        self.idle_ttl_s, self.max_writes = float(idle_ttl_s), max_writes
        self.max_per_owner = max_per_owner if max_per_owner is not None else max_sessions
        self.clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._owned: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def expires_in(self, session: Session) -> float:
        """Seconds until ``session`` expires if it stays idle."""
        return max(0.0, round(session.last_used + self.idle_ttl_s - self.clock(), 3))

    def create(self, owner: str = DEFAULT_OWNER) -> Session:
        """A new session owned by ``owner``; ``SessionCapacity`` if there is no room."""
        self.collect_expired()
        now = self.clock()
        with self._lock:
            full = self._capacity_error(owner, now)
            if full is None:
                session = Session(secrets.token_hex(16), owner, None, self.max_writes, now,  # type: ignore[arg-type]
                                  self.domain.tools)
                self._sessions[session.id] = session
                self._owned[owner] = self._owned.get(owner, 0) + 1
        if full is not None:
            raise full
        try:
            session.sandbox = Sandbox(self.replica_path, self.domain.schema)  # outside the lock: opening costs ~1 ms
        except BaseException:
            self._remove(session.id)
            raise
        return session

    def collect_expired(self) -> int:
        """Close the sessions idle for longer than ``idle_ttl_s`` (and free their descriptors); how
        many. The service calls it on a timer and before creating a session."""
        with self._lock:
            expired = self._pop_expired(self.clock())
        for old in expired:  # outside the store lock: closing waits for the session's own lock
            old.close()
        return len(expired)

    def get(self, session_id: str, owner: str = DEFAULT_OWNER, touch: bool = True) -> Session:
        """The live session ``session_id`` of ``owner``; ``SessionGone`` otherwise (the same for
        an unknown, expired or foreign id, so that ids of other tokens cannot be probed).
        ``touch=False`` looks without counting as use (the idle clock keeps running)."""
        now = self.clock()
        expired = None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.owner != owner or session.sandbox is None:
                raise SessionGone(session_id)
            if now - session.last_used > self.idle_ttl_s:
                expired = self._pop(session_id)
            elif touch:
                session.last_used = now
                self._sessions.move_to_end(session_id)
        if expired is not None:
            expired.close()
            raise SessionGone(session_id)
        return session

    def delete(self, session_id: str, owner: str = DEFAULT_OWNER) -> None:
        self.get(session_id, owner)  # ownership and expiry
        session = self._remove(session_id)
        if session is None:
            raise SessionGone(session_id)
        session.close()

    def close_all(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
            self._owned.clear()
        for session in sessions:
            if session.sandbox is not None:
                session.close()

    # -- internals (``_pop*`` and ``_capacity_error`` run under ``self._lock``) ---------------

    def _remove(self, session_id: str) -> Session | None:
        with self._lock:
            return self._pop(session_id)

    def _pop(self, session_id: str) -> Session | None:
        session = self._sessions.pop(session_id, None)
        if session is not None:
            left = self._owned.get(session.owner, 1) - 1
            if left:
                self._owned[session.owner] = left
            else:
                self._owned.pop(session.owner, None)
        return session

    def _pop_expired(self, now: float) -> list[Session]:
        expired = []
        for session in list(self._sessions.values()):  # least recently used first
            if now - session.last_used <= self.idle_ttl_s:
                break
            if session.sandbox is not None:
                expired.append(self._pop(session.id))
        return expired

    def _capacity_error(self, owner: str, now: float) -> SessionCapacity | None:
        if self._owned.get(owner, 0) >= self.max_per_owner:
            mine = [s for s in self._sessions.values() if s.owner == owner]
            return SessionCapacity(f"this token already holds {self.max_per_owner} live sessions, its quota; "
                                   "delete one (DELETE /sessions/{id}) or let one expire",
                                   self.max_per_owner, self._retry_after(mine, now))
        if len(self._sessions) >= self.max_sessions:
            return SessionCapacity(f"the service holds {self.max_sessions} live sessions, its capacity; "
                                   "delete one (DELETE /sessions/{id}) or retry later",
                                   self.max_sessions, self._retry_after(self._sessions.values(), now))
        return None

    def _retry_after(self, sessions: Any, now: float) -> float:
        oldest = min((s.last_used for s in sessions), default=now)
        return max(1.0, round(oldest + self.idle_ttl_s - now, 1))
