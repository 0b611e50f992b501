"""Every fenced code block of README.md and docs/*.md, as a user reads it.

Each page's blocks run in page order in one scratch folder that sees the repository's
``fixtures/``, ``trainer/``, ``benchmarks/`` (and ``.venv``, for ``.venv/bin/advisorgym``), with
this interpreter's scripts first on ``PATH``: a ``python`` block in its own Python process, a
``bash`` block under ``bash -e -o pipefail``. A ``text`` block right after a ``python`` block is
what that block must print. A block added to a page later is picked up with no change here.

A block that CI cannot run says why, in its fence (```` ```bash needs-gpu ````) or in an HTML
comment on the line before it (``<!-- docs-test: tested-by=.ci/run (why) -->``); docs/index.md
("Code blocks") lists the marks and why each is allowed. Such a block is checked for syntax
only (compiled, or ``bash -n``) and its run is skipped loudly. ``extra=NAME`` blocks run where
that extra is installed: every block of a page that has one carries the ``extras`` pytest mark,
and ``.ci/integrations`` installs every extra and runs those (``-m extras``).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXTRAS = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
# The module whose presence says an extra is installed.
EXTRA_MODULES = {"mcp": "mcp", "verifiers": "verifiers", "skyrl": "skyrl_gym", "train": "trl",
                 "openenv": "openenv", "ray": "ray", "docker": "docker", "postgres": "psycopg"}
# Marks that keep a block from running here (docs/index.md, "Code blocks", says why each is allowed).
NOT_RUN = ("needs-gpu", "needs-network", "needs-docker", "needs-model", "long")
CODE = ("python", "bash")
OTHER = ("text", "json", "yaml")
TIMEOUT_S = 120
MAX_USER_LINES = 5  # docs/integrations.md: each framework's example, besides imports and gold replay
LINKED = ("fixtures", "trainer", "benchmarks", "envs", "mock_apis", "docs")

FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)
COMMENT = re.compile(r"<!--\s*docs-test:\s*(?P<marks>[^(]*?)\s*(?:\(.*\))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    marks: tuple[str, ...]
    code: str
    section: str
    expected: str | None

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def mark(self, prefix: str) -> str | None:
        return next((m.split("=", 1)[1] for m in self.marks if m.startswith(prefix + "=")), None)


def page_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    found = []
    for i, fence in enumerate(fences):
        words = fence.group("info").split()
        lang, marks = (words[0], words[1:]) if words else ("", [])
        before = text[:fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        comment = COMMENT.search(before)
        if comment:
            marks += comment.group("marks").split()
        following = fences[i + 1] if i + 1 < len(fences) else None
        expected = None
        if lang == "python" and following is not None and following.group("info").strip() == "text" \
                and not text[fence.end():following.start()].strip():
            expected = following.group("body").strip()
        headings = re.findall(r"^#+ (.+)$", text[:fence.start()], re.M)
        found.append(Block(page, text.count("\n", 0, fence.start()) + 1, lang, tuple(marks),
                           textwrap.dedent(fence.group("body")), headings[-1] if headings else "top", expected))
    return found


BLOCKS = [block for page in PAGES for block in page_blocks(page)]
CODE_BLOCKS = [block for block in BLOCKS if block.lang in CODE]


def test_every_block_declares_a_language_and_only_known_marks():
    problems = []
    for block in BLOCKS:
        if block.lang not in CODE + OTHER:
            problems.append(f"{block.name}: fence language {block.lang!r} (use one of {CODE + OTHER})")
        for mark in block.marks:
            key, _, value = mark.partition("=")
            if mark in NOT_RUN:
                continue
            if key == "extra" and value in EXTRAS and value in EXTRA_MODULES:
                continue
            if key == "tested-by" and (ROOT / value).is_file():
                runner = (ROOT / value).read_text(encoding="utf-8")
                if block.page.name not in runner:
                    problems.append(f"{block.name}: {value} does not read {block.page.name}")
                continue
            problems.append(f"{block.name}: unknown or broken mark {mark!r}")
    assert not problems, "\n".join(problems)
    assert len(CODE_BLOCKS) >= 20  # the pages were read (a broken fence pattern finds none)


def test_json_and_yaml_blocks_parse():
    import json

    for block in BLOCKS:
        if block.lang == "json":
            json.loads(block.code)
        elif block.lang == "yaml":
            import yaml  # the train extra's

            yaml.safe_load(block.code)


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_relative_links_point_to_files_and_headings_that_exist():
    broken = []
    for page in PAGES:
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        text = re.sub(r"`[^`\n]*`", "", text)
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", FENCE.sub("", dest.read_text(encoding="utf-8")), re.M)
                if anchor not in {github_anchor(h) for h in headings}:
                    broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)

def test_the_readme_first_screen_shows_the_two_commands_and_the_quick_start():
    """The README's first screen (42 lines) holds the two commands and the quick start's blocks,
    whole, and the README stays a front page."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_screen = "\n".join(readme.splitlines()[:42])
    readme_blocks = [b for b in CODE_BLOCKS if b.page.name == "README.md"]
    assert [b.section for b in readme_blocks[:3]] == ["Two commands for a fresh machine", "Quick start", "Quick start"]
    for block in readme_blocks[:3]:
        assert block.code.strip() in first_screen, block.name
    assert len(readme.splitlines()) <= 200


