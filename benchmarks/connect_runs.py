"""The pipeline through a warm Spark Connect server: ``bench_pipeline.py --connect``.

A local server (``zenith.lakehouse.runtime.connect_server_command``: the pipeline's jars and
settings) listens on a free port of 127.0.0.1 only, with its event log on. On a lakehouse of its
own, holding the same landing files, a client runs ``zenith setup`` and one cold ``python ELT.py``
(the untimed warm-up: the server's JVM, caches and compiled code get warm), then the incremental
series with ``ZENITH_SPARK_REMOTE`` set. Each client is a whole process, timed like every other
run; its Spark jobs are those the server's event log gained while it ran. The server is stopped
by its PID at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from elt_runs import IncrementalRuns, fresh_lakehouse, incremental_series, measure_elt, setup_lakehouse
from process_runs import ProcessRun, event_log_conf, settled_job_count

from zenith.demo.settings import GeneratorSettings
from zenith.lakehouse.connect import REMOTE_ENVS, server_environment
from zenith.lakehouse.runtime import connect_server_command

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 300


@dataclass
class ConnectServer:
    """A running Spark Connect server: its process, port, log file and event-log folder."""

    process: subprocess.Popen
    port: int
    log: Path
    events: Path

    @property
    def url(self) -> str:
        return f"sc://{LOOPBACK}:{self.port}"

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

    def measure_client(self, name: str, workdir: Path, log_name: str, env: dict[str, str]) -> ProcessRun:
        """Time one ``python ELT.py`` client process; its jobs are those the server started meanwhile."""
        before = settled_job_count(self.events)
        run = measure_elt(name, workdir, log_name, env, jobs=False)
        run.jobs = settled_job_count(self.events) - before
        return run


def free_loopback_port() -> int:
    """A TCP port of 127.0.0.1 that nobody listens on now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def accepts(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((LOOPBACK, port)) == 0


def start_server(workdir: Path) -> ConnectServer:
    """Start a server in ``workdir`` and wait until it accepts connections; exit with its log if it fails."""
    port = free_loopback_port()
    events = workdir / "server-event-log"
    conf = {**event_log_conf(events), "spark.connect.grpc.binding.address": LOOPBACK}
    env = server_environment()
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    log = workdir / "connect-server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            connect_server_command(port, conf),
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, led by its PID
        )
    server = ConnectServer(process, port, log, events)
    deadline = time.monotonic() + START_TIMEOUT
    while not accepts(port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            tail = log.read_text(errors="replace").splitlines()[-30:]
            raise SystemExit("the Spark Connect server did not start:\n" + "\n".join(tail))
        time.sleep(1)
    return server


@dataclass
class ConnectRuns:
    """The untimed warm-up (a cold run through the server), then the timed incremental series."""

    warm_up: ProcessRun
    series: IncrementalRuns


def run_connect(workdir: Path, landing: Path, settings: GeneratorSettings) -> ConnectRuns:
    """Start a server, run the pipeline through it on a lakehouse of its own, stop the server."""
    folder = workdir / "connect"
    folder.mkdir()
    lakehouse, env = fresh_lakehouse(folder, landing)
    server = start_server(folder)
    try:
        env = {**env, REMOTE_ENVS[0]: server.url}
        setup_lakehouse(folder, env)

        def measure(name: str, log_name: str) -> ProcessRun:
            return server.measure_client(name, folder, log_name, env)

        warm_up = measure("python ELT.py via Connect (untimed warm-up)", "elt-warm-up.log")
        series = incremental_series(lakehouse, settings, measure, " via Connect", "elt-connect")
    finally:
        server.stop()
    return ConnectRuns(warm_up, series)
