"""Where the package's data lives (``mock_apis.fixtures``, re-exported here for the env's modules)."""

from mock_apis.fixtures import FIXTURES, fixtures_dir

__all__ = ["FIXTURES", "fixtures_dir"]
