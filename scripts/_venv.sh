# Sourced by scripts/run and scripts/test: make .venv with Leadbase installed from the lock file.
# Works on a fresh Debian with only python3: when the venv module cannot install pip (Debian
# ships ensurepip separately, in python3-venv), it installs python3-venv as root, or else makes
# the venv without pip and bootstraps pip from its wheel on PyPI.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
VENV="$ROOT/.venv"
EXTRAS=${EXTRAS:-}

if [ ! -x "$VENV/bin/pip" ]; then
  rm -rf "$VENV"
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv "$VENV"
    else
      "$PYTHON" -m venv --without-pip "$VENV"
      "$VENV/bin/python" - <<'PY'
import json, os, subprocess, sys, tempfile, urllib.request
meta = json.load(urllib.request.urlopen("https://pypi.org/pypi/pip/json"))
wheel = next(f for f in meta["urls"] if f["filename"].endswith(".whl"))
path = os.path.join(tempfile.mkdtemp(), wheel["filename"])
urllib.request.urlretrieve(wheel["url"], path)
subprocess.check_call([sys.executable, path + "/pip", "install", "-q", path])
PY
    fi
  fi
fi

# Reinstall only when the lock or the project metadata changed since the last install.
STAMP="$VENV/.installed-$EXTRAS"
if [ ! -f "$STAMP" ] || [ requirements.lock -nt "$STAMP" ] || [ requirements-test.lock -nt "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  LOCK=requirements.lock; [ -n "$EXTRAS" ] && LOCK=requirements-$EXTRAS.lock
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$LOCK"
  if [ -n "$EXTRAS" ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e ".[$EXTRAS]"
  else
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e .
  fi
  touch "$STAMP"
fi
