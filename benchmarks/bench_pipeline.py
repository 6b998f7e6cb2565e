"""Cold-run benchmark: ``python ELT.py`` on N events in a fresh lakehouse, against its yardsticks.

``python benchmarks/bench_pipeline.py [--events 1000000] [--files 100] [--incremental] [--connect] [--json]``

The landing zone (N events with the generator's usual anomalies, 800 customers, 300 products) is
generated once per seed and size into a cache folder outside the repository and reused. Each run
links it into a new lakehouse, runs ``zenith setup`` and then ``python ELT.py`` as separate
processes, and prints the time until the Spark session was ready, the seconds of each layer and
each table or query (which ELT.py writes to ``$ZENITH_TIMINGS_FILE``), the whole-process time,
events per second, the CPU seconds and peak memory (PSS summed over the process tree: Python, the
JVM and Python workers) and the Spark jobs (counted from Spark's event log, turned on for each
local Spark child through ``PYSPARK_SUBMIT_ARGS``).

Yardsticks on the same landing files, each its own process timed the same way:
``benchmarks/duckdb_gold.py`` (the gold tables with DuckDB), ``benchmarks/plain_medallion.py``
(a: the medallion as a plain PySpark batch job, same Spark builder) and
``benchmarks/spark_floor.py`` (b: start the same Spark, count the bronze table, stop). Ratios of
whole processes measured in one run are the figures to compare; each prints with its target.

``--incremental`` then lands 1% more events in new files and times ``python ELT.py`` on the same
lakehouse, then a run with nothing new, then a run with one new event (its Spark jobs); and the
plain job (a) over the dimensions and the +1% files only: what Spark needs for that data, with no
history to deduplicate against or merge into.
``--connect`` times the same series through a warm Spark Connect server after one untimed run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench_report import (
    Target,
    cold_lines,
    cold_targets,
    connect_lines,
    connect_targets,
    incremental_lines,
    incremental_targets,
    run_json,
    series_json,
)
from connect_runs import run_connect
from elt_runs import (
    fresh_lakehouse,
    incremental_series,
    landing_zone,
    measure_elt,
    new_files_landing,
    run_duckdb,
    run_plain_job,
    run_spark_floor,
    setup_lakehouse,
    silver_mib,
)

from zenith.demo.settings import GeneratorSettings

DEFAULT_CACHE = Path.home() / ".cache" / "zenith" / "bench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the landing zone")
    parser.add_argument("--files", type=int, default=100, help="event files they are spread over")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where landing zones are kept")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark folder and print where")
    parser.add_argument(
        "--incremental", action="store_true", help="then add 1%% new events, nothing, one event: a run each"
    )
    parser.add_argument(
        "--connect",
        action="store_true",
        help="also time the incremental runs through a warm Spark Connect server",
    )
    parser.add_argument("--json", action="store_true", help="also print one machine-readable JSON line")
    return parser.parse_args(argv)


def run_benchmark(
    args: argparse.Namespace, settings: GeneratorSettings, workdir: Path
) -> tuple[list[str], dict]:
    """Every timed process in order; the report's lines and the JSON figures."""
    landing = landing_zone(args.cache.expanduser(), settings)
    lakehouse, env = fresh_lakehouse(workdir, landing)
    setup_lakehouse(workdir, env)
    cold = measure_elt("python ELT.py", workdir, "elt.log", env)
    floor = run_spark_floor(workdir, lakehouse)
    plain = run_plain_job(workdir, landing)
    duck = run_duckdb(workdir, landing)
    lines = cold_lines(args.events, cold, duck, plain, floor)
    targets = cold_targets(args.events, cold, plain)
    result = {
        "events": args.events,
        "files": args.files,
        "elt": run_json(cold),
        "duckdb": run_json(duck),
        "plain": run_json(plain),
        "floor": run_json(floor),
        "ratio": cold.seconds / duck.seconds,
        "cpu_ratio": cold.cpu_seconds / duck.cpu_seconds,
    }
    if args.incremental:

        def measure(name: str, log_name: str):
            return measure_elt(name, workdir, log_name, env)

        series = incremental_series(lakehouse, settings, measure)
        silver_size_mib = silver_mib(lakehouse)
        # What Spark alone needs for the +1%: the plain job over the dimensions and the new files only.
        subset = new_files_landing(workdir, lakehouse, series.new_files)
        plain_new = run_plain_job(workdir, subset, "plain job (a), new files only", "plain-new")
        lines += incremental_lines(cold, series, silver_size_mib, plain_new)
        targets += incremental_targets(cold, series, floor, plain_new)
        result |= series_json(series, floor, plain) | {"silver_mib": silver_size_mib}
        result["plain_new_files"] = run_json(plain_new)
        result["incremental_ratio"] = series.plus_one.seconds / cold.seconds
    if args.connect:
        connect = run_connect(workdir, landing, settings)
        lines += connect_lines(connect)
        targets += connect_targets(connect, plain)
        result["connect"] = {"warm_up": run_json(connect.warm_up)} | series_json(connect.series, floor, plain)
    result["targets"] = [target_json(target) for target in targets]
    return [*lines, *(target.line() for target in targets)], result


def target_json(target: Target) -> dict:
    """A target as JSON: name, value, limit and whether it is met."""
    return {"name": target.name, "value": target.value, "limit": target.limit, "met": target.met}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = GeneratorSettings(
        seed=args.seed, events=args.events, files=args.files, customers=800, products=300
    )
    workdir = Path(tempfile.mkdtemp(prefix="zenith-bench-"))
    try:
        lines, result = run_benchmark(args, settings, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(lines))
    if args.keep:
        print(f"benchmark folder (lakehouses, logs, event logs) kept at {workdir}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
