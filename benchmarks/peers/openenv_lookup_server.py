"""A minimal OpenEnv environment served by openenv-core's own ``create_app``: each step is the
same SQLite lookup our read tool makes (``SELECT * FROM clients WHERE client_id = ?``, one row
as a dict) on a read-only connection to the replica named by ``$PEER_REPLICA``.

    PEER_REPLICA=path.sqlite python -m uvicorn peers.openenv_lookup_server:app --port N

(run from ``benchmarks/``). The models live in ``peers.openenv_lookup_models`` so the client
does not import the server.
"""

from __future__ import annotations

import os
import sqlite3
from uuid import uuid4

from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import State

from peers.openenv_lookup_models import LookupAction, LookupObservation

REPLICA = os.environ.get("PEER_REPLICA", "")


class LookupEnvironment(Environment):
    SUPPORTS_CONCURRENT_SESSIONS: bool = True

    def __init__(self) -> None:
        self._state = State(episode_id=str(uuid4()), step_count=0)
        self._con = sqlite3.connect(f"file:{REPLICA}?mode=ro", uri=True, check_same_thread=False)
        self._con.row_factory = sqlite3.Row

    def reset(self, seed=None, episode_id=None, **kwargs) -> LookupObservation:
        self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
        return LookupObservation(row={}, done=False, reward=0.0)

    def step(self, action: LookupAction, timeout_s=None, **kwargs) -> LookupObservation:
        self._state.step_count += 1
        row = self._con.execute("SELECT * FROM clients WHERE client_id = ?", (action.client_id,)).fetchone()
        return LookupObservation(row=dict(row) if row else {}, done=False, reward=0.0)

    @property
    def state(self) -> State:
        return self._state

    def close(self) -> None:
        self._con.close()


app = create_app(LookupEnvironment, LookupAction, LookupObservation, env_name="lookup",
                 max_concurrent_envs=int(os.environ.get("PEER_MAX_ENVS", "64")))
