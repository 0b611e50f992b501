"""De-identification: keyed pseudonyms (``Pseudonymiser``) and replicas built from a real
database (``build_replica``)."""

from mock_apis.deid.build import BuildError, SchemaDrift, SchemaProblem, build_replica, manifest_path
from mock_apis.deid.pseudonymise import (KINDS, PII_COLUMNS, DeidKeyError, Pseudonymiser, key_fingerprint,
                                         load_key)

__all__ = ["KINDS", "PII_COLUMNS", "BuildError", "DeidKeyError", "Pseudonymiser", "SchemaDrift", "SchemaProblem",
           "build_replica", "key_fingerprint", "load_key", "manifest_path"]
