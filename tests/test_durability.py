"""Nothing lost: the service's audit log under kill -9 and a full disk, its repair, and outputs
(ingest, score, export, replica) that are complete or refused. Real subprocesses, real
SIGKILL, a real full filesystem (a small tmpfs; skipped loudly where mounting is not allowed)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from mock_apis.audit import verify
from envs.replica import default_replica

ADVISORGYM = str(Path(sys.executable).with_name("advisorgym"))
TOKEN = "durability-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BUY = {"account_id": "A0000003", "fund": "BD009", "side": "buy", "amount": 1.0}  # hw-L3-02's order, 1 dollar


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(audit_log: Path | None = None, port: int | None = None
          ) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    """``advisorgym serve`` (``--audit-log`` if given) in a subprocess; killed (SIGKILL) at the end if
    still running."""
    port = port or _free_port()
    audit = ["--audit-log", str(audit_log)] if audit_log else []
    proc = subprocess.Popen([ADVISORGYM, "serve", "--replica", str(default_replica(0, 5000)), "--port", str(port),
                             *audit, "--log-level", "warning"],
                            env={**os.environ, "ADVISORGYM_API_TOKEN": TOKEN}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, trust_env=False, timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/health").status_code == 200:
                    break
            assert time.monotonic() < deadline, "advisorgym serve did not start"
            time.sleep(0.1)
        yield proc, client
    finally:
        client.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def records(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_kill_9_after_100_acknowledged_calls_leaves_100_records(tmp_path):
    log = tmp_path / "audit.jsonl"
    with serve(log) as (proc, client):
        session = client.post("/sessions").json()["session_id"]
        acknowledged = 0
        for _ in range(50):
            write = client.post("/tools/place_order", json=BUY, headers={"X-Session-Id": session})
            read = client.post("/tools/list_orders", json={"account_id": "A0000003"},
                               headers={"X-Session-Id": session})
            assert write.status_code == 200 and read.status_code == 200, (write.text, read.text)
            acknowledged += 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert acknowledged == 100
    ok, _, summary = verify(log)
    assert ok, summary
    calls = [r for r in records(log) if r["kind"] == "call"]
    assert len(calls) == 100
    assert sum(c["payload"]["name"] == "place_order" and c["payload"]["ok"] for c in calls) == 50


def test_kill_9_amid_concurrent_writes_loses_no_acknowledged_call(tmp_path):
    """Eight clients, each in its own session, place orders with amounts unique to each call (the
    fsyncs shared: group commit) and the service is killed (SIGKILL) while calls are in flight:
    after `audit repair` (a record may be torn mid-write), the log verifies and holds every order
    a client got a 200 for."""
    import threading

    log = tmp_path / "audit.jsonl"
    acknowledged: list[float] = []
    stop = threading.Event()
    with serve(log) as (proc, client):
        url = str(client.base_url)

        def place(worker: int) -> None:
            with httpx.Client(base_url=url, headers=AUTH, trust_env=False, timeout=30) as own:
                session = own.post("/sessions").json()["session_id"]
                n = 0
                while not stop.is_set():
                    amount = round(1 + worker / 100 + n / 100_000, 5)  # unique per call
                    n += 1
                    try:
                        answer = own.post("/tools/place_order", json={**BUY, "amount": amount},
                                          headers={"X-Session-Id": session})
                    except httpx.HTTPError:
                        return  # the service is gone: this call was not acknowledged
                    if answer.status_code == 200:
                        acknowledged.append(amount)

        workers = [threading.Thread(target=place, args=(w,)) for w in range(8)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 200:
            assert time.monotonic() < deadline and proc.poll() is None, "the clients got too few answers"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # while the eight clients are still calling
        proc.wait(timeout=30)
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    if not verify(log)[0]:  # killed in the middle of a write: the torn tail is cut
        repaired = run_cli("audit", "repair", str(log))
        assert repaired.returncode == 0, repaired.stderr
    ok, _, summary = verify(log)
    assert ok, summary
    recorded = {c["payload"]["arguments"]["amount"] for c in records(log)
                if c["kind"] == "call" and c["payload"]["name"] == "place_order" and c["payload"]["ok"]}
    lost = sorted(set(acknowledged) - recorded)
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged orders are not in the log: {lost[:5]}"


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted for the test (root only); unmounted after it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"SKIPPED LOUDLY: cannot mount a tmpfs here ({done.stderr.strip()}); the full-disk test needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> Path:
    """Fill the filesystem of ``directory`` until a write fails (ENOSPC); the filler file."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
    with contextlib.suppress(OSError), open(filler, "ab", buffering=0) as fh:
        while True:
            fh.write(b"\0")
    return filler


