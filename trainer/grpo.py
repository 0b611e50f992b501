"""The bundled GRPO stage: TRL's ``GRPOTrainer`` with ``environment_factory=AdvisorEnvironment``.

``AdvisorGRPOTrainer`` is TRL's trainer with a few small additions:

- the prompts render the catalogue's own JSON schemas (every pattern, enum and range, the
  same tool text as the SFT rows, the DPO pairs and the eval), not the schemas TRL derives
  from the tool methods' signatures and docstrings, followed by the answer tool
  ``submit_answer`` (its schema as TRL derives it), which both scoring paths take as the final
  answer (``trainer.adapters``);
- every tool call the model writes reaches the env, including names that are not tools: TRL
  answers those itself ("Tool X not found"), the env answers them with its own
  ``unknown_tool`` observation listing the valid tools, as it does in every other path;
- optional per-turn credit (``trainer.credit``), off by default;
- optional grounded decoding of the rollouts (``envs.evaluation.grounded_decoding``: numbers
  and entity ids only as the conversation shows them), off by default;
- rollouts that met a back-end failure (``info["infra_error"]``) are masked: ``advisor_reward``
  gives them their group's mean reward, and their tokens are taken out of the loss here.

Everything else (generation, the multi-turn tool loop, masking tool results out of the loss,
vLLM, distributed training, checkpoints) is TRL's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from trl import GRPOTrainer

from envs.evaluation.grounded_decoding import GroundedNumbers
from trainer.adapters import EpisodeEnvironment
from trainer.credit import token_turns, turn_advantages, turn_signals


class _EnvTools(Mapping[str, Callable[..., str]]):
    """A rollout's tool table for TRL's loop: the env's tool methods, and for any other name a
    call the env answers (``unknown_tool``)."""

    def __init__(self, tools: dict[str, Callable[..., str]], environment: EpisodeEnvironment):
        self._tools, self._environment = tools, environment

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __getitem__(self, name: str) -> Callable[..., str]:
        if name in self._tools:
            return self._tools[name]
        return lambda **arguments: self._environment._run_tool(name, arguments)

    def __iter__(self):
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)


class AdvisorGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` for ``AdvisorEnvironment`` rollouts (see the module doc).

    ``turn_credit``: ``{"enabled": bool, "alpha": float, "guard": bool}``; when enabled the
    advantages become per token (``trainer.credit.turn_advantages``), from the per-step
    signals of the episode ``advisor_reward`` scored for each rollout.
    """

    def __init__(self, *args: Any, turn_credit: Mapping[str, Any] | None = None, grounded_numbers: bool = False,
                 **kwargs: Any):
        self.turn_credit = {"enabled": False, "alpha": 0.5, "guard": True, **(turn_credit or {})}
        super().__init__(*args, **kwargs)
        if grounded_numbers:
            self._ground_generation()
        for name, pool in getattr(self, "_environment_pool", {}).items():
            if pool and isinstance(pool[0], EpisodeEnvironment):
                self._env_tools[name] = [*pool[0].env.tool_schemas, pool[0].submit_answer]

    def _ground_generation(self) -> None:
        """Every ``generate`` of the model (TRL's transformers path) gets a ``GroundedNumbers``."""
        from transformers import LogitsProcessorList

        model, tokenizer = self.accelerator.unwrap_model(self.model), self.processing_class
        generate = model.generate

        def grounded_generate(*args: Any, **kwargs: Any) -> Any:
            processors = LogitsProcessorList(kwargs.pop("logits_processor", None) or [])
            processors.append(GroundedNumbers(tokenizer))
            return generate(*args, logits_processor=processors, **kwargs)

        model.generate = grounded_generate

    def _tool_call_loop(self, *args: Any, **kwargs: Any) -> Any:
        if self.environments:
            self._sync_tool_dicts = [_EnvTools(tools, env) if isinstance(env, EpisodeEnvironment) else tools
                                     for tools, env in zip(self._sync_tool_dicts, self.environments, strict=True)]
        return super()._tool_call_loop(*args, **kwargs)

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        output = super()._generate_and_score_completions(inputs)
        if self.turn_credit["enabled"]:
            output["advantages"] = self._per_token_advantages(output)
        for i, environment in enumerate(self.environments or ()):
            if isinstance(environment, EpisodeEnvironment) and environment.infra_failed:
                output["completion_mask"][i] = 0  # a back-end failure is not the policy's to learn from
        return output

    def _per_token_advantages(self, output: dict[str, Any]) -> torch.Tensor:
        advantages = output["advantages"]
        completion_mask = output["completion_mask"]
        tool_mask = output.get("tool_mask")
        tool_mask = tool_mask if tool_mask is not None else torch.ones_like(completion_mask)
        rows = []
        for i, environment in enumerate(self.environments):
            scored = getattr(environment, "last_scored", None)
            signals = turn_signals(scored.step_infos) if scored is not None else []
            rows.append(turn_advantages(float(advantages[i]), signals, token_turns(tool_mask[i].tolist()),
                                        float(self.turn_credit["alpha"]), guard=bool(self.turn_credit["guard"]),
                                        valid=completion_mask[i].tolist()))
        return torch.tensor(rows, dtype=advantages.dtype, device=advantages.device)
