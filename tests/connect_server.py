"""A local Spark Connect server for one test run: its own free port, Delta, started and stopped by PID.

Its Python workers cannot import ``zenith`` (a stub package that refuses to load comes first on
their path), as on a remote cluster: a UDF that needs project code on the workers fails here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from zenith.lakehouse.connect import server_environment
from zenith.lakehouse.runtime import connect_server_command

# A small server for a shared 2-core machine.
TEST_SERVER_CONF = {
    "spark.master": "local[2]",
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
}
NO_ZENITH = 'raise ImportError("zenith is not importable on this Spark worker, as on a remote cluster")\n'


@dataclass
class ConnectServer:
    """A running server process and where it listens."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"sc://localhost:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 60) -> None:
        """Stop the server (and the Python workers it started) by its PID, which leads its own group."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)


def free_port() -> int:
    """A TCP port nobody listens on now, so concurrent test runs get different servers."""
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("localhost", port)) == 0


def start_server(workdir: Path, timeout: float = 300) -> ConnectServer:
    """Start a server in ``workdir`` and wait until it accepts connections; fail with its log if it dies."""
    stub = workdir / "worker-path" / "zenith"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(NO_ZENITH)
    env = server_environment()
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    env["PYTHONPATH"] = str(stub.parent)
    port = free_port()
    log = workdir / "connect-server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            connect_server_command(port, TEST_SERVER_CONF),
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ConnectServer(process, port, log)
    deadline = time.monotonic() + timeout
    while not listening(port):
        if process.poll() is not None:
            raise RuntimeError(
                f"the Spark Connect server exited with {process.returncode}:\n{server.log_tail()}"
            )
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                f"the Spark Connect server did not listen within {timeout}s:\n{server.log_tail()}"
            )
        time.sleep(1)
    return server
