"""Peer benchmarks (openenv-core, skyrl-gym), run by ``benchmarks/run_all.py``.

The peers are never project dependencies: install them in a separate venv, e.g.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install -e '.[dev]' openenv-core skyrl-gym
    /tmp/peers/bin/python benchmarks/run_all.py
"""

import json


def skip_unimportable(peer: str, exc: ImportError) -> None:
    """Say, as a line and as run_all's RESULT record, that ``peer`` is not importable; exit 0."""
    print(f"SKIP {peer} is not importable here ({exc}); install it in a separate venv")
    print("RESULT " + json.dumps({"skipped": f"{peer} not importable: {exc}"}))
    raise SystemExit(0) from None
