"""Deprecated: the drafting kit (``Draft``, ``Intent``, ``Skip``, ``pick``) is in
``mock_apis.domain``, the finance ``Ctx`` in ``mock_apis.domains.finance.context``, the
finance intents (``INTENTS``, ``intent``) in ``mock_apis.domains.finance.registry``."""

import warnings

from mock_apis.domain import Draft, Intent, Skip, get_domain, pick
from mock_apis.domains.finance.context import Ctx

warnings.warn("envs.tasks.context is deprecated: import mock_apis.domain and mock_apis.domains.finance",
              DeprecationWarning, stacklevel=2)

_FINANCE = get_domain("finance")
#: Level -> the finance intents, in definition order.
INTENTS = _FINANCE.intents.by_level
intent = _FINANCE.intents.intent

__all__ = ["INTENTS", "Ctx", "Draft", "Intent", "Skip", "intent", "pick"]
