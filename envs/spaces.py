"""The env's observation and action space: ``AgentText``, any string up to ``MAX_TEXT``
characters, and the refusal of ``AsyncVectorEnv``'s fixed-size shared memory for it."""

from __future__ import annotations

import string
from typing import Any

from gymnasium import spaces
from gymnasium.vector.utils import create_shared_memory

MAX_TEXT = 1 << 22


class AgentText(spaces.Text):
    """Any Python string up to ``max_length`` characters (JSON, markup, any Unicode).

    ``spaces.Text`` only admits a fixed alphabet; agent turns and tool results do not keep
    to one. Sampling still draws from printable ASCII. Subclassing ``Text`` keeps the
    vector-env batching helpers working; ``AsyncVectorEnv``'s shared memory is refused with
    a clear error (use ``AsyncVectorEnv(..., shared_memory=False)``).
    """

    def __init__(self, max_length: int = MAX_TEXT, seed: int | None = None):
        super().__init__(max_length=max_length, min_length=0, charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        length = int(self.np_random.integers(0, 64))
        return "".join(self.character_list[i] for i in self.np_random.integers(0, len(self.character_list), length))


SHARED_MEMORY_ERROR = (
    "FinAdvisorEnv's observations are JSON text of any length and alphabet, which cannot live in "
    "AsyncVectorEnv's fixed-size shared memory (gymnasium would silently return strings of '0'). "
    "Use AsyncVectorEnv(env_fns, shared_memory=False), or SyncVectorEnv.")


@create_shared_memory.register(AgentText)
def _refuse_shared_memory(space: AgentText, n: int = 1, ctx: Any = None) -> Any:
    raise TypeError(SHARED_MEMORY_ERROR)
