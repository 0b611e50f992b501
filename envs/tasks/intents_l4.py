"""Deprecated: moved to ``mock_apis.domains.finance.intents_l4``."""

from mock_apis.deprecation import alias_module

alias_module(__name__, "mock_apis.domains.finance.intents_l4")
