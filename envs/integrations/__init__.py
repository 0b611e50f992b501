"""Adapters that plug the environment into other frameworks' clients and trainers.

Each one is a thin layer over the same episode (``envs.integrations.episode.Episode``, a
``FinAdvisorEnv`` driven turn by turn): the env parses every turn and computes the reward;
an adapter only moves the framework's calls in and the env's answers out. Integrations import
``envs``; the env never imports them. One module per framework, each needing its own extra
(except the OpenEnv protocol, which needs only the service's own dependencies):

- ``envs.integrations.mcp``: an MCP server (extra ``mcp``): ``advisorgym mcp`` over stdio,
  and ``/mcp`` (streamable HTTP) on ``advisorgym serve``.
- ``envs.integrations.openenv``: the OpenEnv protocol on ``advisorgym serve`` (``/ws``,
  ``/reset``, ``/step``, ``/state``, ``/schema``) for openenv-core's own client (extra
  ``openenv`` on the client's side).
- ``envs.integrations.verifiers``: a verifiers (v1) taskset and env (extra ``verifiers``), id
  ``advisorgym-verifiers``.
- ``envs.integrations.ray``: env actors and tool service replicas on a Ray cluster (extra
  ``ray``): ``advisorgym eval --ray``, GRPO rollouts on actors (``RemoteEnv``).
- ``envs.integrations.skyrl``: a SkyRL-Gym text env (extra ``skyrl``), id ``advisorgym`` in
  skyrl-gym's registry, and ``skyrl_rows`` for SkyRL's data.
"""
