"""The domain seam (mock_apis/domain.py): domains are looked up by name, the old import paths
of the finance code still work (with a DeprecationWarning), and the framework names no
finance tool."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import MetaData

from mock_apis.catalogue import ToolRegistry, call_tool, catalogue, resolve
from mock_apis.domain import DEFAULT_DOMAIN, Domain, ReplicaSchema, UnknownDomain, domain_names, get_domain
from mock_apis.sandbox import Sandbox

OLD_PATHS = {
    "mock_apis.tools": "mock_apis.domains.finance.tools",
    "mock_apis.tools.common": "mock_apis.domains.finance.tools.common",
    "mock_apis.generate": "mock_apis.domains.finance.generate",
    "mock_apis.models": "mock_apis.domains.finance.models",
    "mock_apis.people": "mock_apis.domains.finance.people",
    "envs.tasks.intents_l1": "mock_apis.domains.finance.intents_l1",
    "envs.tasks.intents_l4": "mock_apis.domains.finance.intents_l4",
    "envs.tasks.phrasing": "mock_apis.domains.finance.phrasing",
    "envs.tasks.setups": "mock_apis.domains.finance.setups",
}


def test_the_default_domain_is_finance_and_names_are_looked_up():
    finance = get_domain()
    assert DEFAULT_DOMAIN == "finance" and finance is get_domain("finance") is get_domain(finance)
    assert isinstance(finance, Domain) and "finance" in domain_names()
    assert catalogue() is finance.tools.tools  # the module-level functions default to finance's tools
    assert resolve("place_order") is finance.tools.tools["place_order"]
    assert finance.suite_path.is_file() and (finance.contracts_dir / "contract-v1.json").is_file()
    with pytest.raises(UnknownDomain, match="known domains: .*finance"):
        get_domain("no_such_domain")


def test_a_registry_serves_only_its_own_tools(tmp_path):
    replica = tmp_path / "empty.sqlite"
    sqlite3.connect(replica).close()
    sandbox = Sandbox(replica, ReplicaSchema(MetaData(), writable_tables=(), version="0"))
    tools = ToolRegistry()

    @tools.tool(name="echo", description="Echo a word.", returns={"type": "object"},
                parameters={"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"],
                            "additionalProperties": False})
    def echo(sandbox, word):
        return {"word": word}

    assert catalogue(tools) == {"echo": tools.tools["echo"]}
    outcome = call_tool(sandbox, "place_order", {}, tools)  # a finance tool is unknown here
    assert not outcome.ok and outcome.payload["error"] == "unknown_tool" and outcome.payload["valid_tools"] == ["echo"]
    assert call_tool(sandbox, "echo", {"word": "hi"}, tools).payload == {"word": "hi"}
    with pytest.raises(ValueError, match="declared twice"):
        tools.tool(name="echo", description="", parameters={}, returns={})(echo)


@pytest.mark.parametrize("old,new", sorted(OLD_PATHS.items()))
def test_old_import_paths_are_deprecation_aliases_of_the_moved_modules(old, new):
    code = ("import importlib, warnings\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            f"    old = importlib.import_module({old!r})\n"
            f"new = importlib.import_module({new!r})\n"
            "assert old is new, (old, new)\n"
            "assert any(issubclass(w.category, DeprecationWarning) and 'deprecated' in str(w.message)\n"
            "           for w in caught), [str(w.message) for w in caught]\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_documented_catalogue_and_task_paths_still_work():
    code = ("import warnings\n"
            "warnings.simplefilter('error', DeprecationWarning)\n"
            "from mock_apis.catalogue import catalogue\n"
            "from mock_apis.domain import get_domain\n"
            "from envs.tasks import Task, load_tasks\n"
            "from envs.tasks.generator import generate_tasks, intent_catalogue\n"
            "assert len(catalogue()) == 20 and 'place_order' in catalogue()\n"
            "assert intent_catalogue() == get_domain('finance').intents.names()\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    from envs.tasks.context import INTENTS, Ctx, Draft\n"
            "    from mock_apis.catalogue import REGISTRY\n"
            "assert INTENTS is get_domain('finance').intents.by_level and REGISTRY is catalogue()\n"
            "assert sum(issubclass(w.category, DeprecationWarning) for w in caught) == 2, caught\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
