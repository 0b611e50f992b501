"""The MCP server (envs.integrations.mcp) through the official ``mcp`` client: over stdio
(``advisorgym mcp`` as a subprocess) and over streamable HTTP (``/mcp`` on the service)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed (pip install -e '.[mcp]')")

from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from envs.tasks import HANDWRITTEN, HELDOUT, load_tasks
from mock_apis.catalogue import catalogue
from tests.conftest import API_TOKEN

pytestmark = pytest.mark.mcp


def stdio_transport(tasks: Path) -> Any:
    advisorgym = Path(sys.executable).parent / "advisorgym"
    return stdio_client(StdioServerParameters(command=str(advisorgym), args=["mcp", "--tasks", str(tasks)],
                                              env=dict(os.environ)))


def http_transport(url: str, token: str = API_TOKEN) -> Any:
    return streamable_http_client(f"{url}/mcp",
                                  http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}))


async def play_gold(client: Client, task: Any) -> dict[str, Any]:
    """The task's gold trajectory through MCP tool calls; the reward breakdown."""
    started = await client.call_tool("start_task", {"task_id": task.task_id})
    assert not started.is_error and started.structured_content["user"] == task.query
    for call in task.gold_calls:
        result = await client.call_tool(call.name, call.arguments)
        assert not result.is_error, result.content
    submitted = await client.call_tool("submit_answer", {"answer": task.gold_response})
    assert not submitted.is_error
    return submitted.structured_content


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[str]:
    """The service with its episode endpoints, over the held-out suite's replica."""
    from envs.cli import mount_episode_endpoints
    from envs.replica import default_replica
    from mock_apis.app import create_app, serve_in_thread

    task = load_tasks(HELDOUT)[0]
    replica = default_replica(task.replica["seed"], task.replica["scale"])
    app = create_app(replica, tokens=[API_TOKEN, "other-team-token"])
    added = mount_episode_endpoints(app, replica, HELDOUT, max_sessions=8, idle_ttl_s=60.0, host="127.0.0.1")
    assert added.endswith("MCP episodes at /mcp")
    with serve_in_thread(app) as url:
        yield url


def test_stdio_lists_the_catalogue_as_declared_and_scores_every_handwritten_gold_at_3():
    tasks = load_tasks(HANDWRITTEN)

    async def main() -> list[float]:
        async with Client(stdio_transport(HANDWRITTEN)) as client:
            listed = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert {"start_task", "submit_answer"} <= set(listed)
            for name, spec in catalogue().items():
                tool = listed[name]
                assert tool.input_schema == spec.parameters and tool.output_schema == spec.returns
                assert tool.annotations.read_only_hint is (not spec.writes)
                assert tool.annotations.destructive_hint is spec.writes
            return [(await play_gold(client, task))["total"] for task in tasks]

    assert anyio.run(main) == [3.0] * len(tasks)


def test_http_scores_every_heldout_gold_at_3(mcp_server):
    tasks = load_tasks(HELDOUT)

    async def main() -> list[tuple[str, float]]:
        async with Client(http_transport(mcp_server)) as client:
            return [(task.task_id, (await play_gold(client, task))["total"]) for task in tasks]

    scores = anyio.run(main)
    assert [s for s in scores if s[1] != 3.0] == [] and len(scores) == len(tasks)


def test_two_concurrent_sessions_do_not_see_each_other_s_writes(mcp_server):
    task = next(t for t in load_tasks(HELDOUT) if [c.name for c in t.gold_calls] == ["place_order"])
    order = task.gold_calls[0].arguments
    listing = {"account_id": order["account_id"], "status": "pending"}

    async def main() -> tuple[int, int, int]:
        async with Client(http_transport(mcp_server)) as a, Client(http_transport(mcp_server)) as b:
            for client in (a, b):
                await client.call_tool("start_task", {"task_id": task.task_id})
            before = len((await b.call_tool("list_orders", listing)).structured_content["orders"])
            placed = await a.call_tool("place_order", order)
            assert not placed.is_error, placed.content
            in_a = len((await a.call_tool("list_orders", listing)).structured_content["orders"])
            in_b = len((await b.call_tool("list_orders", listing)).structured_content["orders"])
            return before, in_a, in_b

    before, in_a, in_b = anyio.run(main)
    assert in_a == before + 1 and in_b == before


def test_a_wrong_token_is_refused(mcp_server):
    async def main() -> None:
        async with Client(http_transport(mcp_server, "not-the-token")) as client:
            await client.list_tools()

    with pytest.raises(ExceptionGroup) as caught:  # the client cannot even connect
        anyio.run(main)
    assert caught.group_contains(MCPError)
    response = httpx.post(f"{mcp_server}/mcp", json={}, headers={"Authorization": "Bearer not-the-token"})
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_bad_requests_get_structured_errors(mcp_server):
    async def main() -> dict[str, Any]:
        async with Client(http_transport(mcp_server)) as client:
            out = {"before_start": await client.call_tool("get_client_profile", {"client_id": "C000001"}),
                   "unknown_task": await client.call_tool("start_task", {"task_id": "no-such-task"})}
            await client.call_tool("start_task", {"seed": 3})
            out["bad_arguments"] = await client.call_tool("get_client_profile", {"client_id": 42})
            out["unknown_tool"] = await client.call_tool("transfer_everything", {})
            out["no_answer"] = await client.call_tool("submit_answer", {})
            return out

    out = anyio.run(main)
    assert all(result.is_error for result in out.values())
    codes = {key: result.content[0].text for key, result in out.items()}
    assert '"no_episode"' in codes["before_start"] and '"unknown_task"' in codes["unknown_task"]
    assert '"invalid_arguments"' in codes["bad_arguments"] and '"unknown_tool"' in codes["unknown_tool"]
    assert '"invalid_arguments"' in codes["no_answer"]
    # a body that is not JSON-RPC: a structured 4xx, never a 500
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Accept": "application/json, text/event-stream",
               "Content-Type": "application/json"}
    response = httpx.post(f"{mcp_server}/mcp", content=b"{not json", headers=headers)
    assert 400 <= response.status_code < 500 and "error" in response.json()


def test_the_integrations_page_http_example_runs_as_written(capsys):
    """docs/integrations.md's MCP-over-HTTP block, against a service with the default suite (only
    its URL and token differ)."""
    from envs.cli import mount_episode_endpoints
    from envs.replica import default_replica
    from mock_apis.app import create_app, serve_in_thread

    page = (Path(__file__).resolve().parent.parent / "docs" / "integrations.md").read_text()
    fence = "```python extra=mcp tested-by=tests/test_integrations_mcp.py\n"
    section = page[page.index(fence) + len(fence):]
    block = section[:section.index("\n```\n")]
    replica = default_replica()
    app = create_app(replica, tokens=[API_TOKEN])
    assert mount_episode_endpoints(app, replica, None, max_sessions=2, idle_ttl_s=60.0, host="127.0.0.1") \
        .endswith("MCP episodes at /mcp")
    with serve_in_thread(app) as url:
        exec(block.replace("http://127.0.0.1:8080", url).replace("<token>", API_TOKEN), {})  # noqa: S102 - the docs' own example
    assert capsys.readouterr().out.strip() == "3.0"
