"""Loaded with ``-p tests.envsetup`` (pyproject addopts) before pytest-django reads the settings:
a throwaway data dir per run, so tests never write into the working tree, and console mail."""

import os
import tempfile

os.environ.setdefault("LEADBASE_DATA_DIR", tempfile.mkdtemp(prefix="leadbase-test-"))
os.environ.setdefault("EMAIL_URL", "console://")
