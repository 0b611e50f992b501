"""The Gymnasium environment: API conformance, the reward's acceptance cases, isolation."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs import FaultConfig, FinAdvisorEnv, RewardConfig
from envs.tasks import HANDWRITTEN, load_tasks

TASKS = load_tasks(HANDWRITTEN)
BY_ID = {t.task_id: t for t in TASKS}


def react(name, arguments, thought="Calling a tool."):
    return json.dumps({"thought": thought, "action": {"name": name, "arguments": arguments}})


def final(text, thought="Answering."):
    return json.dumps({"thought": thought, "response": text})


def run_episode(env, task_id, actions, seed=0):
    obs, info = env.reset(seed=seed, options={"task_id": task_id})
    trace = [obs]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append(obs)
        if terminated or truncated:
            return reward, info, trace
    raise AssertionError("episode did not end")


@pytest.fixture(scope="module")
def env():
    e = FinAdvisorEnv(tasks=HANDWRITTEN)
    yield e
    e.close()


def test_registered_and_passes_check_env():
    made = gym.make(envs.ENV_ID)
    check_env(made.unwrapped)
    obs, info = made.reset(seed=3)
    prompt = json.loads(obs)
    assert "get_client_overview" in prompt["system"] and prompt["user"]
    assert len(info["tools"]) == 20
    made.close()


def test_import_advisorgym_registers_the_env_in_a_fresh_process():
    code = ("import gymnasium as gym, advisorgym; from envs.tasks import HANDWRITTEN; "
            "env = gym.make('advisorgym/FinAdvisor-v0', tasks=HANDWRITTEN); "
            "print(advisorgym.ENV_ID, type(env.unwrapped) is advisorgym.FinAdvisorEnv)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.split() == ["advisorgym/FinAdvisor-v0", "True"]


CALL = '{"thought": "Accounts first.", "action": {"name": "list_accounts", "arguments": {"client_id": "C000002"}}}'


@pytest.mark.parametrize("limit", [1, 3, 12, 20])
def test_max_episode_steps_is_the_envs_own_horizon_so_the_last_step_carries_the_reward(limit):
    made = gym.make(envs.ENV_ID, tasks=HANDWRITTEN, max_episode_steps=limit)
    assert made.unwrapped.max_steps == limit
    made.reset(seed=0, options={"task_id": "hw-L2-01"})
    for step in range(1, limit + 1):
        _, reward, terminated, truncated, info = made.step(CALL)
        if step < limit:
            assert not (terminated or truncated) and "reward" not in info
    assert truncated and not terminated
    assert info["reward"]["total"] == reward < 0 and {"R_fmt", "R_corr", "R_eff", "R_comp"} <= set(info["reward"])
    made.close()
    # Without max_episode_steps the env keeps the horizon it was given.
    assert gym.make(envs.ENV_ID, tasks=HANDWRITTEN, max_steps=5).unwrapped.max_steps == 5


@pytest.mark.parametrize("task_id", sorted(BY_ID))
def test_every_fixture_gold_trajectory_scores_exactly_3(env, task_id):
    reward, info, _ = run_episode(env, task_id, BY_ID[task_id].gold_actions())
    assert reward == 3.0, info["reward"]
    assert info["reward"]["task_success"] is True
    assert info["reward"]["version"] == RewardConfig().version


def test_wrong_tool_zeroes_correctness(env):
    reward, info, _ = run_episode(env, "hw-L1-01", [react("get_client_profile", {"client_id": "C000002"}),
                                                    final("Client C000002 is on file.")])
    assert info["reward"]["R_corr"] == 0.0
    assert info["reward"]["S_cover"] == 0.0
    assert reward < 3.0


def test_a_hallucinated_tool_is_a_slip_when_recovered_and_a_veto_when_not(env):
    task = BY_ID["hw-L2-01"]
    actions = task.gold_actions()
    actions.insert(1, react("get_client_portfolio_value", {"client_id": "C000002"}))
    reward, info, trace = run_episode(env, "hw-L2-01", actions)
    assert json.loads(trace[2])["error"] == "unknown_tool"
    assert "get_holdings" in json.loads(trace[2])["valid_tools"]
    assert info["reward"]["S_name"] == 1.0 and info["reward"]["slips"] == 1
    assert info["reward"]["R_fmt"] == pytest.approx(2 / 3) and 2.0 < reward < 3.0
    # The same name as the last call before the answer: nothing recovered it.
    actions = [*task.gold_actions()[:-1], react("get_client_portfolio_value", {"client_id": "C000002"}),
               task.gold_actions()[-1]]
    reward, info, _ = run_episode(env, "hw-L2-01", actions)
    assert info["reward"]["S_name"] == 0.0 and info["reward"]["R_fmt"] == 0.0 and reward <= 0.0
    # Under 1.1 any unknown name zeroes S_name and the format gate.
    v11 = FinAdvisorEnv(tasks=HANDWRITTEN, reward_config={"version": "toolrla-1.1.0"})
    actions = task.gold_actions()
    actions.insert(1, react("get_client_portfolio_value", {"client_id": "C000002"}))
    reward, info, _ = run_episode(v11, "hw-L2-01", actions)
    v11.close()
    assert info["reward"]["S_name"] == 0.0 and info["reward"]["R_corr"] == 0.0 and reward <= 0.0


def test_one_extra_call_on_a_two_call_task_halves_efficiency_under_v1_0():
    env = FinAdvisorEnv(tasks=HANDWRITTEN, reward_config={"version": "toolrla-1.0.0"})
    task = BY_ID["hw-L2-01"]
    assert task.optimal_calls == 2
    actions = task.gold_actions()
    actions.insert(1, actions[0])
    reward, info, _ = run_episode(env, "hw-L2-01", actions)
    assert info["reward"]["R_eff"] == 0.5 and info["reward"]["version"] == "toolrla-1.0.0"
    assert info["reward"]["R_corr"] == 1.0
    assert reward == 2.5


def test_one_extra_call_on_a_two_call_task_costs_two_thirds_of_efficiency(env):
    actions = BY_ID["hw-L2-01"].gold_actions()
    actions.insert(1, actions[0])
    reward, info, _ = run_episode(env, "hw-L2-01", actions)
    assert info["reward"]["R_eff"] == pytest.approx(1 / 3) and info["reward"]["R_corr"] == 1.0
    assert reward == pytest.approx(2 + 1 / 3)


def test_perfect_answer_that_guarantees_a_return_scores_at_most_minus_7(env):
    task = BY_ID["hw-L2-01"]
    actions = task.gold_actions()[:-1] + [final(task.gold_response + " This fund is guaranteed to return 8% a year.")]
    reward, info, _ = run_episode(env, "hw-L2-01", actions)
    assert info["reward"]["violated"] is True
    assert any(v["rule"] == "guaranteed_return" for v in info["reward"]["violations"])
    assert reward <= -7.0


def test_malformed_turn_scores_at_most_zero_and_episode_goes_on(env):
    task = BY_ID["hw-L1-01"]
    env.reset(seed=0, options={"task_id": task.task_id})
    obs, reward, terminated, truncated, info = env.step('{"thought": "oops", "action": {"name": ')
    assert json.loads(obs)["error"] == "malformed_action"
    assert not terminated and not truncated and info["format_ok"] is False
    for action in task.gold_actions():
        obs, reward, terminated, truncated, info = env.step(action)
    assert terminated and info["reward"]["slips"] == 1 and 2.0 < reward < 3.0  # recovered by the gold call
    env.reset(seed=0, options={"task_id": task.task_id})
    for action in [*task.gold_actions()[:-1], '{"thought": "oops", "action": {"name": ', task.gold_actions()[-1]]:
        obs, reward, terminated, truncated, info = env.step(action)
    assert terminated
    assert info["reward"]["R_fmt"] == 0.0  # the last turn before the answer was malformed
    assert reward <= 0.0


def test_missing_thought_fails_the_format_gate(env):
    task = BY_ID["hw-L1-01"]
    call = task.gold_calls[0]
    reward, info, _ = run_episode(env, task.task_id, [json.dumps({"action": {"name": call.name, "arguments": call.arguments}}),
                                                      final(task.gold_response)])
    assert info["reward"]["R_fmt"] == 0.0 and reward == 0.0


@pytest.mark.parametrize("date_text", ["2025-01-03", "Jan 3, 2025", "January 3, 2025", "01/03/2025",
                                       "Jan 5, 2025"])  # Jan 5 is a Sunday: the quote is Jan 3's, the same data
def test_equivalent_dates_count_as_correct_when_they_return_the_same_data(env, date_text):
    task = BY_ID["hw-L1-02"]
    reward, info, _ = run_episode(env, task.task_id, [react("get_market_index", {"index": "SPX", "date": date_text}),
                                                      final(task.gold_response)])
    assert info["reward"]["S_param"] == 1.0
    assert reward == 3.0


def test_a_date_that_returns_other_data_is_not_correct(env):
    task = BY_ID["hw-L1-02"]
    reward, info, _ = run_episode(env, task.task_id, [react("get_market_index", {"index": "SPX", "date": "Feb 3, 2025"}),
                                                      final("The S&P 500 closed at a level I looked up.")])
    assert info["reward"]["S_param"] < 1.0


def test_fund_name_and_code_count_as_equal(env):
    task = BY_ID["hw-L3-02"]
    actions = task.gold_actions()
    args = dict(task.gold_calls[1].arguments, fund="crescent core bond fund")
    actions[1] = react("place_order", args)
    reward, info, _ = run_episode(env, task.task_id, actions)
    assert info["reward"]["S_param"] == 1.0 and reward == 3.0


def test_additive_lets_parameters_compensate_a_hallucinated_tool_multiplicative_does_not():
    task = BY_ID["hw-L2-01"]
    actions = task.gold_actions()
    actions.insert(0, react("get_portfolio_value", {"client_id": "C000002"}))
    scores = {}
    for composition in ("multiplicative", "additive"):
        e = FinAdvisorEnv(tasks=HANDWRITTEN, reward_config=RewardConfig(composition=composition,
                                                                         version="toolrla-1.1.0"))
        _, info, _ = run_episode(e, task.task_id, actions)
        scores[composition] = info["reward"]
        e.close()
    assert scores["multiplicative"]["S_param"] == scores["additive"]["S_param"] == 1.0
    assert scores["multiplicative"]["R_corr"] == 0.0
    assert scores["additive"]["R_corr"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("composition", ["multiplicative", "additive", "binary", "iou"])
def test_every_composition_reports_every_sub_score_and_pays_3_for_gold(composition):
    e = FinAdvisorEnv(tasks=HANDWRITTEN, reward_config={"composition": composition})
    reward, info, _ = run_episode(e, "hw-L2-01", BY_ID["hw-L2-01"].gold_actions())
    e.close()
    for key in ("R_fmt", "R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param", "r_name", "r_param",
                "r_value", "composition", "version"):
        assert key in info["reward"]
    assert reward == 3.0


def test_per_step_signals(env):
    task = BY_ID["hw-L2-01"]
    env.reset(seed=0, options={"task_id": task.task_id})
    _, _, _, _, info = env.step(react("list_accounts", {"client_id": "C000002"}))
    assert info["calls"] == [{"name": "list_accounts", "valid_tool": True, "outcome": "ok", "error": None,
                              "param_accuracy": 1.0}]
    _, _, _, _, info = env.step(react("get_holdings", {"account_id": "A9999999"}))
    assert info["calls"][0]["outcome"] == "error" and info["calls"][0]["error"] == "not_found"
    assert info["calls"][0]["param_accuracy"] == 0.0
    _, _, _, _, info = env.step(react("nope", {}))
    assert info["calls"][0]["valid_tool"] is False and info["format_ok"] is False


def test_truncation_at_step_budget():
    e = FinAdvisorEnv(tasks=HANDWRITTEN, max_steps=3)
    e.reset(seed=0, options={"task_id": "hw-L1-01"})
    results = [e.step(react("get_risk_assessment", {"client_id": "C000002"})) for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True]
    assert results[-1][4]["reward"]["terminated_by"] == "step_budget"
    obs, reward, terminated, _, _ = e.step(final("late"))
    assert json.loads(obs)["error"] == "episode_done" and reward == 0.0
    e.close()


def test_same_seed_same_observations_and_rewards():
    runs = []
    for _ in range(2):
        e = FinAdvisorEnv(tasks=HANDWRITTEN, faults={"rate": 0.5})
        obs, _ = e.reset(seed=11)
        task = e.task_index[json.loads(obs)["task_id"]]
        trace = [obs]
        for action in task.gold_actions():
            obs, reward, terminated, truncated, info = e.step(action)
            trace.append((obs, reward))
            if terminated or truncated:
                break
        runs.append(trace)
        e.close()
    assert runs[0] == runs[1]


def test_faults_arrive_as_error_observations_and_the_agent_can_recover():
    e = FinAdvisorEnv(tasks=HANDWRITTEN, faults=FaultConfig(rate=1.0, kinds=("timeout", "server_error", "empty_result")))
    task = BY_ID["hw-L1-01"]
    e.reset(seed=5, options={"task_id": task.task_id})
    call = task.gold_actions()[0]
    seen = set()
    for _ in range(6):
        obs, _, _, _, info = e.step(call)
        seen.add(json.loads(obs)["error"])
        assert info["calls"][0]["outcome"] == "injected_fault"
    assert seen <= {"timeout", "service_unavailable", "empty_result"} and len(seen) >= 2
    e.close()
    # With faults on half the calls, retrying the same call succeeds and retries are not billed.
    e = FinAdvisorEnv(tasks=HANDWRITTEN, faults={"rate": 0.5, "kinds": ["timeout"]}, max_steps=40)
    e.reset(seed=1, options={"task_id": "hw-L2-01"})
    gold = BY_ID["hw-L2-01"].gold_actions()
    faults = 0
    for action in gold[:-1]:
        while True:
            obs, _, _, _, info = e.step(action)
            if info["calls"][0]["outcome"] != "injected_fault":
                break
            faults += 1
    _, reward, terminated, _, info = e.step(gold[-1])
    assert faults > 0 and terminated and reward == 3.0 and info["reward"]["injected_faults"] == faults
    e.close()


def test_latency_fault_delays_but_succeeds():
    e = FinAdvisorEnv(tasks=HANDWRITTEN, faults={"rate": 1.0, "kinds": ["latency"], "latency_s": 0.01})
    reward, info, _ = run_episode(e, "hw-L1-01", BY_ID["hw-L1-01"].gold_actions())
    assert reward == 3.0
    e.close()


def test_32_interleaved_episodes_with_writes_never_see_each_others_writes():
    n = 32
    pool = [FinAdvisorEnv(tasks=HANDWRITTEN) for _ in range(n)]
    task = BY_ID["hw-L3-02"]
    account = task.gold_calls[1].arguments["account_id"]
    for i, e in enumerate(pool):
        e.reset(seed=i, options={"task_id": task.task_id})
    # Every episode places a different-sized order, interleaved round-robin, twice.
    for round_ in range(2):
        for i, e in enumerate(pool):
            obs, *_ = e.step(react("place_order", {"account_id": account, "fund": "BD009", "side": "buy",
                                                   "amount": 100 + i + 1000 * round_}))
            assert "order_id" in json.loads(obs), obs
    for i, e in enumerate(pool):
        obs, *_ = e.step(react("list_orders", {"account_id": account, "status": "pending"}))
        mine = sorted(o["amount"] for o in json.loads(obs)["orders"] if o["placed_on"] == "2025-06-30")
        assert mine == [100.0 + i, 1100.0 + i]
    # A reset episode is pristine again.
    pool[0].reset(seed=0, options={"task_id": task.task_id})
    obs, *_ = pool[0].step(react("list_orders", {"account_id": account, "status": "pending"}))
    assert all(o["placed_on"] != "2025-06-30" for o in json.loads(obs)["orders"])
    for e in pool:
        e.close()


def test_sync_and_async_vector_envs():
    task = BY_ID["hw-L1-01"]
    actions = task.gold_actions()
    for vec in (gym.vector.SyncVectorEnv([lambda: FinAdvisorEnv(tasks=HANDWRITTEN) for _ in range(2)]),
                gym.vector.AsyncVectorEnv([lambda: FinAdvisorEnv(tasks=HANDWRITTEN) for _ in range(2)], shared_memory=False)):
        obs, _ = vec.reset(seed=0, options={"task_id": task.task_id})
        assert len(obs) == 2
        for action in actions:
            obs, rewards, terminated, truncated, infos = vec.step((action, action))
        assert list(terminated) == [True, True]
        assert list(rewards) == [3.0, 3.0]
        vec.close()


def test_refuses_a_replica_the_tasks_were_not_written_for(replica_path):
    with pytest.raises(ValueError, match="check_replica=False"):
        FinAdvisorEnv(tasks=HANDWRITTEN, replica=replica_path)
    FinAdvisorEnv(tasks=HANDWRITTEN, replica=replica_path, check_replica=False).close()


def _trajectories():
    """Gold, faulty and hostile action sequences for every fixture task."""
    for task in TASKS:
        gold = task.gold_actions()
        yield task.task_id, gold
        yield task.task_id, ['{"thought": "x", "action": {"name": "nope", "arguments": {}}}', "garbage <tool_call>",
                             react("place_order", {"account_id": "A0000003", "fund": "BD009", "side": "buy", "amount": 1e9}),
                             react("place_order", {"account_id": "A0000003", "fund": "crescent core bond fund", "side": "buy", "amount": 1500}),
                             react("list_orders", {"account_id": "A0000003"}), *gold]


def test_in_process_and_http_backends_give_identical_observations_and_rewards():
    from mock_apis.app import create_app, serve_in_thread
    from envs.replica import default_replica

    local = FinAdvisorEnv(tasks=HANDWRITTEN)
    with serve_in_thread(create_app(default_replica(), "tok")) as url:
        remote = FinAdvisorEnv(tasks=HANDWRITTEN, backend="http", base_url=url, token="tok")
        compared = 0
        for task_id, actions in _trajectories():
            a = run_episode(local, task_id, actions)
            b = run_episode(remote, task_id, actions)
            assert a[2] == b[2], task_id  # every observation, byte for byte
            assert a[0] == b[0] and a[1]["reward"] == b[1]["reward"], task_id
            compared += len(a[2])
        remote.close()
    local.close()
    assert compared > 100


def test_async_vector_env_with_default_shared_memory_fails_loudly_naming_the_fix():
    with pytest.raises(TypeError, match=r"shared_memory=False"):
        gym.vector.AsyncVectorEnv([lambda: FinAdvisorEnv(tasks=HANDWRITTEN) for _ in range(2)])


def test_prompt_modes_list_the_tools_once():
    full = FinAdvisorEnv(tasks=HANDWRITTEN)
    lean = FinAdvisorEnv(tasks=HANDWRITTEN, prompt_mode="tools_via_template")
    obs_full, info = full.reset(seed=0)
    obs_lean, _ = lean.reset(seed=0)
    assert "get_client_overview" in json.loads(obs_full)["system"]
    lean_system = json.loads(obs_lean)["system"]
    assert "get_client_overview" not in lean_system and '"thought"' not in lean_system
    assert lean_system == info["system_for_tools_api"] and len(lean_system) < len(json.loads(obs_full)["system"]) / 5
    with pytest.raises(ValueError, match="prompt_mode"):
        FinAdvisorEnv(tasks=HANDWRITTEN, prompt_mode="short")


def test_calls_beyond_the_per_turn_cap_are_refused_and_the_episode_goes_on():
    import json

    from envs import FinAdvisorEnv
    from envs.tasks import HANDWRITTEN

    env = FinAdvisorEnv(tasks=HANDWRITTEN, max_calls_per_turn=3)
    env.reset(seed=0, options={"task_id": "hw-L1-01"})
    calls = [{"id": f"c{i}", "type": "function", "function": {"name": "add_advisor_note", "arguments": {
        "client_id": "C000002", "text": f"note {i}"}}} for i in range(50)]
    obs, _, terminated, _, info = env.step(json.dumps({"role": "assistant", "content": None, "tool_calls": calls}))
    results = json.loads(obs)
    assert len(results) == 50 and not terminated
    assert all("error" not in r["result"] for r in results[:3])
    assert all(r["result"]["error"] == "too_many_calls" and "47 were not run" in r["result"]["message"]
               for r in results[3:])
    _, _, terminated, _, info = env.step(json.dumps({"thought": "t", "response": "Done."}))
    assert terminated and info["reward"]["n_calls"] == 50
    assert len(info["reward"]["unauthorized_writes"]) == 3  # only the three that ran wrote anything
    assert info["reward"]["R_eff"] < 0  # the refused calls are billed as needless
    env.close()
