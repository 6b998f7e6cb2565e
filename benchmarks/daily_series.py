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
one a transaction and a new table version whose state the next read rebuilds.

After the last day it prints the first and the last ten runs' times, then runs ``zenith maintain
--retention-hours 0`` and prints each table's data files and bytes on disk before and after, against its
live bytes (the target: at most twice), and silver's data files per date.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

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
    runs, plain, commits = [], [], []
    try:
        for day in range(1, args.days + 1):
            (event_file,) = generate(config, settings, log=lambda line: None).event_files
            before = delta_commits(config.lakehouse)
            started = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()):  # the answers' tables, printed each run
                run = run_pipeline(params, log=lambda line: None)
            runs.append(time.monotonic() - started)
            landing = day_landing(config, event_file, root / "plain-landing")
            plain_before = delta_commits(root / "plain")
            plain.append(plain_job(spark, landing, root / "plain"))
            commits.append(
                (delta_commits(config.lakehouse) - before, delta_commits(root / "plain") - plain_before)
            )
            layers = ", ".join(f"{layer} {run.timings[layer]:.1f}" for layer in ("bronze", "silver", "gold"))
            print(
                f"day {day:3d}: run {runs[-1]:5.1f} s ({layers}), {commits[-1][0]} commits; "
                f"plain (a') {plain[-1]:4.1f} s, {commits[-1][1]} commits",
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
    if args.json:
        figures = {"runs": runs, "plain": plain, "commits": commits}
        print(json.dumps(figures | {"median": run_median, "plain_median": plain_median}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
