"""Where the package's data lives: the repository's ``fixtures/`` in a source checkout or an
editable install, the ``advisorgym_fixtures`` package inside an installed wheel."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_SOURCE_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixtures_dir() -> Path:
    if (_SOURCE_FIXTURES / "tasks" / "suite.jsonl").is_file():
        return _SOURCE_FIXTURES
    return Path(str(files("advisorgym_fixtures")))


FIXTURES = fixtures_dir()
