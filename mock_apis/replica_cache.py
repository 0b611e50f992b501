"""Where replicas live: each domain's on-the-fly default replica and its cache
(``$ADVISORGYM_CACHE``, default ``~/.cache/advisorgym``)."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from mock_apis.domain import DEFAULT_DOMAIN, Domain, get_domain


def cache_dir() -> Path:
    return Path(os.environ.get("ADVISORGYM_CACHE", Path.home() / ".cache" / "advisorgym"))


@lru_cache(maxsize=16)
def _fingerprint(domain: Domain) -> str:
    digest = hashlib.sha256()
    for module in domain.generator_modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


def generator_fingerprint(domain: str | Domain | None = None) -> str:
    """A short hash of a domain's generator code (``Domain.generator_modules``): a cached replica
    is reused only by the code that wrote it, even where a change to that code forgot to bump
    the domain's generator version."""
    return _fingerprint(get_domain(domain))


def default_replica(seed: int | None = None, scale: int | None = None, domain: str | Domain | None = None) -> Path:
    """The cached replica of ``domain`` (default: the default domain) for ``(seed, scale)``
    (default: the domain's), generated on first use. The default domain's file names carry no
    domain name (``replica-v...``), the others' do (``replica-<domain>-v...``)."""
    found = get_domain(domain)
    seed = found.default_seed if seed is None else seed
    scale = found.default_scale if scale is None else scale
    prefix = "replica" if found.name == DEFAULT_DOMAIN else f"replica-{found.name}"
    path = cache_dir() / (f"{prefix}-v{found.schema.version}-g{found.generator_version}-"
                          f"{generator_fingerprint(found)}-seed{seed}-scale{scale}.sqlite")
    if not path.is_file():
        found.generate_replica(path, seed=seed, scale=scale)
    return path
