import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYLIB = os.path.join(os.path.dirname(os.path.dirname(HERE)), "pylib")
if PYLIB not in sys.path:
    sys.path.insert(0, PYLIB)

from arbor_server import ArborServer, free_port  # noqa: E402


@pytest.fixture(scope="session")
def arbor():
    """One server with OTLP/gRPC on a free port; `arbor.grpc_port` names it."""
    grpc_port = free_port()
    srv = ArborServer(org_name="otel-py", extra_args=["--otlp-grpc-listen", f"127.0.0.1:{grpc_port}"])
    srv.grpc_port = grpc_port
    srv.start()
    try:
        yield srv
    finally:
        srv.cleanup()
