"""Web test helpers: small data builders, imports run in-process."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _imports_run_in_the_test(settings):
    # Imports clean rows in worker processes; inside a test transaction they run in-process.
    settings.IMPORT_WORKERS = 1
