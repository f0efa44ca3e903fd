import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYLIB = os.path.join(os.path.dirname(HERE), "pylib")
for p in (PYLIB, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

from arbor_server import DEFAULT_BIN  # noqa: E402


def arbor_binary():
    return os.environ.get("ARBOR_BIN", DEFAULT_BIN)


def pytest_sessionstart(session):
    b = arbor_binary()
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        pytest.exit(f"arbor binary not found at {b} (build it, or set ARBOR_BIN)", returncode=3)
