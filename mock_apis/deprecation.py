"""Deprecation aliases: an old import path that keeps working, with a ``DeprecationWarning``,
by standing for the module that now holds its code (the very same module object, so that
its private names and monkeypatches behave as they did)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings


def alias_module(old: str, new: str) -> None:
    """Make the module being imported as ``old`` the module ``new``; call it from ``old``'s body."""
    warnings.warn(f"{old} is deprecated: import {new}", DeprecationWarning, stacklevel=3)
    sys.modules[old] = importlib.import_module(new)


def alias_package(old: str, new: str) -> None:
    """``alias_module`` for a package: ``old`` and each ``old.<sub>`` stand for ``new`` and ``new.<sub>``."""
    warnings.warn(f"{old} is deprecated: import {new}", DeprecationWarning, stacklevel=3)
    package = importlib.import_module(new)
    for sub in pkgutil.iter_modules(package.__path__):
        sys.modules[f"{old}.{sub.name}"] = importlib.import_module(f"{new}.{sub.name}")
    sys.modules[old] = package
