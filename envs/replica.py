"""Where replicas live: the on-the-fly default replica and its cache."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import mock_apis.generate
import mock_apis.models
import mock_apis.people
from mock_apis.generate import DEFAULT_SCALE, DEFAULT_SEED, GENERATOR_VERSION, generate_replica
from mock_apis.models import SCHEMA_VERSION


def cache_dir() -> Path:
    return Path(os.environ.get("ADVISORGYM_CACHE", Path.home() / ".cache" / "advisorgym"))


@lru_cache(maxsize=1)
def generator_fingerprint() -> str:
    """A short hash of the generator's code: a cached replica is reused only by the code that
    wrote it, even where a change to that code forgot to bump ``GENERATOR_VERSION``."""
    digest = hashlib.sha256()
    for module in (mock_apis.generate, mock_apis.people, mock_apis.models):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


def default_replica(seed: int = DEFAULT_SEED, scale: int = DEFAULT_SCALE) -> Path:
    """The cached replica for ``(seed, scale)``, generated on first use."""
    path = cache_dir() / (f"replica-v{SCHEMA_VERSION}-g{GENERATOR_VERSION}-{generator_fingerprint()}"
                          f"-seed{seed}-scale{scale}.sqlite")
    if not path.is_file():
        generate_replica(path, seed=seed, scale=scale)
    return path
