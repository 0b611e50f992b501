"""Where replicas live (``mock_apis.replica_cache``, re-exported here for the env's modules)."""

from mock_apis.replica_cache import cache_dir, default_replica, generator_fingerprint

__all__ = ["cache_dir", "default_replica", "generator_fingerprint"]
