"""The training rows the trainer reads: GRPO prompts, SFT conversations, their ``datasets``
features and the dataset card. They are built in ``envs.evaluation.training_rows`` (the exports below the
trainer share them); this is the trainer's import path for them::

    load_dataset("json", data_files="data/sft.jsonl", features=sft_features(), split="train")
"""

from __future__ import annotations

from envs.evaluation.training_rows import (RECOVERY_EVERY, dataset_card, dpo_features, environment_class_name,
                                           grpo_features, grpo_rows, row_features, sft_conversation, sft_features,
                                           sft_rows, write_jsonl)

__all__ = ["RECOVERY_EVERY", "dataset_card", "dpo_features", "environment_class_name", "grpo_features", "grpo_rows",
           "row_features", "sft_conversation", "sft_features", "sft_rows", "write_jsonl"]
