"""The results viewer (``advisorgym view``): a static site, browsed in a real headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envs.reward import REWARD_VERSION
from envs.cli import app as cli
from envs.evaluation.agents import OracleAgent, malformed_action
from envs.evaluation.run import run_eval
from envs.tasks import HANDWRITTEN
from tests.browser import Browser
from tests.test_agents_eval import HW_TASKS


class FlakyAgent(OracleAgent):
    """The oracle, but every fifth episode it answers with a malformed action: over two trials
    tasks 4 and 9 fail in trial 0, tasks 2 and 7 in trial 1."""

    def __init__(self) -> None:
        super().__init__()
        self.episode = 0

    def start(self, task, observation, info) -> None:
        super().start(task, observation, info)
        self.episode += 1

    def act(self, observation: str) -> str:
        return malformed_action("flaky") if self.episode % 5 == 0 else super().act(observation)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("view")
    run_eval(FlakyAgent(), HANDWRITTEN, base / "flaky", trials=2, progress=False, plots=False)
    run_eval("oracle", HANDWRITTEN, base / "oracle", progress=False, plots=False)
    res = CliRunner().invoke(cli, ["view", str(base / "flaky"), str(base / "oracle"), "--out", str(base / "site")])
    assert res.exit_code == 0, res.output
    return base / "site"


def test_view_refuses_a_directory_that_is_not_a_run(tmp_path):
    res = CliRunner().invoke(cli, ["view", str(tmp_path), "--out", str(tmp_path / "site")])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and "not an eval output" in res.output


def test_the_site_in_a_headless_browser(site, tmp_path):
    browser = Browser(tmp_path / "profile")
    try:
        browser.goto((site / "index.html").as_uri())
        assert browser.js("document.querySelectorAll('h2[id^=run]').length") == 2
        overview = browser.js("document.querySelector('table.overview').innerText")
        assert REWARD_VERSION in overview and "contract" in overview and "2 trial(s)" in overview
        assert "pass^2" in browser.js("document.querySelector('table.metrics').innerText")

        def visible() -> list[str]:
            return browser.js("[...document.querySelectorAll('#tasks tbody tr')].filter(r => r.style.display "
                              "!== 'none').map(r => r.querySelector('a.task').textContent)")

        assert len(visible()) == len(HW_TASKS)
        flaky = {HW_TASKS[i].task_id for i in (2, 4, 7, 9)}
        browser.click("button[data-filter=failed]")
        assert set(visible()) == flaky and browser.js("document.getElementById('shown').textContent") == "4"
        browser.click("button[data-filter=inconsistent]")
        assert set(visible()) == flaky
        browser.click("button[data-filter=violation]")
        assert visible() == []
        browser.click("button[data-filter=all]")
        browser.screenshot(tmp_path / "index.png")
        assert (tmp_path / "index.png").read_bytes().startswith(b"\x89PNG")

        # A transcript: the failed trial of a flaky task.
        task = HW_TASKS[4]
        browser.click(f"a.transcript[href='episodes/R0/{task.task_id}-t0.html']", navigates=True)
        assert browser.js("document.querySelector('h1').textContent").startswith(task.task_id)
        assert browser.js("document.querySelector('pre.query').textContent") == task.query
        assert browser.js("document.querySelector('details.system').open") is False
        assert "get_client_overview" in browser.js("document.querySelector('details.system pre').textContent")
        assert "failed" in browser.js("document.body.innerText")
        assert browser.js("document.querySelectorAll('.turn.agent').length") == 12  # malformed until the budget
        assert browser.js("document.querySelector('table.reward').innerText").count("R_fmt") == 1

        # A successful one shows its tool calls' signals.
        browser.goto((site / "episodes" / "R1" / f"{task.task_id}-t0.html").as_uri())
        signals = browser.js("document.querySelector('table.signals').innerText")
        assert task.gold_calls[0].name in signals and "ok" in signals
        browser.screenshot(tmp_path / "transcript.png")

        # The task in both runs side by side.
        browser.click("a[href^='../../tasks/']", navigates=True)
        assert browser.js("document.querySelectorAll('.run').length") == 2
        keep = os.environ.get("ADVISORGYM_KEEP_SCREENSHOTS")
        if keep:
            for name in ("index.png", "transcript.png"):
                (Path(keep) / name).write_bytes((tmp_path / name).read_bytes())
    finally:
        browser.close()
