"""The pipeline through a warm Spark Connect server: ``bench_pipeline.py --connect``.

A local server (``zenith.lakehouse.connect_server``: the pipeline's jars and settings) listens on
a free port of 127.0.0.1 only, with its event log on. On a lakehouse of its own, holding the same
landing files, a client runs ``zenith setup`` and one cold ``python ELT.py`` (the untimed warm-up:
the server's JVM, caches and compiled code get warm), then the incremental series with
``ZENITH_SPARK_REMOTE`` set. Each client is a whole process, timed like every other
run; its Spark jobs are those the server's event log gained while it ran. The server is stopped
by its PID at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elt_runs import IncrementalRuns, fresh_lakehouse, incremental_series, measure_elt, setup_lakehouse
from process_runs import ProcessRun, event_log_conf, settled_job_count

from zenith.demo.settings import GeneratorSettings
from zenith.lakehouse.connect import REMOTE_ENVS
from zenith.lakehouse.connect_server import LocalConnectServer, start_local_server
from zenith.lakehouse.errors import ZenithError


@dataclass
class ConnectServer:
    """A running local server and the folder of its event log, where its Spark jobs are counted."""

    server: LocalConnectServer
    events: Path

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

    def measure_client(self, name: str, workdir: Path, log_name: str, env: dict[str, str]) -> ProcessRun:
        """Time one ``python ELT.py`` client process; its jobs are those the server started meanwhile."""
        before = settled_job_count(self.events)
        run = measure_elt(name, workdir, log_name, env, jobs=False)
        run.jobs = settled_job_count(self.events) - before
        return run


def start_server(workdir: Path) -> ConnectServer:
    """Start a server in ``workdir`` with its event log on; exit with its log if it fails."""
    events = workdir / "server-event-log"
    try:
        return ConnectServer(start_local_server(workdir, event_log_conf(events)), events)
    except ZenithError as exc:
        raise SystemExit(str(exc)) from None


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
