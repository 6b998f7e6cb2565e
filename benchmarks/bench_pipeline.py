"""Cold-run benchmark: ``python ELT.py`` on N events in a fresh lakehouse, against DuckDB on the same files.

``python benchmarks/bench_pipeline.py [--events 1000000] [--files 100] [--incremental] [--json]``

The landing zone (N events with the generator's usual anomalies, 800 customers, 300 products) is
generated once per seed and size into a cache folder outside the repository and reused. Each run
links it into a new lakehouse, runs ``zenith setup`` and then ``python ELT.py`` as separate
processes, and prints the time until the Spark session was ready, the seconds of each layer and
each table or query (which ELT.py writes to ``$ZENITH_TIMINGS_FILE``), the whole-process time,
events per second and the peak memory (RSS summed over the process tree: Python, the JVM and
Python workers). ``benchmarks/duckdb_gold.py`` then computes the same gold tables with DuckDB
from the same files, also as its own process; the ratio of the two whole-process times is the
figure to compare between runs, because both share whatever else the machine is doing.

``--incremental`` then lands 1% more events in new files (the next days of the same demo data)
and times a second ``python ELT.py`` on the same lakehouse: a scheduled daily run. It prints that
run against the cold one, a third run with nothing new (the fixed cost of any run: JVM, session,
table and checkpoint look-ups), and the size of silver's deduplication state.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import psutil

from zenith.demo.generator import generate
from zenith.demo.settings import GeneratorSettings
from zenith.lakehouse import config as names
from zenith.lakehouse.config import LAKEHOUSE_ENV, LANDING, TIMINGS_FILE_ENV, Config

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path.home() / ".cache" / "zenith" / "bench"
READY = ".complete"
# Reading a JVM's memory map costs about 50 ms of CPU; once a second keeps the sampler out of the way.
POLL_SECONDS = 1.0


@dataclass
class ProcessRun:
    """One timed child process: wall seconds, peak RSS of its tree, its output and parsed timings."""

    name: str
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float = 0.0
    stdout: str = ""
    timings: dict = field(default_factory=dict)


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


def landing_zone(cache: Path, settings: GeneratorSettings) -> Path:
    """The cached landing volumes for ``settings``, generated on first use."""
    key = f"seed{settings.seed}-events{settings.events}-files{settings.files}-c{settings.customers}-p{settings.products}"
    folder = cache / key
    config = Config(lakehouse=folder)
    landing = config.volumes_root / LANDING
    if not (folder / READY).exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {settings.events:,} events into {folder} (once)...", file=sys.stderr)
        generate(config, settings, log=lambda _: None)
        (folder / READY).touch()
    return landing


def link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of ``source`` into ``target`` (copy where links are not possible)."""
    for path in source.rglob("*"):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


def fresh_lakehouse(workdir: Path, landing: Path) -> tuple[Path, dict[str, str]]:
    """A new lakehouse holding (links to) the cached landing files, and the environment to use it."""
    lakehouse = workdir / "lakehouse"
    link_tree(landing, Config(lakehouse=lakehouse).volumes_root / LANDING)
    env = {**os.environ, LAKEHOUSE_ENV: str(lakehouse), TIMINGS_FILE_ENV: str(workdir / "timings.json")}
    return lakehouse, env


def measure_elt(name: str, workdir: Path, log_name: str, env: dict[str, str]) -> ProcessRun:
    """Time one ``python ELT.py`` process and read the timings it wrote."""
    timings_file = Path(env[TIMINGS_FILE_ENV])
    timings_file.unlink(missing_ok=True)
    elt = run_measured(name, [sys.executable, "ELT.py"], workdir / log_name, env)
    if timings_file.exists():
        elt.timings = json.loads(timings_file.read_text())
        # The child stamps wall-clock times; the session's start-up counts from the process launch.
        ready_at = elt.timings.pop("session_ready_at", None)
        if ready_at is not None:
            elt.timings["session_ready"] = ready_at - (time.time() - elt.seconds)
    return elt


def run_elt(workdir: Path, env: dict[str, str]) -> ProcessRun:
    """``zenith setup`` then ``python ELT.py``, each its own process; the second one is the measure."""
    zenith = Path(sys.executable).with_name("zenith")
    run_measured("zenith setup", [str(zenith), "setup"], workdir / "setup.log", env)
    return measure_elt("python ELT.py", workdir, "elt.log", env)


