"""The newcomer's path: the README's commands as written, CI running exactly them first, and a
wheel that works when installed normally (not editable), from another directory.

The fresh-clone tests clone the repository's committed HEAD (uncommitted changes are not in
it) and install into new virtual environments from the package index, so they take minutes.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CI_RUN = (ROOT / ".ci" / "run").read_text()


def readme_commands() -> tuple[str, str]:
    """The two commands of the README's "Two commands for a fresh machine" block."""
    block = re.search(r"## Two commands for a fresh machine\n\n(?:<!--[^\n]*-->\n)?```bash\n(.*?)```", README, re.DOTALL)
    assert block, "README.md has no 'Two commands for a fresh machine' bash block"
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2, commands
    return commands[0], commands[1]


def ci_commands() -> list[str]:
    """.ci/run's top-level command lines, in order (comments, set, cd, function bodies left out)."""
    lines, depth = [], 0
    for line in CI_RUN.splitlines():
        stripped = line.strip()
        if stripped.endswith("{"):
            depth += 1
            continue
        if stripped == "}":
            depth -= 1
            continue
        if depth or not stripped or stripped.startswith("#") or stripped.startswith(("set ", "cd ")):
            continue
        lines.append(stripped)
    return lines


def test_ci_runs_the_readme_commands_verbatim_and_first():
    install, tests = readme_commands()
    commands = ci_commands()
    assert commands[0] == "rm -rf .venv report"  # a fresh venv, whatever the machine had
    assert commands[1] == install
    assert commands[2] == tests
    assert "python3 -m venv .venv" in install and "pip install -e" in install and "advisorgym eval" in install


def test_ci_runs_the_determinism_tests_on_the_oldest_install_the_floors_allow():
    import tomllib

    commands = ci_commands()
    assert any(c.endswith('-c .ci/constraints-oldest.txt -e ".[dev]"') and ".venv-oldest/bin/pip install" in c
               for c in commands)
    assert any(".venv-oldest/bin/python -m pytest -q -m determinism" in c for c in commands)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {}
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[a-z,]+\])?>=([0-9.]+)(?:;.*)?", requirement).groups()
        floors[name.lower()] = floor
    pinned = {}
    for line in (ROOT / ".ci" / "constraints-oldest.txt").read_text().splitlines():
        requirement, _, why = line.partition("#")
        if requirement.strip():
            name, version = requirement.strip().split("==")
            pinned[name.lower()] = (version, why.strip())
    assert set(floors) <= set(pinned), f"not in .ci/constraints-oldest.txt: {sorted(set(floors) - set(pinned))}"
    for name, floor in floors.items():
        version, why = pinned[name]
        # each at its floor, unless the line says why a newer one is the oldest that installs
        assert version.split(".")[:len(floor.split("."))] == floor.split(".") or why, (name, floor, version)


def test_pyproject_lists_every_package():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.relative_to(ROOT).parts[:-1]) for p in ROOT.glob("**/__init__.py")
             if p.relative_to(ROOT).parts[0] in ("advisorgym", "envs", "mock_apis", "trainer")}
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
    assert config["package-dir"]["advisorgym_fixtures"] == "fixtures"
    # The Docker build wheels a clean copy of the source tree: it must hold every package's folder.
    roots = {config["package-dir"].get(p, p.split(".")[0]) for p in listed}
    copy_line = next(line for line in (ROOT / "mock_apis" / "docker" / "build.sh").read_text().splitlines()
                     if "git ls-files" in line)
    assert roots <= set(copy_line.split()), f"build.sh does not copy {sorted(roots - set(copy_line.split()))}"


def _run(cmd: str, cwd: Path, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, f"{cmd}\nexit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory) -> Path:
    clone = tmp_path_factory.mktemp("clone") / "advisorgym"
    _run(f"git clone --quiet --no-hardlinks {shlex.quote(str(ROOT))} {shlex.quote(str(clone))}", ROOT, 120)
    return clone


@pytest.mark.packaging
@pytest.mark.timeout(1200)
def test_the_readme_install_command_runs_as_written_on_a_fresh_clone(fresh_clone, tmp_path):
    install, _ = readme_commands()
    cache = {"ADVISORGYM_CACHE": str(tmp_path / "cache")}  # the replica is generated on the fly
    proc = _run(install, fresh_clone, 1100, cache)
    assert "oracle: 500/500 episodes" in proc.stdout and "TCR 100.0%" in proc.stdout, proc.stdout
    assert (fresh_clone / "report" / "metrics.json").is_file()
    assert (fresh_clone / "report" / "report.md").read_text().startswith("# advisorgym evaluation")


@pytest.mark.packaging
@pytest.mark.timeout(1200)
def test_a_wheel_installed_normally_works_from_another_directory(fresh_clone, tmp_path):
    wheels, venv, elsewhere = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _run(f"{shlex.quote(sys.executable)} -m pip wheel --quiet --no-deps --wheel-dir {wheels} .", fresh_clone, 600)
    wheel = next(wheels.glob("advisorgym-*.whl"))
    _run(f"python3 -m venv {venv} && {venv}/bin/pip install --quiet {wheel}", elsewhere, 900)
    env = {"ADVISORGYM_CACHE": str(tmp_path / "cache")}
    check = ("import gymnasium as gym, advisorgym; env = gym.make('advisorgym/FinAdvisor-v0'); "
             "obs, info = env.reset(seed=0); print('suite', len(env.unwrapped.tasks), info['task_id'])")
    proc = _run(f"{venv}/bin/python -c {shlex.quote(check)}", elsewhere, 300, env)
    assert "suite 500" in proc.stdout and "site-packages" not in str(elsewhere)
    proc = _run(f"{venv}/bin/python -c 'import envs.tasks as t; print(t.FIXTURES)'", elsewhere, 60, env)
    assert "site-packages/advisorgym_fixtures" in proc.stdout, proc.stdout  # not the source tree
    proc = _run(f"{venv}/bin/advisorgym eval --agent oracle --limit 5 --out report --no-progress", elsewhere, 300, env)
    assert "TCR 100.0%" in proc.stdout and (elsewhere / "report" / "metrics.json").is_file()
