"""``FinAdvisorEnv``: a Gymnasium environment for a tool-calling advisory agent on a domain's
back office (the class docstring describes it), and ``EpisodeHorizon``, the wrapper that makes
``gymnasium.make(..., max_episode_steps=N)`` its horizon.

The machinery lives beside it: ``envs.config`` (its options), ``envs.backend_factory`` (the
back-end), ``envs.episode`` (running and scoring the calls, faults, the audit log),
``envs.prompt`` (the system prompt and tool schemas), ``envs.reward.outcome`` (the episode's
outcome and reward info), ``envs.spaces`` (its spaces).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import orjson

from envs.actions import gate_errors, parse_action
from envs.backend_factory import make_backend, served_replica
from envs.backends import Backend
from envs.config import EnvConfig, FaultConfig
from envs.contract_check import check_backend
from envs.episode import AuditTrail, CallRunner, Episode
from envs.prompt import system_prompt, tool_schemas
from envs.reward import tool_label
from envs.reward.compliance import ComplianceChecker, ComplianceTerms, default_checker
from envs.reward.outcome import Trajectory, compliance_subjects, episode_outcome
from envs.spaces import AgentText
from envs.tasks import Task, check_suite_fits, shared_suite
from mock_apis.catalogue import ToolRef
from mock_apis.contracts.check import default_contract_path
from mock_apis.domain import get_domain

class EpisodeHorizon(gym.Wrapper[str, str, str, str], gym.utils.RecordConstructorArgs):
    """``gymnasium.make(ENV_ID, max_episode_steps=N)``'s limit as the env's own horizon.

    ``gymnasium.make`` puts a ``TimeLimit`` of N steps under this wrapper (it is in the
    registered spec's ``additional_wrappers``); this sets the env's ``max_steps`` to N, so that
    the env ends an episode without an answer on the very step the ``TimeLimit`` truncates it,
    and that step carries the reward and its breakdown. Without ``max_episode_steps`` the env
    keeps its own ``max_steps``.
    """

    def __init__(self, env: gym.Env[str, str]):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        limit = env.spec.max_episode_steps if env.spec is not None else None
        if limit is not None:
            env.unwrapped.max_steps = limit  # type: ignore[attr-defined]


class FinAdvisorEnv(gym.Env[str, str]):
    """A financial-advisory copilot's episode: a task's query, tool calls against a back office,
    a final answer, and a decomposed ToolRLA reward.

    Observation (``str``, JSON text):
        after ``reset``: ``{"task_id", "level", "system", "user"}`` — the system prompt (tools and
        their JSON Schemas, action formats, rules) and the advisor's query;
        after a tool call: the tool's JSON result, or a structured error such as
        ``{"error": "unknown_tool", "valid_tools": [...]}`` (a turn with several calls gets a list
        of ``{"name", "result"}``); after a final response: ``{"status": "episode_complete"}``.
    Action (``str``): one agent turn, in the form the model writes natively (``envs.actions``):
        ReAct JSON, an OpenAI assistant message (``tool_calls``, ``content`` null or not),
        Hermes/Qwen ``<tool_call>`` tags with or without ``<think>``, Llama or Mistral JSON
        calls, or a plain-text final answer.
    Reward: 0 on every non-final step; on the final step the ToolRLA reward
        R = R_fmt + R_corr + R_eff + R_comp (max 3, version ``toolrla-1.2.0`` by default), with
        the full breakdown in ``info["reward"]`` (``envs.reward``: the rubric's nodes by name).
    Termination: a final answer. Truncation: ``max_steps`` agent turns without one (an episode
        without an answer scores at most −0.5 under reward 1.1).

    No agent output can make ``step`` raise: malformed turns, unknown tools, bad arguments,
    unreachable services and injected faults (``faults``) all come back as error observations,
    and the episode goes on so that the agent can recover. A turn runs at most
    ``max_calls_per_turn`` calls (16); each one beyond gets ``{"error": "too_many_calls"}``.

    Options: an ``EnvConfig`` (``envs.config``), or its fields as keyword arguments.
    Back-ends (``backend``): ``"inprocess"`` (the default: the replica in this process),
    ``"http"`` with ``base_url`` (one service; several URLs spread episodes round-robin),
    ``"docker"`` (a container this env starts and removes), or any ``Backend``. At start-up the
    back-end is checked against the tool contract (``fixtures/contracts/``): on breaking drift
    the env refuses to start unless ``allow_drift=True``; ``info["contract"]`` carries the
    check. ``audit_log=PATH`` appends every tool call and episode end to a hash-chained log
    (``advisorgym audit verify PATH`` checks it).
    Tool versions: a task that pins versions (``Task.tool_versions``) gets them for the whole
    episode (calls, gold probes, the prompt's and ``info["tools"]``'s schemas;
    ``info["tool_versions"]`` names them); a pin the back-end does not serve makes each call to
    that tool an ``unknown_version`` error observation (an infrastructure error).
    """
    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, config: EnvConfig | None = None, *, tasks: str | Path | Sequence[Task] | None = None,
                 backend: str | Backend | None = None, compliance_checker: ComplianceChecker | None = None,
                 render_mode: str | None = None, **options: Any):
        """``config``: the env's options (``envs.config.EnvConfig``; default: every default).
        Keyword ``options`` (``max_steps``, ``reward_config``, ``replica``, ... as
        ``EnvConfig.with_options`` names them) override it, and ``tasks`` (a file) and
        ``backend`` (a kind) too. Not options: ``tasks`` held in memory (a sequence of
        ``Task``), a ``Backend`` instance, a ``ComplianceChecker``, the ``render_mode``. The
        domain (``domain=``, a name or a ``Domain``) gives the tools, the prompt's role and rules,
        the default suite and contract, and the rules the calls are read with."""
        in_memory = isinstance(tasks, Sequence) and not isinstance(tasks, str)
        if tasks is not None and not in_memory:
            options["tasks"] = tasks
        if isinstance(backend, str):
            options["backend"] = backend
        self.config = config = (config or EnvConfig()).with_options(**options)
        self.domain = domain = get_domain(config.domain)
        suite_file = None if in_memory else Path(config.tasks or domain.suite_path)
        if suite_file is None:
            self.tasks: Sequence[Task] = list(tasks)  # type: ignore[arg-type]
            self.task_index: Mapping[str, Task] = {t.task_id: t for t in self.tasks}
        else:  # one copy per process, whatever the number of envs (gym.make, vector envs)
            suite = shared_suite(suite_file)
            self.tasks, self.task_index = suite.tasks, suite.index
        self.suite_name = "tasks passed in memory" if suite_file is None else str(suite_file)
        check_suite_fits(self.tasks, domain.tools.tools, self.suite_name, domain.name)
        created_backend = backend is None or isinstance(backend, str)
        token = config.backend.token
        if created_backend:
            backend, token = make_backend(config.backend, self.tasks[0].replica, domain)
        self.backend: Backend = backend
        try:
            self.max_steps, self.max_calls_per_turn = config.max_steps, config.max_calls_per_turn
            self.reward_config, self.faults, self.render_mode = config.reward, config.faults, render_mode
            # The process-wide checker's classifier is loaded here, once per process, rather
            # than in the first episode's final step (where it was most of that step's cost).
            self.checker = compliance_checker or default_checker().warm_up()
            self.compliance_terms = ComplianceTerms.of(domain.rules)
            self.tools = domain.tools.tools
            self.criticality = {name: spec.criticality for name, spec in self.tools.items()}
            self.tool_schemas = tool_schemas(domain=domain)
            self.replica_meta = served_replica(self.backend, self.tasks, config.backend.check_replica)
            contract = config.backend.contract or default_contract_path(domain)
            self.contract_status = check_backend(self.backend, token, contract, config.backend.allow_drift, domain)
            self.runner = CallRunner(self.backend, self.tools, domain.rules, self.reward_config, self.max_calls_per_turn)
            self.audit = None if config.audit_log is None else AuditTrail(
                config.audit_log, self.tasks, suite_file, self.reward_config, self.replica_meta, contract)
            self.as_of, self.prompt_mode = self.replica_meta.get("as_of", "unknown"), config.prompt_mode
            self.system_prompt = system_prompt(self.as_of, self.prompt_mode, domain=domain)
            self.system_prompt_for_tools_api = system_prompt(self.as_of, "tools_via_template", domain=domain)
            self.observation_space, self.action_space = AgentText(), AgentText()
            self._episode: Episode | None = None
        except BaseException:
            if created_backend:  # a back-end this env made (a container, a session) must not outlive it
                self.backend.close()
            raise

    # -- Gymnasium API -----------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        task_id = options.get("task_id")
        if task_id is not None:
            if task_id not in self.task_index:
                examples = ", ".join(t.task_id for t in self.tasks[:3])
                raise KeyError(f"unknown task_id {task_id!r}: the loaded suite ({self.suite_name}, "
                               f"{len(self.tasks)} tasks) has e.g. {examples}; pass tasks=... to load another")
            task = self.task_index[task_id]
        else:
            task = self.tasks[int(self.np_random.integers(len(self.tasks)))]
        self.backend.reset()
        self._episode = ep = Episode(task=task, rng=random.Random(int(self.np_random.integers(2**63))),
                                      faults=FaultConfig.coerce(options.get("faults", self.faults)))
        system, tools = self.system_prompt, self.tool_schemas
        if task.tool_versions:  # the versions the task was written against
            pins = task.pins
            ep.routes = {name: ToolRef(name, version) for name, version in pins}
            system = system_prompt(self.as_of, self.prompt_mode, pins, self.domain)
            tools = tool_schemas(pins, domain=self.domain)
        obs = orjson.dumps({"task_id": task.task_id, "level": task.level, "system": system,
                            "user": task.query}).decode()
        info = {"task_id": task.task_id, "level": task.level, "tools": tools,
                "system_for_tools_api": self.system_prompt_for_tools_api,
                "reward_version": self.reward_config.version, "contract": self._contract_info()}
        if task.tool_versions:
            info["tool_versions"] = dict(task.tool_versions)
        return obs, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        ep = self._episode
        if ep is None or ep.done:
            obs = {"error": "episode_done", "message": "the episode has ended; call reset()"}
            return orjson.dumps(obs).decode(), 0.0, True, False, {"step": ep.steps if ep else 0}
        ep.steps += 1
        parsed = parse_action(action)
        gate = gate_errors(parsed, str(self.reward_config.format))
        info: dict[str, Any] = {"step": ep.steps, "action_kind": parsed.kind, "action_form": parsed.form,
                                "format_errors": list(gate), "format_notes": list(parsed.format_errors),
                                "calls": [], "reward_version": self.reward_config.version}
        terminated = False
        if parsed.kind == "malformed":
            payload: Any = parsed.error
            ep.turn_ok.append(False)
        elif parsed.kind == "tool_call":
            limit = self.max_calls_per_turn
            extra = len(parsed.calls) - limit
            results = self.runner.run_calls(ep, parsed.calls[:limit], info) + [
                self.runner.refuse_call(ep, call, info, extra) for call in parsed.calls[limit:]]
            payload = results[0] if len(results) == 1 else [
                {"name": tool_label(c.name), "result": r} for c, r in zip(parsed.calls, results)]
            if self.audit is not None:
                self.audit.record_calls(ep, parsed.calls, results, info["calls"])
            ep.turn_ok.append(not gate and all(c["valid_tool"] for c in info["calls"]))
        else:
            ep.response = parsed.response
            ep.turn_ok.append(not gate)
            payload = {"status": "episode_complete"}
            terminated = True
        ep.call_turns.append(parsed.kind == "tool_call")
        info["format_ok"] = ep.turn_ok[-1]
        if any(c["outcome"] == "infra_error" for c in info["calls"]):
            info["infra_error"] = True
        truncated = not terminated and ep.steps >= self.max_steps
        reward = 0.0
        if terminated or truncated:
            info["reward"] = self._close_episode(ep)
            info["contract"] = self._contract_info()
            reward = info["reward"]["total"]
        return orjson.dumps(payload).decode(), reward, terminated, truncated, info

    def tools_in(self, shape: str = "chat") -> list[dict[str, Any]]:
        """The current episode's tools (its pinned versions; the defaults before any reset) in
        an API's shape: ``"chat"`` (OpenAI Chat Completions, as ``info["tools"]``),
        ``"responses"`` (OpenAI Responses) or ``"anthropic"`` (Anthropic Messages)."""
        return tool_schemas(self._episode.task.pins if self._episode is not None else (), shape, self.domain)

    def score_late_turns(self, turns: Sequence[str]) -> dict[str, Any]:
        """Turns an agent wrote after its final answer (a replayed log's, which a live env never
        receives): under reward 1.2 their tool calls are run and count (needless calls; any
        write is unauthorised), and the terminal reward info is re-scored and returned. Under
        1.0 and 1.1 they are not scored: the reward info as it was."""
        ep = self._episode
        if ep is None or ep.final is None or ep.response is None:
            raise RuntimeError("score_late_turns follows an episode that ended with a final answer")
        if not self.reward_config.v12:
            return ep.final
        for turn in turns:
            parsed = parse_action(turn)
            if parsed.kind == "tool_call":
                ep.steps += 1
                self.runner.run_calls(ep, parsed.calls[:self.max_calls_per_turn], {"calls": []})
        ep.final = self._final_reward(ep)
        return ep.final

    def end_episode(self) -> dict[str, Any]:
        """End the running episode where it stands, as the step budget would (a trainer whose
        generation stopped before an answer, a replayed log that stops mid-episode); the
        terminal reward info. On an episode already ended, its reward info again."""
        ep = self._episode
        if ep is None:
            raise RuntimeError("no episode: call reset() first")
        return ep.final if ep.final is not None else self._close_episode(ep)

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self._episode is None:
            return None
        ep = self._episode
        return f"[{ep.task.task_id} {ep.task.level}] step {ep.steps}/{self.max_steps} calls={len(ep.calls)}"

    def close(self) -> None:
        self.backend.close()
        if self.audit is not None:
            self.audit.close()

    # -- internals -----------------------------------------------------------------------

    def _contract_info(self) -> dict[str, Any]:
        """A fresh copy of the start-up contract check for an info dict (infos never share objects)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self.contract_status.items()}

    def _close_episode(self, ep: Episode) -> dict[str, Any]:
        """End the episode: its terminal reward info, recorded in the audit log when there is one."""
        ep.done = True
        ep.final = self._final_reward(ep)
        if self.audit is not None:
            self.audit.record_episode_end(ep)
        return ep.final

    def _final_reward(self, ep: Episode) -> dict[str, Any]:
        """The terminal reward info (``envs.reward.outcome``), with the gold calls the agent's
        results informed and those a reported failure excuses (reward 1.2)."""
        task = ep.task
        report = self.checker.check(ep.response or "", observations=ep.observations, query=task.query,
                                    subject_client_ids=compliance_subjects(task, ep.observations, self.domain),
                                    terms=self.compliance_terms)
        v12 = self.reward_config.v12
        informed = self.runner.informed_gold(ep) if v12 else frozenset()
        excused = self.runner.excused_gold(ep, informed) if v12 else frozenset()
        uninformative = self.runner.uninformative_reads(ep) if v12 else frozenset()
        trajectory = Trajectory(turn_ok=ep.turn_ok, call_turns=ep.call_turns, calls=ep.calls,
                                observations=ep.observations, response=ep.response, informed=informed,
                                excused=excused, uninformative=uninformative)
        return episode_outcome(task, trajectory, report, self.reward_config, self.criticality,
                               self.domain.rules.write_target_keys)
