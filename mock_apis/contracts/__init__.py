"""Schema contracts: snapshot the tools and the replica (``build_contract``), and check a
service, this process or a replica against a snapshot (``check_drift``)."""

from mock_apis.contracts.check import check_drift, contract_sha256, default_contract_path, load_contract
from mock_apis.contracts.drift import DriftReport, Finding, Rename
from mock_apis.contracts.snapshot import build_contract, dumps
from mock_apis.contracts.views import DriftCheckError, InvalidContract

__all__ = ["DriftCheckError", "DriftReport", "Finding", "InvalidContract", "Rename", "build_contract", "check_drift",
           "contract_sha256", "default_contract_path", "dumps", "load_contract"]
