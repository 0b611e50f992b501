"""The card-disputes domain: a retail bank's card-dispute (chargeback) back office: cardholders,
cards, card transactions at merchants, disputes, provisional credits and case notes.

- ``models``: the data model (SQLAlchemy) and ``SCHEMA``; ``generate``: the seeded replica
  generator and the dispute rules' constants;
- ``tools``: the tools (``registry.TOOLS``); ``rules``: the prompt rules, the people and write
  targets, the scripted moves;
- ``context``, ``phrasing``, ``intents_l1`` .. ``intents_l4``: the task intents (``registry.INTENTS``);
- ``contract_samples``: arguments for the contract snapshot and the drift check;
- fixtures: ``fixtures/domains/card_disputes/`` (``tasks/``, ``contracts/``).
"""

from mock_apis.domain import Domain
from mock_apis.domains.card_disputes import contract_samples, generate, models
from mock_apis.domains.card_disputes import intents_l1, intents_l2, intents_l3, intents_l4, tools  # noqa: F401  (they register the intents and the tools)
from mock_apis.domains.card_disputes.context import Ctx
from mock_apis.domains.card_disputes.registry import INTENTS, TOOLS
from mock_apis.domains.card_disputes.rules import RULES, SCRIPTED
from mock_apis.fixtures import FIXTURES

DOMAIN = Domain(
    name="card_disputes",
    description="A retail bank's card-dispute back office: cardholders, cards, card transactions, disputes, "
                "provisional credits and case notes.",
    tools=TOOLS,
    schema=models.SCHEMA,
    rules=RULES,
    intents=INTENTS,
    generate_replica=generate.generate_replica,
    default_seed=generate.DEFAULT_SEED,
    default_scale=generate.DEFAULT_SCALE,
    generator_version=generate.GENERATOR_VERSION,
    generator_modules=(generate, models),
    fixtures_dir=FIXTURES / "domains" / "card_disputes",
    task_context=Ctx,
    scripted=SCRIPTED,
    sample_arguments=contract_samples.sample_arguments,
)
