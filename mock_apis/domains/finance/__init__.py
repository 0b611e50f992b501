"""The finance domain: a wealth-management firm's back office (clients, advisors, accounts,
holdings, transactions, funds, NAVs, market indices, orders, compliance records, notes).

- ``models``: the data model (SQLAlchemy) and ``SCHEMA``; ``people``: the name pools and
  stream; ``generate``: the seeded replica generator;
- ``tools``: the tools (``registry.TOOLS``); ``rules``: the prompt rules, the people and
  write targets, the scripted moves;
- ``context``, ``phrasing``, ``setups``, ``intents_l1`` .. ``intents_l4``: the task intents
  (``registry.INTENTS``);
- ``contract_samples``: the contract snapshot's sample arguments;
- fixtures: the repository's ``fixtures/`` (``tasks/``, ``contracts/``).
"""

from mock_apis.domain import Domain
from mock_apis.domains.finance import contract_samples, generate, models, people
from mock_apis.domains.finance import intents_l1, intents_l2, intents_l3, intents_l4, tools  # noqa: F401  (they register the intents and the tools, in this order)
from mock_apis.domains.finance.context import Ctx
from mock_apis.domains.finance.registry import INTENTS, TOOLS
from mock_apis.domains.finance.rules import RULES, SCRIPTED
from mock_apis.fixtures import FIXTURES

DOMAIN = Domain(
    name="finance",
    description="A wealth-management firm's back office: clients, accounts, holdings, funds, markets, orders.",
    tools=TOOLS,
    schema=models.SCHEMA,
    rules=RULES,
    intents=INTENTS,
    generate_replica=generate.generate_replica,
    default_seed=generate.DEFAULT_SEED,
    default_scale=generate.DEFAULT_SCALE,
    generator_version=generate.GENERATOR_VERSION,
    generator_modules=(generate, people, models),
    fixtures_dir=FIXTURES,
    task_context=Ctx,
    scripted=SCRIPTED,
    sample_arguments=contract_samples.sample_arguments,
)
