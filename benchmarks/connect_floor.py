"""Spark Connect's own floor for a run of the pipeline's shape: three available-now streams.

``python benchmarks/connect_floor.py [--repeats 5] [--json]``

A run starts three streams: bronze's (landed JSON files into a Delta table), then silver's and
gold's (a Delta table's new rows handed to a Python ``foreachBatch`` function). Through Spark
Connect, the server runs each ``foreachBatch`` function in a Python process of its own, started
for that query and stopped with it; a stream into a Delta table needs none. This program starts a
local server (``connect_server.start_local_server``: the pipeline's jars and settings), warms it
up with two untimed rounds, then times each kind of stream alone on three rows, each time with a
new checkpoint:

- JSON files into a Delta table (bronze's shape);
- a Delta table's rows to a ``foreachBatch`` function that does nothing;
- the same to a function that appends the rows to a Delta table (one commit: the least a batch writes).

For each, the seconds until ``start()`` returns and until the query has ended, medians of
``--repeats``. One of the first and two of the third are the least a run through Connect takes for
its streams, before any of the pipeline's own work.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pyspark.sql import DataFrame

from zenith.lakehouse.connect import connect_session
from zenith.lakehouse.connect_server import start_local_server

ROWS = 3


def timed_stream(start: Callable[[str], object], checkpoint: str) -> tuple[float, float]:
    """(seconds until ``start`` returned, seconds until the query ended) of one available-now stream."""
    started = time.monotonic()
    query = start(checkpoint)
    returned = time.monotonic()
    query.awaitTermination()
    return returned - started, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the medians")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="zenith-connect-floor-"))
    landing, source, sink = root / "landing", str(root / "source"), str(root / "sink")
    landing.mkdir()
    (landing / "events.json").write_text("".join(f'{{"id": {i}, "s": "x"}}\n' for i in range(ROWS)))
    server = start_local_server(root)
    spark = None
    try:
        spark = connect_session(server.url, "zenith-connect-floor")
        spark.range(ROWS).write.format("delta").save(source)

        def append(rows: DataFrame, batch_id: int) -> None:
            rows.write.format("delta").mode("append").save(sink)

        def files_to_delta(checkpoint: str):
            files = spark.readStream.schema("id BIGINT, s STRING").json(str(landing))
            writer = files.writeStream.format("delta").option("checkpointLocation", checkpoint)
            return writer.trigger(availableNow=True).start(str(root / "bronze"))

        def to_function(function: Callable[[DataFrame, int], None]):
            def start(checkpoint: str):
                writer = spark.readStream.format("delta").load(source).writeStream.foreachBatch(function)
                return writer.option("checkpointLocation", checkpoint).trigger(availableNow=True).start()

            return start

        kinds = {
            "JSON files into Delta": files_to_delta,
            "foreachBatch, no-op": to_function(lambda rows, batch_id: None),
            "foreachBatch, one append": to_function(append),
        }
        figures: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
        for repeat in range(2 + args.repeats):  # the first two warm the server up
            for kind, start in kinds.items():
                figure = timed_stream(start, str(root / "checkpoints" / f"{kind}-{repeat}"))
                if repeat >= 2:
                    figures[kind].append(figure)
    finally:
        if spark is not None:
            spark.stop()  # before the server: a client left open retries a stopped server when Python exits
        server.stop()
    medians = {
        kind: {
            "start": round(statistics.median(f[0] for f in values), 3),
            "total": round(statistics.median(f[1] for f in values), 3),
        }
        for kind, values in figures.items()
    }
    for kind, median in medians.items():
        print(
            f"{kind:<26} start() {median['start']:6.3f} s, whole query {median['total']:6.3f} s "
            f"(medians of {args.repeats})"
        )
    floor = medians["JSON files into Delta"]["total"] + 2 * medians["foreachBatch, one append"]["total"]
    starts = 2 * medians["foreachBatch, one append"]["start"]
    print(
        f"a run's three streams through Connect: at least {floor:.2f} s, of it {starts:.2f} s for the "
        "server to start the two foreachBatch functions' Python processes"
    )
    if args.json:
        print(json.dumps(medians | {"three_streams": round(floor, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
