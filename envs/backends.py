"""Back-ends: where the environment's tool calls run.

Every back-end exposes the same four operations, so the environment (and the reward's
sandbox re-execution) cannot tell them apart:

- ``reset()``: start a new episode on a pristine copy of the replica;
- ``call(name, arguments)``: run a tool for real in the episode's state;
- ``probe(name, arguments)``: run a tool in the episode's current state and undo its
  effects (used to execute gold calls for parameter accuracy);
- ``close()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from mock_apis.catalogue import ToolOutcome, call_tool
from mock_apis.sandbox import Sandbox


class Backend(Protocol):
    def reset(self) -> None: ...

    def call(self, name: Any, arguments: Any) -> ToolOutcome: ...

    def probe(self, name: Any, arguments: Any) -> ToolOutcome: ...

    def close(self) -> None: ...


class InProcessBackend:
    """Runs tools in this process on a private ``Sandbox`` over the replica file."""

    def __init__(self, replica_path: str | Path):
        self.sandbox = Sandbox(replica_path)

    def reset(self) -> None:
        self.sandbox.reset()

    def call(self, name: Any, arguments: Any) -> ToolOutcome:
        return call_tool(self.sandbox, name, arguments)

    def probe(self, name: Any, arguments: Any) -> ToolOutcome:
        with self.sandbox.lock:
            self.sandbox.con.execute("SAVEPOINT probe")
            try:
                return call_tool(self.sandbox, name, arguments)
            finally:
                self.sandbox.con.execute("ROLLBACK TO probe")
                self.sandbox.con.execute("RELEASE probe")

    def close(self) -> None:
        self.sandbox.close()
