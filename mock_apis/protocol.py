"""The service's wire protocol: headers, limits and the errors of its own limits.

Shared by the app (``mock_apis.app``) and its OpenAPI document (``mock_apis.openapi``);
``envs.backends`` repeats the few constants the client needs, so the in-process path never
imports this package's web stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The service's own limits' error codes (not tool errors): their rows of mock_apis.errors.ERRORS.
from mock_apis.errors import SERVICE_ERROR_CODES
from mock_apis.sessions import DEFAULT_IDLE_TTL_S, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_WRITES

TOKEN_ENV = "ADVISORGYM_API_TOKEN"
#: A file holding the tokens instead (a Docker secret): kept out of the environment and `docker inspect`.
TOKEN_FILE_ENV = "ADVISORGYM_API_TOKEN_FILE"
SESSION_HEADER = "X-Session-Id"
#: Set on a response whose JSON could not be written by orjson (integers beyond 64 bits,
#: lone surrogates); a client should then parse it with the standard library to keep it exact.
JSON_FALLBACK_HEADER = "X-Advisorgym-Json"
MAX_BODY_BYTES = 1 << 20
SESSION_ID_PATTERN = "^[0-9a-f]{32}$"

LIMIT_STATUS = 429
SERVICE_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "enum": list(SERVICE_ERROR_CODES)},
        "message": {"type": "string"},
        "limit": {"type": "integer"},
        "retry_after_s": {"type": "number"},
    },
}


@dataclass(frozen=True)
class ServiceLimits:
    """The app's own limits (the HTTP server's time-outs are ``mock_apis.server.ServerLimits``)."""

    max_sessions: int = DEFAULT_MAX_SESSIONS
    max_sessions_per_token: int | None = None  # None: any token may use the whole capacity
    idle_ttl_s: float = DEFAULT_IDLE_TTL_S
    max_writes: int = DEFAULT_MAX_WRITES  # successful writes per session between resets
    max_body_bytes: int = MAX_BODY_BYTES
