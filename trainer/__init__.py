"""The bundled trainer and the TRL adapters (needs the ``train`` extra).

- ``adapters``: ``AdvisorEnvironment`` for ``GRPOTrainer(environment_factory=...)`` and the
  ``advisor_reward`` function that scores each rollout through the env;
- ``data``: GRPO prompt rows from a task suite;
- ``tiny``: a tiny causal LM and byte-level tokenizer built locally (no hub download), for
  tests and the CPU path.
"""
