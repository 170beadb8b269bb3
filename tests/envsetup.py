"""Loaded with ``-p tests.envsetup`` (pyproject addopts) before pytest-django reads the settings:
a throwaway data dir per run, so tests never write into the working tree, and console mail.

Hypothesis runs without its per-example deadline: the suite runs on every core at once, and an
example that writes a file or a database row can stall for a moment on a busy machine. The
properties are what the tests check; speed is measured by ``benchmarks/``."""

import os
import tempfile

from hypothesis import settings

os.environ.setdefault("LEADBASE_DATA_DIR", tempfile.mkdtemp(prefix="leadbase-test-"))
os.environ.setdefault("EMAIL_URL", "console://")

settings.register_profile("leadbase", deadline=None)
settings.load_profile("leadbase")
