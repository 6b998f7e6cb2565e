"""Daily-series benchmark: small runs in one warm Python process, against yardstick (a').

``python benchmarks/daily_series.py [--days 14] [--events 2000] [--json]``

A new lakehouse gets the generator's customers and products; then, day after day, one event file of
``--events`` events dated the next day lands and ``run_pipeline`` (what ``ELT.py`` runs: bronze,
silver, gold, the answers, the summary and the status) runs on it, in the same Python process and
Spark session. After each run the same session runs yardstick (a'): the plain PySpark batch
medallion (``plain_medallion.py``) over the dimensions and that day's file alone. The first run of
each warms the JVM and is not counted; the figure is the median of the runs from the 5th on.
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
from zenith.lakehouse.config import Config
from zenith.lakehouse.runtime import get_spark
from zenith.lakehouse.setup import setup_environment
from zenith.pipeline.params import RunParams
from zenith.pipeline.run import run_pipeline

FIRST_COUNTED = 5  # runs before the 5th warm the JVM, the caches and the tables' first commits
TARGET_SECONDS = 6.0
TARGET_RATIO = 2.0


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


def plain_job(spark, landing: Path, out: Path) -> float:
    """Yardstick (a') in the running session: seconds to write bronze, silver and gold for ``landing``."""
    started = time.monotonic()
    bronze(spark, landing, out)
    silver(spark, out)
    gold(spark, out)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
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
    runs, plain = [], []
    try:
        for day in range(1, args.days + 1):
            (event_file,) = generate(config, settings, log=lambda line: None).event_files
            started = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()):  # the answers' tables, printed each run
                run = run_pipeline(params, log=lambda line: None)
            runs.append(time.monotonic() - started)
            landing = day_landing(config, event_file, root / "plain-landing")
            plain.append(plain_job(spark, landing, root / "plain"))
            layers = ", ".join(f"{layer} {run.timings[layer]:.1f}" for layer in ("bronze", "silver", "gold"))
            print(
                f"day {day:3d}: run {runs[-1]:5.1f} s ({layers}); plain (a') {plain[-1]:4.1f} s", flush=True
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    run_median = statistics.median(runs[FIRST_COUNTED - 1 :])
    plain_median = statistics.median(plain[FIRST_COUNTED - 1 :])
    ratio = run_median / plain_median
    print(
        f"median of runs {FIRST_COUNTED}..{args.days}: {run_median:.1f} s (target <= {TARGET_SECONDS:.0f} s)"
    )
    print(f"(a') median: {plain_median:.1f} s; run / (a'): {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x)")
    if args.json:
        print(json.dumps({"runs": runs, "plain": plain, "median": run_median, "plain_median": plain_median}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
