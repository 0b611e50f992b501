"""Deprecated: the finance tools live in ``mock_apis.domains.finance.tools``."""

from mock_apis.deprecation import alias_package

alias_package(__name__, "mock_apis.domains.finance.tools")
