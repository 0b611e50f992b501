"""docs/integrations.md as a user reads it: every ```python block runs as written, in its own
Python process, and prints what the ```text block after it shows. A block added to the page
later is picked up here with no change. Blocks fenced ```python needs-network (a model
download) or ```python needs-gpu are compiled, and their run is skipped loudly.

The blocks use every framework's extra, so this module skips (loudly) unless all of them are
installed; .ci/integrations runs it after installing them."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "integrations.md"
EXTRAS = {"mcp": "mcp", "verifiers": "verifiers", "skyrl_gym": "skyrl", "trl": "train"}
SKIPPED_RUNS = ("needs-network", "needs-gpu")
MAX_USER_LINES = 5

missing = [extra for module, extra in EXTRAS.items() if importlib.util.find_spec(module) is None]
if missing:
    pytest.skip(f"SKIPPED LOUDLY: docs/integrations.md needs the {', '.join(missing)} extra(s) "
                "(.ci/integrations installs them and runs this test)", allow_module_level=True)

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.S | re.M)


def blocks() -> list[tuple[str, str, list[str], str | None]]:
    """``(section, code, fence words, expected output)`` per ```python block, in page order."""
    text = PAGE.read_text()
    fences = list(FENCE.finditer(text))
    found = []
    for i, fence in enumerate(fences):
        words = fence.group(1).split()
        if not words or words[0] != "python":
            continue
        heading = re.findall(r"^## (.+)$", text[:fence.start()], re.M)
        following = fences[i + 1] if i + 1 < len(fences) else None
        expected = None
        if following is not None and following.group(1).strip() == "text" \
                and not text[fence.end():following.start()].strip():
            expected = following.group(2).strip()
        found.append((heading[-1] if heading else "top", fence.group(2), words[1:], expected))
    return found


BLOCKS = blocks()


def user_lines(code: str) -> list[str]:
    """The lines a user writes: not imports, blank lines or comments, nor the lines replaying a
    task's gold trajectory (they stand in for a model)."""
    return [line for line in code.splitlines()
            if line.strip() and not line.lstrip().startswith(("import ", "from ", "#")) and "gold" not in line]


def test_the_page_has_an_example_per_framework_each_at_most_5_user_lines():
    sections = {section for section, *_ in BLOCKS}
    assert {"MCP (`mcp` extra)", "verifiers (`verifiers` extra)", "SkyRL (`skyrl` extra)",
            "TRL (`train` extra)"} <= sections
    for section, code, _, _ in BLOCKS:
        assert len(user_lines(code)) <= MAX_USER_LINES, (section, user_lines(code))


def subprocess_env(home: Path) -> dict[str, str]:
    """This interpreter's environment, its scripts first on PATH (``advisorgym``). A server
    started through a client that passes only a default environment (the MCP SDK's stdio
    client) finds the replica cache under ``HOME``: it is this run's cache."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    cache = os.environ.get("ADVISORGYM_CACHE")
    if cache:
        (home / ".cache").mkdir(parents=True)
        (home / ".cache" / "advisorgym").symlink_to(Path(cache).resolve(), target_is_directory=True)
        env["HOME"] = str(home)
    return env


@pytest.mark.parametrize(("section", "code", "words", "expected"), BLOCKS,
                         ids=[f"{i}-{section.split()[0]}" for i, (section, *_) in enumerate(BLOCKS)])
def test_each_python_block_runs_as_written(section, code, words, expected, tmp_path):
    ast.parse(code)  # every block is valid Python, run or not
    skipped = [w for w in words if w in SKIPPED_RUNS]
    if skipped:
        pytest.skip(f"SKIPPED LOUDLY: the {section} block is fenced {skipped[0]} (compiled only, not run)")
    Path(tmp_path / "home").mkdir()
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=subprocess_env(tmp_path / "home"),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{section}: {run.stderr[-3000:]}"
    if expected is not None:
        assert run.stdout.strip() == expected, (section, run.stdout, run.stderr[-2000:])
