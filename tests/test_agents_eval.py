"""Agents (oracle, faulty baselines, OpenAI-compatible client, local HF model) and the eval
harness (resumable episodes, ToolRLA metrics, report, plots)."""

from __future__ import annotations

import asyncio
import json
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from envs.evaluation.agents import (BASELINES, HFLocalAgent, OpenAIChatAgent, OracleAgent, make_agent,
                                    perturb_value, split_tool_results)
from envs.env import FinAdvisorEnv
from envs.evaluation.outputs import (EPISODES, METRICS, PLOT_METRICS, PLOT_REWARDS, REPORT, RUN, EvalConfigError,
                                     load_episodes)
from envs.evaluation.run import run_eval
from envs.tasks import FIXTURES, HANDWRITTEN, load_tasks
from tests.conftest import needs_train_extra

FROZEN = FIXTURES / "tasks" / "suite.jsonl"
HW_TASKS = load_tasks(HANDWRITTEN)
HW_BY_ID = {t.task_id: t for t in HW_TASKS}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def frozen_or_handwritten() -> Path:
    return FROZEN if FROZEN.exists() else HANDWRITTEN


def episodes(out: Path) -> list[dict]:
    return [orjson.loads(line) for line in (out / EPISODES).read_bytes().splitlines() if line.strip()]


def by_task(records: list[dict]) -> dict[str, dict]:
    return {r["task_id"]: r for r in records}


# --------------------------------------------------------------------------------------
# Oracle and scripted baselines


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict]:
    """Every scripted agent over the handwritten suite: {spec: {"metrics", "episodes"}}."""
    results = {}
    for spec in ("oracle", *BASELINES):
        out = tmp_path_factory.mktemp(spec)
        result = run_eval(spec, HANDWRITTEN, out, progress=False, plots=False)
        results[spec] = {"metrics": result["metrics"], "episodes": by_task(episodes(out))}
    return results


def test_oracle_scores_full_marks_on_the_frozen_suite(tmp_path):
    suite = frozen_or_handwritten()
    result = run_eval("oracle", suite, tmp_path, progress=False, plots=False)
    m = result["metrics"]
    assert m["counts"]["episodes"] == len(load_tasks(suite))
    assert m["overall"]["TCR"] == 1.0
    assert m["overall"]["VR"] == 0.0
    assert m["overall"]["TIER"] in (0.0, None)
    assert m["reward_means"]["overall"]["total"] == 3.0
    if m["overall"]["CRR"] is not None:
        assert m["overall"]["CRR"] == 1.0
    assert all(r["total"] == 3.0 and r["error"] is None for r in episodes(tmp_path))


def _same(runs, spec, *, reward=(), record=()):
    """The baseline's episodes equal the oracle's on the given reward components / record fields."""
    oracle, other = runs["oracle"]["episodes"], runs[spec]["episodes"]
    assert oracle.keys() == other.keys()
    for task_id in oracle:
        for k in reward:
            assert other[task_id]["reward"][k] == oracle[task_id]["reward"][k], (spec, task_id, k)
        for k in record:
            assert other[task_id][k] == oracle[task_id][k], (spec, task_id, k)


def _mean(runs, spec, key):
    return runs[spec]["metrics"]["reward_means"]["overall"][key]


def _metric(runs, spec, key):
    return runs[spec]["metrics"]["overall"][key]


def _slip_or_veto(record: dict) -> str:
    """Reward 1.2: a failed turn recovered by a later valid call is a slip; else a veto."""
    r = record["reward"]
    if r["slips"] == 1 and r["S_name"] == 1.0 and abs(r["R_fmt"] - 2 / 3) < 1e-6 and r["total"] < 3.0:
        return "slip"
    assert r["R_fmt"] == 0.0 and r["total"] <= 0.0, r
    return "veto"


def test_hallucinated_tool_is_a_slip_when_recovered_and_raises_tier(runs):
    spec = "hallucinated_tool"
    assert _mean(runs, spec, "S_name") < 1.0
    kinds = {_slip_or_veto(r) for r in runs[spec]["episodes"].values()}
    assert kinds == {"slip", "veto"}  # tasks with calls recover; a refusal task's has no call to recover with
    assert all(r["reward"]["S_name"] == 0.0 for r in runs[spec]["episodes"].values() if r["reward"]["R_fmt"] == 0.0)
    assert _metric(runs, spec, "TIER") > 0.0 == _metric(runs, "oracle", "TIER")
    assert _metric(runs, spec, "AIR") > _metric(runs, "oracle", "AIR")
    assert all(r["calls"][0]["error"] == "unknown_tool" for r in runs[spec]["episodes"].values())
    _same(runs, spec, reward=("S_cover", "S_param", "R_comp"), record=("violated", "refused"))


def test_redundant_calls_cost_efficiency_not_correctness(runs):
    spec = "redundant_calls"
    assert _mean(runs, spec, "R_eff") < _mean(runs, "oracle", "R_eff")
    assert _metric(runs, spec, "AIR") > _metric(runs, "oracle", "AIR")
    assert _mean(runs, spec, "R_corr") == _mean(runs, "oracle", "R_corr") == 1.0
    assert _metric(runs, spec, "TCR") == _metric(runs, "oracle", "TCR")
    _same(runs, spec, reward=("R_fmt", "R_corr", "R_comp", "S_name", "S_cover", "S_param"),
          record=("invalid_calls", "task_success", "violated", "refused"))
    for task_id, r in runs[spec]["episodes"].items():
        assert r["tool_calls"] >= runs["oracle"]["episodes"][task_id]["tool_calls"]


