"""Imports at the top (issue #23): a function-local import is kept only for an optional or heavy
dependency, and its line says why. The one-way layers themselves are import-linter's
(``.importlinter``, run by ``.ci/lint``); this file keeps the rule it cannot see.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("advisorgym", "envs", "mock_apis", "trainer")
PROJECT = {*PACKAGES, "advisorgym_verifiers", "advisorgym_fixtures"}

# The extras' packages: nothing may need one of them to import the command or the packages.
OPTIONAL = ("torch", "trl", "transformers", "datasets", "tokenizers", "sklearn", "docker", "ray", "mcp",
            "openenv", "verifiers", "skyrl_gym", "tqdm")


def base_modules() -> set[str]:
    """Top-level import names of the base install's dependencies (``[project] dependencies``)."""
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {req.split(";")[0].split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
             for req in requirements}
    modules = {module for module, dists in packages_distributions().items()
               if any(d.lower().replace("_", "-") in names for d in dists)}
    assert {"orjson", "sqlalchemy", "rich", "typer"} <= modules, modules
    return modules


def unexplained_local_imports(source: str, light: set[str]) -> list[tuple[int, str]]:
    """``(line, module)`` of every import inside a function whose module is the project's own or
    in ``light`` (the standard library, the base dependencies) and whose lines carry no comment."""
    commented = {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                 if tok.type == tokenize.COMMENT}
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                if isinstance(child, ast.Import):
                    module = child.names[0].name
                else:
                    module = "." * child.level + (child.module or "")
                top = module.split(".")[0]
                if (module.startswith(".") or top in PROJECT or top in light) and \
                        not commented & set(range(child.lineno, child.end_lineno + 1)):
                    found.append((child.lineno, module))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(ast.parse(source), False)
    return found


def test_the_detector_flags_what_the_rule_forbids():
    light = {"orjson", *sys.stdlib_module_names}
    source = ("import os\n"
              "def f():\n"
              "    from envs.env import FinAdvisorEnv\n"
              "    import orjson\n"
              "    from . import sibling\n"
              "    import torch\n"
              "    from envs.integrations import mcp  # optional: the mcp extra\n"
              "    class C:\n"
              "        def g(self):\n"
              "            import json\n")
    assert unexplained_local_imports(source, light) == [(3, "envs.env"), (4, "orjson"), (5, "."), (10, "json")]


def test_function_local_imports_are_only_the_explained_ones():
    """Every import inside a function of the packages is either of an optional or heavy
    dependency, or its line says why it is not at the top (e.g. ``# optional: the mcp extra``)."""
    light = base_modules() | set(sys.stdlib_module_names)
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    files.append(ROOT / "advisorgym_verifiers.py")
    assert len(files) > 100, files
    offenders = [f"{path.relative_to(ROOT)}:{line}: {module}"
                 for path in files for line, module in unexplained_local_imports(path.read_text(encoding="utf-8"),
                                                                                   light)]
    assert not offenders, ("imports inside functions without a reason on the line; move them to the module's top, "
                           "or say why not (an optional extra, a heavy import, an import cycle):\n"
                           + "\n".join(offenders))


def test_the_command_and_the_packages_import_without_any_extra():
    """The base install has no torch, TRL, scikit-learn, Docker SDK... : importing the command and
    the packages must not need them, nor load the plotting library before a plot is drawn."""
    blocked = "".join(f"sys.modules[{name!r}] = None; " for name in OPTIONAL)
    probe = (f"import sys; {blocked}"
             "import envs, mock_apis, trainer, advisorgym.cli, trainer.stages, trainer.demo; "
             "print(sorted(m for m in ('matplotlib',) if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", done.stdout
