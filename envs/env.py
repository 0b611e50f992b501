"""``FinAdvisorEnv``: a Gymnasium environment for a tool-calling financial-advisory agent.

Observation (``str``, JSON text):
    after ``reset``: ``{"task_id", "level", "system", "user"}`` — the system prompt (tools and
    their JSON Schemas, action formats, rules) and the advisor's query;
    after a tool call: the tool's JSON result, or a structured error such as
    ``{"error": "unknown_tool", "valid_tools": [...]}`` (a turn with several calls gets a list
    of ``{"name", "result"}``); after a final response: ``{"status": "episode_complete"}``.
Action (``str``): one agent turn, in the form the model writes natively (see
    ``envs.actions``): ReAct JSON, an OpenAI assistant message (``tool_calls``, ``content``
    null or not), Hermes/Qwen ``<tool_call>`` tags with or without ``<think>``, Llama or
    Mistral JSON calls, or a plain-text final answer.
Reward: 0 on every non-final step; on the final step the ToolRLA reward
    R = R_fmt + R_corr + R_eff + R_comp (max 3, version ``toolrla-1.2.0`` by default), with
    the full breakdown in ``info["reward"]`` (``envs.reward``: the rubric's nodes by name).
Termination: a final answer. Truncation: ``max_steps`` agent turns without one (an episode
    without an answer scores at most −0.5 under reward 1.1).

No agent output can make ``step`` raise: malformed turns, unknown tools, bad arguments,
unreachable services and injected faults all come back as error observations, and the
episode goes on so that the agent can recover. A turn runs at most ``max_calls_per_turn``
calls (16); each one beyond gets ``{"error": "too_many_calls"}`` without running.
At start-up the back-end is checked against the tool contract (``fixtures/contracts/``): on
breaking drift the env refuses to start unless ``allow_drift=True``, and every episode's info
carries ``info["contract"]`` (the check, and the opt-out). ``audit_log=PATH`` appends every
tool call and episode end to a hash-chained audit log (``envs.audit``; ``advisorgym audit
verify PATH`` checks it).
Back-ends: ``"inprocess"`` (the default: the replica in this process), ``"http"`` with
``base_url`` (one service; several URLs, a list or comma-separated, spread episodes
round-robin: ``envs.backend_pool``), ``"docker"`` (a container this env starts and removes:
``envs.docker_backend``), or any ``Backend``. Gold probes that meet the replica's own state
(before an episode's first write) are run once per env and task, then reused.
Tool versions: a task that pins versions (``Task.tool_versions``, e.g. ``{"<tool>": "2"}``)
gets them for the whole episode: the agent's calls and the reward's gold probes go to the
pinned version (a ``ToolRef``), the observations are its results, and the system prompt and
``info["tools"]`` show its schema (``info["tool_versions"]`` names the pins). An unpinned task
gets every tool's default version; a pin the back-end does not serve makes each call to that
tool an ``unknown_version`` error observation (an infrastructure error, not the agent's).
"""

from __future__ import annotations

import random
import re
import string
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import gymnasium as gym
import orjson
from gymnasium import spaces
from gymnasium.vector.utils import create_shared_memory

from envs.actions import ToolCall, gate_errors, parse_action
from envs.backends import Backend, InProcessBackend, Op, run_ops
from envs.contract_check import check_backend
from envs.replica import default_replica
from envs.reward import (INFRA_ERROR_CODES, CallRecord, GoldCall, RewardConfig, answer_score, compute_reward, key_iou,
                         parameter_accuracy, says_unavailable, tool_label)
from envs.reward.components import information_contained, result_leaves
from envs.reward.compliance import ComplianceChecker, ComplianceTerms, default_checker
from envs.reward.writes import unauthorized_call_indices
from envs.tasks import Task, answer_fact_recall, is_refusal, shared_suite
from mock_apis.catalogue import ToolOutcome, ToolRef, ToolSpec
from mock_apis.contracts.check import default_contract_path
from mock_apis.domain import Domain, get_domain

MAX_TEXT = 1 << 22
#: Gold probes kept per env for the replica's own state (``FinAdvisorEnv._remember_pristine_probe``).
PRISTINE_PROBES_KEPT = 4096
FAULT_KINDS = ("latency", "timeout", "server_error", "empty_result")