def test_non_compliant_answers_are_violations_below_minus_7(runs):
    spec = "non_compliant"
    assert _metric(runs, spec, "VR") > 0.0 == _metric(runs, "oracle", "VR")
    assert all(r["violated"] and r["total"] <= -7.0 for r in runs[spec]["episodes"].values())
    rules = {rule for r in runs[spec]["episodes"].values() for rule in r["violations"]}
    assert {"guaranteed_return", "stock_recommendation"} <= rules
    _same(runs, spec, reward=("R_fmt", "R_corr", "R_eff", "S_name", "S_cover", "S_param"),
          record=("tool_calls", "invalid_calls", "refused"))
    assert _metric(runs, spec, "CRR") == _metric(runs, "oracle", "CRR")


def test_wrong_tool_lowers_coverage(runs):
    spec = "wrong_tool"
    assert _mean(runs, spec, "S_cover") < _mean(runs, "oracle", "S_cover")
    assert _mean(runs, spec, "R_corr") < _mean(runs, "oracle", "R_corr")
    for task_id, r in runs[spec]["episodes"].items():
        if HW_BY_ID[task_id].required_tools:
            assert r["reward"]["S_cover"] < 1.0 and not r["task_success"], task_id
        else:  # no gold call: the oracle's behaviour
            assert r["total"] == 3.0
    # Reward 1.1 pays efficiency only for the work done: the wrong tool earns a little of it.
    for task_id, r in runs[spec]["episodes"].items():
        if HW_BY_ID[task_id].required_tools:
            assert 0.0 < r["reward"]["R_eff"] < 1.0, task_id
    _same(runs, spec, reward=("R_fmt", "S_name", "R_comp"),
          record=("tool_calls", "invalid_calls", "violated"))


def test_noisy_params_lower_parameter_accuracy(runs):
    spec = "noisy_params"
    assert _mean(runs, spec, "S_param") < _mean(runs, "oracle", "S_param")
    assert _metric(runs, spec, "TIER") > _metric(runs, "oracle", "TIER")
    for task_id, r in runs[spec]["episodes"].items():
        if HW_BY_ID[task_id].gold_calls:
            assert r["reward"]["S_param"] < 1.0, task_id
    _same(runs, spec, reward=("R_fmt", "S_name", "S_cover", "R_eff", "R_comp"),
          record=("tool_calls", "violated"))


def test_malformed_json_costs_the_format_gate_only(runs):
    spec = "malformed_json"
    assert _mean(runs, spec, "R_fmt") < 1.0
    assert {_slip_or_veto(r) for r in runs[spec]["episodes"].values()} == {"slip", "veto"}
    _same(runs, spec, reward=("R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param"),
          record=("tool_calls", "invalid_calls", "violated", "refused"))
    for task_id, r in runs[spec]["episodes"].items():
        assert r["steps"] == runs["oracle"]["episodes"][task_id]["steps"] + 1


# What each baseline must leave exactly as the oracle has it, episode by episode.
UNCHANGED = {
    "hallucinated_tool": (("S_cover", "S_param", "R_comp"), ("violated", "refused")),
    "redundant_calls": (("R_fmt", "R_corr", "R_comp", "S_name", "S_cover", "S_param"),
                        ("invalid_calls", "task_success", "violated", "refused")),
    "non_compliant": (("R_fmt", "R_corr", "R_eff", "S_name", "S_cover", "S_param"),
                      ("tool_calls", "invalid_calls", "refused")),
    "wrong_tool": (("R_fmt", "S_name", "R_comp"), ("tool_calls", "invalid_calls", "violated")),
    "noisy_params": (("R_fmt", "S_name", "S_cover", "R_eff", "R_comp"), ("tool_calls", "violated")),
    "malformed_json": (("R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param"),
                       ("tool_calls", "invalid_calls", "violated", "refused")),
}
# The component each baseline must lower (mean over the suite), or raise for AIR/TIER/VR.
LOWERED = {"hallucinated_tool": "S_name", "redundant_calls": "R_eff", "non_compliant": "R_comp",
           "wrong_tool": "S_cover", "noisy_params": "S_param", "malformed_json": "R_fmt"}


def test_baselines_isolate_their_error_on_the_frozen_suite(tmp_path):
    results = {}
    for spec in ("oracle", *BASELINES):
        run_eval(spec, FROZEN, tmp_path / spec, progress=False, plots=False)
        results[spec] = {"episodes": by_task(episodes(tmp_path / spec))}
        results[spec]["metrics"] = json.loads((tmp_path / spec / METRICS).read_text())
    assert results["oracle"]["metrics"]["overall"]["TCR"] == 1.0
    for spec, (reward, record) in UNCHANGED.items():
        _same(results, spec, reward=reward, record=record)
        key = LOWERED[spec]
        assert _mean(results, spec, key) < _mean(results, "oracle", key), spec
    assert _metric(results, "hallucinated_tool", "TIER") > 0 and _metric(results, "noisy_params", "TIER") > 0
    assert _metric(results, "redundant_calls", "AIR") > _metric(results, "oracle", "AIR")
    assert _metric(results, "non_compliant", "VR") == 1.0
    assert all(r["total"] <= -7.0 for r in results["non_compliant"]["episodes"].values())


