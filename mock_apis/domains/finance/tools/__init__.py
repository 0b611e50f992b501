"""Tool implementations. Importing this package registers every tool in the catalogue."""

from mock_apis.domains.finance.tools import clients, composite, funds, market, orders, portfolio  # noqa: F401