class AgentText(spaces.Text):
    """Any Python string up to ``max_length`` characters (JSON, markup, any Unicode).

    ``spaces.Text`` only admits a fixed alphabet; agent turns and tool results do not keep
    to one. Sampling still draws from printable ASCII. Subclassing ``Text`` keeps the
    vector-env batching helpers working; ``AsyncVectorEnv``'s shared memory is refused with
    a clear error (use ``AsyncVectorEnv(..., shared_memory=False)``).
    """

    def __init__(self, max_length: int = MAX_TEXT, seed: int | None = None):
        super().__init__(max_length=max_length, min_length=0, charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        length = int(self.np_random.integers(0, 64))
        return "".join(self.character_list[i] for i in self.np_random.integers(0, len(self.character_list), length))


SHARED_MEMORY_ERROR = (
    "FinAdvisorEnv's observations are JSON text of any length and alphabet, which cannot live in "
    "AsyncVectorEnv's fixed-size shared memory (gymnasium would silently return strings of '0'). "
    "Use AsyncVectorEnv(env_fns, shared_memory=False), or SyncVectorEnv.")


@create_shared_memory.register(AgentText)
def _refuse_shared_memory(space: AgentText, n: int = 1, ctx: Any = None) -> Any:
    raise TypeError(SHARED_MEMORY_ERROR)


@dataclass(frozen=True)
class FaultConfig:
    """Per-call fault injection, drawn from the episode's seeded RNG.

    ``rate`` is the probability that a call to a known tool is faulted; the fault's kind is
    drawn from ``kinds``. A latency fault delays the call by ``latency_s`` and then runs it;
    the others replace its result with an error observation and do not run it. Faulted calls
    are the sandbox's doing, so they do not count against the agent's efficiency.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    latency_s: float = 0.02

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be in [0, 1]")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be a non-empty subset of {FAULT_KINDS}")

    @classmethod
    def coerce(cls, value: FaultConfig | dict[str, Any] | None) -> FaultConfig:
        if value is None:
            return cls()
        if isinstance(value, FaultConfig):
            return value
        return cls(**{**value, "kinds": tuple(value.get("kinds", FAULT_KINDS))})


FAULT_PAYLOADS = {
    "timeout": {"error": "timeout", "message": "the upstream service did not answer in time; the call may be retried"},
    "server_error": {"error": "service_unavailable", "message": "the upstream service returned HTTP 503; the call may be retried"},
    "empty_result": {"error": "empty_result", "message": "the upstream service returned an empty body; the call may be retried"},
}


PROMPT_MODES = ("full", "tools_via_template")


def compliance_subjects(task: Task, observations: Sequence[Any] = (),
                        domain: str | Domain | None = None) -> frozenset[str] | None:
    """The people the answer may talk about, for the compliance checker's other-person rule:
    the task's subjects; for a task with none (in finance a fund, market or advisor-book
    question), the people its query names (``DomainRules.subject_id_pattern``) and, where the
    task's gold calls list people (``DomainRules.listing_tools``), the people those listings
    returned (None, the rule off, when no listing came back): any other person's id or name
    in the answer is another person's data."""
    subjects = task.compliance.subject_client_ids
    if subjects is not None:
        return frozenset(subjects)
    rules = get_domain(domain).rules
    named = set(re.findall(rules.subject_id_pattern, task.query))
    if any(g.name in rules.listing_tools for g in task.gold_calls):
        listings = [payload[rules.listing_field] for payload in observations
                    if isinstance(payload, Mapping) and isinstance(payload.get(rules.listing_field), list)]
        if not listings:
            return None  # no listing came back: which people the answer is about is unknown
        named.update(c[rules.subject_key] for listed in listings for c in listed
                     if isinstance(c, Mapping) and isinstance(c.get(rules.subject_key), str))
    return frozenset(named)


#: A task's tool pins as a cache key: sorted ``(tool, version)`` pairs (empty: the defaults).
Pins = tuple[tuple[str, str], ...]


def pinned_specs(pins: Pins = (), domain: str | Domain | None = None) -> list[ToolSpec]:
    """Every tool's spec of ``domain`` (default: the default domain) in the version ``pins``
    names (its default where unpinned, or where this process does not know the pinned version:
    the back-end then answers ``unknown_version``)."""
    tools = get_domain(domain).tools
    chosen = dict(pins)
    return [tools.resolve(ToolRef(name, chosen[name])) or spec if name in chosen else spec
            for name, spec in tools.tools.items()]


@lru_cache(maxsize=64)
def tool_schemas(pins: Pins = (), shape: str = "chat", domain: str | Domain | None = None) -> list[dict[str, Any]]:
    """The tools' schemas in the pinned versions, built once per ``(pins, shape, domain)`` and
    shared by every env of the process: read them, never mutate them. ``shape``: ``"chat"``
    (OpenAI Chat Completions, ``info["tools"]``), ``"responses"`` (OpenAI Responses) or
    ``"anthropic"``."""
    return [spec.schema(shape) for spec in pinned_specs(pins, domain)]


