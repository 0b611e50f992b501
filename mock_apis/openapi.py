"""The service's OpenAPI 3.1 document, written from the tool catalogue (not introspected)."""

from __future__ import annotations

from typing import Any

from mock_apis.catalogue import ERROR_SCHEMA, ToolSpec
from mock_apis.protocol import SERVICE_ERROR_SCHEMA, SESSION_HEADER, SESSION_ID_PATTERN, ServiceLimits


def build_openapi(tools: dict[str, ToolSpec], title: str, version: str,
                  limits: ServiceLimits | None = None) -> dict[str, Any]:
    """OpenAPI 3.1 for the service; tool bodies and results are the catalogue's own JSON Schemas."""
    limits = limits or ServiceLimits()
    error_ref = {"$ref": "#/components/schemas/Error"}
    limit_error = {"description": "A limit of the service (`session_capacity`, `session_write_limit`).",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceError"}}}}

    def error(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": error_ref}}}

    def ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    unauthorized = error("Missing or invalid bearer token (`unauthorized`).")
    gone = error("Unknown, deleted or expired session, or one of another token (`not_found`).")
    too_large = error(f"Request body over {limits.max_body_bytes} bytes (`invalid_arguments`).")
    session_param = {"name": "session_id", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": SESSION_ID_PATTERN}}
    session_header = {"name": SESSION_HEADER, "in": "header", "required": False,
                      "schema": {"type": "string", "pattern": SESSION_ID_PATTERN},
                      "description": "Run in this episode session (from `POST /sessions`). Without it the call "
                                     "is stateless: it sees the pristine replica and writes are rolled back."}
    any_object = {"type": "object"}
    tool_name_param = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    describe_schema = {
        "type": "object",
        "required": ["name", "description", "version", "criticality", "composite", "writes", "parameters", "returns"],
        "properties": {"name": {"type": "string"}, "description": {"type": "string"}, "version": {"type": "string"},
                       "criticality": {"type": "number"}, "composite": {"type": "boolean"},
                       "writes": {"type": "boolean"}, "parameters": any_object, "returns": any_object}}

    paths: dict[str, Any] = {
        "/health": {"get": {
            "operationId": "health", "summary": "Liveness, tool count and replica metadata.", "security": [],
            "tags": ["service"],
            "responses": {"200": ok("The service is up.", {
                "type": "object", "required": ["status", "tools", "replica"],
                "properties": {"status": {"const": "ok"}, "tools": {"type": "integer"},
                               "replica": {"type": "object", "additionalProperties": {"type": "string"}}}})}}},
        "/tools": {"get": {
            "operationId": "list_tools", "summary": "Every tool, in OpenAI function-calling shape.",
            "tags": ["service"],
            "responses": {"200": ok("The tool schemas.", {"type": "array", "items": {
                "type": "object", "required": ["type", "function"],
                "properties": {"type": {"const": "function"}, "function": {
                    "type": "object", "required": ["name", "description", "parameters"],
                    "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                                   "parameters": {"type": "object"}}}}}}),
                "401": unauthorized}}},
    }
    for name, spec in tools.items():
        responses = {
            "200": ok("The tool's result.", spec.returns),
            "401": unauthorized,
            "404": error("`not_found` (no such entity) or `unknown_tool`."),
            "410": gone,
            "413": too_large,
            "422": error("`invalid_arguments`: the body is not JSON or does not match the parameters schema."),
            "500": error("`internal_error`: a bug in the tool (never expected)."),
        }
        if spec.writes:
            responses["409"] = error("A domain rule forbids it in the current state: `rule_violation`, "
                                     "`insufficient_funds` or `conflict`.")
            responses["429"] = limit_error  # session_write_limit
        paths[f"/tools/{name}"] = {"get": {
            "operationId": f"describe_{name}", "summary": f"The full contract of {name}.", "tags": ["tool contracts"],
            "responses": {"200": ok("The tool's contract.", describe_schema), "401": unauthorized},
        }, "post": {
            "operationId": name, "summary": spec.description.split(". ")[0].rstrip(".") + ".",
            "description": spec.description,
            "tags": ["composite tools" if spec.composite else "tools"],
            "parameters": [session_header],
            "requestBody": {"required": False, "description": "The arguments object; an empty body means `{}`.",
                            "content": {"application/json": {"schema": spec.parameters}}},
            "responses": dict(sorted(responses.items())),
            "x-advisorgym": {"version": spec.version, "criticality": spec.criticality, "composite": spec.composite,
                             "writes": spec.writes},
        }}
    paths["/sessions"] = {"post": {
        "operationId": "create_session", "summary": "Start an isolated episode session on a pristine replica.",
        "tags": ["sessions"],
        "description": f"At most {limits.max_sessions} sessions live at once; a session idle for "
                       f"{limits.idle_ttl_s:g} s expires; it may make {limits.max_writes} writes until reset. "
                       "When full, `429 session_capacity` with `Retry-After`; no live session is ever evicted.",
        "responses": {"201": ok("The new session.", {
            "type": "object", "required": ["session_id", "expires_in_s", "idle_ttl_s", "max_writes"],
            "properties": {"session_id": {"type": "string", "pattern": SESSION_ID_PATTERN},
                           "expires_in_s": {"type": "number"}, "idle_ttl_s": {"type": "number"},
                           "max_writes": {"type": "integer"}}}),
            "401": unauthorized, "429": limit_error}}}
    paths["/sessions/{session_id}/reset"] = {"post": {
        "operationId": "reset_session", "summary": "Drop every write of the session.", "tags": ["sessions"],
        "parameters": [session_param],
        "responses": {"200": ok("Reset.", {"type": "object", "required": ["session_id", "reset"],
                                           "properties": {"session_id": {"type": "string"},
                                                          "reset": {"const": True}}}),
                      "401": unauthorized, "410": gone}}}
    paths["/sessions/{session_id}"] = {"get": {
        "operationId": "get_session", "summary": "The session's remaining idle lifetime and writes.",
        "tags": ["sessions"], "parameters": [session_param],
        "responses": {"200": ok("The session.", {
            "type": "object", "required": ["session_id", "expires_in_s", "idle_ttl_s", "writes", "max_writes"],
            "properties": {"session_id": {"type": "string"}, "expires_in_s": {"type": "number"},
                           "idle_ttl_s": {"type": "number"}, "writes": {"type": "integer"},
                           "max_writes": {"type": "integer"}}}),
            "401": unauthorized, "410": gone}}, "delete": {
        "operationId": "delete_session", "summary": "End the session and free its sandbox.", "tags": ["sessions"],
        "parameters": [session_param],
        "responses": {"204": {"description": "Deleted."}, "401": unauthorized, "410": gone}}}
    paths["/sessions/{session_id}/probe/{name}"] = {"post": {
        "operationId": "probe_tool",
        "summary": "Run a tool in the session's current state, then roll its writes back.",
        "tags": ["sessions"],
        "parameters": [session_param, tool_name_param],
        "requestBody": {"required": False, "description": "The arguments object; an empty body means `{}`.",
                        "content": {"application/json": {"schema": {}}}},
        "responses": {"200": ok("The tool's result (see the tool's own route for its schema).", any_object),
                      "401": unauthorized, "404": error("`not_found` or `unknown_tool`."),
                      "409": error("`rule_violation`, `insufficient_funds` or `conflict`."), "410": gone,
                      "413": too_large, "422": error("`invalid_arguments`."),
                      "500": error("`internal_error` (never expected).")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Mock financial back-ends for the advisorgym environment. Each tool is one "
                                "`POST /tools/<name>` route; bodies and results use the tool catalogue's schemas."},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR_SCHEMA, "ServiceError": SERVICE_ERROR_SCHEMA},
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    }
