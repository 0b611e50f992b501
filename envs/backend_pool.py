"""Spreading episodes over several replicas of the tool service.

``FinAdvisorEnv(backend="http", base_url=[url1, url2, ...])`` (or ``"url1,url2"``) runs on a
``BackendPool``: one ``HttpBackend`` per URL, and each ``reset()`` picks the next one round-robin;
the whole episode (its session, every call and probe) then stays on that replica. Results are
byte-identical to a single URL: every operation is the chosen ``HttpBackend``'s own.

**Failures.** A replica whose session cannot be opened or reset, or that answers a call with
``service_unavailable`` (unreachable, dropped connection, no room for a session), is taken out of
rotation for ``retry_after_s`` seconds; after that the next ``reset()`` that reaches it tries it
again, and it is back if it answers. An episode already running on a replica that fails is not
moved (its state lives there): its calls come back as ``service_unavailable``, as with one URL.
When every replica is out, ``reset()`` still tries them all, in order, before giving up with an
episode whose calls fail that way.

Every replica must serve the same replica (seed, scale, manifest): the pool refuses a mix at
``replica_meta()``, the environment's first question. Each member keeps at most one session on
its server (reset and reused on its next episode there), so a pool of N URLs holds up to N.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from envs.backends import HttpBackend, Op
from mock_apis.catalogue import ToolOutcome

#: How long a failed replica stays out of rotation before it is tried again.
DEFAULT_RETRY_AFTER_S = 5.0


def split_urls(base_url: str | Sequence[str]) -> list[str]:
    """A list of URLs, or a comma-separated string, as a list (blanks dropped)."""
    parts = base_url.split(",") if isinstance(base_url, str) else list(base_url)
    urls = [u.strip() for u in parts if u and u.strip()]
    if not urls:
        raise ValueError("base_url names no URL")
    return urls


class BackendPool:
    """Round-robin over one ``HttpBackend`` per URL, per episode; see the module docstring."""

    def __init__(self, base_urls: str | Sequence[str], token: str | None = None,
                 retry_after_s: float = DEFAULT_RETRY_AFTER_S, clock: Callable[[], float] = time.monotonic,
                 **http_options: Any):
        urls = split_urls(base_urls)
        if len(set(urls)) != len(urls):
            raise ValueError(f"base_url lists a URL twice: {urls}")
        self.members = [HttpBackend(url, token=token, **http_options) for url in urls]
        self.retry_after_s, self.clock = float(retry_after_s), clock
        self.down_until = [0.0] * len(self.members)  # out of rotation until then (clock time)
        self.current = self.members[0]  # the replica of the running episode
        self._next = 0
        self.episodes = [0] * len(self.members)  # episodes started on each replica

    @property
    def base_url(self) -> str:
        """The URL of the current episode's replica (the first until an episode starts)."""
        return self.current.base_url

    @property
    def last_error(self) -> str | None:
        return self.current.last_error

    def healthy(self) -> list[str]:
        """The URLs in rotation now."""
        now = self.clock()
        return [m.base_url for m, until in zip(self.members, self.down_until) if until <= now]

    # -- Backend protocol --------------------------------------------------------------

    def reset(self) -> None:
        """Start the episode on the next replica in rotation that opens a session; never raises."""
        n, now = len(self.members), self.clock()
        order = [(self._next + i) % n for i in range(n)]
        candidates = [i for i in order if self.down_until[i] <= now] + [i for i in order if self.down_until[i] > now]
        for i in candidates:
            member = self.members[i]
            member.reset()
            if member.session_id is not None:
                self.down_until[i] = 0.0
                self._choose(i)
                return
            self.down_until[i] = now + self.retry_after_s
        self._choose(candidates[0])  # nobody answers: the episode's calls report it

    def call(self, name: Any, arguments: Any) -> ToolOutcome:
        return self._watch(self.current.call(name, arguments))

    def probe(self, name: Any, arguments: Any) -> ToolOutcome:
        return self._watch(self.current.probe(name, arguments))

    def run_ops(self, ops: Sequence[Op]) -> list[ToolOutcome]:
        outcomes = self.current.run_ops(ops)
        for outcome in outcomes:
            self._watch(outcome)
        return outcomes

    def replica_meta(self) -> dict[str, str]:
        """The replica's metadata, the same on every replica that answers (ValueError if they differ);
        empty if none answers."""
        metas = {m.base_url: m.replica_meta() for m in self.members}
        answered = {url: meta for url, meta in metas.items() if meta}
        if len({tuple(sorted(meta.items())) for meta in answered.values()}) > 1:
            raise ValueError("the pool's services serve different replicas, so episodes would score differently "
                             f"depending on where they run: {answered}")
        for i, member in enumerate(self.members):
            if not metas[member.base_url]:
                self.down_until[i] = self.clock() + self.retry_after_s
        if answered and not metas[self.current.base_url]:  # start on one that answers (the env's checks use it)
            self.current = next(m for m in self.members if metas[m.base_url])
        return next(iter(answered.values()), {})

    def close(self) -> None:
        for member in self.members:
            member.close()

    # -- internals ---------------------------------------------------------------------

    def _choose(self, i: int) -> None:
        self.current, self._next = self.members[i], (i + 1) % len(self.members)
        self.episodes[i] += 1

    def _watch(self, outcome: ToolOutcome) -> ToolOutcome:
        """Take the current replica out of rotation if the outcome says it is not serving."""
        if not outcome.ok and outcome.payload.get("error") == "service_unavailable":
            self.down_until[self.members.index(self.current)] = self.clock() + self.retry_after_s
        return outcome