def test_on_a_full_disk_a_write_is_refused_and_undone_and_the_log_verifies_once_space_returns(tmp_path, small_disk):
    log = small_disk / "audit.jsonl"
    with serve(log) as (proc, client):
        session = client.post("/sessions").json()["session_id"]
        headers = {"X-Session-Id": session}

        def orders() -> int:
            answer = client.post("/tools/list_orders", json={"account_id": "A0000003"}, headers=headers)
            assert answer.status_code == 200, answer.text
            return len(answer.json()["orders"])

        before = orders()
        filler = fill(small_disk)
        placed, refused = 0, None
        for _ in range(200):  # the log's last page may hold a few more records before the disk says no
            answer = client.post("/tools/place_order", json=BUY, headers=headers)
            if answer.status_code != 200:
                refused = answer
                break
            placed += 1
        assert refused is not None, "the disk never filled"
        assert refused.status_code == 503 and refused.json()["error"] == "service_unavailable", refused.text
        assert "could not be written" in refused.json()["message"]
        filler.unlink()  # space returns
        assert orders() == before + placed  # the refused order was not kept
        ok, _, summary = verify(log)
        assert ok, summary
        assert client.post("/tools/place_order", json=BUY, headers=headers).status_code == 200
        assert orders() == before + placed + 1
    calls = [r["payload"] for r in records(log) if r["kind"] == "call"]
    assert sum(c["name"] == "place_order" for c in calls) == placed + 1
    assert verify(log)[0]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADVISORGYM, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "ADVISORGYM_API_TOKEN": TOKEN})


def test_a_torn_last_record_stops_serve_with_one_line_and_audit_repair_cuts_and_records_it(tmp_path):
    log = tmp_path / "audit.jsonl"
    with serve(log) as (_, client):
        for _ in range(5):
            assert client.post("/tools/get_client_profile", json={"client_id": "C000002"}).status_code == 200
    data = log.read_bytes()
    log.write_bytes(data[:-20])  # a crash in the middle of the last record's write
    started = run_cli("serve", "--audit-log", str(log), "--replica", str(default_replica(0, 5000)), timeout=60)
    assert started.returncode == 2 and len(started.stderr.strip().splitlines()) == 1, started.stderr
    assert "advisorgym audit repair" in started.stderr
    repaired = run_cli("audit", "repair", str(log))
    assert repaired.returncode == 0, repaired.stderr
    line = repaired.stdout.strip()
    assert len(line.splitlines()) == 1 and line.startswith(f"repaired: {log}: kept 4 records; cut 1 line(s)"), line
    ok, _, summary = verify(log)
    assert ok and summary.startswith("5 records"), summary
    last = records(log)[-1]
    assert last["kind"] == "repair" and last["seq"] == 4 and last["payload"]["first_bad_seq"] == 4
    saved = tmp_path / last["payload"]["saved_to"]
    assert saved.read_bytes() == data[len(b"".join(data.splitlines(keepends=True)[:4])):-20]
    assert run_cli("audit", "repair", str(log)).stdout.startswith("ok: ")  # nothing left to repair
    with serve(log) as (_, client):  # and the service continues the chain
        assert client.post("/tools/get_client_profile", json={"client_id": "C000002"}).status_code == 200
    assert verify(log)[0] and records(log)[-1]["seq"] == 5


def test_repair_refuses_to_cut_verified_records_after_an_edit_without_force(tmp_path):
    log = tmp_path / "audit.jsonl"
    with serve(log) as (_, client):
        for _ in range(4):
            client.post("/tools/get_client_profile", json={"client_id": "C000002"})
    lines = log.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"C000002", b"C000003")
    log.write_bytes(b"".join(lines))
    refused = run_cli("audit", "repair", str(log))
    assert refused.returncode == 1 and "2 more line(s) follow it" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    forced = run_cli("audit", "repair", str(log), "--force")
    assert forced.returncode == 0 and "kept 1 records; cut 3 line(s)" in forced.stdout
    assert verify(log)[0]


