"""The verifiers taskset ``advisorgym-verifiers`` (verifiers imports a taskset by its id as a
top-level module): ``envs.integrations.verifiers``'s taskset and env."""

from envs.integrations.verifiers import AdvisorEnv, AdvisorTaskset

__all__ = ["AdvisorEnv", "AdvisorTaskset"]