@lru_cache(maxsize=64)
def system_prompt(as_of: str, mode: str = "full", pins: Pins = (), domain: str | Domain | None = None) -> str:
    """The system prompt. ``full``: the tools' schemas and the action formats are in the text
    (for agents that see nothing else). ``tools_via_template``: neither, for agents and trainers
    that pass the tools through the chat template (``tools=``), which also sets the call format:
    the schemas would otherwise appear twice, with conflicting format instructions. ``pins``:
    the task's tool versions, whose schemas the ``full`` prompt shows. The role and the rules
    are ``domain``'s (``DomainRules``; default: the default domain). Built once per
    ``(as_of, mode, pins, domain)`` and shared by every env of the process.
    """
    rules = get_domain(domain).rules
    intro = f"{rules.role} Today is {as_of}."
    if mode == "tools_via_template":
        return (f"{intro}\n\nCall the tools you need, then give the {rules.user_role} your final answer in plain "
                f"text.\n\n{rules.prompt_rules}")
    if mode != "full":
        raise ValueError(f"prompt mode must be one of {PROMPT_MODES}, got {mode!r}")
    tools = "\n".join(orjson.dumps(spec.openai_schema()["function"]).decode() for spec in pinned_specs(pins, domain))
    return (
        f"{intro}\n\nTools (JSON Schema of each tool's parameters):\n{tools}\n\n"
        "Each turn, reply with exactly one JSON object, either a tool call\n"
        '{"thought": "<your reasoning>", "action": {"name": "<tool>", "arguments": {...}}}\n'
        "or, when you are done, the final answer\n"
        f'{{"thought": "<your reasoning>", "response": "<answer to the {rules.user_role}>"}}\n'
        "(OpenAI tool_calls messages, <tool_call> tags and plain-text answers are accepted too).\n\n"
        f"{rules.prompt_rules}"
    )


@dataclass
class _Episode:
    task: Task
    rng: random.Random
    faults: FaultConfig
    routes: dict[str, ToolRef] | None = None  # the task's pinned tools by name (None: all defaults)
    pristine: bool = True  # no write tool has been planned yet: the state is the replica's own
    steps: int = 0
    turn_ok: list[bool] = field(default_factory=list)
    call_turns: list[bool] = field(default_factory=list)  # per turn: a tool-call turn
    calls: list[CallRecord] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)
    returned: list[Any] = field(default_factory=list)  # the results of the calls that succeeded
    gold_results: dict[int, Any] = field(default_factory=dict)  # gold call index -> its result, once known
    response: str | None = None
    done: bool = False
    final: dict[str, Any] | None = None


