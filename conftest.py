"""Repository-level pytest setup, loaded before Django: a throwaway data dir for every run."""

import os
import tempfile

os.environ.setdefault("LEADBASE_DATA_DIR", tempfile.mkdtemp(prefix="leadbase-test-"))
os.environ.setdefault("EMAIL_URL", "console://")