def test_each_framework_has_an_example_of_at_most_5_user_lines():
    """docs/integrations.md: one runnable example per framework, each what a user writes (lines
    replaying a task's gold trajectory stand in for a model and are not counted)."""
    examples = [b for b in CODE_BLOCKS if b.page.name == "integrations.md" and b.expected is not None]
    assert {"MCP (`mcp` extra)", "verifiers (`verifiers` extra)", "SkyRL (`skyrl` extra)",
            "TRL (`train` extra)"} <= {b.section for b in examples}
    for block in examples:
        lines = [line for line in block.code.splitlines() if line.strip()
                 and not line.lstrip().startswith(("import ", "from ", "#")) and "gold" not in line]
        assert len(lines) <= MAX_USER_LINES, (block.name, lines)


class PageRun:
    """One page's blocks, run in order in one scratch folder (a block may use what an earlier
    one wrote, as a reader following the page would)."""

    def __init__(self, folder: Path):
        self.folder = folder
        for name in LINKED:
            (folder / name).symlink_to(ROOT / name, target_is_directory=True)
        (folder / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
        self.env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        cache = os.environ.get("ADVISORGYM_CACHE")
        if cache:  # a server started with only a default environment (the MCP stdio client) finds it under HOME
            home = folder / ".home"
            (home / ".cache").mkdir(parents=True)
            (home / ".cache" / "advisorgym").symlink_to(Path(cache).resolve(), target_is_directory=True)
            self.env["HOME"] = str(home)
        self.results: dict[int, str | None] = {}  # block line -> failure (None: it ran as written)

    def run(self, block: Block) -> str | None:
        if block.lang == "python":
            command = [sys.executable, "-c", block.code]
        else:
            command = ["bash", "-e", "-o", "pipefail", "-c", block.code]
        try:
            done = subprocess.run(command, cwd=self.folder, env=self.env, capture_output=True, text=True,
                                  timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"ran past {TIMEOUT_S} s: make it cheaper, or mark it `long`"
        if done.returncode != 0:
            return f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        if block.expected is not None and done.stdout.strip() != block.expected:
            return f"printed {done.stdout.strip()!r}, the page shows {block.expected!r}"
        return None


def skipped_reason(block: Block) -> str | None:
    """Why this block does not run here (None: it runs)."""
    reasons = [m for m in block.marks if m in NOT_RUN or m.startswith("tested-by=")]
    if reasons:
        return f"marked {' '.join(reasons)}"
    extra = block.mark("extra")
    if extra and importlib.util.find_spec(EXTRA_MODULES[extra]) is None:
        return f"needs the {extra} extra, not installed here (.ci/integrations installs it and reruns this page, -m extras)"
    return None


@pytest.fixture(scope="module")
def page_runs(tmp_path_factory):
    runs: dict[Path, PageRun] = {}

    def run_for(page: Path) -> PageRun:
        if page not in runs:
            runs[page] = PageRun(tmp_path_factory.mktemp(page.stem))
        return runs[page]
    return run_for


# A page's blocks run in page order in one folder, so a page with an extra's block reruns whole.
PAGES_WITH_EXTRAS = {block.page for block in CODE_BLOCKS if block.mark("extra")}


@pytest.mark.parametrize("block", [pytest.param(b, marks=[pytest.mark.extras] if b.page in PAGES_WITH_EXTRAS else [])
                                   for b in CODE_BLOCKS], ids=[b.name for b in CODE_BLOCKS])
def test_each_code_block_runs_as_written(block, page_runs):
    if block.lang == "python":
        ast.parse(block.code)  # every python block is valid Python, run or not
    else:
        check = subprocess.run(["bash", "-n", "-c", block.code], capture_output=True, text=True)
        assert check.returncode == 0, f"{block.name}: {check.stderr}"
    reason = skipped_reason(block)
    if reason:
        pytest.skip(f"SKIPPED LOUDLY: {block.name} ({block.section}): {reason}; checked for syntax only")
    run = page_runs(block.page)
    for earlier in CODE_BLOCKS:  # the page's earlier blocks first, once, as a reader runs them
        if earlier.page == block.page and earlier.line < block.line and earlier.line not in run.results \
                and skipped_reason(earlier) is None:
            run.results[earlier.line] = run.run(earlier)
    failed_before = [f"{block.page.name}:{line}" for line, failure in run.results.items()
                     if failure is not None and line < block.line]
    assert not failed_before, f"{block.name}: an earlier block of the page failed: {failed_before}"
    if block.line not in run.results:
        run.results[block.line] = run.run(block)
    assert run.results[block.line] is None, f"{block.name} ({block.section}): {run.results[block.line]}"
