"""The domain seam (mock_apis/domain.py): domains are looked up by name, the old import paths
of the finance code still work (with a DeprecationWarning), and the framework names no
finance tool."""

from __future__ import annotations

import ast
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

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


ROOT = Path(__file__).resolve().parent.parent
#: The env core, evaluation, replay, integrations and trainer: they take a domain and name none of its tools.
FRAMEWORK = ("envs/env.py", "envs/actions.py", "envs/reward", "envs/tasks", "envs/evaluation", "envs/replay",
             "envs/integrations", "trainer")


def _framework_files() -> list[Path]:
    files = []
    for entry in FRAMEWORK:
        path = ROOT / entry
        for file in ([path] if path.is_file() else sorted(path.rglob("*.py"))):
            text = file.read_text(encoding="utf-8")
            if "from mock_apis.deprecation import" in text or text.startswith('"""Deprecated:'):
                continue  # an old import path of moved finance code
            files.append(file)
    return files


def test_the_framework_names_no_finance_tool():
    names = sorted(get_domain("finance").tools.tools)
    word = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    files = _framework_files()
    assert len(files) > 40 and any(f.name == "env.py" for f in files)
    found = [f"{f.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}"
             for f in files for text in [f.read_text(encoding="utf-8")] for m in word.finditer(text)]
    assert not found, "finance tool names in the framework:\n" + "\n".join(found)


def _domain_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every import of a domain package in ``tree``: ``import`` and ``from``
    statements, at any depth (inside functions too), and ``importlib.import_module`` or
    ``alias_module`` with a literal name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call):
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                     and isinstance(node.func, (ast.Name, ast.Attribute))
                     and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
                     in ("import_module", "alias_module", "__import__")]
        else:
            continue
        found.extend((node.lineno, n) for n in names if n == "mock_apis.domains" or n.startswith("mock_apis.domains."))
    return found


def _is_deprecation_alias(tree: ast.Module) -> bool:
    """An old import path of moved finance code: its docstring says "Deprecated:" and its body
    only imports, warns and re-exports (no function or class of its own)."""
    doc = ast.get_docstring(tree) or ""
    return doc.startswith("Deprecated:") and not any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in ast.walk(tree))


def test_no_framework_module_imports_a_domain_package():
    """The env core (and everything above it) takes its domain as a ``Domain`` (``get_domain``)
    and imports none of ``mock_apis.domains``; only the deprecation aliases of moved finance
    modules (``envs/tasks/intents_l1.py``, ``envs/tasks/context.py``, ...) name one."""
    aliases, found = [], []
    for package in ("envs", "trainer", "advisorgym"):
        for file in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
            imports = _domain_imports(tree)
            if _is_deprecation_alias(tree):
                aliases.append(file.relative_to(ROOT).as_posix())
            else:
                found += [f"{file.relative_to(ROOT)}:{line}: {module}" for line, module in imports]
    assert not found, "framework modules importing a domain package:\n" + "\n".join(found)
    # The aliases are the old paths of finance code, and the walk does see their imports.
    assert {"envs/tasks/context.py", "envs/tasks/intents_l1.py"} <= set(aliases)
    assert all(p.startswith("envs/tasks/") for p in aliases), aliases
    context = ast.parse((ROOT / "envs/tasks/context.py").read_text(encoding="utf-8"))
    alias = ast.parse((ROOT / "envs/tasks/intents_l1.py").read_text(encoding="utf-8"))
    assert _domain_imports(context) == [(8, "mock_apis.domains.finance.context"),
                                        (8, "mock_apis.domains.finance.context.Ctx")]
    assert _domain_imports(alias) == [(5, "mock_apis.domains.finance.intents_l1")]
    nested = ast.parse("def f():\n    from mock_apis.domains.finance.generate import AS_OF\n"
                       "import mock_apis.domains.card_disputes as cd\nfrom mock_apis import domain, domains\n"
                       "importlib.import_module('mock_apis.domains.finance')\nimport mock_apis.domain_table\n")
    assert sorted(_domain_imports(nested)) == [(2, "mock_apis.domains.finance.generate"),
                                               (2, "mock_apis.domains.finance.generate.AS_OF"),
                                               (3, "mock_apis.domains.card_disputes"), (4, "mock_apis.domains"),
                                               (5, "mock_apis.domains.finance")]


# ======================================================================================
# A tiny third domain, defined here: the framework runs on it unchanged.

