"""Where replicas live: the on-the-fly default replica and its cache."""

from __future__ import annotations

import os
from pathlib import Path

from mock_apis.generate import DEFAULT_SCALE, DEFAULT_SEED, GENERATOR_VERSION, generate_replica
from mock_apis.models import SCHEMA_VERSION


def cache_dir() -> Path:
    return Path(os.environ.get("ADVISORGYM_CACHE", Path.home() / ".cache" / "advisorgym"))


def default_replica(seed: int = DEFAULT_SEED, scale: int = DEFAULT_SCALE) -> Path:
    """The cached replica for ``(seed, scale)``, generated on first use."""
    path = cache_dir() / f"replica-v{SCHEMA_VERSION}-g{GENERATOR_VERSION}-seed{seed}-scale{scale}.sqlite"
    if not path.is_file():
        generate_replica(path, seed=seed, scale=scale)
    return path
