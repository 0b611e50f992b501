"""Peer benchmarks (openenv-core, skyrl-gym), run by ``benchmarks/run_all.py``.

The peers are never project dependencies: install them in a separate venv, e.g.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install -e '.[dev]' openenv-core skyrl-gym
    /tmp/peers/bin/python benchmarks/run_all.py
"""
