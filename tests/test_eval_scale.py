"""Evaluating at the speed of an endpoint: concurrent episodes, retries, repeated trials (pass^k),
the lock on the output directory, and the eval's one-line errors."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from typer.testing import CliRunner

from envs.cli import app as cli
from envs.evaluation.agents import OracleAgent
from envs.evaluation.metrics import trial_metrics
from envs.evaluation.model_agents import MAX_RETRY_AFTER_S, RateLimiter, retry_after_s
from envs.evaluation.outputs import EPISODES, METRICS, EvalLocked, OutLock
from envs.evaluation.run import run_eval
from envs.tasks import HANDWRITTEN
from tests.test_agents_eval import HW_TASKS, ChatScript, episodes


class Endpoint:
    """A chat-completions server on 127.0.0.1 replaying the gold, with a little latency, that
    counts the requests in flight and can fail the first requests of chosen tasks."""

    def __init__(self, latency_s: float = 0.02, failures: dict[str, list[tuple[int, dict[str, str]]]] | None = None):
        self.script = ChatScript()
        self.latency_s = latency_s
        self.failures = failures or {}  # task id -> [(status, headers)], answered in turn before the gold
        self.in_flight = self.max_in_flight = 0

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/v1/chat/completions")
        async def chat(request: Request):
            self.script.requests += 1
            body = await request.json()
            task = self.script.check_request(body, request.headers)
            if task is None:
                return JSONResponse({"error": {"message": "bad request"}}, status_code=400)
            pending = self.failures.get(task.task_id)
            if pending:
                status, headers = pending.pop(0)
                return PlainTextResponse("try later", status_code=status, headers=headers)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.latency_s)
            finally:
                self.in_flight -= 1
            return JSONResponse(self.script.answer(task, body["messages"]))

        return api


@pytest.fixture()
def endpoint():
    from mock_apis.app import serve_in_thread

    servers = []

    def start(ep: Endpoint) -> str:
        cm = serve_in_thread(ep.app())
        servers.append(cm)
        return cm.__enter__() + "/v1"

    yield start
    for cm in servers:
        cm.__exit__(None, None, None)


def _without_timing(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "latency_s"} for r in records]


def test_concurrent_episodes_give_the_sequential_records_in_suite_order(tmp_path, endpoint):
    ep = Endpoint()
    url = endpoint(ep)
    kwargs = {"base_url": url, "model": "scripted"}
    seq = run_eval("openai", HANDWRITTEN, tmp_path / "seq", agent_kwargs=kwargs, trials=2, progress=False,
                   plots=False)
    assert ep.max_in_flight == 1
    conc = run_eval("openai", HANDWRITTEN, tmp_path / "conc", agent_kwargs=kwargs, trials=2, concurrency=6,
                    progress=False, plots=False)
    assert ep.script.failures == []
    assert ep.max_in_flight > 1  # the episodes did overlap
    a, b = episodes(tmp_path / "seq"), episodes(tmp_path / "conc")
    assert len(a) == 2 * len(HW_TASKS)
    assert _without_timing(a) == _without_timing(b)
    assert [(r["trial"], r["index"]) for r in b] == sorted((r["trial"], r["index"]) for r in b)
    # Distinct seeds per trial; trial 0 keeps the seed a single-trial run gives the task.
    seeds = {(r["task_id"], r["trial"]): r["seed"] for r in b}
    assert seeds[(HW_TASKS[3].task_id, 0)] == 3 and seeds[(HW_TASKS[3].task_id, 1)] == 3 + len(HW_TASKS)
    def untimed(m: dict) -> dict:
        return {k: v for k, v in m.items() if k != "P50_latency_s"}

    assert untimed(seq["metrics"]["overall"]) == untimed(conc["metrics"]["overall"])
    assert seq["metrics"]["reward_means"] == conc["metrics"]["reward_means"]
    assert seq["metrics"]["trials"] == conc["metrics"]["trials"]
    assert conc["metrics"]["trials"]["pass_hat"] == {"1": 1.0, "2": 1.0}


def test_a_concurrent_run_resumes_like_a_sequential_one(tmp_path, endpoint):
    ep = Endpoint()
    url = endpoint(ep)
    kwargs = {"base_url": url, "model": "scripted"}
    first = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs=kwargs, limit=5, concurrency=3, progress=False,
                     plots=False)
    assert first["ran"] == 5
    again = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs=kwargs, concurrency=4, trials=2,
                     progress=False, plots=False)
    assert again["ran"] == 2 * len(HW_TASKS) - 5 and again["skipped"] == 5
    records = episodes(tmp_path)
    assert sorted((r["task_id"], r["trial"]) for r in records) == sorted(
        (t.task_id, k) for t in HW_TASKS for k in range(2))
    assert again["metrics"]["counts"]["complete"] and again["metrics"]["counts"]["trials"] == 2


def test_rate_limits_and_server_errors_are_retried_honouring_retry_after(tmp_path, endpoint):
    failures = {"hw-L1-01": [(429, {"Retry-After": "0"}), (503, {})], "hw-L2-02": [(500, {})]}
    ep = Endpoint(failures={k: list(v) for k, v in failures.items()})
    url = endpoint(ep)
    result = run_eval("openai", HANDWRITTEN, tmp_path, concurrency=3, progress=False, plots=False,
                      agent_kwargs={"base_url": url, "model": "scripted", "retry_backoff": 0.01,
                                    "rate_limiter": RateLimiter(1000)})
    assert ep.failures == {"hw-L1-01": [], "hw-L2-02": []}  # every failure was answered, then retried
    assert result["infra_failed"] == 0 and result["metrics"]["overall"]["TCR"] == 1.0
    assert all(r["error"] is None for r in episodes(tmp_path))
    # Without retries the same failure is the endpoint's: the episode is not stored.
    ep.failures = {"hw-L1-01": [(503, {})]}
    out = tmp_path / "no-retry"
    result = run_eval("openai", HANDWRITTEN, out, progress=False, plots=False,
                      agent_kwargs={"base_url": url, "model": "scripted", "max_retries": 0})
    assert result["infra_failed"] == 1 and "hw-L1-01" not in {r["task_id"] for r in episodes(out)}


def test_retry_after_values():
    assert retry_after_s("2") == 2.0 and retry_after_s("0.5") == 0.5
    assert retry_after_s(None) is None and retry_after_s("soon") is None
    assert retry_after_s("99999") == MAX_RETRY_AFTER_S
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: at once
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_concurrency_needs_an_agent_by_name_and_no_shared_audit_log(tmp_path):
    with pytest.raises(ValueError, match="by name"):
        run_eval(OracleAgent(), HANDWRITTEN, tmp_path, concurrency=2,
                 progress=False, plots=False)
    with pytest.raises(ValueError, match="audit log"):
        run_eval("oracle", HANDWRITTEN, tmp_path, concurrency=2, env_kwargs={"audit_log": tmp_path / "a.log"},
                 progress=False, plots=False)


def _records(outcomes: dict[str, list[bool]]) -> list[dict]:
    return [{"task_id": t, "level": "L1" if t < "m" else "L2", "trial": k, "task_success": ok,
             "total": 3.0 if ok else 0.0}
            for t, oks in outcomes.items() for k, ok in enumerate(oks)]


def test_pass_hat_k_and_pass_at_k():
    records = _records({"a": [True, True, True, True], "b": [True, False, True, False],
                        "c": [False] * 4, "x": [True, False, False, False]})
    m = trial_metrics(records, 4)
    # pass^k: C(c,k)/C(n,k) per task, averaged: a=1, b=C(2,k)/C(4,k), c=0, x=C(1,k)/C(4,k)
    assert m["pass_hat"]["1"] == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert m["pass_hat"]["2"] == pytest.approx((1 + 1 / 6 + 0 + 0) / 4)
    assert m["pass_hat"]["4"] == pytest.approx(0.25)
    # pass@k: 1 - C(n-c,k)/C(n,k): a=1, b=1-C(2,2)/C(4,2)=5/6, c=0, x=1-C(3,2)/C(4,2)=1/2
    assert m["pass_at"]["2"] == pytest.approx((1 + 5 / 6 + 0 + 0.5) / 4)
    assert m["pass_at"]["1"] == m["pass_hat"]["1"]
    assert m["consistency"] == {"always": 1, "sometimes": 2, "never": 1}
    assert m["per_level"]["L2"]["consistency"] == {"always": 0, "sometimes": 1, "never": 0}
    lo, hi = m["TCR_ci95"]
    assert lo < m["pass_hat"]["1"] < hi
    assert m["per_trial"]["TCR"] == [0.75, 0.25, 0.5, 0.25]
    assert m["noise"]["TCR_sd_across_trials"] > 0 and m["noise"]["task_reward_sd_mean"] > 0


def test_a_second_eval_on_a_directory_in_use_is_refused(tmp_path):
    held = OutLock(tmp_path)
    try:
        with pytest.raises(EvalLocked, match=f"in use by another eval \\(pid {os.getpid()}\\)"):
            run_eval("oracle", HANDWRITTEN, tmp_path, progress=False, plots=False)
        res = CliRunner().invoke(cli, ["eval", "--tasks", str(HANDWRITTEN), "--out", str(tmp_path), "--no-progress"])
        assert res.exit_code == 1 and len(res.output.strip().splitlines()) == 1 and "in use" in res.output
        assert not (tmp_path / EPISODES).exists()
    finally:
        held.release()
    assert run_eval("oracle", HANDWRITTEN, tmp_path, progress=False, plots=False)["ran"] == len(HW_TASKS)


def test_a_resume_with_nothing_to_run_keeps_every_record(tmp_path):
    first = run_eval("oracle", HANDWRITTEN, tmp_path, progress=False, plots=False)
    assert first["metrics"]["contract"]["checked"]
    before = orjson.loads((tmp_path / METRICS).read_bytes())
    again = run_eval("oracle", HANDWRITTEN, tmp_path, progress=False, plots=False)
    assert again["ran"] == 0
    after = orjson.loads((tmp_path / METRICS).read_bytes())
    assert after == before


def test_a_full_disk_and_a_corrupt_replica_are_one_line(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    out = tmp_path / "out"
    out.mkdir()
    (out / (METRICS + ".tmp")).symlink_to("/dev/full")  # every write there fails with ENOSPC
    res = CliRunner().invoke(cli, ["eval", "--tasks", str(HANDWRITTEN), "--out", str(out), "--no-progress",
                                   "--limit", "2"])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert res.output.strip().splitlines() == [res.output.strip()] and "error: disk full" in res.output
    assert len(episodes(out)) == 2  # what ran is kept for the resume
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database " * 1000)
    res = CliRunner().invoke(cli, ["eval", "--tasks", str(HANDWRITTEN), "--out", str(tmp_path / "o2"),
                                   "--no-progress", "--replica", str(bad)])
    # a bad --replica is bad input (exit 2, as `serve` gives it), named in one line
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output
    assert f"replica {bad}: not a readable SQLite database" in res.output


def test_each_concurrent_worker_keeps_one_connection_to_the_endpoint(tmp_path, endpoint):
    ports: set[int] = set()
    ep = Endpoint()
    api = ep.app()

    @api.middleware("http")
    async def note_port(request: Request, call_next):
        ports.add(request.client.port)
        return await call_next(request)

    from mock_apis.app import serve_in_thread

    with serve_in_thread(api) as url:
        result = run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs={"base_url": url + "/v1", "model": "scripted"},
                          concurrency=4, progress=False, plots=False)
    assert ep.script.failures == [] and result["ran"] == len(HW_TASKS)
    # Every request of a worker reuses its keep-alive connection: at most one client port per worker.
    assert ep.script.requests > 2 * len(HW_TASKS) and 2 <= len(ports) <= 4, (ep.script.requests, ports)


def test_a_worker_copy_opens_its_own_connection_with_the_same_tls_context():
    from envs.evaluation.model_agents import OpenAIChatAgent

    agent = OpenAIChatAgent("https://llm.example.invalid/v1", "m", api_key="k")
    twin = agent.worker_copy()
    assert twin._connection is not agent._connection and twin._connection._tls is agent._connection._tls
    assert twin.messages is not agent.messages and twin.rate_limiter is agent.rate_limiter
    with pytest.raises(ValueError, match="line break"):
        OpenAIChatAgent("http://127.0.0.1:1/v1", "m", api_key="k\r\nX-Injected: 1")


def test_records_written_without_sync_are_on_disk_after_sync_or_close(tmp_path):
    from envs.evaluation.outputs import EpisodeWriter, load_episodes

    path = tmp_path / EPISODES
    writer = EpisodeWriter(path)
    writer.write({"task_id": "a", "reward": {}}, sync=False)
    writer.write({"task_id": "b", "reward": {}}, sync=False)
    writer.sync()
    assert [r["task_id"] for r in load_episodes(path, repair=False)] == ["a", "b"]
    writer.write({"task_id": "c", "reward": {}}, sync=False)
    writer.close()
    assert [r["task_id"] for r in load_episodes(path, repair=False)] == ["a", "b", "c"]


def test_a_worker_whose_environment_fails_to_build_stops_the_eval_and_every_env_is_closed(tmp_path, monkeypatch,
                                                                                         endpoint):
    import envs.env
    import envs.evaluation.run

    url = endpoint(Endpoint(latency_s=0.05))  # episodes last long enough for every worker to take one
    attempts, built, closed = itertools.count(), [], []

    class Flaky(envs.env.FinAdvisorEnv):
        def __init__(self, *args, **kwargs):
            if next(attempts) == 2:  # the third worker's, built in its own thread
                raise RuntimeError("no sandbox for this worker")
            super().__init__(*args, **kwargs)
            built.append(self)

        def close(self):
            closed.append(self)
            super().close()

    monkeypatch.setattr(envs.evaluation.run, "FinAdvisorEnv", Flaky)  # the env each eval worker builds
    with pytest.raises(RuntimeError, match="no sandbox for this worker"):
        run_eval("openai", HANDWRITTEN, tmp_path, agent_kwargs={"base_url": url, "model": "scripted"}, concurrency=4,
                 progress=False, plots=False)
    assert len(built) >= 2 and {id(e) for e in closed} == {id(e) for e in built}
