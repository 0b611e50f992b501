"""The finance domain's registries: its tools (``TOOLS``, declared with ``@tool`` and
``@tool_version`` in ``mock_apis.domains.finance.tools``) and its task intents (``INTENTS``,
declared with ``@intent`` in ``intents_l1`` .. ``intents_l4``). Use the complete registries
through ``mock_apis.domain.get_domain("finance")``: importing this module alone registers
nothing."""

from mock_apis.domain import IntentRegistry, ToolRegistry

TOOLS = ToolRegistry()
tool = TOOLS.tool
tool_version = TOOLS.tool_version

INTENTS = IntentRegistry()
intent = INTENTS.intent