# --------------------------------------------------------------------------- outputs


def kill_when(proc: subprocess.Popen[bytes], ready: callable, limit: float = 120) -> None:  # type: ignore[valid-type]
    """SIGKILL ``proc`` as soon as ``ready()`` is true (fails if it ends first or takes too long)."""
    deadline = time.monotonic() + limit
    while not ready():
        assert proc.poll() is None, "the command finished before it could be killed"
        assert time.monotonic() < deadline, "the command never reached the point to kill it at"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") and ".tmp" in p.name)


@pytest.fixture(scope="module")
def big_logs(tmp_path_factory) -> Path:
    """Sample logs copied many times under fresh session ids: enough lines to kill an ingest mid-way."""
    logs = tmp_path_factory.mktemp("logs")
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
    lines = [line for name in ("chat.jsonl", "react.jsonl") for line in (fixtures / name).read_bytes().splitlines()]
    with open(logs / "big.jsonl", "wb") as fh:
        for copy in range(150):
            for line in lines:
                try:
                    record = orjson.loads(line)
                    record["session_id"] = f"{record['session_id']}-{copy}-{uuid.uuid4().hex[:6]}"
                    record["metadata"]["user_id"] = f"U{copy:05d}"  # another user: not a duplicate
                    line = orjson.dumps(record)
                except (orjson.JSONDecodeError, TypeError, KeyError, AttributeError):
                    pass
                fh.write(line + b"\n")
    return logs


