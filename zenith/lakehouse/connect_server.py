"""A local Spark Connect server run as a child process: the test suite's and the benchmark's.

``zenith connect-server`` runs the same server in the foreground instead; both use
``runtime.connect_server_command``, so the server has the pipeline's jars and settings.
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
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.runtime import connect_server_command

LOOPBACK = "127.0.0.1"


@dataclass
class LocalConnectServer:
    """A running server process, the loopback port it listens on, and its log file."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"sc://{LOOPBACK}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 60) -> None:
        """Stop the server and the Python workers it started, by its PID (the leader of their group)."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)


def free_port() -> int:
    """A loopback TCP port nobody listens on now, so concurrent runs get different servers."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def accepts(port: int) -> bool:
    """True when something accepts connections on the loopback ``port``."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((LOOPBACK, port)) == 0


def start_local_server(
    workdir: Path,
    conf: dict[str, str] | None = None,
    python_path: Path | None = None,
    timeout: float = 300,
) -> LocalConnectServer:
    """Start a server in ``workdir`` and wait until it accepts connections.

    ``conf`` adds Spark settings; ``python_path`` goes first on its Python workers' path. A server
    that exits or does not listen within ``timeout`` seconds is an error that quotes its log.
    """
    port = free_port()
    env = server_environment()
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    log = workdir / "connect-server.log"
    settings = {**(conf or {}), "spark.connect.grpc.binding.address": LOOPBACK}
    with log.open("w") as out:
        process = subprocess.Popen(
            connect_server_command(port, settings),
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, led by its PID
        )
    server = LocalConnectServer(process, port, log)
    deadline = time.monotonic() + timeout
    while not accepts(port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise ZenithError(f"the Spark Connect server did not start (log {log}):\n{server.log_tail()}")
        time.sleep(1)
    return server
