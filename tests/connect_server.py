"""The test run's own Spark Connect server: its own free port, Delta, started and stopped by PID.

Its Python workers cannot import ``zenith`` (a stub package that refuses to load comes first on
their path), as on a remote cluster: a UDF that needs project code on the workers fails here.
"""

from __future__ import annotations

from pathlib import Path

from tests.spark_conf import TEST_CONF
from zenith.lakehouse.connect_server import LocalConnectServer, start_local_server

# A small server for a shared 2-core machine, with the classic test session's settings.
TEST_SERVER_CONF = {**TEST_CONF, "spark.driver.memory": "2g"}
NO_ZENITH = 'raise ImportError("zenith is not importable on this Spark worker, as on a remote cluster")\n'


def start_server(workdir: Path) -> LocalConnectServer:
    """Start the server in ``workdir``, with the stub ``zenith`` first on its workers' path."""
    stub = workdir / "worker-path" / "zenith"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(NO_ZENITH)
    return start_local_server(workdir, TEST_SERVER_CONF, python_path=stub.parent)