def test_score_and_export_refuse_a_killed_ingest_and_a_good_ingest_cleans_its_temporary_files(tmp_path, big_logs):
    out = tmp_path / "run"
    proc = subprocess.Popen([ADVISORGYM, "replay", "ingest", str(big_logs), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_when(proc, lambda: out.is_dir() and any(p.stat().st_size > 0 for p in out.glob(".sessions.jsonl.*.tmp")))
    assert not (out / "sessions.jsonl").exists() and not (out / "summary.json").exists()
    assert temps(out)
    scored = run_cli("replay", "score", str(out))
    assert scored.returncode == 2 and len(scored.stderr.strip().splitlines()) == 1, scored.stderr
    assert "no sessions.jsonl" in scored.stderr
    good = run_cli("replay", "ingest", str(big_logs), "--out", str(out))
    assert good.returncode == 0, good.stderr
    assert temps(out) == []  # the killed run's temporary files are gone


def test_a_killed_reingest_leaves_the_finished_folder_whole_and_a_mixed_folder_is_refused(tmp_path, big_logs):
    from envs.replay.ingest import check_ingest, ingest_logs, load_sessions
    from envs.replay.rescore import score_logs

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
    out = tmp_path / "run"
    ingest_logs([fixtures / "chat.jsonl"], out)
    summary = (out / "summary.json").read_bytes()
    sessions = (out / "sessions.jsonl").read_bytes()
    # a real re-ingest of other logs into the finished folder, killed (SIGKILL) while it writes
    proc = subprocess.Popen([ADVISORGYM, "replay", "ingest", str(big_logs), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_when(proc, lambda: any(p.stat().st_size > 0 for p in out.glob(".sessions.jsonl.*.tmp")))
    assert (out / "summary.json").read_bytes() == summary and (out / "sessions.jsonl").read_bytes() == sessions
    check_ingest(out)  # the finished ingest, whole: its sessions still match its summary
    count = len(load_sessions(out))
    scored = run_cli("replay", "score", str(out), "--lenient")
    assert scored.returncode == 0, scored.stderr
    assert json.loads((out / "score_summary.json").read_text())["sessions"] == count
    # another ingest's sessions beside this summary (what a re-ingest killed between its renames leaves)
    other = tmp_path / "other"
    ingest_logs([fixtures / "react.jsonl"], other)
    shutil.copy(other / "sessions.jsonl", out / "sessions.jsonl")
    scored = run_cli("replay", "score", str(out), "--lenient")
    assert scored.returncode == 2 and len(scored.stderr.strip().splitlines()) == 1, scored.stderr
    assert "sessions.jsonl: does not match summary.json" in scored.stderr
    partial = score_logs(out, "lenient", allow_partial=True)
    assert "does not match summary.json" in partial["partial"]
    assert (out / "summary.json").read_bytes() == summary


def test_export_refuses_after_a_killed_score_and_after_a_reingest(tmp_path, big_logs):
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
    out = tmp_path / "run"
    assert run_cli("replay", "ingest", str(fixtures), "--out", str(out)).returncode == 0
    assert run_cli("replay", "score", str(out), "--lenient").returncode == 0
    assert run_cli("replay", "export", str(out), "--to", "sft").returncode == 0
    # the logs are ingested again (other sessions), and the score run on them is killed
    assert run_cli("replay", "ingest", str(big_logs), "--out", str(out)).returncode == 0
    proc = subprocess.Popen([ADVISORGYM, "replay", "score", str(out), "--lenient"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(3)  # importing and replaying; the 5,000 sessions take far longer
    assert proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    exported = run_cli("replay", "export", str(out), "--to", "sft")
    assert exported.returncode == 2 and len(exported.stderr.strip().splitlines()) == 1, exported.stderr
    assert "scores other sessions" in exported.stderr


def test_a_killed_replica_build_leaves_files_that_the_next_good_build_removes(tmp_path):
    target = tmp_path / "replica.sqlite"
    proc = subprocess.Popen([ADVISORGYM, "replica", "generate", "--scale", "200000", "--out", str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_when(proc, lambda: any(p.name.endswith(".tmp-journal") for p in tmp_path.iterdir()), limit=300)
    left = temps(tmp_path)
    assert left and not target.exists()
    assert run_cli("replica", "generate", "--scale", "200", "--out", str(target)).returncode == 0
    assert temps(tmp_path) == [] and target.is_file()


def test_resume_latest_skips_half_written_checkpoints_and_names_them(tmp_path):
    from trainer.cli import latest_checkpoint

    for n, state in ((5, '{"global_step": 5}'), (10, '{"global_step": 10}'), (15, '{"global_st'), (20, None)):
        (tmp_path / f"checkpoint-{n}").mkdir()
        if state is not None:
            (tmp_path / f"checkpoint-{n}" / "trainer_state.json").write_text(state)
    found, skipped = latest_checkpoint(tmp_path)
    assert found == tmp_path / "checkpoint-10"
    assert [p.name for p in skipped] == ["checkpoint-20", "checkpoint-15"]
    for path in (tmp_path / "checkpoint-5", tmp_path / "checkpoint-10"):
        (path / "trainer_state.json").unlink()
    assert latest_checkpoint(tmp_path)[0] is None


def test_a_killed_serve_fails_its_episode_as_infra_and_the_env_runs_on_once_it_is_back(tmp_path):
    """backend="http" on a service that is killed (kill -9) mid-episode and started again on the same port."""
    from envs import FinAdvisorEnv
    from envs.tasks import HANDWRITTEN, load_tasks

    tasks = load_tasks(HANDWRITTEN)[:3]
    local = FinAdvisorEnv(tasks=tasks, replica=default_replica(0, 5000))

    def episodes(env: FinAdvisorEnv) -> list[tuple[float, bytes]]:
        out = []
        for task in tasks:
            env.reset(seed=0, options={"task_id": task.task_id})
            for action in task.gold_actions():
                _, reward, _, _, info = env.step(action)
            out.append((reward, orjson.dumps(info["reward"], option=orjson.OPT_SORT_KEYS)))
        return out

    expected = episodes(local)
    local.close()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with serve(port=port) as (proc, _):
        env = FinAdvisorEnv(tasks=tasks, backend="http", base_url=url, token=TOKEN)
        env.reset(seed=0, options={"task_id": tasks[0].task_id})
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        _, _, _, _, info = env.step(tasks[0].gold_actions()[0])
        assert info["infra_error"] and [c["outcome"] for c in info["calls"]] == ["infra_error"]
        with pytest.raises(ConnectionError, match=url):  # nothing there: a new env says where it looked
            FinAdvisorEnv(tasks=tasks, backend="http", base_url=url, token=TOKEN)
    with serve(port=port):  # the same service, started again: the old sessions are gone
        assert episodes(env) == expected
        fresh = FinAdvisorEnv(tasks=tasks, backend="http", base_url=url, token=TOKEN)
        assert episodes(fresh) == expected
        fresh.close()
    with serve(port=port):  # restarted between episodes: the next reset opens a new session
        assert episodes(env) == expected
        env.close()
