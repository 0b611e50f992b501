"""Deprecated alias of ``mock_apis.audit``, where the hash-chained audit log now lives (the service
writes it, and the service sits below the env). Import from ``mock_apis.audit``."""

from __future__ import annotations

import warnings

from mock_apis.audit import (BUFFERED_RECORDS, GENESIS, AuditLog, AuditUnavailable, canonical, repair, result_hash,
                             run_versions, verify)

__all__ = ["BUFFERED_RECORDS", "GENESIS", "AuditLog", "AuditUnavailable", "canonical", "repair", "result_hash",
           "run_versions", "verify"]

warnings.warn("envs.audit is deprecated: import from mock_apis.audit", DeprecationWarning, stacklevel=2)
