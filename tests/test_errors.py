"""One error-code table and one exception base, shared by the env, the service and the clients."""

from __future__ import annotations

import importlib
import json

import pytest

from envs import FinAdvisorEnv
from envs.integrations.openenv import STATUS
from envs.reward import INFRA_ERROR_CODES
from envs.tasks import HANDWRITTEN
from mock_apis import errors
from mock_apis.app import STATUS_FOR_ERROR
from mock_apis.catalogue import ERROR_CODES, ERROR_SCHEMA, ToolError
from mock_apis.errors import ERRORS, AdvisorGymError
from mock_apis.protocol import SERVICE_ERROR_CODES, SERVICE_ERROR_SCHEMA

# Every exception class the project raises on purpose, with the standard base it keeps.
EXCEPTIONS = [
    ("envs.config", "ConfigError", ValueError),
    ("envs.contract_check", "ContractDrift", RuntimeError),
    ("envs.docker_backend", "DockerBackendError", RuntimeError),
    ("envs.evaluation.outputs", "EvalConfigError", RuntimeError),
    ("envs.evaluation.outputs", "EvalLocked", RuntimeError),
    ("envs.evaluation.run", "EvalAborted", RuntimeError),
    ("envs.integrations.episode", "EpisodeError", Exception),
    ("envs.integrations.openenv", "ProtocolError", Exception),
    ("envs.replay.export", "ExportError", ValueError),
    ("envs.replay.logformat", "LogError", ValueError),
    ("envs.replay.scoring", "HistoryError", ValueError),
    ("envs.wire", "WireError", Exception),
    ("envs.wire", "ConnectFailed", Exception),
    ("envs.wire", "Timeout", Exception),
    ("envs.wire", "Dropped", Exception),
    ("mock_apis.atomic", "IncompleteOutput", ValueError),
    ("mock_apis.catalogue", "ToolError", Exception),
    ("mock_apis.audit", "AuditUnavailable", RuntimeError),
    ("mock_apis.contracts.views", "DriftCheckError", RuntimeError),
    ("mock_apis.contracts.views", "InvalidContract", ValueError),
    ("mock_apis.deid.build", "BuildError", RuntimeError),
    ("mock_apis.deid.build", "SchemaDrift", RuntimeError),
    ("mock_apis.deid.pseudonymise", "DeidKeyError", ValueError),
    ("mock_apis.domain_table", "UnknownDomain", LookupError),
    ("mock_apis.postgres", "PostgresUnavailable", RuntimeError),
    ("mock_apis.sandbox", "ReplicaError", ValueError),
    ("mock_apis.sessions", "SessionCapacity", Exception),
    ("mock_apis.sessions", "SessionGone", Exception),
    ("trainer.config", "ConfigError", ValueError),
]


@pytest.mark.parametrize(("module", "name", "standard_base"), EXCEPTIONS, ids=[e[1] for e in EXCEPTIONS])
def test_every_exception_derives_from_the_one_base_and_keeps_its_standard_one(module, name, standard_base):
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, AdvisorGymError) and issubclass(cls, standard_base)


def test_the_ray_integrations_error_derives_from_the_base_too():
    ray = pytest.importorskip("envs.integrations.ray", exc_type=ImportError,
                             reason="SKIPPED LOUDLY: the ray extra is not installed (pip install -e '.[ray]'); "
                                    ".ci/scale-out installs it")
    assert issubclass(ray.ClusterUnavailable, AdvisorGymError) and issubclass(ray.ClusterUnavailable, ConnectionError)


def test_the_base_is_importable_from_envs_and_advisorgym():
    import advisorgym
    import envs

    assert envs.AdvisorGymError is advisorgym.AdvisorGymError is AdvisorGymError


def test_the_env_and_the_episode_routes_codes_are_in_the_table():
    assert ERRORS["episode_done"].source == ERRORS["malformed_action"].source == "env"
    assert set(STATUS) <= set(ERRORS), "an OpenEnv route answers a code the table lacks"


def test_the_tool_and_service_codes_are_the_tables():
    # the tool error schema's enum (the published contract) lists the table's tool codes, in order
    assert ERROR_CODES == errors.TOOL_ERROR_CODES == tuple(ERROR_SCHEMA["properties"]["error"]["enum"])
    assert SERVICE_ERROR_CODES == errors.SERVICE_ERROR_CODES == tuple(
        SERVICE_ERROR_SCHEMA["properties"]["error"]["enum"])
    assert INFRA_ERROR_CODES == errors.INFRA_ERROR_CODES
    assert all(STATUS_FOR_ERROR[code] == ERRORS[code].http_status for code in ERROR_CODES + SERVICE_ERROR_CODES)
    with pytest.raises(AssertionError):
        ToolError("episode_done", "an env code is not a tool's")


def test_the_env_answers_only_codes_of_the_table():
    env = FinAdvisorEnv(tasks=HANDWRITTEN, max_steps=2)
    try:
        env.reset(seed=0, options={"task_id": "hw-L1-01"})
        seen = [json.loads(env.step("{not an action")[0])["error"]]
        env.step(json.dumps({"type": "final", "content": "done"}))
        seen.append(json.loads(env.step(json.dumps({"type": "final", "content": "again"}))[0])["error"])
    finally:
        env.close()
    assert seen == ["malformed_action", "episode_done"]
    assert all(code in ERRORS for code in seen)
