"""Where the package's data lives: the repository's ``fixtures/`` in a source checkout or an
editable install, the ``advisorgym_fixtures`` package inside an installed wheel."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

_SOURCE_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixtures_dir() -> Path:
    if (_SOURCE_FIXTURES / "tasks" / "suite.jsonl").is_file():
        return _SOURCE_FIXTURES
    spec = find_spec("advisorgym_fixtures")  # a namespace package: data files only, no __init__.py
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("advisorgym's fixtures are missing: neither the source tree's fixtures/ nor the "
                                "installed advisorgym_fixtures package was found; reinstall advisorgym")
    return Path(list(spec.submodule_search_locations)[0])


FIXTURES = fixtures_dir()