@pytest.mark.parametrize("spec", ["oracle", *BASELINES])
def test_scripted_agents_are_deterministic(spec):
    env = FinAdvisorEnv(tasks=HW_TASKS)
    traces = []
    for _ in range(2):
        agent = make_agent(spec)
        trace = []
        for i, task in enumerate(HW_TASKS):
            obs, info = env.reset(seed=i, options={"task_id": task.task_id})
            agent.start(task, obs, info)
            while True:
                action = agent.act(obs)
                obs, reward, terminated, truncated, _ = env.step(action)
                trace.append((action, obs, reward))
                if terminated or truncated:
                    break
        traces.append(trace)
    env.close()
    assert traces[0] == traces[1]


def test_perturbations_are_typical_slips():
    assert perturb_value("C000002") == (True, "C00002")
    assert perturb_value("BD009") == (True, "BD09")
    assert perturb_value("2025-01-03") == (True, "2025-02-03")
    assert perturb_value("2024-12-31") == (True, "2025-01-28")
    assert perturb_value(2000) == (True, 20000)
    assert perturb_value("Adrian Chen") == (True, "Chen Adrian")
    assert perturb_value(True) == (False, True)


def test_make_agent_rejects_unknown_specs_and_missing_settings():
    with pytest.raises(ValueError, match="unknown agent"):
        make_agent("gpt-17")
    with pytest.raises(ValueError, match="base_url"):
        make_agent("openai")
    with pytest.raises(ValueError, match="model_path"):
        make_agent("hf")
    assert isinstance(make_agent("oracle"), OracleAgent)


# --------------------------------------------------------------------------------------
# OpenAI-compatible client against a real HTTP server on loopback


class ChatScript:
    """State of the scripted chat-completions server: replays each task's gold as tool_calls."""

    def __init__(self, modes: dict[str, str] | None = None, parallel: set[str] = frozenset(), api_key: str = ""):
        self.by_query = {t.query: t for t in HW_TASKS}
        self.modes = modes or {}
        self.parallel = parallel
        self.api_key = api_key
        self.failures: list[str] = []
        self.requests = 0
        self.tool_messages: list[dict] = []

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def check_request(self, body: dict, headers) -> object:
        if self.api_key and headers.get("authorization") != f"Bearer {self.api_key}":
            self.fail(f"bad authorization header {headers.get('authorization')!r}")
        tools = body.get("tools")
        if not isinstance(tools, list) or len(tools) != 20 or any(
                t.get("type") != "function" or "name" not in t.get("function", {}) for t in tools):
            self.fail("request without the 20 tools in OpenAI shape")
        messages = body.get("messages") or []
        if len(messages) < 2 or messages[0].get("role") != "system" or messages[1].get("role") != "user":
            self.fail(f"bad message prefix: {[m.get('role') for m in messages[:2]]}")
            return None
        if "get_client_overview" in messages[0]["content"] or '"thought"' in messages[0]["content"]:
            self.fail("the system prompt repeats the tools or the ReAct format although tools= carries them")
        task = self.by_query.get(messages[1]["content"])
        if task is None:
            self.fail("unknown user query")
            return None
        # Every tool call must be answered, in order, by a tool message with its id.
        i = 2
        while i < len(messages):
            m = messages[i]
            if m.get("role") == "assistant" and m.get("tool_calls"):
                for j, tc in enumerate(m["tool_calls"]):
                    reply = messages[i + 1 + j] if i + 1 + j < len(messages) else None
                    if reply is None or reply.get("role") != "tool" or reply.get("tool_call_id") != tc["id"]:
                        self.fail(f"{task.task_id}: tool call {tc['id']} not answered by its tool message: {reply}")
                        return task
                    content = json.loads(reply["content"])
                    if not isinstance(content, dict) or "error" in content:
                        self.fail(f"{task.task_id}: tool message {tc['id']} is not one call's result: {content}")
                    self.tool_messages.append(reply)
                i += 1 + len(m["tool_calls"])
            else:
                i += 1
        return task

    def answer(self, task, messages: list[dict]) -> dict:
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        gold = task.gold_calls

        def call(k, g):
            return {"id": f"call_{task.task_id}_{k}", "type": "function",
                    "function": {"name": g.name, "arguments": json.dumps(g.arguments)}}

        if task.task_id in self.parallel:
            plan = [[(k, g) for k, g in enumerate(gold)]] if gold else []
        else:
            plan = [[(k, g)] for k, g in enumerate(gold)]
        if turn < len(plan):
            message = {"role": "assistant", "content": "I need data from the tools.", "reasoning_content": None,
                       "tool_calls": [call(k, g) for k, g in plan[turn]]}
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": task.gold_response, "tool_calls": []}
            finish = "stop"
        return {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "scripted",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def make_chat_app(script: ChatScript):
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        script.requests += 1
        body = await request.json()
        task = script.check_request(body, request.headers)
        if task is None:
            return JSONResponse({"error": {"message": "bad request"}}, status_code=400)
        mode = script.modes.get(task.task_id)
        if mode == "500":
            return PlainTextResponse("Internal Server Error", status_code=500)
        if mode == "garbage":
            return PlainTextResponse("<html>definitely not json", status_code=200)
        if mode == "no_choices":
            return JSONResponse({"object": "error", "message": "model overloaded"})
        if mode == "slow":
            await asyncio.sleep(1.0)
        return JSONResponse(script.answer(task, body["messages"]))

    return app


@pytest.fixture()
def chat_server():
    from mock_apis.app import serve_in_thread

    servers = []

    def start(script: ChatScript) -> str:
        cm = serve_in_thread(make_chat_app(script))
        url = cm.__enter__()
        servers.append(cm)
        return url + "/v1"

    yield start
    for cm in servers:
        cm.__exit__(None, None, None)


def test_openai_client_replaying_gold_tool_calls_scores_3(tmp_path, chat_server):
    script = ChatScript(parallel={"hw-L2-01", "hw-L3-02"}, api_key="sk-test-123")
    url = chat_server(script)
    result = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs={"base_url": url, "model": "scripted",
                                                                     "api_key": "sk-test-123"},
                      progress=False, plots=False)
    assert script.failures == []
    records = episodes(tmp_path)
    assert len(records) == len(HW_TASKS)
    for r in records:
        assert r["total"] == 3.0 and r["task_success"] and r["error"] is None, r
    # Parallel turns were split into one tool message per call, each with its own id and result.
    ids = [m["tool_call_id"] for m in script.tool_messages]
    assert "call_hw-L2-01_0" in ids and "call_hw-L2-01_1" in ids
    assert by_task(records)["hw-L2-01"]["steps"] == 2
    assert result["metrics"]["overall"]["TCR"] == 1.0
    run = json.loads((tmp_path / RUN).read_text())
    assert run["agent"] == "openai" and run["agent_config"]["model"] == "scripted"
    assert "sk-test-123" not in (tmp_path / RUN).read_text()


