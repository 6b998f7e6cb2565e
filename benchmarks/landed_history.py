"""History benchmark: does a run cost more when many event files were landed and ingested before it?

``python benchmarks/landed_history.py [--small 100] [--large 10000] [--json]``

For each history size N, a new lakehouse gets the generator's dimensions and N event files (two
events each, in date folders), and one untimed run ingests them all. Then one more event file lands
and, in the same warm process, this program times:

- the check bronze makes before its stream (``check_event_files``: the ingested-files table, the
  landing listing, the changed-file check), and how many landed files it opened to fingerprint;
- the whole run that ingests the one new file (``run_pipeline``), by layer.

A check whose cost follows history shows as a large/small ratio well above 1; the run's ratio also
carries Spark's own listing of the landing folder, which its file source makes once per run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from zenith.demo.generator import generate
from zenith.demo.settings import GeneratorSettings
from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.runtime import get_spark
from zenith.lakehouse.setup import setup_environment
from zenith.pipeline.bronze import event_files
from zenith.pipeline.params import RunParams
from zenith.pipeline.run import run_pipeline

EVENTS_PER_FILE = 2


def quiet_run(params: RunParams) -> dict[str, float]:
    """``run_pipeline`` with its output swallowed; its seconds, whole and by layer."""
    started = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()):
        run = run_pipeline(params, log=lambda line: None)
    return {
        "run": time.monotonic() - started,
        **{layer: run.timings[layer] for layer in ("bronze", "silver", "gold")},
    }


def land(config: Config, files: int, days: int, start: dt.datetime) -> None:
    """``files`` more event files from the generator (no anomalies), spread over ``days`` days.

    The generator starts a batch at ``start`` plus ``days`` for each batch of ``files`` already landed.
    """
    settings = GeneratorSettings(
        customers=200, products=50, events=files * EVENTS_PER_FILE, files=files, days=days, start=start,
        duplicate_rate=0, late_rate=0, unknown_user_rate=0, unknown_product_rate=0,
        malformed_rate=0, null_id_rate=0, bad_timestamp_rate=0,
    )  # fmt: skip
    generate(config, settings, log=lambda line: None)


def land_today(config: Config) -> None:
    """One more event file of ``EVENTS_PER_FILE`` new events dated today, in a folder of its own."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    records = [
        {"event_id": f"new-{n}", "event_timestamp": now.isoformat(), "user_id": 1, "event_type": "view_product",
         "product_id": 1, "session_id": "new"}
        for n in range(EVENTS_PER_FILE)
    ]  # fmt: skip
    folder = config.events_landing / "today"
    folder.mkdir(parents=True)
    (folder / "events-today.json").write_text("".join(json.dumps(record) + "\n" for record in records))


def measure(history: int) -> dict[str, float]:
    """The check's and the next run's cost after ``history`` ingested files."""
    root = Path(tempfile.mkdtemp(prefix="zenith-history-"))
    try:
        config = Config(lakehouse=root / "lakehouse")
        spark = get_spark(config, app_name="zenith-landed-history")
        setup_environment(spark, config)
        params = RunParams(lakehouse=str(config.lakehouse))
        # The history: about one file an hour, ending yesterday; then one file dated today.
        days = max(1, history // 24)
        today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        land(config, history, days, start=today - dt.timedelta(days=days))
        time.sleep(
            2
        )  # landed before the run by more than the changed-file check's clock margin, as history is
        started = time.monotonic()
        quiet_run(params)
        first = time.monotonic() - started
        land_today(config)
        opened = []
        fingerprint = event_files.file_fingerprint

        def counted(path: Path) -> str | None:
            opened.append(path)
            return fingerprint(path)

        event_files.file_fingerprint = counted
        try:
            started = time.monotonic()
            checked = event_files.check_event_files(spark, config, warn=print)
            check = time.monotonic() - started
        finally:
            event_files.file_fingerprint = fingerprint
        assert len(checked.new) == 1, checked.new
        run = quiet_run(params)
        print(
            f"history {history:6,d} files: first run {first:6.1f} s; check {check:5.2f} s, "
            f"{len(opened):,} files opened; next run {run['run']:5.1f} s "
            f"(bronze {run['bronze']:.1f}, silver {run['silver']:.1f}, gold {run['gold']:.1f})",
            flush=True,
        )
        return {"check": check, "opened": len(opened), **run}
    finally:
        for schema in names.SCHEMAS:  # the session's catalog forgets this lakehouse, for the next one
            spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100, help="files landed and ingested before (small)")
    parser.add_argument("--large", type=int, default=10_000, help="files landed and ingested before (large)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args(argv)
    measure(args.small)  # warms the JVM: the first lakehouse's figures are taken again below
    small, large = measure(args.small), measure(args.large)
    for what in ("check", "run", "bronze"):
        print(f"{what}: {large[what]:.2f} s after {args.large:,} files, {small[what]:.2f} s after "
              f"{args.small:,}: {large[what] / small[what]:.2f}x")  # fmt: skip
    if args.json:
        print(json.dumps({"small": small, "large": large}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
