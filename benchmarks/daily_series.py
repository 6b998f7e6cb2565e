"""Daily-series benchmark: small runs in one warm Python process, against yardstick (a').

``python benchmarks/daily_series.py [--days 60] [--events 2000] [--json]``

A new lakehouse gets the generator's customers and products; then, day after day, one event file of
``--events`` events dated the next day lands and ``run_pipeline`` (what ``ELT.py`` runs: bronze,
silver, gold, the answers, the summary and the status) runs on it, in the same Python process and
Spark session. After each run the same session runs yardstick (a'): the plain PySpark batch
medallion (``plain_medallion.py``) over the dimensions and that day's file alone. The first run of
each warms the JVM and is not counted; the figure is the median of the runs from the 5th on.

Each run's line also counts the Delta commits it made (new commit files in the tables' logs, counted
after the run, outside its time) beside those of (a'): a small run's cost follows its commits, each
one a transaction and a new table version whose state the next read rebuilds. It also gives the CPU
seconds the session's JVM spent on each, by what its threads do (Linux only, from ``/proc``): the JIT
compilers, Spark's task threads, the garbage collector, and the rest of the driver (planning, Delta's
log and commits, the streams). The work on the rows is the task threads' share.

After the last day it prints the first and the last ten runs' times, then runs ``zenith maintain
--retention-hours 0`` and prints each table's data files and bytes on disk before and after, against its
live bytes (the target: at most twice), and silver's data files per date.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from plain_medallion import bronze, gold, silver

from zenith.demo.generator import generate
from zenith.demo.settings import GeneratorSettings
from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.maintenance import files_on_disk, maintain
from zenith.lakehouse.manifest import DELTA_COMMIT
from zenith.lakehouse.runtime import get_spark
from zenith.lakehouse.setup import setup_environment
from zenith.pipeline.params import RunParams
from zenith.pipeline.run import run_pipeline

FIRST_COUNTED = 5  # runs before the 5th warm the JVM, the caches and the tables' first commits
TARGET_SECONDS = 6.0
TARGET_RATIO = 2.0
DISK_TO_LIVE = 2.0  # after maintain: no table's files on disk more than twice its live bytes
# The JVM's threads by what they do, from the start of their names (Linux truncates them to 15 characters).
THREAD_KINDS = {
    "jit": ("C1 CompilerThre", "C2 CompilerThre", "Sweeper thread"),
    "tasks": ("Executor task l",),
    "gc": ("GC Thread", "VM Thread"),
}
CPU_KINDS = (*THREAD_KINDS, "driver")  # the driver: every other thread, and those that ended meanwhile


def day_landing(config: Config, event_file: Path, folder: Path) -> Path:
    """A landing folder holding the dimensions and one event file (links, no copies)."""
    shutil.rmtree(folder, ignore_errors=True)
    for source, target in (
        (config.customers_landing, folder / "batch" / "customers"),
        (config.products_landing, folder / "batch" / "products"),
    ):
        target.mkdir(parents=True)
        for path in source.iterdir():
            (target / path.name).symlink_to(path)
    events = folder / "streaming" / "user_events"
    events.mkdir(parents=True)
    (events / event_file.name).symlink_to(event_file)
    return folder


def delta_commits(folder: Path) -> int:
    """The Delta commit files in every table log under ``folder``: a run's commits are the difference."""
    return sum(
        1
        for log in folder.rglob("_delta_log")
        for entry in log.iterdir()
        if DELTA_COMMIT.fullmatch(entry.name)
    )


def local_jvm() -> psutil.Process | None:
    """This process's local Spark JVM (a child named java); None through Spark Connect or without ``/proc``."""
    if not Path("/proc/self/task").is_dir():
        return None
    return next((child for child in psutil.Process().children() if child.name() == "java"), None)