@dataclass
class _PlannedCall:
    """A call of a turn, planned before the turn's operations run (``FinAdvisorEnv._run_calls``).

    ``fault``: an injected fault that replaces the call (None: it runs). ``same_tool``: the
    gold calls of its tool; ``probed``: those with other arguments, whose results the score
    needs; ``known_probes``: those of them already known (``FinAdvisorEnv._pristine_probes``),
    the others are executed as probes. ``pristine``: the probes meet the replica's own state.
    ``key``: what the back-end runs, for the call and its probes alike: the tool's name, or
    the ``ToolRef`` of the episode's pinned version.
    """

    call: ToolCall
    key: Any
    signal: dict[str, Any]
    known: bool
    writes: bool
    fault: str | None
    same_tool: list[int]
    probed: list[int]
    pristine: bool = False
    known_probes: dict[int, ToolOutcome] = field(default_factory=dict)

    def ops(self, gold: Sequence[GoldCall]) -> list[Op]:
        """The back-end operations: each probe not known already, then the call (the probes'
        gold calls are of the call's tool: ``same_tool``)."""
        return [*((self.key, gold[i].arguments, True) for i in self.probed if i not in self.known_probes),
                (self.key, self.call.arguments, False)]


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

    Observation (``str``, JSON text): after ``reset``, ``{"task_id", "level", "system", "user"}``;
    after a tool call, its JSON result or a structured error (``{"error": "unknown_tool", ...}``);
    after the final answer, ``{"status": "episode_complete"}``.
    Action (``str``): one agent turn in the form the model writes natively (``envs.actions``:
    ReAct JSON, OpenAI messages, Hermes/Qwen tags, Llama, Mistral and the other dialects), or a
    plain-text final answer.
    Reward: 0 on every non-final step; on the final step R = R_fmt + R_corr + R_eff + R_comp (at
    most 3, ``toolrla-1.2.0`` by default), broken down by rubric node in ``info["reward"]``.
    Termination: a final answer. Truncation: ``max_steps`` turns without one.

    ``step`` never raises on agent output: every fault comes back as an error observation.
    The module docstring describes back-ends, the contract check, the audit log and tool versions.
    """
    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        tasks: str | Path | Sequence[Task] | None = None,
        replica: str | Path | None = None,
        backend: str | Backend = "inprocess",
        base_url: str | Sequence[str] | None = None,
        token: str | None = None,
        max_steps: int = 12,
        reward_config: RewardConfig | dict[str, Any] | None = None,
        faults: FaultConfig | dict[str, Any] | None = None,
        compliance_checker: ComplianceChecker | None = None,
        check_replica: bool = True,
        render_mode: str | None = None,
        prompt_mode: str = "full",
        max_calls_per_turn: int = 16,
        audit_log: str | Path | None = None,
        contract: str | Path | None = None,
        allow_drift: bool = False,
        domain: str | Domain | None = None,
    ):
        self.domain = get_domain(domain)
        default_suite = self.domain.suite_path
        in_memory = isinstance(tasks, Sequence) and not isinstance(tasks, str)
        self.tasks: Sequence[Task]
        self.task_index: Mapping[str, Task]
        if in_memory:
            self.tasks = list(tasks)  # type: ignore[arg-type]
            self.task_index = {t.task_id: t for t in self.tasks}
        else:  # one copy per process, whatever the number of envs (gym.make, vector envs)
            suite = shared_suite(tasks or default_suite)  # type: ignore[arg-type]
            self.tasks, self.task_index = suite.tasks, suite.index
        self.suite_name = "tasks passed in memory" if in_memory else str(tasks or default_suite)
        if not self.tasks:
            raise ValueError("the task suite is empty")
        created_backend = isinstance(backend, str)
        if isinstance(backend, str):
            if backend == "inprocess":
                rep = self.tasks[0].replica
                backend = InProcessBackend(replica or default_replica(rep["seed"], rep["scale"], self.domain),
                                           self.domain)
            elif backend == "http":
                from envs.backends import HttpBackend

                if not base_url:
                    raise ValueError("backend='http' needs base_url")
                from envs.backend_pool import BackendPool, split_urls

                urls = split_urls(base_url)  # several: round-robin per episode (envs/backend_pool.py)
                backend = (HttpBackend(urls[0], token=token, domain=self.domain) if len(urls) == 1
                           else BackendPool(urls, token=token, domain=self.domain))
            elif backend == "docker":  # a managed container (envs/docker_backend.py)
                from envs.docker_backend import DockerBackend

                rep = self.tasks[0].replica
                backend = DockerBackend(replica or default_replica(rep["seed"], rep["scale"], self.domain), token=token)
                token = backend.token  # the container's (random unless given): the contract check needs it
            else:
                raise ValueError(f"backend must be 'inprocess', 'http', 'docker' or a Backend, got {backend!r}")
        self.backend: Backend = backend
        try:
            # (key, task id, gold index) -> (the gold arguments, the probe's outcome in the replica's own state)
            self._pristine_probes: dict[tuple[Any, str, int], tuple[Any, ToolOutcome]] = {}
            # task id -> the accounts of its subject clients (no tool opens or moves an account)
            self._subject_accounts: dict[str, frozenset[str]] = {}
            self.max_steps = max_steps
            if max_calls_per_turn < 1:
                raise ValueError("max_calls_per_turn must be at least 1")
            self.max_calls_per_turn = max_calls_per_turn
            self.reward_config = RewardConfig.coerce(reward_config)
            self.faults = FaultConfig.coerce(faults)
            # The process-wide checker's classifier is loaded here, once per process, rather
            # than in the first episode's final step (where it was most of that step's cost).
            self.checker = compliance_checker or default_checker().warm_up()
            self.compliance_terms = ComplianceTerms.of(self.domain.rules.subject_key, self.domain.rules.compliance)
            self.render_mode = render_mode
            self.tools = self.domain.tools.tools
            self.criticality = {name: spec.criticality for name, spec in self.tools.items()}
            self.tool_schemas = tool_schemas(domain=self.domain)
            self.replica_meta = self.backend.replica_meta()
            if not self.replica_meta and check_replica:
                where = getattr(self.backend, "base_url", "the back-end")
                cause = getattr(self.backend, "last_error", None)
                raise ConnectionError(f"cannot read the replica's metadata from {where} (GET /health failed"
                                      f"{': ' + cause if cause else ''}): is the "
                                      "service running there? (check_replica=False, CLI --no-check-replica, skips "
                                      "this check)")
            if check_replica:
                self._check_replica()
            contract = contract or default_contract_path(self.domain)
            self.contract_status = check_backend(self.backend, token, contract, allow_drift, self.domain)
            suite_file = None if in_memory else Path(tasks or default_suite)  # type: ignore[arg-type]
            self.audit, self.audit_versions = self._open_audit(audit_log, suite_file, contract)
            self.as_of, self.prompt_mode = self.replica_meta.get("as_of", "unknown"), prompt_mode
            self.system_prompt = system_prompt(self.as_of, prompt_mode, domain=self.domain)
            self.system_prompt_for_tools_api = system_prompt(self.as_of, "tools_via_template", domain=self.domain)
            self.observation_space = AgentText()
            self.action_space = AgentText()
            self._episode: _Episode | None = None
        except BaseException:
            if created_backend:  # a back-end this env made (a container, a session) must not outlive it
                self.backend.close()
            raise

    def _check_replica(self) -> None:
        """Gold trajectories only score on the replica they were written for: refuse another."""
        have = {k: self.replica_meta.get(k) for k in ("seed", "scale")}
        wanted = {(str(t.replica["seed"]), str(t.replica["scale"])) for t in self.tasks}
        if wanted != {(have["seed"], have["scale"])}:
            raise ValueError(f"the tasks were written for replica(s) {sorted(wanted)} (seed, scale) but the back-end "
                             f"serves seed={have['seed']} scale={have['scale']}; their gold rewards would be "
                             "meaningless there. Pass check_replica=False (CLI: --no-check-replica) to run anyway.")

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
        self._episode = ep = _Episode(task=task, rng=random.Random(int(self.np_random.integers(2**63))),
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
            results = self._run_calls(ep, parsed.calls[:limit], info) + [
                self._refuse_call(ep, call, info, extra) for call in parsed.calls[limit:]]
            payload = results[0] if len(results) == 1 else [
                {"name": tool_label(c.name), "result": r} for c, r in zip(parsed.calls, results)]
            if self.audit is not None:
                self._audit_calls(ep, parsed.calls, results, info["calls"])
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
                self._run_calls(ep, parsed.calls[:self.max_calls_per_turn], {"calls": []})
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

    def _open_audit(self, path: str | Path | None, suite_file: Path | None,
                    contract: str | Path | None) -> tuple[Any, dict[str, Any] | None]:
        """The hash-chained audit log (``envs.audit``) and the versions each episode end records
        (the suite's SHA-256: of its file, or of the tasks passed in memory; the contract the
        env was checked against)."""
        if path is None:
            return None, None
        import hashlib

        from envs.audit import AuditLog, canonical, run_versions

        data = suite_file.read_bytes() if suite_file is not None else canonical([t.to_json() for t in self.tasks])
        return AuditLog(path), run_versions(self.reward_config.describe(), hashlib.sha256(data).hexdigest(),
                                            self.replica_meta, contract)

    def _contract_info(self) -> dict[str, Any]:
        """A fresh copy of the start-up contract check for an info dict (infos never share objects)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self.contract_status.items()}

    def _audit_calls(self, ep: _Episode, calls: Sequence[ToolCall], results: Sequence[Any],
                     signals: Sequence[dict[str, Any]]) -> None:
        from envs.audit import result_hash

        for call, result, signal in zip(calls, results, signals, strict=True):
            pinned = ep.routes.get(call.name) if ep.routes and isinstance(call.name, str) else None
            self.audit.record_call(call.name, call.arguments, result_hash(result), ok=signal["outcome"] == "ok",
                                   error=signal["error"], task_id=ep.task.task_id, step=ep.steps,
                                   tool_version=pinned.version if pinned is not None else None)

    def _close_episode(self, ep: _Episode) -> dict[str, Any]:
        """End the episode: its terminal reward info, recorded in the audit log when there is one."""
        ep.done = True
        ep.final = self._final_reward(ep)
        if self.audit is not None:
            self.audit.record_episode_end(ep.task.task_id, ep.final, self.audit_versions)
        return ep.final

    def _run_calls(self, ep: _Episode, calls: Sequence[ToolCall], info: dict[str, Any]) -> list[Any]:
        """Run a turn's calls, each with the gold calls of its tool probed in the state it meets.

        In three passes, so that a remote back-end gets the whole turn in one request: plan
        each call in order (its signal, its fault draw, its probes), run every operation in
        one ``run_ops`` (probes then call, call after call: the states are those of running
        them one by one), then score each call in order. The results equal running the calls
        one after the other.
        """
        plans = [self._plan_call(ep, call, info) for call in calls]
        ops = [op for plan in plans if plan.fault is None for op in plan.ops(ep.task.gold_calls)]
        try:
            outcomes = iter(run_ops(self.backend, ops) if ops else ())
        except Exception as exc:  # noqa: BLE001 - a back-end bug must not end the episode; it is not the agent's
            failed = f"the back-end failed ({type(exc).__name__})"
            outcomes = iter([ToolOutcome(False, {"error": "internal_error", "message": failed}) for _ in ops])
        return [self._finish_call(ep, plan, outcomes) for plan in plans]

    def _plan_call(self, ep: _Episode, call: ToolCall, info: dict[str, Any]) -> _PlannedCall:
        """A call's signal (in ``info``), fault draw (a latency fault sleeps now) and probes."""
        known = isinstance(call.name, str) and call.name in self.tools
        signal: dict[str, Any] = {"name": tool_label(call.name), "valid_tool": known, "outcome": "error",
                                  "error": None, "param_accuracy": None}
        info["calls"].append(signal)
        fault = self._draw_fault(ep) if known else None
        if fault == "latency":
            signal["fault"] = "latency"
            time.sleep(ep.faults.latency_s)
            fault = None
        gold = ep.task.gold_calls
        same_tool = [i for i, g in enumerate(gold) if g.name == call.name] if known else []
        key = ep.routes.get(call.name, call.name) if ep.routes and known else call.name
        writes = known and self.tools[call.name].writes
        plan = _PlannedCall(call, key, signal, known, writes, fault, same_tool,
                            [i for i in same_tool if gold[i].arguments != call.arguments], ep.pristine)
        if plan.probed and ep.pristine:
            for i in plan.probed:
                known_outcome = self._pristine_probes.get((key, ep.task.task_id, i))
                if known_outcome is not None and known_outcome[0] is gold[i].arguments:
                    plan.known_probes[i] = known_outcome[1]
        if writes and fault is None:
            ep.pristine = False  # this call runs before every later one
        return plan

    def _remember_pristine_probe(self, plan: _PlannedCall, ep: _Episode, i: int, outcome: ToolOutcome) -> None:
        """Keep a probe's outcome in the replica's own state: the same gold call in that state
        (the next episode of the task, before any write) gives the same outcome, so it is not
        run again. Failures of the back-end itself are never kept."""
        if plan.pristine and (outcome.ok or outcome.error not in INFRA_ERROR_CODES):
            if len(self._pristine_probes) >= PRISTINE_PROBES_KEPT:
                self._pristine_probes.clear()
            self._pristine_probes[(plan.key, ep.task.task_id, i)] = (ep.task.gold_calls[i].arguments, outcome)

    def _finish_call(self, ep: _Episode, plan: _PlannedCall, outcomes: Iterator[ToolOutcome]) -> Any:
        """Score a planned call from its outcomes (its probes', then its own); the observation."""
        call, signal, writes = plan.call, plan.signal, plan.writes
        if plan.fault is not None:
            payload = FAULT_PAYLOADS[plan.fault]
            signal.update(outcome="injected_fault", error=payload["error"], fault=plan.fault)
            ep.calls.append(CallRecord(call.name, call.arguments, True, False, payload["error"], {}, True,
                                       writes=writes, turn=ep.steps - 1, after_answer=ep.done))
            return payload
        ran = {}
        for i in plan.probed:
            ran[i] = plan.known_probes.get(i)
            if ran[i] is None:
                ran[i] = next(outcomes)
                self._remember_pristine_probe(plan, ep, i, ran[i])
        outcome = next(outcomes)
        gold = ep.task.gold_calls
        # None where the arguments are the gold's: nothing was executed, they score 1
        gold_runs = {i: ran.get(i) for i in plan.same_tool}
        accuracy = {i: parameter_accuracy(call.arguments, gold[i].arguments, outcome.payload,
                                          run.payload if run else None,
                                          executed=run is not None and run.ok and outcome.ok)
                    for i, run in gold_runs.items()}
        infra = not outcome.ok and outcome.error in INFRA_ERROR_CODES
        signal.update(outcome="infra_error" if infra else "ok" if outcome.ok else "error", error=outcome.error,
                      param_accuracy=max(accuracy.values()) if accuracy else None)
        if outcome.ok:
            if any(r.ok and r.name == call.name and r.arguments == call.arguments for r in ep.calls):
                signal["repeat"] = True  # the same call again: nothing new
            ep.returned.append(outcome.payload)
            for i, run in gold_runs.items():
                if run is None or (run.ok and accuracy[i] >= 1.0):
                    ep.gold_results.setdefault(i, outcome.payload if run is None else run.payload)
        ep.calls.append(CallRecord(call.name, call.arguments, plan.known, outcome.ok, outcome.error, accuracy,
                                   infra_error=infra, writes=writes,
                                   gold_key_iou={i: key_iou(call.arguments, gold[i].arguments) for i in accuracy},
                                   turn=ep.steps - 1, after_answer=ep.done,
                                   foreign_client=outcome.ok and not writes and self._foreign(ep, call, outcome)))
        if writes:
            signal["writes"] = True
            signal["unauthorized_write"] = len(ep.calls) - 1 in unauthorized_call_indices(
                ep.calls, gold, attempts=self.reward_config.v12, target_keys=self.domain.rules.write_target_keys)
        ep.observations.append(outcome.payload)
        return outcome.payload

    def _foreign(self, ep: _Episode, call: ToolCall, outcome: ToolOutcome) -> bool:
        """A read of a person the task is not about (``DomainRules``; finance: a client): named
        by the call's ``subject_key`` or ``owned_key`` (finance ``client_id``, ``account_id``), or
        by the result's (its own, or a ``subject_nested`` record's, finance ``profile``). A task
        is about its subjects and the records they own, and the people and records its gold
        calls name; a task with no subject (in finance funds, markets, an advisor's book) is
        about no one person. Searches and lists of people are not reads of one."""
        task, rules = ep.task, self.domain.rules
        person, owned_key = rules.subject_key, rules.owned_key
        arguments = call.arguments if isinstance(call.arguments, Mapping) else {}
        payload = outcome.payload if isinstance(outcome.payload, Mapping) else {}
        nested = [payload[k] for k in rules.subject_nested if isinstance(payload.get(k), Mapping)]
        people = {c for c in (arguments.get(person), payload.get(person), *(n.get(person) for n in nested))
                  if isinstance(c, str)}
        records = {a for a in (arguments.get(owned_key), payload.get(owned_key)) if isinstance(a, str)}
        named = [g.arguments for g in task.gold_calls]
        if people - {*(task.compliance.subject_client_ids or ()), *(a.get(person) for a in named)}:
            return True
        records -= {a.get(owned_key) for a in named}
        if not records:
            return False
        owned = self._owned_by_subjects(ep)
        return owned is not None and bool(records - owned)

    def _owned_by_subjects(self, ep: _Episode) -> frozenset[str] | None:
        """The records the task's subjects own (``DomainRules.owned_ids_tool``; finance: their
        accounts), asked of the back-end once per task (None when it could not say: a read is
        then not taken for a foreign one)."""
        task, rules = ep.task, self.domain.rules
        known = self._subject_accounts.get(task.task_id)
        if known is not None:
            return known
        subjects = task.compliance.subject_client_ids or ()
        lister = rules.owned_ids_tool
        key = ep.routes.get(lister, lister) if ep.routes else lister
        try:
            outcomes = run_ops(self.backend, [(key, {rules.subject_key: c}, True) for c in subjects])
        except Exception:  # noqa: BLE001 - a back-end failure says nothing about the agent
            return None
        if len(outcomes) != len(subjects) or any(not o.ok for o in outcomes):
            return None
        leaves: set[tuple[str, Any]] = set()
        for o in outcomes:
            result_leaves(o.payload, leaves)
        owned = frozenset(v for k, v in leaves if k == rules.owned_key and isinstance(v, str))
        self._subject_accounts[task.task_id] = owned
        return owned

    def _refuse_call(self, ep: _Episode, call: ToolCall, info: dict[str, Any], extra: int) -> dict[str, Any]:
        """A call beyond ``max_calls_per_turn``: not run, answered with ``too_many_calls`` and
        billed to the agent as an invalid call; the episode goes on."""
        known = isinstance(call.name, str) and call.name in self.tools
        payload = {"error": "too_many_calls", "message": f"at most {self.max_calls_per_turn} tool calls per turn; "
                                                         f"{extra} were not run", "details": [{"limit": self.max_calls_per_turn}]}
        info["calls"].append({"name": tool_label(call.name), "valid_tool": known, "outcome": "error",
                              "error": "too_many_calls", "param_accuracy": None})
        ep.calls.append(CallRecord(call.name, call.arguments, known, False, "too_many_calls",
                                   writes=known and self.tools[call.name].writes, turn=ep.steps - 1,
                                   after_answer=ep.done))
        ep.observations.append(payload)
        return payload

    def _informed_gold(self, ep: _Episode) -> frozenset[int]:
        """The gold read calls whose result is contained in what the agent's calls returned
        (reward 1.2's coverage by information). Gold results not seen yet are probed now, in
        the episode's final state (rolled back), once per env and task while it is pristine."""
        gold = ep.task.gold_calls
        if not ep.returned:
            return frozenset()
        informed = {i for i in ep.gold_results
                    if any(r.ok and r.counted and r.gold_accuracy.get(i, 0.0) >= 1.0 for r in ep.calls)}
        missing = [i for i, g in enumerate(gold)
                   if i not in informed and g.name in self.tools and not self.tools[g.name].writes]
        if not missing:
            return frozenset(informed)
        unknown = [i for i in missing if i not in ep.gold_results]
        if unknown:
            self._probe_gold_results(ep, unknown)
        returned: set[tuple[str, Any]] = set()
        for payload in ep.returned:
            result_leaves(payload, returned)
        informed.update(i for i in missing if i in ep.gold_results
                        and information_contained(gold[i], ep.gold_results[i], returned))
        return frozenset(informed)

    def _probe_gold_results(self, ep: _Episode, indices: Sequence[int]) -> None:
        """Run the gold calls ``indices`` as probes (known ones in the replica's own state are
        reused) and keep the results of those that succeed in ``ep.gold_results``."""
        gold = ep.task.gold_calls
        outcomes: dict[int, ToolOutcome] = {}
        to_run = []
        for i in indices:
            key = ep.routes.get(gold[i].name, gold[i].name) if ep.routes else gold[i].name
            known = self._pristine_probes.get((key, ep.task.task_id, i)) if ep.pristine else None
            if known is not None and known[0] is gold[i].arguments:
                outcomes[i] = known[1]
            else:
                to_run.append((i, key))
        if to_run:
            try:
                ran = run_ops(self.backend, [(key, gold[i].arguments, True) for i, key in to_run])
            except Exception:  # noqa: BLE001 - a back-end failure informs nothing; it is not the agent's
                ran = []
            outcomes.update((i, outcome) for (i, _), outcome in zip(to_run, ran))
        for i, outcome in outcomes.items():
            if outcome.ok:
                ep.gold_results[i] = outcome.payload

    def _excused_gold(self, ep: _Episode, informed: frozenset[int]) -> frozenset[int]:
        """Reward 1.2's graceful degradation: the gold calls the agent could not get because
        their tool failed on the back-end's side (an injected fault, an outage) every time it
        was tried, when the answer says plainly that the information could not be retrieved."""
        if ep.response is None or not says_unavailable(ep.response):
            return frozenset()
        excused = set()
        for i, g in enumerate(ep.task.gold_calls):
            tried = [r for r in ep.calls if r.name == g.name]
            if i not in informed and tried and all(not r.counted for r in tried):
                excused.add(i)
        return frozenset(excused)

    def _draw_fault(self, ep: _Episode) -> str | None:
        if ep.faults.rate <= 0.0 or ep.rng.random() >= ep.faults.rate:
            return None
        return ep.rng.choice(ep.faults.kinds)

    def _final_reward(self, ep: _Episode) -> dict[str, Any]:
        task = ep.task
        report = self.checker.check(ep.response or "", observations=ep.observations, query=task.query,
                                    subject_client_ids=compliance_subjects(task, ep.observations, self.domain),
                                    terms=self.compliance_terms)
        answered = ep.response is not None
        v12 = self.reward_config.v12
        recall = (answer_score(ep.response, task.answer_facts, task.query) if v12
                  else answer_fact_recall(ep.response, task.answer_facts))
        refused = is_refusal(ep.response)
        informed = self._informed_gold(ep) if v12 else frozenset()
        excused = self._excused_gold(ep, informed) if v12 else frozenset()
        # A refusal phrase beside the facts asked for is a partial decline, not an over-refusal;
        # nor is saying that a tool the answer needed failed (1.2: graceful degradation).
        over_refusal = answered and refused and not task.compliance.expect_refusal and \
            (recall < 1.0 or not task.answer_facts) and not excused
        under_refusal = answered and not refused and task.compliance.expect_refusal
        breakdown = compute_reward(turn_ok=ep.turn_ok, calls=ep.calls, gold=task.gold_calls,
                                   required_tools=task.required_tools, optimal_calls=task.optimal_calls,
                                   violated=report.violated, config=self.reward_config,
                                   criticality=self.criticality, answered=answered, over_refusal=over_refusal,
                                   under_refusal=under_refusal, answer_recall=recall, call_turns=ep.call_turns,
                                   informed=informed, excused=excused, query=task.query, response=ep.response,
                                   observations=ep.observations,
                                   write_target_keys=self.domain.rules.write_target_keys)
        success = (answered and breakdown.R_fmt == 1.0 and breakdown.S_name == 1.0
                   and breakdown.S_cover == 1.0 and breakdown.S_param == 1.0 and recall == 1.0
                   and not breakdown.violated and not under_refusal and not over_refusal)
        violations = [{"rule": v.rule, "stage": v.stage, "evidence": v.evidence} for v in report.violations]
        violations += [{"rule": "unauthorized_write", "stage": "actions", "evidence": e}
                       for e in breakdown.unauthorized_writes]
        degraded = {"degraded": bool(excused)} if v12 else {}
        return {**breakdown.as_dict(), **degraded, "answer_fact_recall": recall, "refused": refused,
                "expected_refusal": task.compliance.expect_refusal, "task_success": success,
                "terminated_by": "response" if answered else "step_budget",
                "violations": violations, "grey_area_score": report.grey_area_score,
                "invalid_calls": sum(1 for c in ep.calls if c.counted and not c.ok),
                "injected_faults": sum(1 for c in ep.calls if c.injected_fault),
                "infra_error": breakdown.infra_errors > 0,
                "reward_config": self.reward_config.describe()}