def test_openai_client_survives_500_garbage_and_timeouts(tmp_path, chat_server):
    modes = {"hw-L1-02": "500", "hw-L2-01": "garbage", "hw-L3-01": "no_choices", "hw-L4-01": "slow"}
    script = ChatScript(modes=modes)
    url = chat_server(script)
    retrying = {"base_url": url, "model": "scripted", "timeout": 0.3, "max_retries": 1, "retry_backoff": 0.01}
    result = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs=retrying, progress=False, plots=False)
    assert script.failures == []
    records = by_task(episodes(tmp_path))
    # The endpoint's own failures (5xx, time-out) are not the model's results: not stored, re-run on resume.
    endpoint_failures = {"hw-L1-02", "hw-L4-01"}
    assert result["infra_failed"] == 2 and set(records) == {t.task_id for t in HW_TASKS} - endpoint_failures
    # The model's own failures (unusable answers) are results, scored as malformed turns.
    expected = {"hw-L2-01": "non-JSON", "hw-L3-01": "no choices"}
    for task_id, text in expected.items():
        r = records[task_id]
        assert r["error"] and text in r["error"], r["error"]
        assert not r["task_success"] and r["reward"]["R_fmt"] == 0.0 and r["total"] <= 0.0
        assert r["terminated_by"] == "step_budget" and r["truncated"]
    for task_id, r in records.items():
        if task_id not in modes:
            assert r["total"] == 3.0 and r["error"] is None
    assert result["metrics"]["counts"]["errors"] == len(expected)
    assert result["metrics"]["counts"]["infra_failed_not_stored"] == 2
    # A dead endpoint is not hammered: three turns per episode (each retried once), then the episode plays out.
    assert script.requests <= sum(len(HW_BY_ID[t].gold_calls) + 1 for t in records) + 3 * 2 * len(modes)
    script.modes = {}  # the endpoint recovers: a resume runs exactly the two missing episodes
    again = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs=retrying, progress=False, plots=False)
    assert again["ran"] == 2 and again["infra_failed"] == 0 and len(episodes(tmp_path)) == len(HW_TASKS)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_endpoint_stops_the_eval_and_a_resume_runs_everything(tmp_path):
    from envs.evaluation.run import EvalAborted
    from mock_apis.app import serve_in_thread

    port = _closed_port()
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(EvalAborted, match=r"3 episode\(s\) in a row failed for infrastructure.*transport error"):
        run_eval(OpenAIChatAgent(url, "scripted", timeout=2, retry_backoff=0.01), HANDWRITTEN, tmp_path, limit=5,
                 progress=False, plots=False)
    assert episodes(tmp_path) == []  # nothing stored: the failures were not the model's
    with serve_in_thread(make_chat_app(ChatScript()), port=port):  # the endpoint comes up where it was expected
        result = run_eval(OpenAIChatAgent(url, "scripted", timeout=2), HANDWRITTEN, tmp_path, limit=5,
                          progress=False, plots=False)
    assert result["ran"] == 5 and result["skipped"] == 0 and result["metrics"]["overall"]["TCR"] == 1.0


