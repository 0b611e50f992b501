"""Which domains exist: ``register_domain``, ``lookup`` (which imports ``mock_apis.domains.<name>``
on first use), ``domain_names`` and ``DEFAULT_DOMAIN``.

The lowest module of the domain seam (it imports nothing of the project), so that the tool
catalogue and the sandbox can find the default domain without importing ``mock_apis.domain``,
which builds on them. Use ``mock_apis.domain.get_domain``, its typed front, elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

#: The domain a caller that names none gets: the financial-advisory back office.
DEFAULT_DOMAIN = "finance"
#: The package whose sub-packages are the shipped domains.
DOMAINS_PACKAGE = "mock_apis.domains"

_DOMAINS: dict[str, Any] = {}


class UnknownDomain(LookupError):
    """A domain name no package defines; the message lists the known ones."""


def register_domain(domain: Any) -> Any:
    """Make ``domain`` (a ``mock_apis.domain.Domain``) known by its name; returns it. A shipped
    domain's package registers its ``DOMAIN`` when imported; a domain defined elsewhere (a
    bank's own back office) registers itself the same way."""
    known = _DOMAINS.get(domain.name)
    if known is not None and known is not domain:
        raise ValueError(f"domain {domain.name!r} registered twice")
    _DOMAINS[domain.name] = domain
    return domain


def lookup(name: str) -> Any:
    """The domain called ``name``, importing ``mock_apis.domains.<name>`` the first time."""
    if name not in _DOMAINS:
        if not isinstance(name, str) or not name.isidentifier():
            raise UnknownDomain(f"no domain named {name!r}; known domains: {', '.join(domain_names())}")
        try:
            module = importlib.import_module(f"{DOMAINS_PACKAGE}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{DOMAINS_PACKAGE}.{name}":
                raise
            raise UnknownDomain(f"no domain named {name!r}; known domains: {', '.join(domain_names())}") from None
        register_domain(module.DOMAIN)
    return _DOMAINS[name]


def domain_names() -> list[str]:
    """Every domain that can be looked up: the shipped packages and any registered one, sorted."""
    shipped = importlib.import_module(DOMAINS_PACKAGE)
    names = {m.name for m in pkgutil.iter_modules(shipped.__path__) if m.ispkg}
    return sorted(names | set(_DOMAINS))
