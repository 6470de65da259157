"""Fixtures of the access tests, one module per area."""

from tests.access.enforce_fixtures import ehr, fresh_pdp  # noqa: F401
