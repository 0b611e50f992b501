"""One EnvConfig: gym.make / FinAdvisorEnv, the eval command (flags and --config YAML), run_eval
and the trainer YAML's `env:` section build the same config, and a bad option is a one-line
error naming its key."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest
import yaml
from typer.testing import CliRunner

import envs
from envs.cli import app
from envs.config import BackendConfig, ConfigError, EnvConfig, FaultConfig
from envs.env import FinAdvisorEnv
from envs.evaluation.config import EvalConfig
from envs.reward import RewardConfig
from envs.tasks import HANDWRITTEN
from trainer.config import TrainConfig

ENV_SECTION = {"tasks": str(HANDWRITTEN), "max_steps": 5, "max_calls_per_turn": 4,
               "backend": {"check_replica": False, "allow_drift": True},
               "faults": {"rate": 0.25, "kinds": ["timeout"]},
               "reward": {"composition": "additive", "version": "toolrla-1.1.0"}}
API_ENV = EnvConfig(tasks=str(HANDWRITTEN), max_steps=5, max_calls_per_turn=4,
                    backend=BackendConfig(check_replica=False, allow_drift=True),
                    faults=FaultConfig(rate=0.25, kinds=("timeout",)),
                    reward=RewardConfig(composition="additive", version="toolrla-1.1.0"))
KWARGS = {"tasks": HANDWRITTEN, "max_steps": 5, "max_calls_per_turn": 4, "check_replica": False,
          "allow_drift": True, "faults": {"rate": 0.25, "kinds": ["timeout"]},
          "reward_config": {"composition": "additive", "version": "toolrla-1.1.0"}}


def _write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_api_a_mapping_a_yaml_file_and_keyword_options_give_one_config(tmp_path):
    assert EnvConfig.from_dict(ENV_SECTION) == API_ENV
    assert EnvConfig.load(_write_yaml(tmp_path / "env.yaml", {"env": ENV_SECTION}), section="env") == API_ENV
    assert EnvConfig().with_options(**KWARGS) == API_ENV
    assert EnvConfig.from_dict(API_ENV.to_dict()) == API_ENV  # to_dict is what from_dict reads
    # the env built either way holds that config and reads it
    by_kwargs = FinAdvisorEnv(**KWARGS)
    by_config = FinAdvisorEnv(API_ENV)
    made = gym.make(envs.ENV_ID, config=API_ENV)
    try:
        for env in (by_kwargs, by_config, made.unwrapped):
            assert env.config == API_ENV
            assert (env.max_steps, env.max_calls_per_turn) == (5, 4)
            assert env.reward_config == RewardConfig(composition="additive", version="toolrla-1.1.0")
            assert env.faults == FaultConfig(rate=0.25, kinds=("timeout",))
            assert env.contract_status["allow_drift"] is True
    finally:
        by_kwargs.close(), by_config.close(), made.close()


def test_keyword_options_override_the_config():
    env = FinAdvisorEnv(API_ENV, max_steps=9, reward_config={"composition": "binary"})
    try:
        assert env.max_steps == 9 and env.reward_config.composition == "binary"
        assert env.config.max_calls_per_turn == 4 and env.config.backend.allow_drift  # the rest: the config's
    finally:
        env.close()


@pytest.mark.parametrize("raw, message", [
    ({"max_step": 3}, r"unknown key\(s\) \['max_step'\] in `env`.*did you mean \['max_steps'\]"),
    ({"max_steps": 0}, r"`env.max_steps` must be at least 1, not 0"),
    ({"max_steps": "many"}, r"`env.max_steps` must be an integer, not 'many'"),
    ({"prompt_mode": "short"}, r"`env.prompt_mode` must be one of full, tools_via_template"),
    ({"backend": {"kind": "ftp"}}, r"`env.backend.kind` must be one of inprocess, http, docker"),
    ({"backend": {"kind": "http"}}, r"`env.backend.base_url` is needed"),
    ({"backend": {"replicas": "x"}}, r"unknown key\(s\) \['replicas'\] in `env.backend`"),
    ({"backend": {"check_replica": "no"}}, r"`env.backend.check_replica` must be true/false"),
    ({"faults": {"rate": 2}}, r"`env.faults.rate` must be in \[0, 1\]"),
    ({"faults": {"kinds": ["flood"]}}, r"`env.faults.kinds` must be a non-empty subset"),
    ({"reward": {"composition": "sum"}}, r"`env.reward`: composition must be one of"),
    ({"reward": {"judges": ["llm"]}}, r"unknown key\(s\) \['judges'\] in `env.reward`"),
    ("fast", r"`env` must be a mapping of options, not str"),
    ({"domain": "no_such_bank"}, r"`env.domain` must be one of .*finance.*, not 'no_such_bank'"),
])
def test_a_bad_option_is_one_line_naming_its_key(raw, message):
    with pytest.raises(ConfigError, match=message) as err:
        EnvConfig.from_dict(raw, where="env")
    assert "\n" not in str(err.value)
    if not (isinstance(raw, dict) and "prompt_mode" in raw):  # the trainer sets that one itself
        with pytest.raises(ConfigError, match=message):
            TrainConfig.from_dict({"env": raw})  # the trainer's YAML: the same parser, the same message


def _show_config(*args: str) -> EvalConfig:
    res = CliRunner().invoke(app, ["eval", *args, "--show-config"])
    assert res.exit_code == 0, res.output
    return EvalConfig.from_dict(json.loads(res.output))


def test_the_eval_command_its_yaml_file_and_the_api_give_one_config(tmp_path):
    api = EvalConfig(agent="redundant_calls", out=str(tmp_path / "out"), limit=2, seed=3, trials=2,
                     env=EnvConfig(tasks=str(HANDWRITTEN), max_steps=5,
                                   backend=BackendConfig(check_replica=False, allow_drift=True),
                                   reward=RewardConfig(composition="additive", version="toolrla-1.1.0")))
    flags = ["--agent", "redundant_calls", "--out", str(tmp_path / "out"), "--limit", "2", "--seed", "3",
             "--trials", "2", "--tasks", str(HANDWRITTEN), "--max-steps", "5", "--no-check-replica",
             "--allow-drift", "--composition", "additive", "--reward-version", "toolrla-1.1.0"]
    assert _show_config(*flags) == api
    document = api.to_dict()
    file = _write_yaml(tmp_path / "eval.yaml", document)
    assert EvalConfig.load(file) == api
    assert _show_config("--config", str(file)) == api
    # flags given on the command line override the file; the rest stays the file's
    overridden = _show_config("--config", str(file), "--max-steps", "7", "--composition", "binary")
    assert overridden.env.max_steps == 7 and overridden.env.reward.composition == "binary"
    assert overridden.env.reward.version == "toolrla-1.1.0" and overridden.limit == 2
    # faults have no flag: the file sets them
    document["env"]["faults"] = {"rate": 0.5}
    assert _show_config("--config", str(_write_yaml(file, document))).env.faults.rate == 0.5


def test_the_eval_command_masks_secrets_and_refuses_a_bad_file_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    res = CliRunner().invoke(app, ["eval", "--agent", "openai", "--base-url", "http://x/v1", "--model", "m",
                                   "--show-config"])
    assert res.exit_code == 0 and "sk-secret" not in res.output
    assert json.loads(res.output)["agent_options"]["api_key"] == "***"
    bad = _write_yaml(tmp_path / "bad.yaml", {"env": {"max_stepz": 3}})
    res = CliRunner().invoke(app, ["eval", "--config", str(bad)])
    assert res.exit_code == 2 and "unknown key(s) ['max_stepz'] in `env`" in res.output
    res = CliRunner().invoke(app, ["eval", "--config", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2 and "config file not found" in res.output
    res = CliRunner().invoke(app, ["eval", "--domain", "no_such_bank", "--show-config"])
    assert res.exit_code == 2 and "`env.domain` must be one of" in res.output and "no_such_bank" in res.output


def test_run_eval_takes_the_config_and_its_old_keyword_call_alike(tmp_path):
    from envs.evaluation.run import run_eval

    old = run_eval("oracle", HANDWRITTEN, tmp_path / "old", limit=2, max_steps=4, composition="additive",
                   progress=False, plots=False, env_kwargs={"check_replica": False})
    config = EvalConfig(out=str(tmp_path / "new"), limit=2, progress=False, plots=False,
                        env=EnvConfig(tasks=str(HANDWRITTEN), max_steps=4,
                                      backend=BackendConfig(check_replica=False),
                                      reward=RewardConfig(composition="additive")))
    new = run_eval(config=config)
    assert new["ran"] == old["ran"] == 2
    run = [json.loads((tmp_path / d / "run.json").read_text()) for d in ("old", "new")]
    for key in ("agent", "tasks", "reward_config", "max_steps", "seed", "backend"):
        assert run[0][key] == run[1][key]
    assert run[1]["max_steps"] == 4 and run[1]["reward_config"]["composition"] == "additive"
    scores = [{k: v for k, v in result["metrics"]["overall"].items() if k != "P50_latency_s"} for result in (old, new)]
    assert scores[0] == scores[1]  # the same episodes and scores (the latency is the clock's)


def test_the_trainer_yaml_sets_the_envs_reward_and_options(tmp_path):
    from trainer.stages import _env

    config = TrainConfig.from_dict({"env": {"max_steps": 3, "reward": {"composition": "binary"},
                                            "faults": {"rate": 0.1}}})
    assert config.env == EnvConfig(max_steps=3, reward=RewardConfig(composition="binary"),
                                   faults=FaultConfig(rate=0.1))
    assert TrainConfig.from_dict({}).env == EnvConfig()  # no section: the eval's defaults
    env = _env(config, list(FinAdvisorEnv(tasks=HANDWRITTEN, check_replica=False).tasks)[:2])
    try:
        assert env.reward_config.composition == "binary" and env.max_steps == 3 and env.faults.rate == 0.1
        assert env.prompt_mode == "tools_via_template"
    finally:
        env.close()
    with pytest.raises(ConfigError, match=r"`env.tasks` is the trainer's to set"):
        TrainConfig.from_dict({"env": {"tasks": str(HANDWRITTEN)}})
    path = _write_yaml(tmp_path / "train.yaml", {"env": {"reward": {"version": "toolrla-9"}}})
    with pytest.raises(ConfigError, match=r"`env.reward`: reward version must be one of"):
        TrainConfig.load(path)


def test_the_domain_is_an_option_by_name():
    from mock_apis.domain import get_domain

    finance = get_domain("finance")
    assert EnvConfig(domain=finance) == EnvConfig() == EnvConfig.from_dict({"domain": "finance"})
    assert EnvConfig().to_dict()["domain"] == "finance"
    env = FinAdvisorEnv(tasks=HANDWRITTEN, domain=finance)
    try:
        assert env.domain is finance and env.config.domain == "finance"
    finally:
        env.close()


def test_an_eval_directory_resumes_only_with_the_same_env_options(tmp_path):
    from envs.evaluation.outputs import EvalConfigError
    from envs.evaluation.run import run_eval

    faulty = EvalConfig(out=str(tmp_path), limit=1, progress=False, plots=False,
                        env=EnvConfig(tasks=str(HANDWRITTEN), faults=FaultConfig(rate=0.5)))
    run_eval(config=faulty)
    assert json.loads((tmp_path / "run.json").read_text())["env_options"]["faults"]["rate"] == 0.5
    with pytest.raises(EvalConfigError, match="env_options"):  # the same run without faults is another run
        run_eval(config=EvalConfig(out=str(tmp_path), limit=1, progress=False, plots=False,
                                   env=EnvConfig(tasks=str(HANDWRITTEN))))
    assert run_eval(config=faulty)["skipped"] == 1  # with them, it resumes
