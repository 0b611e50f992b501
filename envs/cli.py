"""The ``advisorgym`` command's former home, kept so that ``envs.cli:app`` and
``python -m envs.cli`` still work: the command is assembled in ``advisorgym.cli``, and each
package's commands live in that package (``mock_apis.cli``, ``envs.integrations.cli``,
``envs.evaluation.cli``, ``envs.replay.cli``, ``trainer.cli``)."""

from __future__ import annotations

from advisorgym.cli import app
from envs.integrations.cli import episode_endpoints_available, episode_env_factory, mount_episode_endpoints
from mock_apis.cli import usage_error

__all__ = ["app", "episode_endpoints_available", "episode_env_factory", "mount_episode_endpoints", "usage_error"]

if __name__ == "__main__":
    app()
