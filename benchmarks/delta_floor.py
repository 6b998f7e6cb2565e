"""Delta's own floor per table and run: what one tiny commit and one read of a new version cost.

``python benchmarks/delta_floor.py [--commits 6] [--repeats 5] [--json]``

A small daily run touches about ten tables, each with one tiny commit. This program does the same
steps on one table alone, in the pipeline's local session (``local_builder``), after ``--commits``
earlier commits of 30 rows (as a table has after that many daily runs):

- a blind append (nothing in the transaction reads the table's state);
- an idempotent append on the version that append made, tagged with ``txnAppId`` and
  ``txnVersion`` as the pipeline's batch writes are: Delta first rebuilds that version's state
  to find the application's last version;
- the first read of the version the idempotent append made (a count), which rebuilds the state;
- the same read again, when the state is cached.

Each figure is the median of ``--repeats``. The medians, multiplied by the tables a run touches,
are the part of a small run that no pipeline code can remove short of touching fewer tables.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from pyspark.sql import functions as F

from zenith.lakehouse.runtime import local_builder


def seconds(step) -> float:
    started = time.monotonic()
    step()
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=6, help="commits the table has before the steps")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the medians")
    args = parser.parse_args(argv)
    spark = local_builder("zenith-delta-floor").getOrCreate()
    path = str(Path(tempfile.mkdtemp(prefix="zenith-delta-floor-")) / "table")
    rows = spark.range(30).select("id", (F.col("id") % 3).alias("bucket"), F.lit("x").alias("text"))
    rows = rows.localCheckpoint()  # computed once: the steps time Delta, not the rows
    for _ in range(args.commits):
        rows.write.format("delta").mode("append").save(path)

    def append(**options: str):
        return lambda: rows.write.format("delta").mode("append").options(**options).save(path)

    def count():
        return spark.read.format("delta").load(path).count()

    figures: dict[str, list[float]] = {
        "blind append": [],
        "idempotent append": [],
        "first read": [],
        "read again": [],
    }
    for repeat in range(args.repeats):
        # Each step starts on a version no one has read yet, as a run's first write of a table does.
        figures["blind append"].append(seconds(append()))
        figures["idempotent append"].append(seconds(append(txnAppId="floor", txnVersion=str(repeat))))
        figures["first read"].append(seconds(count))
        figures["read again"].append(seconds(count))
    spark.stop()
    medians = {step: round(statistics.median(values), 3) for step, values in figures.items()}
    for step, median in medians.items():
        print(f"{step:<18} {median:6.3f} s (median of {args.repeats})")
    print(
        f"an idempotent append costs {medians['idempotent append'] / medians['blind append']:.1f}x a blind one"
    )
    if args.json:
        print(json.dumps(medians))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
