"""The shipped domains, one package each (``finance``, ...). A domain package defines
``DOMAIN``, a ``mock_apis.domain.Domain``: look one up with ``mock_apis.domain.get_domain``."""
