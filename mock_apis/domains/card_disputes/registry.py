"""The card-disputes domain's registries: its tools (``TOOLS``, declared in ``tools``) and its
task intents (``INTENTS``, declared in ``intents_l1`` .. ``intents_l4``). Use the complete
registries through ``mock_apis.domain.get_domain("card_disputes")``: importing this module
alone registers nothing."""

from mock_apis.domain import IntentRegistry, ToolRegistry

TOOLS = ToolRegistry()
INTENTS = IntentRegistry()
