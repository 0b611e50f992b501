"""The bundled SFT → GRPO → DPO stages on TRL, from one ``TrainConfig``.

Each stage writes under ``<output_dir>/<stage>/``: TRL's checkpoints (``checkpoint-N``),
``final/`` (the model and tokenizer the next stage starts from), ``metrics.jsonl`` (every
log line TRL emits, one JSON object per line) and TensorBoard events when ``report_to``
includes ``tensorboard``. ``resume=True`` continues from the stage's latest checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from envs import FinAdvisorEnv
from envs.evaluation.config import EvalConfig
from envs.evaluation.grounded_decoding import GroundedNumbers
from envs.evaluation.metrics import COMPONENTS
from envs.evaluation.model_agents import HFLocalAgent
from envs.evaluation.outputs import load_episodes
from envs.evaluation.run import run_eval
from envs.replica import default_replica
from envs.tasks import Task, load_tasks, save_tasks
from envs.tasks.generator import generate_tasks
from mock_apis.domain import get_domain
from trainer.adapters import EpisodeEnvironment, advisor_reward, bind_tokenizer, environment_class
from trainer.call_metrics import call_figures
from trainer.config import STAGES, TRAIN_REWARD, TrainConfig  # noqa: F401 - TRAIN_REWARD: its old home
from trainer.data import dpo_features, grpo_features, grpo_rows, sft_features, sft_rows
from trainer.dpo import expert_pairs, over_caution_pairs, sampled_pairs
from trainer.relabel import first_call_drill, first_call_drills, relabelled_rows
from trainer.tiny import build_tiny_model, build_tokenizer, replica_ids, replica_names, tiny_chat_template
from trainer.visible import figures_in_view


def _metrics_callback(path: Path) -> Any:
    from transformers import TrainerCallback  # optional: the train extra

    class JsonlMetrics(TrainerCallback):
        """Every log TRL emits, with the step, the epoch, the wall clock, the process's CPU
        seconds so far and the load average (so a step's cost can be read under any load),
        one JSON line each."""

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            if logs and state.is_world_process_zero:
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"step": state.global_step, "epoch": state.epoch, "time": round(time.time(), 2),
                                         "process_cpu_s": round(time.process_time(), 2),
                                         "load": round(os.getloadavg()[0], 2), **logs}) + "\n")

    return JsonlMetrics()


def train_tasks(config: TrainConfig) -> list[Task]:
    """The training suite, plus ``generated_tasks`` when set (generated once per output folder,
    kept in ``generated-tasks.jsonl``)."""
    domain = get_domain(config.env.domain)
    tasks = load_tasks(config.tasks or domain.suite_path)
    if not config.generated_tasks:
        return tasks
    seed, count = config.generated_tasks["seed"], config.generated_tasks["count"]
    path = Path(config.output_dir) / f"generated-tasks-seed{seed}-n{count}.jsonl"
    if not path.is_file():
        heldout = load_tasks(config.heldout or domain.heldout_path)
        meta = tasks[0].replica
        result = generate_tasks(default_replica(meta["seed"], meta["scale"], domain), seed=seed, count=count,
                                replica_meta=meta, id_prefix=f"g{seed}", exclude=[*tasks, *heldout], domain=domain)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_tasks(result.tasks, path)
    return tasks + load_tasks(path)


def heldout_tasks(config: TrainConfig) -> list[Task]:
    tasks = load_tasks(config.heldout or get_domain(config.env.domain).heldout_path)
    train_ids = {t.task_id for t in train_tasks(config)}
    train_queries = {" ".join(t.query.lower().split()) for t in train_tasks(config)}
    overlap = [t.task_id for t in tasks if t.task_id in train_ids or " ".join(t.query.lower().split()) in train_queries]
    if overlap:
        raise ValueError(f"held-out tasks also in the training suite (same id or query): {overlap[:5]}")
    return evenly_spaced(tasks, config.eval.get("limit"))


def evenly_spaced(tasks: list[Task], n: int | None) -> list[Task]:
    """``n`` tasks spread evenly over the suite (every level represented); all when ``n`` is unset."""
    if not n or n >= len(tasks):
        return tasks
    return [tasks[i * len(tasks) // n] for i in range(n)]


def _env(config: TrainConfig, tasks: Sequence[Task]) -> Any:
    return FinAdvisorEnv(config.env, tasks=list(tasks), prompt_mode="tools_via_template")


def base_model(config: TrainConfig) -> Path:
    """The model SFT starts from: ``config.model``, or the tiny model built (once) from the
    training suite's conversations and the tool schemas, with one token per entity id of the
    tasks' replica (``trainer.tiny.replica_ids``) and, with ``tiny.name_tokens``, one per full
    name of its clients and advisors (``trainer.tiny.replica_names``)."""
    if config.model != "tiny":
        path = Path(config.model)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"model directory {path} has no config.json (a local Hugging Face model "
                                    "directory is needed: nothing is downloaded)")
        return path
    path = Path(config.output_dir) / "tiny-base"
    if not (path / "config.json").is_file():
        tasks = train_tasks(config)
        env = _env(config, tasks)
        rows = sft_rows(env, env.tasks, seed=config.seed)
        env.close()
        settings = dict(config.tiny)
        chat_template = tiny_chat_template(settings.pop("compact_tools"), settings.pop("tool_result_chars"))
        template = build_tokenizer(["x"], vocab_size=300, chat_template=chat_template)  # only its template is used
        corpus = [template.apply_chat_template(r["messages"], tools=r["tools"], tokenize=False) for r in rows]
        replica = default_replica(**tasks[0].replica)
        names = sorted(set(replica_names(replica).values())) if settings.pop("name_tokens") else ()
        build_tiny_model(path, corpus, seed=config.seed, id_tokens=replica_ids(replica), name_tokens=names,
                         chat_template=chat_template, **settings)
    return path


def stage_start(config: TrainConfig, stage: str) -> Path:
    """Where a stage starts: its ``init_from``, else the previous stage's ``final/``, else the base model."""
    chosen = config.ours(stage).get("init_from")
    if chosen:
        return Path(chosen)
    for previous in reversed(STAGES[:STAGES.index(stage)]):  # the nearest earlier stage that finished
        final = Path(config.output_dir) / previous / "final"
        if (final / "config.json").is_file():
            return final
    return base_model(config)


def _load(path: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer  # optional: the train extra

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    return model, tokenizer


def _finish(trainer: Any, out: Path, resume: bool | str | None) -> Path:
    trainer.train(resume_from_checkpoint=resume or None)
    final = out / "final"
    trainer.save_model(str(final))
    trainer.processing_class.save_pretrained(str(final))
    return final


def run_sft(config: TrainConfig, resume: bool | str | None = None) -> Path:
    """SFT on the training suite's gold conversations and ~5% error-recovery ones; with
    ``sft.relabel_ids: N``, N copies of each with its entity ids relabelled, and with
    ``sft.first_call_drill_steps: N``, N steps on first-call drills before them
    (``trainer.relabel``)."""
    from datasets import Dataset  # optional: the train extra
    from trl import SFTConfig, SFTTrainer  # optional: the train extra

    start = stage_start(config, "sft")
    env = _env(config, train_tasks(config))
    rows = sft_rows(env, env.tasks, seed=config.seed)
    env.close()
    ours = config.ours("sft")
    replica = default_replica(**env.tasks[0].replica)
    ids, names = replica_ids(replica), replica_names(replica)
    if ours["first_call_drill_steps"]:
        start = _first_call_drills(config, start, rows, ids, names, ours["first_call_drill_steps"],
                                   ours["first_call_drill_batch_size"])
    if ours["visible_figures_only"]:
        rows = [row for row in rows if figures_in_view(row, config.tiny["tool_result_chars"] if config.model == "tiny"
                                                       else None)]
    if ours["relabel_ids"]:
        rows = relabelled_rows(rows, ids, ours["relabel_ids"], config.seed, names)
    dataset = Dataset.from_list(rows, features=sft_features()).select_columns(["messages", "tools"])
    model, tokenizer = _load(start)
    args = SFTConfig(**config.trl_args("sft"))
    out = Path(args.output_dir)
    trainer = SFTTrainer(model=model, processing_class=tokenizer, args=args, train_dataset=dataset,
                         callbacks=[_metrics_callback(out / "metrics.jsonl")])
    return _finish(trainer, out, resume)


def _first_call_drills(config: TrainConfig, start: Path, rows: list[dict[str, Any]], ids: Sequence[str],
                       names: dict[str, str], steps: int, batch_size: int) -> Path:
    """``steps`` SFT steps of ``batch_size`` first-call drills with relabelled ids
    (``trainer.relabel.first_call_drills``) at the stage's learning rate held constant, done
    once: the model SFT proper starts from. A drill is a few dozen tokens, so a step of 32
    costs a fraction of a step of 8 conversations. Copying the query's id appears only after
    some 20,000 drills (docs/training-recipe.md), hence the constant rate and the batch."""
    from datasets import Dataset  # optional: the train extra
    from trl import SFTConfig, SFTTrainer  # optional: the train extra

    out = Path(config.output_dir) / "sft" / "first-call-drills"
    if (out / "final" / "config.json").is_file():
        return out / "final"
    args = SFTConfig(**{**config.trl_args("sft"), "output_dir": str(out), "max_steps": steps,
                        "per_device_train_batch_size": batch_size, "gradient_accumulation_steps": 1,
                        "lr_scheduler_type": "constant", "save_strategy": "no", "report_to": []})
    drillable = sum(1 for row in rows if first_call_drill(row) is not None)
    copies = -(-steps * args.per_device_train_batch_size * args.gradient_accumulation_steps // max(drillable, 1))
    drills = first_call_drills(rows, ids, copies, config.seed, names)
    model, tokenizer = _load(start)
    trainer = SFTTrainer(model=model, processing_class=tokenizer, args=args,
                         train_dataset=Dataset.from_list(drills, features=sft_features()).select_columns(
                             ["messages", "tools"]),
                         callbacks=[_metrics_callback(out / "metrics.jsonl")])
    return _finish(trainer, out, None)


def run_grpo(config: TrainConfig, resume: bool | str | None = None) -> Path:
    """GRPO with one live env episode per rollout (``AdvisorEnvironment``), scored through the env."""
    from datasets import Dataset  # optional: the train extra
    from trl import GRPOConfig  # optional: the train extra

    from trainer.grpo import AdvisorGRPOTrainer  # optional: trainer.grpo imports torch and TRL (the train extra)

    tasks = train_tasks(config)
    start = stage_start(config, "grpo")
    probe = _env(config, tasks[:1])
    rows = grpo_rows(tasks, probe.replica_meta["as_of"], seed=config.seed, domain=probe.domain)
    probe.checker.warm_up()  # the shipped grey-area classifier, loaded now (~0.2 s), not in step 1's reward
    probe.close()
    model, tokenizer = _load(start)
    bind_tokenizer(tokenizer)
    args = GRPOConfig(**config.trl_args("grpo"))
    out = Path(args.output_dir)

    environment = environment_class(probe.domain)  # its tool methods are the domain's

    def factory() -> EpisodeEnvironment:
        return environment(tasks=tasks, config=config.env)

    trainer = AdvisorGRPOTrainer(model=model, processing_class=tokenizer, args=args,
                                 train_dataset=Dataset.from_list(rows, features=grpo_features()),
                                 reward_funcs=[advisor_reward],
                                 environment_factory=factory, turn_credit=config.ours("grpo")["turn_credit"],
                                 grounded_numbers=config.grounded_numbers,
                                 callbacks=[_metrics_callback(out / "metrics.jsonl")])
    return _finish(trainer, out, resume)


def policy_sampler(model: Any, tokenizer: Any, tools: list[dict[str, Any]], max_new_tokens: int,
                   temperature: float = 1.0, grounded_numbers: bool = False) -> Any:
    """``sample(prompt_messages, n)`` for ``trainer.dpo.sampled_pairs``: n answers from the model
    (``grounded_numbers``: under ``envs.evaluation.grounded_decoding``)."""
    import torch  # optional: the train extra
    from transformers import LogitsProcessorList  # optional: the train extra

    def sample(messages: list[dict[str, Any]], n: int) -> list[str]:
        inputs = tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True,
                                               return_tensors="pt", return_dict=True)
        with torch.no_grad():
            processors = LogitsProcessorList([GroundedNumbers(tokenizer)] if grounded_numbers else [])
            output = model.generate(**inputs, do_sample=True, temperature=temperature, num_return_sequences=n,
                                    max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                    logits_processor=processors)
        new = output[:, inputs["input_ids"].shape[1]:]
        return [tokenizer.decode(ids, skip_special_tokens=True).strip() for ids in new]

    return sample


def dpo_dataset(config: TrainConfig, model: Any, tokenizer: Any) -> list[dict[str, Any]]:
    """The DPO rows: the policy's sampled answers scored by the env and (``dpo.over_caution_pairs``)
    helpful-vs-over-cautious pairs, on ``dpo.prompts`` tasks of the training suite (evenly
    spaced; all when unset), and the expert pairs of the whole training suite."""
    from transformers import set_seed  # optional: the train extra

    ours = config.ours("dpo")
    suite = train_tasks(config)
    tasks = evenly_spaced(suite, ours["prompts"])
    env = _env(config, suite)
    set_seed(config.seed)  # the samples depend on the model and the seed, not on what ran before in the process
    sample = policy_sampler(model, tokenizer, env.tool_schemas, int(ours["max_new_tokens"]),
                            grounded_numbers=config.grounded_numbers)
    model.eval()
    from tqdm.auto import tqdm  # optional: tqdm comes with the train extra (transformers)

    rows = sampled_pairs(env, tqdm(tasks, desc="dpo: sampling the policy's answers"), sample,
                         int(ours["samples_per_prompt"]), config.seed, float(ours["margin"]))
    if ours["over_caution_pairs"]:
        rows += over_caution_pairs(env, tasks, config.seed)
    rows += expert_pairs(env, {t.task_id: t for t in suite}, seed=config.seed)
    env.close()
    model.train()
    return rows


def run_dpo(config: TrainConfig, resume: bool | str | None = None) -> Path:
    """DPO for compliance on env-scored pairs (``dpo_dataset``, kept in ``pairs.jsonl``); β 0.2 by default."""
    from datasets import Dataset  # optional: the train extra
    from trl import DPOConfig, DPOTrainer  # optional: the train extra

    start = stage_start(config, "dpo")
    model, tokenizer = _load(start)
    args = DPOConfig(**config.trl_args("dpo"))
    out = Path(args.output_dir)
    rows = dpo_dataset(config, model, tokenizer)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    dataset = Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected", "tools")} for r in rows],
                                features=dpo_features())
    trainer = DPOTrainer(model=model, processing_class=tokenizer, args=args, train_dataset=dataset,
                         callbacks=[_metrics_callback(out / "metrics.jsonl")])
    return _finish(trainer, out, resume)


STAGE_RUNNERS = {"sft": run_sft, "grpo": run_grpo, "dpo": run_dpo}


def evaluate(model_dir: str | Path, config: TrainConfig, out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Held-out metrics of a model: every held-out task run as a live episode with the model
    (greedy, ``HFLocalAgent``), scored with the training reward, with a progress bar. Mean
    reward and each component, TCR, format-valid rate, VR, over-refusal rate, the tool-call
    rate, the call-level figures (``call_figures``) and each task's R and R_corr (``per_task``,
    for paired confidence intervals between stages)."""
    out = Path(out)
    tasks = heldout_tasks(config)
    suite = out / "heldout.jsonl"
    suite.parent.mkdir(parents=True, exist_ok=True)
    suite.write_text("".join(json.dumps(t.to_json()) + "\n" for t in tasks), encoding="utf-8")
    agent = HFLocalAgent(model_dir, max_new_tokens=int(config.eval["max_new_tokens"]),
                         grounded_numbers=config.grounded_numbers)
    started = time.perf_counter()
    env = dataclasses.replace(config.env, tasks=str(suite), max_steps=int(config.eval["max_steps"]))
    result = run_eval(agent, config=EvalConfig(out=str(out), overwrite=True, progress=progress, plots=False,
                                               seed=config.seed, env=env))
    records = load_episodes(out / "episodes.jsonl")
    by_id = {t.task_id: t for t in tasks}
    overall = result["metrics"]["overall"]
    means = result["metrics"]["reward_means"]["overall"]
    return {"episodes": len(records), "mean_reward": means["total"],
            **{k: means[k] for k in COMPONENTS if k.startswith(("R_", "S_"))},
            "TCR": overall["TCR"], "format_valid": sum(1 for r in records if r["reward"]["R_fmt"] == 1.0) / len(records),
            "VR": overall["VR"], "ORR": overall["ORR"],
            "tool_call_rate": sum(1 for r in records if r["tool_calls"]) / len(records),
            **call_figures(records, by_id),
            "L1": call_figures([r for r in records if r["level"] == "L1"], by_id),
            "per_task": {r["task_id"]: {"R": r["total"], "R_corr": r["reward"]["R_corr"], "level": r["level"]}
                         for r in records},
            "eval_s": round(time.perf_counter() - started, 1)}