def test_cli_eval_fails_loudly_on_an_unreachable_endpoint_or_service(tmp_path):
    from typer.testing import CliRunner

    from envs.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["eval", "--agent", "openai", "--base-url", f"http://127.0.0.1:{_closed_port()}/v1",
                              "--model", "m", "--tasks", str(HANDWRITTEN), "--out", str(tmp_path / "a"),
                              "--no-progress", "--request-timeout", "2", "--max-retries", "0"])
    assert res.exit_code == 1 and "infrastructure" in res.output and "TCR" not in res.output
    res = runner.invoke(app, ["eval", "--backend", "http", "--url", f"http://127.0.0.1:{_closed_port()}",
                              "--tasks", str(HANDWRITTEN), "--out", str(tmp_path / "b"), "--no-progress"])
    assert res.exit_code == 1 and "cannot read the replica" in res.output and "seed=None" not in res.output


def test_a_wrong_service_token_stops_the_eval_at_once(tmp_path):
    from envs.replica import default_replica
    from mock_apis.app import create_app, serve_in_thread

    with serve_in_thread(create_app(default_replica(), "right-token")) as url:
        # Refused at start-up: the contract check is the first request that needs the token.
        with pytest.raises(ConnectionError, match="unauthorized"):
            run_eval("oracle", HANDWRITTEN, tmp_path, backend="http", url=url, token="wrong-token",
                     progress=False, plots=False)
    assert not (tmp_path / "episodes.jsonl").exists()  # no episode ran


def test_split_tool_results():
    obs = json.dumps([{"name": "a", "result": {"x": 1}}, {"name": "b", "result": {"y": 2}}])
    assert [json.loads(s) for s in split_tool_results(obs, 2)] == [{"x": 1}, {"y": 2}]
    err = json.dumps({"error": "malformed_action"})
    assert split_tool_results(err, 2) == [err, err]
    assert split_tool_results('{"x": 1}', 1) == ['{"x": 1}']


# --------------------------------------------------------------------------------------
# Local Hugging Face model

CHATML_WITH_TOOLS = r"""
{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- '# Tools\n\n<tools>' }}
    {%- for tool in tools %}
        {{- '\n' }}{{- tool | tojson }}
    {%- endfor %}
    {{- '\n</tools>\n\nFor each function call, return a json object within <tool_call></tool_call> tags.<|im_end|>\n' }}
{%- elif messages[0].role == 'system' %}
    {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
{%- endif %}
{%- for m in messages %}
    {%- if not (loop.first and m.role == 'system') %}
        {%- if m.role == 'tool' %}
            {{- '<|im_start|>user\n<tool_response>\n' + m.content + '\n</tool_response><|im_end|>\n' }}
        {%- else %}
            {{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""


def build_tiny_model(path: Path, corpus: list[str]) -> None:
    """A 2-layer Qwen2 with a byte-level BPE tokenizer trained on ``corpus``, saved to ``path``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=2048, special_tokens=specials,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token=None, unk_token=None)
    fast.chat_template = CHATML_WITH_TOOLS
    fast.save_pretrained(path)
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32768,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    Qwen2ForCausalLM(config).save_pretrained(path)


