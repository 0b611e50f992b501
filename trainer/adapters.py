"""The environment plugged into TRL as a user would: an ``environment_factory`` class whose tool
methods come from the catalogue, and that owns its reward (TRL's ``get_reward``)::

    from trl import GRPOConfig, GRPOTrainer
    from trainer.adapters import grpo_dataset, suite_environments

    suites = {"handwritten": HANDWRITTEN, "heldout": HELDOUT}  # one run, several suites
    trainer = GRPOTrainer(model=..., train_dataset=grpo_dataset(suites),
                          environment_factory=suite_environments(suites), args=GRPOConfig(...))

Each rollout gets its own ``AdvisorEnvironment`` (one live ``FinAdvisorEnv`` episode): TRL
picks the row's environment by its ``environment`` column (TRL's per-row environment
selection: one factory per suite), calls ``reset(**row)`` with the rest of the row
(``task_id``, ``seed``), then the tool methods the model calls. A tool method forwards
whatever arguments the model wrote to the env, which validates them: a wrong argument comes
back as the env's own ``invalid_arguments`` observation, never a Python ``TypeError``.

Two ways to score a rollout, never both. Every trainer offers the model the answer tool
``submit_answer`` (``ANSWER_TOOL``) besides the catalogue's tools: plain ``GRPOTrainer`` lists
every public method of the class, the bundled ``AdvisorGRPOTrainer`` shows the catalogue's
schemas and then ``submit_answer``'s. A ``submit_answer(answer=...)`` call is one thing on both
paths: the env takes it as the turn ``answer_message(answer)``, the answer as a plain assistant
message.

- **The environment's own reward** (no ``reward_funcs``): a ``submit_answer`` call ends the live
  episode; TRL then calls ``get_reward()``, the env's total (out of 3), logged as
  ``rewards/AdvisorEnvironment``. A rollout that never submitted ends where it stands, as the
  step budget would end it (no answer): here the answer must come through the tool, since
  TRL's loop gives the env only the tool calls. Calls after the answer get the env's
  ``episode_done`` error and are scored as the env scores turns after an answer
  (``FinAdvisorEnv.score_late_turns``), as the replay scores them.
- **``advisor_reward``** (``reward_funcs=[advisor_reward]``, the bundled trainer's): the raw
  assistant turns (the text the model wrote, tool-call markup included) are decoded, split and
  scored with ``envs.replay.score_trajectory`` in that rollout's environment, so the format
  gate judges what the model wrote, and every reward component is logged on its own. The final
  answer is the first plain-text turn or ``submit_answer`` call, whichever comes first: a turn
  whose only call is a well-formed ``submit_answer(answer=...)`` (it passes the format gate)
  is replayed as ``answer_message(answer)``, exactly what the live call stepped; any other turn
  as written (a ``submit_answer`` call mixed with other calls, or one that fails the format
  gate, is not an answer: the env judges it an unknown tool, and the turn fails the gate). A
  plain-text answer is the answer here too. ``get_reward``
  then gives ``None`` for the rollout (TRL calls it after the reward functions), so the reward
  is not counted twice.

**Infrastructure failures never reach the optimiser.** A rollout whose episode met a back-end
failure (``info["infra_error"]``: unreachable, time-out, 5xx) is excluded. ``get_reward``
gives it ``None``: TRL then leaves it out of its group's baseline and gives it a zero
advantage. ``advisor_reward`` gives it the mean reward of the valid rollouts of its group (same
task and seed; 0 when none is valid), so its advantage is zero and the group's mean is
unchanged; it is counted as ``advisor/infra_masked`` and left out of the logged component
means. The bundled trainer (``trainer.grpo``) also takes its tokens out of the loss.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from envs.actions import gate_errors, parse_action
from envs.env import FinAdvisorEnv
from envs.replay import ScoredTrajectory, score_trajectory
from mock_apis.catalogue import ToolSpec
from mock_apis.domain import Domain, get_domain
from trainer.data import environment_class_name, grpo_features, grpo_rows

#: The tool the model gives its final answer with (``AdvisorEnvironment.submit_answer``).
ANSWER_TOOL = "submit_answer"
LOGGED_COMPONENTS = ("R_fmt", "R_corr", "R_eff", "R_comp", "S_name", "S_cover", "S_param")
_JSON_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool, "array": list, "object": dict}


def _describe(name: str, schema: dict[str, Any], required: bool) -> str:
    """One Google-style ``Args`` line: the description, then the constraints the template view drops."""
    text = " ".join(str(schema.get("description", name)).split())
    notes = [f"{k} {schema[k]}" for k in ("pattern", "format", "minimum", "maximum", "exclusiveMinimum",
                                           "minLength", "maxLength") if k in schema]
    if required:
        notes.insert(0, "required")
    if notes:
        text += f" ({'; '.join(notes)})"
    if "enum" in schema:
        text += f" (choices: {orjson.dumps(schema['enum']).decode()})"
    return f"        {name}: {text}"


def _tool_method(spec: ToolSpec) -> Any:
    """A method named after the tool, whose signature and docstring carry its schema for the chat
    template, but which accepts any keyword arguments and lets the env judge them."""
    properties = spec.parameters.get("properties", {})
    required = set(spec.parameters.get("required", ()))

    def method(self: EpisodeEnvironment, **arguments: Any) -> str:
        return self._run_tool(spec.name, arguments)

    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    annotations: dict[str, Any] = {"return": str}
    for key in sorted(properties, key=lambda k: k not in required):
        kind = _JSON_TYPES.get(properties[key].get("type"), str)
        annotations[key] = kind if key in required else kind | None
        params.append(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY,
                                        default=inspect.Parameter.empty if key in required else None,
                                        annotation=annotations[key]))
    method.__name__ = method.__qualname__ = spec.name
    method.__signature__ = inspect.Signature(params, return_annotation=str)  # type: ignore[attr-defined]  # what inspect reads
    method.__annotations__ = annotations
    args = "\n".join(_describe(k, properties[k], k in required) for k in properties)
    method.__doc__ = " ".join(spec.description.split()) + (f"\n\n    Args:\n{args}" if args else "")
    return method


def answer_message(answer: Any) -> str:
    """The env turn a ``submit_answer(answer=...)`` call stands for: the answer as a plain
    assistant message (an answer that is not a string, as its JSON text)."""
    content = answer if isinstance(answer, str) else orjson.dumps(answer).decode()
    return orjson.dumps({"role": "assistant", "content": content}).decode()


def answer_turn(turn: str, format_mode: str) -> str:
    """A raw assistant turn as the env takes it on replay: a turn whose only call is
    ``submit_answer`` with exactly an ``answer`` argument, and that passes the format gate in
    ``format_mode``, is that answer (``answer_message``); any other turn, as written."""
    parsed = parse_action(turn)
    if parsed.kind != "tool_call" or len(parsed.calls) != 1 or gate_errors(parsed, format_mode):
        return turn
    call = parsed.calls[0]
    if call.name != ANSWER_TOOL or not isinstance(call.arguments, dict) or set(call.arguments) != {"answer"}:
        return turn
    return answer_message(call.arguments["answer"])


class EpisodeEnvironment:
    """One rollout's episode, for TRL's ``environment_factory`` (tool methods: the domain's
    tools, added by ``environment_class``, and ``submit_answer``, the answer on either scoring
    path; ``get_reward``: the env's reward; module doc). ``domain``: the class's domain."""

    domain: Domain | None = None

    def __init__(self, env: FinAdvisorEnv | None = None, **env_kwargs: Any):
        self.env = env if env is not None else FinAdvisorEnv(
            prompt_mode="tools_via_template", **{"domain": self.domain, **env_kwargs})
        self.task_id: str | None = None
        self.seed = 0
        self.observations: list[str] = []
        self.last_scored: ScoredTrajectory | None = None
        self.reward_info: dict[str, Any] | None = None
        self.answered = False

    @property
    def infra_failed(self) -> bool:
        """The rollout met a back-end failure: it is excluded (module doc)."""
        return self.reward_info is not None and bool(self.reward_info.get("infra_error"))

    def reset(self, task_id: str | None = None, seed: int = 0, **row: Any) -> None:
        """Start the row's task (the prompt already holds its query); nothing to add to it."""
        if task_id is None:
            raise ValueError("each dataset row needs a task_id (see `advisorgym tasks export`)")
        self.task_id, self.seed = task_id, int(seed)
        self.observations = []
        self.last_scored = None
        self.reward_info = None
        self.answered = False
        self.env.reset(seed=self.seed, options={"task_id": task_id})
        return None

    def submit_answer(self, answer: str) -> str:
        """Give the advisor your final answer, in plain text. Call it once, last: it ends the episode.

        Args:
            answer: The answer to the advisor (required).
        """
        obs, _, _, _, info = self.env.step(answer_message(answer))
        self.answered = self.answered or "reward" in info
        return "Answer submitted." if "reward" in info else obs  # else the env's error (the episode had ended)

    def get_reward(self) -> float | None:
        """TRL's environment-owned reward: the live episode's total (out of 3), once it ends (a
        rollout that never submitted an answer ends where it stands). ``None`` for a rollout
        that met a back-end failure (TRL leaves it out), and for one ``advisor_reward`` already
        scored (module doc)."""
        if self.last_scored is not None:
            return None
        self.reward_info = self.env.end_episode()
        return None if self.infra_failed else float(self.reward_info["total"])

    # Every public method is a tool for TRL: the helpers are private.

    def _run_tool(self, name: str, arguments: dict[str, Any]) -> str:
        """Run one tool call in the live episode; the env's observation (a result or an error).
        A call after the answer gets the env's ``episode_done`` error and is scored as the env
        scores turns after an answer (``score_late_turns``), as on ``advisor_reward``'s replay."""
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": name, "arguments": arguments}}]}
        turn = orjson.dumps(message).decode()
        obs, *_ = self.env.step(turn)
        if self.answered:
            self.env.score_late_turns([turn])
        self.observations.append(obs)
        return obs

    def _score(self, assistant_turns: list[str]) -> dict[str, Any]:
        """The reward info of the rollout whose raw assistant turns these are, through the env
        (a ``submit_answer`` call: ``answer_turn``)."""
        assert self.task_id is not None, "reset() first"
        format_mode = str(self.env.reward_config.format)
        turns = [answer_turn(turn, format_mode) for turn in assistant_turns]
        self.last_scored = score_trajectory(self.env, self.task_id, turns, seed=self.seed)
        self.reward_info = self.last_scored.reward
        return self.reward_info


_CLASSES: dict[Domain, type[EpisodeEnvironment]] = {}


def environment_class(domain: str | Domain | None = None) -> type[EpisodeEnvironment]:
    """The ``environment_factory`` class of ``domain`` (default: the default domain, whose class
    is ``AdvisorEnvironment``): an ``EpisodeEnvironment`` with one method per tool of the
    domain (TRL offers the model every public method), made once per domain."""
    found = get_domain(domain)
    if found not in _CLASSES:
        name = environment_class_name(found)
        methods = {spec.name: _tool_method(spec) for spec in found.tools.tools.values()}
        _CLASSES[found] = type(name, (EpisodeEnvironment,), {
            "__doc__": EpisodeEnvironment.__doc__, "__module__": __name__, "domain": found, **methods})
    return _CLASSES[found]


#: The default domain's ``environment_factory`` class.
AdvisorEnvironment = environment_class()


def _tool_frame(tokenizer: Any, tool_messages: list[dict[str, Any]]) -> str:
    """The text TRL's tool loop puts between two assistant turns for ``tool_messages``: the
    rendered tool results and the next turn's generation prompt.

    Built as TRL builds it (``GRPOTrainer._get_tool_suffix_ids``): the chat template renders a
    one-call conversation with and without the tool messages, and the frame is what the tool
    messages add, from the end of the assistant turn's end-of-turn token. A template that
    renders the earlier turn differently once tool results follow (Qwen3's drops an empty think
    block) is replaced, as TRL replaces it, by TRL's training variant of it.
    """
    call: dict[str, Any] = {"type": "function", "function": {"name": tool_messages[0].get("name", ""), "arguments": {}}}
    if tool_messages[0].get("tool_call_id"):  # templates that check ids (Mistral's) render the tool message's own
        call["id"] = tool_messages[0]["tool_call_id"]
    head = [{"role": "user", "content": "dummy"}, {"role": "assistant", "content": "", "tool_calls": [call]}]
    frame = _rendered_frame(tokenizer, head, tool_messages, None)
    if frame is None:
        from trl.chat_template_utils import get_training_chat_template  # optional: the train extra, for this fallback only

        frame = _rendered_frame(tokenizer, head, tool_messages, get_training_chat_template(tokenizer))
    if frame is None:
        raise ValueError("the chat template renders an assistant turn differently once tool results follow it "
                         "(it is not prefix-preserving): TRL's multi-turn loop cannot use it either")
    return frame


def _rendered_frame(tokenizer: Any, head: list[dict[str, Any]], tool_messages: list[dict[str, Any]],
                    template: str | None) -> str | None:
    """What ``tool_messages`` and the generation prompt add after ``head``'s last end-of-turn
    token, with ``template`` (``None``: the tokenizer's own); ``None`` where adding them changes
    how ``head`` renders."""
    before = tokenizer.apply_chat_template(head, tokenize=False, chat_template=template)
    after = tokenizer.apply_chat_template(head + tool_messages, tokenize=False, add_generation_prompt=True,
                                          chat_template=template)
    eos = tokenizer.eos_token or ""
    cut = before.rfind(eos) + len(eos) if eos and eos in before else len(before)
    return after[cut:] if after.startswith(before[:cut]) else None


def split_assistant_turns(tokenizer: Any, text: str, completion: list[dict[str, Any]]) -> list[str]:
    """The model's own turns, as it wrote them, from a decoded multi-turn completion.

    ``completion`` is the completion as TRL passes it to reward functions: the assistant
    messages and, after each tool-calling turn, the tool messages TRL added. Each group of tool
    messages is rendered with the tokenizer's chat template (``_tool_frame``), located in
    ``text`` after the previous one, and cut out; what lies between is an assistant turn. No
    family's syntax is assumed here: the env's parser reads each turn in whatever dialect the
    model wrote.
    """
    groups: list[list[dict[str, Any]]] = []
    previous_role = None
    for message in completion:
        if message.get("role") == "tool":
            if previous_role != "tool":
                groups.append([])
            groups[-1].append(message)
        previous_role = message.get("role")
    turns, start = [], 0
    for group in groups:
        frame = _tool_frame(tokenizer, group)
        at = text.find(frame, start)
        if at < 0:
            raise ValueError(f"the completion does not contain its tool results as the chat template renders "
                             f"them: {frame[:200]!r}")
        turns.append(text[start:at])
        start = at + len(frame)
    turns.append(text[start:])
    return [turn.strip() for turn in turns if turn.strip()]


def advisor_reward(completions: list[Any], environments: list[EpisodeEnvironment], completion_ids: list[Any],
                   trainer_state: Any = None, log_metric: Any = None, **kwargs: Any) -> list[float]:
    """TRL reward function: each rollout's total R, scored through its environment.

    The raw text is decoded from ``completion_ids`` (special tokens kept, so the tool-call markup
    the model wrote reaches the format gate), split into assistant turns with the tokenizer's
    chat template (``split_assistant_turns``) and replayed: any template, any dialect. Rollouts
    that met a back-end failure are masked (module doc). Every reward component's mean over the
    valid rollouts is logged through ``log_metric`` as ``advisor/<component>``, and the masked
    count as ``advisor/infra_masked``.
    """
    tokenizer = _TOKENIZER.get("tokenizer")
    if tokenizer is None:
        raise RuntimeError("call trainer.adapters.bind_tokenizer(tokenizer) before training")
    rewards, infos = [], []
    for ids, completion, env in zip(completion_ids, completions, environments, strict=True):
        text = tokenizer.decode(ids, skip_special_tokens=False)
        info = env._score(split_assistant_turns(tokenizer, text, completion) or [""])
        infos.append(info)
        rewards.append(float(info["total"]))
    masked = mask_infra_rollouts(rewards, environments)
    valid = [i for i in infos if not i.get("infra_error")]
    if log_metric is not None and infos:
        log_metric("advisor/infra_masked", float(masked))
        for key in LOGGED_COMPONENTS:
            if valid:
                log_metric(f"advisor/{key}", sum(float(i[key]) for i in valid) / len(valid))
    return rewards


def mask_infra_rollouts(rewards: list[float], environments: list[EpisodeEnvironment]) -> int:
    """Give each rollout that met a back-end failure the mean reward of its group's valid
    rollouts (same task and seed; 0 when none is valid), in place; the number masked."""
    groups: dict[tuple[Any, int], list[int]] = {}
    for i, env in enumerate(environments):
        groups.setdefault((env.task_id, env.seed), []).append(i)
    masked = 0
    for members in groups.values():
        failed = [i for i in members if environments[i].infra_failed]
        if failed:
            valid = [rewards[i] for i in members if i not in failed]
            neutral = sum(valid) / len(valid) if valid else 0.0
            for i in failed:
                rewards[i] = neutral
            masked += len(failed)
    return masked


_TOKENIZER: dict[str, Any] = {}


def bind_tokenizer(tokenizer: Any) -> None:
    """The tokenizer ``advisor_reward`` decodes completions with (TRL does not pass it)."""
    _TOKENIZER["tokenizer"] = tokenizer


def suite_environments(suites: Mapping[str, str | Path],
                       **env_kwargs: Any) -> dict[str, Callable[[], EpisodeEnvironment]]:
    """TRL's per-row environment selection over several task suites: ``environment_factory``
    as ``{name: factory}``, one ``AdvisorEnvironment`` factory per suite (``env_kwargs``: the
    rest of ``FinAdvisorEnv``'s arguments); each row of ``grpo_dataset(suites)`` names its own."""
    environment = environment_class(env_kwargs.pop("domain", None))  # its tool methods are the domain's

    def factory(tasks: str | Path) -> Callable[[], EpisodeEnvironment]:
        return lambda: environment(tasks=tasks, **env_kwargs)

    return {name: factory(tasks) for name, tasks in suites.items()}


def grpo_dataset(suites: Mapping[str, str | Path], seed: int = 0, domain: str | Domain | None = None) -> Any:
    """The GRPO rows of every suite (``trainer.data.grpo_rows``) of ``domain`` (default: the
    default domain), each with the ``environment`` column that routes it to its suite's
    ``AdvisorEnvironment`` (``suite_environments``), as a ``datasets.Dataset``; each suite's
    task *i* gets seed ``seed + i``."""
    from datasets import Dataset  # optional: the train extra (the adapters load without it)

    rows = []
    for name, tasks in suites.items():
        probe = FinAdvisorEnv(tasks=tasks, domain=domain)
        rows += [{**row, "environment": name}
                 for row in grpo_rows(probe.tasks, probe.replica_meta["as_of"], seed, domain=probe.domain)]
        probe.close()
    return Dataset.from_list(rows, features=grpo_features(environment=True))
