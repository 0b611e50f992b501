"""What a drift check compares with the contract: the tools as a service (or this process)
publishes and really runs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from mock_apis.catalogue import parse_ref, probe_tool
from mock_apis.contracts.snapshot import tool_contract
from mock_apis.domain import Domain, get_domain
from mock_apis.sandbox import Sandbox

#: Seconds per HTTP request of a drift check.
HTTP_TIMEOUT_S = 10.0


class DriftCheckError(RuntimeError):
    """The check could not run (service unreachable, token refused, unreadable contract)."""


class InvalidContract(DriftCheckError, ValueError):
    """The contract file is not a contract: unreadable, foreign, or against its own schema
    (bad input, so also a ``ValueError``)."""


class ToolView(Protocol):
    """A back-end as the drift check sees it: its published contracts, and tools it can run."""
    label: str

    def published(self) -> dict[str, dict[str, Any]]:
        """Each tool's published contract (``tool_contract``'s keys), keyed by name (its default
        version) and by ``name@version`` (each other version)."""
        ...

    def run(self, name: str, arguments: dict[str, Any], writes: bool) -> tuple[bool, Any]:
        """Run a tool (``name`` or ``name@version``) for real (writes rolled back); ``(succeeded, payload)``."""
        ...

    def close(self) -> None: ...


class InProcessView:
    """The catalogue of this process, run on a sandbox of ``replica_path``."""

    def __init__(self, replica_path: str | Path, domain: str | Domain | None = None):
        self.domain = get_domain(domain)
        self.label = f"in-process catalogue on {replica_path}"
        self.sandbox = Sandbox(replica_path, self.domain.schema)

    def published(self) -> dict[str, dict[str, Any]]:
        tools = self.domain.tools
        return {name: tool_contract(spec) for name, spec in {**tools.tools, **tools.versioned()}.items()}

    def run(self, name: str, arguments: dict[str, Any], writes: bool) -> tuple[bool, Any]:
        outcome = probe_tool(self.sandbox, parse_ref(name), arguments, self.domain.tools)  # a write is rolled back
        return outcome.ok, outcome.payload

    def close(self) -> None:
        self.sandbox.close()


class ServiceView:
    """A running service: ``GET /tools?include=versions``, ``GET /tools/{name}[@{version}]`` and
    ``POST /tools/{name}[@{version}]`` (without a session, so that its writes are rolled back at
    once). A service that lists no ``versions`` serves only its defaults."""

    def __init__(self, base_url: str, token: str | None):
        import httpx

        self.label = f"service {base_url}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._httpx = httpx
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=HTTP_TIMEOUT_S,
                                   trust_env=False)

    def _get(self, route: str) -> Any:
        try:
            response = self.client.get(route)
        except self._httpx.HTTPError as err:
            raise DriftCheckError(f"cannot reach {self.client.base_url}{route}: {err or type(err).__name__}") from None
        if response.status_code != 200:
            raise DriftCheckError(f"GET {route} answered {response.status_code}: {response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise DriftCheckError(f"GET {route} answered with a body that is not JSON") from None

    def published(self) -> dict[str, dict[str, Any]]:
        routes = []
        for entry in self._get("/tools?include=versions"):
            name = entry["function"]["name"]
            routes += [name, *(f"{name}@{v}" for v in entry.get("versions", ()) if v != entry.get("version"))]
        out = {}
        for route in routes:
            described = self._get(f"/tools/{route}")
            out[route] = {key: described.get(key) for key in ("version", "writes", "parameters", "returns")}
        return out

    def run(self, name: str, arguments: dict[str, Any], writes: bool) -> tuple[bool, Any]:
        try:
            response = self.client.post(f"/tools/{name}", json=arguments)
        except self._httpx.HTTPError as err:
            raise DriftCheckError(f"cannot reach {self.client.base_url}: {err or type(err).__name__}") from None
        if response.status_code == 401:
            raise DriftCheckError(f"the service refused the token (401) on POST /tools/{name}")
        try:
            return response.status_code == 200, response.json()
        except ValueError:
            raise DriftCheckError(f"POST /tools/{name} answered {response.status_code} with a body that is "
                                  "not JSON") from None

    def close(self) -> None:
        self.client.close()