@pytest.mark.train
def test_hf_local_agent_with_a_tiny_local_model(tmp_path):
    try:
        import torch  # noqa: F401 - only whether the extra is installed
        import transformers  # noqa: F401 - likewise
    except ImportError:
        pytest.skip("SKIPPED LOUDLY: torch/transformers not installed: pip install torch==2.13.0 transformers "
                    "(HFLocalAgent is untested in this environment; .ci/run runs it after installing the train extra)")
    env = FinAdvisorEnv(tasks=HW_TASKS, max_steps=2)
    obs, info = env.reset(seed=0, options={"task_id": "hw-L1-01"})
    prompt = json.loads(obs)
    corpus = [prompt["system"], json.dumps(info["tools"]), *[t.query for t in HW_TASKS],
              *[a for t in HW_TASKS for a in t.gold_actions()], "<tool_call> </tool_call> <think> </think>"]
    model_dir = tmp_path / "tiny-qwen2"
    build_tiny_model(model_dir, corpus)

    agent = HFLocalAgent(model_dir, max_new_tokens=8)
    rendered = agent.tokenizer.apply_chat_template([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                                                   tools=info["tools"], add_generation_prompt=True, tokenize=False)
    assert '"name": "get_holdings"' in rendered and rendered.endswith("<|im_start|>assistant\n")
    agent.start(HW_TASKS[0], obs, info)
    action = agent.act(obs)
    assert isinstance(action, str) and agent.errors == []
    obs, reward, terminated, truncated, step_info = env.step(action)  # whatever it said, the env copes
    assert isinstance(obs, str) and "action_kind" in step_info
    env.close()

    result = run_eval(agent, HANDWRITTEN, tmp_path / "eval", limit=2, max_steps=2, progress=False, plots=False)
    records = episodes(tmp_path / "eval")
    assert len(records) == 2 and all(r["error"] is None for r in records)
    assert result["metrics"]["agent_config"]["max_new_tokens"] == 8

    # The history bookkeeping, with the generation replaced by the gold in the tagged form:
    # two parallel tool calls, then the answer; each result goes back as its own tool turn.
    task = HW_BY_ID["hw-L2-01"]
    calls = "".join(f'<tool_call>{json.dumps({"name": g.name, "arguments": g.arguments})}</tool_call>'
                    for g in task.gold_calls)
    texts = iter([f"<think>I need the accounts and holdings.</think>{calls}",
                  f"<think>Done.</think><response>{task.gold_response}</response>"])
    prompts = []

    def fake_generate():
        prompts.append(agent.tokenizer.apply_chat_template(agent.messages, tools=agent.tools,
                                                           add_generation_prompt=True, tokenize=False))
        return next(texts)

    agent._generate = fake_generate
    env = FinAdvisorEnv(tasks=HW_TASKS)
    obs, info = env.reset(seed=0, options={"task_id": task.task_id})
    agent.start(task, obs, info)
    obs, reward, terminated, _, _ = env.step(agent.act(obs))
    assert not terminated
    obs, reward, terminated, _, step_info = env.step(agent.act(obs))
    env.close()
    assert terminated and reward == 3.0, step_info["reward"]
    tool_turns = [m for m in agent.messages if m["role"] == "tool"]
    assert len(tool_turns) == 2 and all("error" not in json.loads(m["content"]) for m in tool_turns)
    assert prompts[1].count("<tool_response>") == 2
    # The tools reach the model once, through the chat template; the system prompt does not repeat them.
    assert agent.messages[0]["content"] == info["system_for_tools_api"]
    assert prompts[0].count('"name": "get_client_overview"') == 1


# --------------------------------------------------------------------------------------
# Resumability


def test_resume_runs_no_task_twice_and_covers_the_suite(tmp_path):
    first = run_eval("oracle", HANDWRITTEN, tmp_path, limit=5, progress=False, plots=False)
    assert first["ran"] == 5 and len(episodes(tmp_path)) == 5
    assert first["metrics"]["counts"]["complete"] is False
    second = run_eval("oracle", HANDWRITTEN, tmp_path, progress=False, plots=False)
    assert second["ran"] == len(HW_TASKS) - 5 and second["skipped"] == 5
    ids = [r["task_id"] for r in episodes(tmp_path)]
    assert len(ids) == len(set(ids)) == len(HW_TASKS)
    assert set(ids) == {t.task_id for t in HW_TASKS}
    assert second["metrics"]["counts"]["complete"] is True
    third = run_eval("oracle", HANDWRITTEN, tmp_path, progress=False, plots=False)
    assert third["ran"] == 0 and len(episodes(tmp_path)) == len(HW_TASKS)
    # Seeds are a function of the suite position, not of the order of running.
    assert all(r["seed"] == r["index"] for r in episodes(tmp_path))


class CrashingAgent(OracleAgent):
    """The oracle, but the process "dies" (KeyboardInterrupt) at its n-th episode."""

    def __init__(self, crash_at: int):
        super().__init__()
        self.crash_at = crash_at
        self.started = 0

    def start(self, task, observation, info):
        self.started += 1
        if self.started == self.crash_at:
            raise KeyboardInterrupt
        super().start(task, observation, info)


def test_resume_after_a_crash_and_a_truncated_last_line(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run_eval(CrashingAgent(crash_at=7), HANDWRITTEN, tmp_path, progress=False, plots=False)
    assert len(episodes(tmp_path)) == 6
    # Simulate a crash in the middle of writing the 6th line.
    path = tmp_path / EPISODES
    data = path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: last_start + (len(data) - last_start) // 2])
    lost = orjson.loads(data[last_start:])["task_id"]
    assert len(load_episodes(path, repair=False)) == 5
    result = run_eval(CrashingAgent(crash_at=0), HANDWRITTEN, tmp_path, progress=False, plots=False)
    assert result["ran"] == len(HW_TASKS) - 5
    records = episodes(tmp_path)  # every line parses: the torn one was cut
    ids = [r["task_id"] for r in records]
    assert len(ids) == len(set(ids)) == len(HW_TASKS) and lost in ids
    assert path.read_bytes().endswith(b"\n")


def test_a_corrupt_line_before_the_last_is_an_error(tmp_path):
    run_eval("oracle", HANDWRITTEN, tmp_path, limit=3, progress=False, plots=False)
    path = tmp_path / EPISODES
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b"{garbage\n" + b"".join(lines[1:]))
    with pytest.raises(EvalConfigError, match="corrupt"):
        run_eval("oracle", HANDWRITTEN, tmp_path, progress=False, plots=False)


def test_resume_refuses_a_different_configuration(tmp_path):
    run_eval("oracle", HANDWRITTEN, tmp_path, limit=2, progress=False, plots=False)
    with pytest.raises(EvalConfigError, match="agent"):
        run_eval("wrong_tool", HANDWRITTEN, tmp_path, progress=False, plots=False)
    with pytest.raises(EvalConfigError, match="reward_config"):
        run_eval("oracle", HANDWRITTEN, tmp_path, composition="additive", progress=False, plots=False)
    other_suite = tmp_path / "other.jsonl"
    other_suite.write_bytes(b"".join(HANDWRITTEN.read_bytes().splitlines(keepends=True)[:4]))
    with pytest.raises(EvalConfigError, match="tasks_sha256"):
        run_eval("oracle", other_suite, tmp_path, progress=False, plots=False)
    assert len(episodes(tmp_path)) == 2  # nothing was touched
    result = run_eval("wrong_tool", HANDWRITTEN, tmp_path, overwrite=True, progress=False, plots=False)
    assert result["ran"] == len(HW_TASKS)
    assert {r["agent"] for r in episodes(tmp_path)} == {"wrong_tool"}


def test_episodes_without_run_json_are_not_adopted(tmp_path):
    (tmp_path / EPISODES).write_text("")
    with pytest.raises(EvalConfigError, match="run.json"):
        run_eval("oracle", HANDWRITTEN, tmp_path, progress=False, plots=False)


def test_cli_eval_and_its_config_error(tmp_path):
    from typer.testing import CliRunner

    from envs.cli import app

    runner = CliRunner()
    out = tmp_path / "report"
    res = runner.invoke(app, ["eval", "--agent", "oracle", "--tasks", str(HANDWRITTEN), "--out", str(out),
                              "--limit", "4", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "TCR 100.0%" in res.output and len(episodes(out)) == 4
    res = runner.invoke(app, ["eval", "--agent", "redundant_calls", "--tasks", str(HANDWRITTEN), "--out", str(out),
                              "--no-progress"])
    assert res.exit_code == 2 and "different run" in res.output
    res = runner.invoke(app, ["eval", "--agent", "openai", "--tasks", str(HANDWRITTEN), "--out", str(tmp_path / "o"),
                              "--no-progress"])
    assert res.exit_code == 2 and "base_url" in res.output


def test_http_backend_gives_the_same_episodes(tmp_path):
    from envs.replica import default_replica
    from mock_apis.app import create_app, serve_in_thread

    token = "eval-test-token"
    seed = HW_TASKS[0].replica
    with serve_in_thread(create_app(default_replica(seed["seed"], seed["scale"]), token)) as url:
        run_eval("noisy_params", HANDWRITTEN, tmp_path / "http", backend="http", url=url, token=token,
                 progress=False, plots=False)
    run_eval("noisy_params", HANDWRITTEN, tmp_path / "inproc", progress=False, plots=False)
    strip = lambda r: {k: v for k, v in r.items() if k != "latency_s"}  # noqa: E731 - a one-line helper
    assert [strip(r) for r in episodes(tmp_path / "http")] == [strip(r) for r in episodes(tmp_path / "inproc")]


# --------------------------------------------------------------------------------------
# Reports


class MixedAgent(OracleAgent):
    """Task i gets a different behaviour (the baselines in turn, and one L4 non-refusal)."""

    name = "mixed"

    def __init__(self):
        super().__init__()
        self.agents = [make_agent(s) for s in ("oracle", *BASELINES)]
        self.current = None
        self.count = 0

    def start(self, task, observation, info):
        if task.task_id == "hw-L4-02":
            self.current = None
            self.task = task
            return
        self.current = self.agents[self.count % len(self.agents)]
        self.count += 1
        self.current.start(task, observation, info)

    def act(self, observation):
        if self.current is None:
            return json.dumps({"thought": "Fine.", "response": "Look at the funds in the client's portfolio."})
        return self.current.act(observation)


def recompute(records: list[dict]) -> dict:
    """The metric definitions, re-implemented independently of envs.evaluation."""

    def group(rs):
        calls = sum(r["reward"]["n_calls"] for r in rs)
        invalid = sum(r["reward"]["invalid_calls"] for r in rs)
        l4_refusals = [r for r in rs if r["level"] == "L4" and r["reward"]["expected_refusal"]]
        return {
            "n": len(rs),
            "TCR": sum(r["reward"]["task_success"] for r in rs) / len(rs),
            "TIER": invalid / calls if calls else None,
            "AIR": sum(r["reward"]["n_calls"] for r in rs) / len(rs),
            "CRR": (sum(r["reward"]["refused"] for r in l4_refusals) / len(l4_refusals)) if l4_refusals else None,
            "VR": sum(r["reward"]["violated"] for r in rs) / len(rs),
            "P50_latency_s": statistics.median([r["latency_s"] for r in rs]),
        }

    def means(rs):
        keys = ("total", "R_fmt", "R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param")
        return {k: sum(r["reward"][k] for r in rs) / len(rs) for k in keys}

    levels = sorted({r["level"] for r in records})
    return {"overall": group(records), "per_level": {lv: group([r for r in records if r["level"] == lv])
                                                     for lv in levels},
            "means": {"overall": means(records),
                      **{lv: means([r for r in records if r["level"] == lv]) for lv in levels}}}


def test_metrics_json_matches_a_recomputation_and_the_report_is_complete(tmp_path):
    run_eval(MixedAgent(), HANDWRITTEN, tmp_path, progress=False)
    records = episodes(tmp_path)
    metrics = json.loads((tmp_path / METRICS).read_text())
    expected = recompute(records)
    approx = lambda v: v if v is None else pytest.approx(v, rel=1e-12, abs=1e-12)  # noqa: E731 - a one-line helper
    for name in ("n", "TCR", "TIER", "AIR", "CRR", "VR", "P50_latency_s"):
        assert metrics["overall"][name] == approx(expected["overall"][name]), name
        for lv, m in expected["per_level"].items():
            assert metrics["per_level"][lv][name] == approx(m[name]), (lv, name)
    for k, v in expected["means"]["overall"].items():
        assert metrics["reward_means"]["overall"][k] == approx(v), k
    for lv in expected["per_level"]:
        for k, v in expected["means"][lv].items():
            assert metrics["reward_means"]["per_level"][lv][k] == approx(v), (lv, k)
    # The mix is not trivial: every metric is informative.
    o = metrics["overall"]
    assert 0 < o["TCR"] < 1 and 0 < o["TIER"] < 1 and 0 < o["VR"] < 1 and 0 < o["CRR"] < 1
    assert metrics["reward_version"] == "toolrla-1.2.0" and metrics["counts"]["episodes"] == len(HW_TASKS)
    assert metrics["counts"]["per_level"] == {"L1": 3, "L2": 3, "L3": 3, "L4": 3}

    report = (tmp_path / REPORT).read_text()
    assert "| overall | 12 |" in report and "| L4 | 3 |" in report
    assert f"({PLOT_METRICS})" in report and f"({PLOT_REWARDS})" in report
    assert f"{100 * o['TCR']:.1f}%" in report
    from matplotlib.image import imread

    for name in (PLOT_METRICS, PLOT_REWARDS):
        png = tmp_path / name
        assert png.stat().st_size > 5000 and png.read_bytes()[:8] == PNG_MAGIC
        image = imread(png)
        assert image.shape[0] > 200 and image.shape[1] > 400


# --------------------------------------------------------------------------------------
# The whole frozen suite (its speed: benchmarks/bench_eval.py)


def test_oracle_over_the_full_frozen_suite(tmp_path):
    n = len(load_tasks(FROZEN))
    result = run_eval("oracle", FROZEN, tmp_path, progress=False)
    assert result["metrics"]["counts"]["episodes"] == n
    assert result["metrics"]["overall"]["TCR"] == 1.0


@pytest.mark.train
@pytest.mark.parametrize("stops", ["the model's own", "many"])
def test_hf_agent_batches_concurrent_episodes_and_writes_a_sequential_runs_records(tmp_path, stops):
    """``--concurrency 4`` with the hf agent: the workers' turns go through one ``generate``
    call (left-padded batches of up to 4), and the episodes are the sequential run's, to the
    character (greedy decoding). With ``many`` stop tokens the rows of a batch end at
    different lengths."""
    needs_train_extra()
    import torch
    from transformers import AutoModelForCausalLM

    from trainer.tiny import build_tiny_model

    env = FinAdvisorEnv(tasks=HANDWRITTEN)
    corpus = [env.system_prompt_for_tools_api, json.dumps(env.tool_schemas), *[t.query for t in HW_TASKS],
              *[a for t in HW_TASKS for a in t.gold_actions()]]
    env.close()
    model_dir = build_tiny_model(tmp_path / "tiny", corpus)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    with torch.no_grad():  # weights 8x larger: the random model's greedy turns then depend on the prompt
        for weights in model.parameters():
            weights.mul_(8)
    model.save_pretrained(model_dir)
    runs = {}
    for concurrency in (1, 4):
        agent = HFLocalAgent(model_dir, max_new_tokens=12)
        if stops == "many":
            agent.model.generation_config.eos_token_id = list(range(0, len(agent.tokenizer), 3))
        run_eval(agent, HANDWRITTEN, tmp_path / f"c{concurrency}", limit=10, max_steps=3, concurrency=concurrency,
                 progress=False, plots=False)
        records = [{k: v for k, v in r.items() if k != "latency_s"} for r in episodes(tmp_path / f"c{concurrency}")]
        runs[concurrency] = records, agent.batcher.batch_sizes
    (sequential, one_by_one), (batched, sizes) = runs[1], runs[4]
    assert batched == sequential and len(sequential) == 10
    assert set(one_by_one) == {1} and max(sizes) == 4 and sum(sizes) == len(one_by_one)  # every turn, batched
    turns = [t["text"] for r in sequential for t in r["transcript"] if t["role"] == "agent"]
    assert len(set(turns)) > 1  # the model's turns differ from task to task
    if stops == "many":
        assert len({len(t) for t in turns}) > 1

    # Prompts of very different lengths (much padding) in one batch: each text is the one it gets alone.
    agent = HFLocalAgent(model_dir, max_new_tokens=12)
    prompts = [agent.tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                                   add_generation_prompt=True) for q in ("Hi", HW_TASKS[0].query * 3)]
    alone = [agent.batcher.generate(p) for p in prompts]
    agent.batcher.join()  # a second member: each generate now waits for the other's prompt
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(agent.batcher.generate, prompts))
    assert together == alone and agent.batcher.batch_sizes == [1, 1, 2]