def jvm_cpu(jvm: psutil.Process | None) -> tuple[float, dict[int, tuple[str, float]]]:
    """The JVM's CPU seconds so far, and each live thread's (name, CPU seconds); nothing without a JVM."""
    if jvm is None:
        return 0.0, {}
    tick, threads = os.sysconf("SC_CLK_TCK"), {}
    for stat in Path(f"/proc/{jvm.pid}/task").glob("*/stat"):
        try:
            text = stat.read_text()  # "tid (name) state ...": utime and stime are fields 14 and 15
        except OSError:  # the thread ended while the folder was read
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        threads[int(stat.parent.name)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    times = jvm.cpu_times()
    return times.user + times.system, threads


def cpu_by_kind(before: tuple, after: tuple) -> dict[str, float]:
    """CPU seconds the JVM spent between two ``jvm_cpu`` readings, by ``CPU_KINDS``."""
    (total_before, threads_before), (total_after, threads_after) = before, after
    spent = dict.fromkeys(CPU_KINDS, 0.0)
    for tid, (name, seconds) in threads_after.items():
        kind = next((k for k, starts in THREAD_KINDS.items() if name.startswith(starts)), "driver")
        spent[kind] += seconds - threads_before.get(tid, (name, 0.0))[1]
    spent["driver"] = total_after - total_before - sum(spent[kind] for kind in THREAD_KINDS)
    return spent


def cpu_text(spent: dict[str, float]) -> str:
    """``cpu jit 3.1, tasks 4.2, gc 0.4, driver 5.2 s``, or nothing when the JVM could not be read."""
    if not any(spent.values()):
        return ""
    return "; cpu " + ", ".join(f"{kind} {seconds:.1f}" for kind, seconds in spent.items()) + " s"


def plain_job(spark, landing: Path, out: Path) -> float:
    """Yardstick (a') in the running session: seconds to write bronze, silver and gold for ``landing``."""
    started = time.monotonic()
    bronze(spark, landing, out)
    silver(spark, out)
    gold(spark, out)
    return time.monotonic() - started


def print_storage(spark, config: Config, runs: list[float]) -> None:
    """The first and last ten runs' times; each table's files before and after ``maintain`` at 0 hours."""
    for label, some in (("first", runs[:10]), ("last", runs[-10:])):
        print(f"{label} {len(some)} runs: " + " ".join(f"{seconds:.1f}" for seconds in some) + " s")
    done = maintain(spark, config, retention_hours=0, log=lambda line: None)
    print(f"{'table':<40} {'on disk before':>22} {'on disk after':>22} {'live':>10} {'disk/live':>9}")
    for report in done:
        live, after = report.live_after, report.disk_after
        ratio = after.size / live.size if live.size else 1.0
        met = "" if ratio <= DISK_TO_LIVE else f"  (target <= {DISK_TO_LIVE:.0f}x: not met)"
        name = f"{report.table.schema}.{report.table.name}"
        print(f"{name:<40} {report.disk_before!s:>22} {after!s:>22} {live.size:>10,d} {ratio:>8.2f}x{met}")
    worst = max(report.disk_after.size / max(report.live_after.size, 1) for report in done)
    print(f"largest disk/live after maintain: {worst:.2f}x (target <= {DISK_TO_LIVE:.0f}x)")
    silver = config.table_path(names.SILVER_ACTIVITY)
    per_date = [files_on_disk(folder).count for folder in sorted(silver.glob("event_date=*"))]
    print(
        f"silver data files per date after maintain: at most {max(per_date)}, median "
        f"{statistics.median(per_date):g}, over {len(per_date)} dates"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args(argv)
    if args.days < FIRST_COUNTED:
        parser.error(f"--days: at least {FIRST_COUNTED}, the first run counted")
    root = Path(tempfile.mkdtemp(prefix="zenith-daily-"))
    config = Config(lakehouse=root / "lakehouse")
    spark = get_spark(config, app_name="zenith-daily-series")
    setup_environment(spark, config)
    settings = GeneratorSettings(customers=800, products=300, events=args.events, files=1, days=1)
    params = RunParams(lakehouse=str(config.lakehouse))
    runs, plain, commits, cpu = [], [], [], []
    jvm = local_jvm()
    try:
        for day in range(1, args.days + 1):
            (event_file,) = generate(config, settings, log=lambda line: None).event_files
            before = delta_commits(config.lakehouse)
            cpu_before = jvm_cpu(jvm)
            started = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()):  # the answers' tables, printed each run
                run = run_pipeline(params, log=lambda line: None)
            runs.append(time.monotonic() - started)
            cpu_run = jvm_cpu(jvm)
            landing = day_landing(config, event_file, root / "plain-landing")
            plain_before = delta_commits(root / "plain")
            plain.append(plain_job(spark, landing, root / "plain"))
            cpu.append((cpu_by_kind(cpu_before, cpu_run), cpu_by_kind(cpu_run, jvm_cpu(jvm))))
            commits.append(
                (delta_commits(config.lakehouse) - before, delta_commits(root / "plain") - plain_before)
            )
            layers = ", ".join(f"{layer} {run.timings[layer]:.1f}" for layer in ("bronze", "silver", "gold"))
            print(
                f"day {day:3d}: run {runs[-1]:5.1f} s ({layers}), {commits[-1][0]} commits{cpu_text(cpu[-1][0])}; "
                f"plain (a') {plain[-1]:4.1f} s, {commits[-1][1]} commits{cpu_text(cpu[-1][1])}",
                flush=True,
            )
        print_storage(spark, config, runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    run_median = statistics.median(runs[FIRST_COUNTED - 1 :])
    plain_median = statistics.median(plain[FIRST_COUNTED - 1 :])
    ratio = run_median / plain_median
    print(
        f"median of runs {FIRST_COUNTED}..{args.days}: {run_median:.1f} s (target <= {TARGET_SECONDS:.0f} s)"
    )
    print(f"(a') median: {plain_median:.1f} s; run / (a'): {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x)")
    counted = commits[FIRST_COUNTED - 1 :]
    print(
        f"Delta commits per run from run {FIRST_COUNTED} on: {statistics.median(c for c, _ in counted):g} "
        f"(median), (a') {statistics.median(p for _, p in counted):g}"
    )
    for label, side in (("run", 0), ("(a')", 1)):
        spent = {
            kind: statistics.median(c[side][kind] for c in cpu[FIRST_COUNTED - 1 :]) for kind in CPU_KINDS
        }
        if any(spent.values()):
            print(
                f"JVM CPU per {label} from run {FIRST_COUNTED} on (medians){cpu_text(spent).removeprefix(';')}"
            )
    if args.json:
        figures = {"runs": runs, "plain": plain, "commits": commits, "cpu": cpu}
        print(json.dumps(figures | {"median": run_median, "plain_median": plain_median}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
