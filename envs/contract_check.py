"""The environment's contract check at start-up: a back-end that has drifted from the
contract (a renamed result field, a dropped column, a removed tool) would silently zero
rewards, so the env refuses to start on breaking drift unless the caller opts out.

Results are cached per process, per back-end and contract: vector envs and evals that build
many envs check once.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from envs.backends import TOKEN_ENV, InProcessBackend
from mock_apis.domain import Domain, get_domain


class ContractDrift(RuntimeError):
    """The back-end differs from the contract in a breaking way; the message names the fields."""


@lru_cache(maxsize=64)
def _report(contract: str | None, in_process: bool, replica: str | None, service: str | None,
            token: str | None, domain: Domain | None = None) -> Any:
    from mock_apis.contracts import check_drift

    if in_process:
        return check_drift(contract, in_process=True, replica=replica, domain=domain)
    return check_drift(contract, service=service, token=token, domain=domain)


def check_backend(backend: Any, token: str | None, contract: str | Path | None, allow_drift: bool,
                  domain: str | Domain | None = None) -> dict[str, Any]:
    """The contract status every episode's info carries; raises ``ContractDrift`` on breaking
    drift unless ``allow_drift``, and ``ConnectionError`` when the back-end cannot be asked
    (e.g. it rejects the token), and ``InvalidContract`` (a ``ValueError``) when the contract
    file is not a valid contract, whatever ``allow_drift`` says. A custom ``Backend`` (neither in-process nor HTTP) is not
    checked, and says so. ``domain``: the back-end's (default: the default domain; its shipped
    contract is the default ``contract``)."""
    from mock_apis.contracts import DriftCheckError, InvalidContract

    found = get_domain(domain)
    contract_key = str(contract) if contract is not None else None
    if isinstance(backend, InProcessBackend):
        key = (contract_key, True, str(backend.sandbox.replica_path), None, None, found)
    elif isinstance(getattr(backend, "base_url", None), str):
        key = (contract_key, False, None, backend.base_url, token if token is not None else os.environ.get(TOKEN_ENV),
               found)
    else:
        return {"checked": False, "reason": f"custom back-end {type(backend).__name__}", "allow_drift": allow_drift}
    try:
        report = _report(*key)
    except InvalidContract:
        raise
    except DriftCheckError as err:  # the back-end could not be asked (refused credentials, failed requests)
        if not allow_drift:
            raise ConnectionError(f"cannot check the back-end against the contract: {err} (allow_drift=True, "
                                  "CLI --allow-drift, runs anyway)") from None
        return {"checked": False, "reason": str(err), "allow_drift": True}
    status = {"checked": True, "contract": report.contract, "ok": report.ok, "allow_drift": allow_drift,
              "breaking": [f.label for f in report.breaking],
              "renames": [f"{r.old} -> {r.new}" for r in report.renames]}
    if not report.ok and not allow_drift:
        raise ContractDrift(f"the back-end has drifted from the contract: {report.summary()}. Its rewards would be "
                            "wrong; fix the back-end, or pass allow_drift=True (CLI --allow-drift) to run anyway.")
    return status
