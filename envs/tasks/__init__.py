"""Tasks: the task model, the suite files and the seeded task generator.

Modules:
- ``model``: ``Task``, ``ComplianceExpectation``, ``load_tasks``/``save_tasks``, ``shared_suite``,
  ``check_suite_fits``
  (a suite loaded once per process, shared by its envs) and the suite paths (``SUITE``,
  ``HELDOUT``, ...); everything it exports is re-exported here, and so are the answer checks
  ``answer_fact_recall`` and ``is_refusal`` (``envs.reward.outcome``);
- ``generator``: ``generate_tasks``, ``verify_tasks``, ``replay``, ``level_quotas`` and
  ``GenerationResult``: the generate/verify loop;
- ``context``: ``Draft``, ``Intent``, the ``@intent`` registry (``INTENTS``), ``Skip``, ``pick``
  and ``Ctx``, what a builder works with;
- ``phrasing``: how queries and answers are worded (amounts, names, date windows, the
  sentences describing tool results), shared by the levels;
- ``setups``: entity draws shared by the levels (a buy or sell that will go through, ...);
- ``intents_l1`` .. ``intents_l4``: the intent builders of each level.

Importing this package loads the model only; ``envs.tasks.generator`` loads the generator
and registers the intents.
"""

from envs.tasks.model import (
    DEFAULT_SUITE, FIXTURES, HANDWRITTEN, HELDOUT, LEVELS, SUITE, ComplianceExpectation, Suite, Task,
    check_suite_fits, load_tasks, save_tasks, shared_suite,
)
from envs.reward.outcome import answer_fact_recall, is_refusal  # the answer's judgements, exported here as before

__all__ = ["DEFAULT_SUITE", "FIXTURES", "HANDWRITTEN", "HELDOUT", "LEVELS", "SUITE", "ComplianceExpectation", "Suite",
           "Task", "answer_fact_recall", "check_suite_fits", "is_refusal", "load_tasks", "save_tasks", "shared_suite"]