def _tiny_domain(fixtures: Path) -> Domain:
    """A library's back office: members (the people), loans (what they own), two tools."""
    from sqlalchemy import Column, ForeignKey, String, Table

    from mock_apis.catalogue import ToolError
    from mock_apis.domain import (DomainRules, Draft, IntentRegistry, ScriptedMoves, TaskContext, UnrequestedWrite,
                                  pick)
    from mock_apis.toolkit import params, record, require

    metadata = MetaData()
    Table("meta", metadata, Column("key", String, primary_key=True), Column("value", String))
    Table("members", metadata, Column("member_id", String, primary_key=True), Column("full_name", String))
    Table("loans", metadata, Column("loan_id", String, primary_key=True),
          Column("member_id", String, ForeignKey("members.member_id")), Column("title", String))
    schema = ReplicaSchema(metadata, writable_tables=("loans",), version="1.0.0")
    names = ["Ada Byron", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"]

    def generate(path, seed=0, scale=6):
        with sqlite3.connect(path) as con:
            for table in metadata.sorted_tables:
                cols = ", ".join(f"{c.name} TEXT{' PRIMARY KEY' if c.primary_key else ''}" for c in table.columns)
                con.execute(f"CREATE TABLE {table.name} ({cols})")
            con.executemany("INSERT INTO meta VALUES (?, ?)", [("as_of", "2025-06-30"), ("seed", str(seed)),
                                                                ("scale", str(scale)), ("schema_version", "1.0.0")])
            con.executemany("INSERT INTO members VALUES (?, ?)",
                            [(f"M{i:04d}", names[i % len(names)]) for i in range(1, scale + 1)])
            con.executemany("INSERT INTO loans VALUES (?, ?, ?)",
                            [(f"L{i:04d}", f"M{i:04d}", f"Book {i}") for i in range(1, scale + 1)])
        return Path(path)

    tools = ToolRegistry()
    member_id = {"type": "string", "pattern": "^M[0-9]{4}$"}

    @tools.tool(name="get_member", description="A member's name and loans.", parameters=params(
        {"member_id": member_id}, ["member_id"]), returns=record({"member_id": member_id, "full_name": {
            "type": "string"}, "loans": {"type": "array"}}))
    def get_member(sb, member_id):
        row = require(sb, "members", "member_id", member_id, "member")
        loans = sb.query("SELECT loan_id, title FROM loans WHERE member_id = ? ORDER BY loan_id", (member_id,))
        return {**row, "loans": loans}

    @tools.tool(name="renew_loan", description="Renew a loan.", writes=True, criticality=2.0, parameters=params(
        {"loan_id": {"type": "string"}}, ["loan_id"]), returns=record({"loan_id": {"type": "string"},
                                                                       "title": {"type": "string"}}))
    def renew_loan(sb, loan_id):
        row = sb.query_one("SELECT loan_id, title FROM loans WHERE loan_id = ?", (loan_id,))
        if row is None:
            raise ToolError("not_found", f"no loan {loan_id}")
        sb.update("loans", {"loan_id": loan_id}, {"title": row["title"] + " (renewed)"})
        return {"loan_id": loan_id, "title": row["title"] + " (renewed)"}

    class Context(TaskContext):
        def __init__(self, replica_path):
            super().__init__(replica_path, tools, schema)
            self.members = [r["member_id"] for r in self.sb.query("SELECT member_id FROM members ORDER BY 1")]

    intents = IntentRegistry()

    def lookup(wording):
        def build(ctx, rng):
            mid = pick(rng, ctx.members)
            title = ctx.run("get_member", member_id=mid)["loans"][0]["title"]
            return Draft(query=wording.format(mid=mid), calls=[("get_member", {"member_id": mid})],
                         response=f"Member {mid} has borrowed {title}.", facts=[title], thoughts=[], subjects=[mid])
        return build

    def renew(ctx, rng):
        mid = pick(rng, ctx.members)
        loan = ctx.run("get_member", member_id=mid)["loans"][0]
        ctx.run("renew_loan", loan_id=loan["loan_id"])
        return Draft(query=f"Please renew loan {loan['loan_id']} for member {mid}.",
                     calls=[("renew_loan", {"loan_id": loan["loan_id"]})],
                     response=f"Loan {loan['loan_id']} is renewed.", facts=[loan["loan_id"]], thoughts=[],
                     subjects=[mid])

    for level, wording in (("L1", "Which book has member {mid} borrowed?"), ("L2", "What is {mid} reading?"),
                           ("L3", "Has member {mid} got a book out?"), ("L4", "Which title does {mid} hold?")):
        intents.intent(level, "member_books", ["get_member"])(lookup(wording))
    intents.intent("L1", "renew", ["renew_loan"])(renew)

    def samples(replica_path):
        return {"get_member": {"member_id": "M0001"}, "renew_loan": {"loan_id": "L0001"}}

    return Domain(
        name="library", description="A lending library.", tools=tools, schema=schema,
        rules=DomainRules(role="You help a librarian. Answer using the library's tools.", user_role="librarian",
                          prompt_rules="Rules: never disclose another member's loans.", subject_key="member_id",
                          subject_id_pattern=r"\bM\d{4}\b", listing_tools=frozenset(), listing_field="members",
                          owned_key="loan_id", owned_ids_tool="get_member", write_target_keys=("loan_id",),
                          people_query="SELECT member_id, full_name FROM members ORDER BY member_id"),
        intents=intents, generate_replica=generate, default_seed=0, default_scale=6, generator_version="1",
        generator_modules=(sys.modules[__name__],), fixtures_dir=fixtures, task_context=Context,
        scripted=ScriptedMoves(standalone_calls={"get_member": {"member_id": "M0001"}},
                               reread=("get_member", {"member_id": "M0001"}), unknown_tool="get_fines",
                               any_tool="get_member",
                               unrequested_writes=(UnrequestedWrite("renew_loan", "loan_id", {}, "Renewing too.",
                                                                    fallback_id="L0001"),),
                               non_compliant_additions=("I guarantee the book will be returned on time.",)),
        sample_arguments=samples)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import os

    from envs.replica import default_replica
    from envs.tasks import save_tasks
    from envs.tasks.generator import generate_tasks
    from mock_apis.contracts import build_contract, dumps

    os.environ["ADVISORGYM_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    fixtures = tmp_path_factory.mktemp("library")
    domain = _tiny_domain(fixtures)
    replica = default_replica(domain=domain)
    assert replica.name.startswith("replica-library-v1.0.0-g1-")
    (fixtures / "contracts").mkdir()  # the contract first: every env checks its back-end against it
    (fixtures / "contracts" / "contract-v1.json").write_bytes(dumps(build_contract(replica, domain)))
    result = generate_tasks(replica, seed=1, count=8, domain=domain)
    (fixtures / "tasks").mkdir()
    save_tasks(result.tasks, fixtures / "tasks" / "suite.jsonl")
    return domain, result


def test_tasks_are_generated_and_verified_on_a_domain_defined_outside_the_package(tiny):
    domain, result = tiny
    assert result.counts() == {"L1": 2, "L2": 3, "L3": 2, "L4": 1} and not result.rejected
    assert {t.intent for t in result.tasks} <= {"L1:member_books", "L1:renew", "L2:member_books",
                                                "L3:member_books", "L4:member_books"}


def test_the_env_runs_a_tiny_domain_with_its_own_prompt_tools_and_rewards(tiny):
    from envs.env import FinAdvisorEnv
    from envs.evaluation.agents import make_agent
    from envs.tasks import load_tasks

    domain, _ = tiny
    env = FinAdvisorEnv(domain=domain)  # its suite, replica and contract by default
    try:
        obs, info = env.reset(options={"task_id": env.tasks[0].task_id})
        system = json.loads(obs)["system"]
        assert system.startswith("You help a librarian.") and system.endswith("never disclose another member's loans.")
        assert "get_member" in system and "place_order" not in system
        assert [t["function"]["name"] for t in info["tools"]] == ["get_member", "renew_loan"]
        assert info["contract"]["checked"] and info["contract"]["ok"]
        for task in load_tasks(domain.suite_path):
            for spec in ("oracle", "unrequested_write", "hallucinated_tool", "wrong_tool"):
                agent = make_agent(spec, domain)
                obs, info = env.reset(options={"task_id": task.task_id})
                agent.start(task, obs, info)
                done = False
                while not done:
                    obs, reward, terminated, truncated, info = env.step(agent.act(obs))
                    done = terminated or truncated
                if spec == "oracle" or (spec == "wrong_tool" and task.gold_calls[0].name == "get_member"):
                    # (no other read-only tool can stand in for get_member: wrong_tool follows the gold)
                    assert reward == 3.0 and info["reward"]["task_success"], (spec, task.task_id, info["reward"])
                else:
                    assert reward < 3.0, (spec, task.task_id)
        # another member's record read on a task about one member is a foreign read
        member_task = next(t for t in env.tasks if t.intent.endswith("member_books"))
        env.reset(options={"task_id": member_task.task_id})
        other = "M0006" if member_task.compliance.subject_client_ids != ("M0006",) else "M0005"
        _, _, _, _, info = env.step(json.dumps({"action": {"name": "get_member", "arguments": {"member_id": other}}}))
        assert env._episode.calls[-1].foreign_client
    finally:
        env.close()


def test_the_service_serves_a_tiny_domains_tools(tiny):
    from fastapi.testclient import TestClient

    from envs.replica import default_replica
    from mock_apis.app import create_app

    domain, _ = tiny
    headers = {"Authorization": "Bearer tok"}
    with TestClient(create_app(default_replica(domain=domain), "tok", domain=domain)) as client:
        assert [t["function"]["name"] for t in client.get("/tools", headers=headers).json()] == ["get_member",
                                                                                                "renew_loan"]
        answer = client.post("/tools/get_member", json={"member_id": "M0002"}, headers=headers).json()
        assert answer["full_name"] == "Grace Hopper" and answer["loans"][0]["loan_id"] == "L0002"
        assert client.post("/tools/place_order", json={}, headers=headers).json()["error"] == "unknown_tool"