def run_incremental(
    workdir: Path, lakehouse: Path, env: dict[str, str], settings: GeneratorSettings
) -> ProcessRun:
    """Land 1% more events in new files, then time ``python ELT.py`` again on the same lakehouse."""
    config = Config(lakehouse=lakehouse)
    generate(config, replace(settings, events=max(1, settings.events // 100)), log=lambda _: None)
    return measure_elt("python ELT.py (+1%)", workdir, "elt-incremental.log", env)


def run_nothing_new(workdir: Path, env: dict[str, str]) -> ProcessRun:
    """Time ``python ELT.py`` once more with no new files: what every run costs before any data."""
    return measure_elt("python ELT.py (nothing new)", workdir, "elt-noop.log", env)


def folder_mib(folder: Path) -> float:
    """The size of every file under ``folder``, in MiB."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def incremental_lines(
    cold: ProcessRun, incremental: ProcessRun, nothing_new: ProcessRun, state_mib: float
) -> list[str]:
    """The incremental run against the cold one, and the floor every run pays."""
    return [
        *timing_lines("incremental run (+1% new events), by part", incremental),
        *timing_lines("run with nothing new, by part", nothing_new),
        f"incremental run (+1% new events): {incremental.seconds:.1f} s ({incremental.cpu_seconds:.1f} CPU s), "
        f"peak RSS {incremental.peak_rss_mib:.0f} MiB",
        f"ratio incremental / cold run: {incremental.seconds / cold.seconds:.2f} wall time, "
        f"{incremental.cpu_seconds / cold.cpu_seconds:.2f} CPU time",
        f"run with nothing new (the floor of any run): {nothing_new.seconds:.1f} s "
        f"({nothing_new.cpu_seconds:.1f} CPU s), {nothing_new.seconds / cold.seconds:.2f} of the cold run",
        f"silver deduplication state on disk after the runs: {state_mib:.1f} MiB",
    ]


def run_duckdb(workdir: Path, landing: Path) -> ProcessRun:
    """The DuckDB yardstick as its own process; its stdout is a JSON line of row counts."""
    command = [
        sys.executable,
        str(REPO / "benchmarks" / "duckdb_gold.py"),
        str(landing),
        str(workdir / "duck"),
    ]
    duck = run_measured("duckdb", command, workdir / "duckdb.log")
    duck.timings = json.loads(duck.stdout.strip().splitlines()[-1])
    return duck


def timing_lines(title: str, elt: ProcessRun) -> list[str]:
    """Session start-up, each layer and each table or query of one ELT.py run, then the rest."""
    timings = dict(elt.timings)
    ready = timings.pop("session_ready", None)
    lines = [title]
    lines.append(
        f"  {'Spark session ready':<44} {ready:>8.1f} s" if ready is not None else "  (no timings file)"
    )
    for name, seconds in timings.items():
        indent = "  " if "." not in name else "    "
        lines.append(f"{indent}{name:<{46 - len(indent)}} {seconds:>8.1f} s")
    layers = sum(seconds for name, seconds in timings.items() if "." not in name)
    if ready is not None:
        rest = elt.seconds - ready - layers
        lines.append(f"  {'analytics, data quality, summary and exit':<44} {rest:>8.1f} s")
    lines.append(f"  {'whole process':<44} {elt.seconds:>8.1f} s")
    return lines


def report_lines(events: int, elt: ProcessRun, duck: ProcessRun) -> list[str]:
    """The human-readable report."""
    return [
        *timing_lines(f"cold run of python ELT.py on {events:,} events", elt),
        f"  {'events/s':<44} {events / elt.seconds:>10,.0f}",
        f"  {'CPU seconds (process tree)':<44} {elt.cpu_seconds:>8.1f} s",
        f"  {'peak RSS (process tree, PSS)':<44} {elt.peak_rss_mib:>8.0f} MiB",
        f"duckdb on the same files: {duck.seconds:.1f} s ({duck.cpu_seconds:.1f} CPU s), "
        f"peak RSS {duck.peak_rss_mib:.0f} MiB, rows {duck.timings}",
        f"ratio ELT.py / DuckDB (whole processes): {elt.seconds / duck.seconds:.1f}x wall time, "
        f"{elt.cpu_seconds / duck.cpu_seconds:.1f}x CPU time",
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the landing zone")
    parser.add_argument("--files", type=int, default=100, help="event files they are spread over")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where landing zones are kept")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark lakehouse and print where")
    parser.add_argument(
        "--incremental", action="store_true", help="then add 1%% new events and time a second run"
    )
    parser.add_argument("--json", action="store_true", help="also print one machine-readable JSON line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = GeneratorSettings(
        seed=args.seed, events=args.events, files=args.files, customers=800, products=300
    )
    landing = landing_zone(args.cache.expanduser(), settings)
    workdir = Path(tempfile.mkdtemp(prefix="zenith-bench-"))
    incremental, nothing_new, state_mib = None, None, 0.0
    try:
        lakehouse, env = fresh_lakehouse(workdir, landing)
        elt = run_elt(workdir, env)
        duck = run_duckdb(workdir, landing)
        if args.incremental:
            incremental = run_incremental(workdir, lakehouse, env, settings)
            nothing_new = run_nothing_new(workdir, env)
            state_mib = folder_mib(Config(lakehouse=lakehouse).checkpoint(names.SILVER_ACTIVITY) / "state")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(report_lines(args.events, elt, duck)))
    if incremental is not None:
        print("\n".join(incremental_lines(elt, incremental, nothing_new, state_mib)))
    if args.keep:
        print(f"lakehouse kept at {lakehouse}")
    if args.json:
        result = {
            "events": args.events,
            "files": args.files,
            "elt": asdict(elt) | {"stdout": None},
            "duckdb": asdict(duck) | {"stdout": None},
            "ratio": elt.seconds / duck.seconds,
            "cpu_ratio": elt.cpu_seconds / duck.cpu_seconds,
        }
        if incremental is not None:
            result |= {
                "incremental": asdict(incremental) | {"stdout": None},
                "incremental_ratio": incremental.seconds / elt.seconds,
                "nothing_new": asdict(nothing_new) | {"stdout": None},
                "silver_state_mib": state_mib,
            }
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
