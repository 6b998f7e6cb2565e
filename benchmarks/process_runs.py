"""Timing one benchmark process: wall seconds, CPU seconds and peak memory of its tree, Spark jobs.

Every process the benchmark compares (``python ELT.py``, the yardsticks, the Spark Connect
clients) runs through ``run_measured``, so their figures are taken the same way. Spark jobs are
counted from Spark's event log: ``event_log_env`` turns it on for a child's local Spark through
``PYSPARK_SUBMIT_ARGS`` (no change to the code it runs), ``count_jobs`` reads it back.
"""

from __future__ import annotations

import resource
import shlex
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
# Reading a JVM's memory map costs about 50 ms of CPU; once a second keeps the sampler out of the way.
POLL_SECONDS = 1.0
JOB_START = '{"Event":"SparkListenerJobStart"'


@dataclass
class ProcessRun:
    """One timed child process: wall seconds, peak PSS of its tree, CPU, output, timings and Spark jobs."""

    name: str
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float = 0.0
    stdout: str = ""
    timings: dict = field(default_factory=dict)
    jobs: int | None = None  # Spark jobs the run started, when its event log was on


def proportional_set_size(pid: int) -> int:
    """A process's PSS in bytes, from the kernel's one-line summary (cheaper than psutil's full smaps)."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def sample_tree(process: psutil.Process, cpu: dict[int, float]) -> int:
    """Memory of a process and all its descendants, in bytes; updates ``cpu`` (seconds by pid).

    Memory is the sum of their proportional set sizes: PSS counts a page shared by several
    processes once in all, where RSS would count the pages PySpark's forked Python workers share
    with their daemon once per worker.
    """
    total = 0
    for member in (process, *process.children(recursive=True)):
        with suppress(psutil.Error, OSError):
            times = member.cpu_times()
            cpu[member.pid] = times.user + times.system
            total += proportional_set_size(member.pid)
    return total


def run_measured(name: str, command: list[str], log: Path, env: dict[str, str] | None = None) -> ProcessRun:
    """Run ``command`` to completion, output to ``log``, sampling its process tree's memory and CPU.

    Exits with the end of the output if the command fails.
    """
    began = time.time()
    cpu: dict[int, float] = {}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
        watched = psutil.Process(process.pid)
        peak = 0
        while True:
            with suppress(psutil.Error):
                peak = max(peak, sample_tree(watched, cpu))
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=POLL_SECONDS)  # returns as soon as the process ends
                break
    seconds = time.time() - began
    text = log.read_text()
    if process.returncode != 0:
        sys.exit(f"{name} failed with exit code {process.returncode}:\n{text[-4000:]}")
    # A process that ends between two samples leaves its last CPU unsampled; the kernel's account of
    # the reaped child (and the descendants it waited for) covers it, so the larger figure counts.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
    return ProcessRun(name, seconds, peak / 2**20, max(sum(cpu.values()), reaped), text)


# --- Spark's event log ------------------------------------------------------------------------
def event_log_conf(folder: Path) -> dict[str, str]:
    """Spark settings that write one uncompressed, unrolled event log per application into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": folder.resolve().as_uri(),
        "spark.eventLog.compress": "false",
        "spark.eventLog.rolling.enabled": "false",
    }


def event_log_env(env: dict[str, str], folder: Path) -> dict[str, str]:
    """``env`` with ``PYSPARK_SUBMIT_ARGS`` set so that the child's local Spark logs its events to ``folder``.

    PySpark passes these arguments to ``spark-submit`` after the session builder's own settings,
    which they do not overlap.
    """
    conf = " ".join(
        f"--conf {shlex.quote(f'{key}={value}')}" for key, value in event_log_conf(folder).items()
    )
    return {**env, "PYSPARK_SUBMIT_ARGS": f"{conf} pyspark-shell"}


def count_jobs(folder: Path) -> int:
    """The Spark jobs started in every event log under ``folder`` (finished or still in progress)."""
    jobs = 0
    for path in folder.glob("*"):
        with path.open(errors="replace") as log:
            jobs += sum(line.startswith(JOB_START) for line in log)
    return jobs


def settled_job_count(folder: Path, wait: float = 1.0, limit: float = 15.0) -> int:
    """``count_jobs`` once it stops changing: a live server's listener writes its events a moment late."""
    deadline = time.monotonic() + limit
    count = count_jobs(folder)
    while time.monotonic() < deadline:
        time.sleep(wait)
        again = count_jobs(folder)
        if again == count:
            break
        count = again
    return count


def measure_spark(name: str, command: list[str], log: Path, env: dict[str, str], events: Path) -> ProcessRun:
    """``run_measured`` for a local Spark process, with the jobs counted from its own event log."""
    run = run_measured(name, command, log, event_log_env(env, events))
    run.jobs = count_jobs(events)
    return run


def python_script(script: str, *args: object) -> list[str]:
    """The command that runs ``benchmarks/<script>`` with this interpreter."""
    return [sys.executable, str(REPO / "benchmarks" / script), *map(str, args)]
