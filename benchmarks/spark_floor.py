"""Yardstick (b) of ``bench_pipeline.py``: the floor of any local Spark run.

``python benchmarks/spark_floor.py TABLE`` starts the pipeline's local Spark + Delta session (the
same builder, ``local_builder``), counts the rows of the Delta table at the path ``TABLE`` and
stops. It prints one JSON line with the count. No pipeline run can cost less than this process:
a run with nothing new is measured against it.
"""

from __future__ import annotations

import json
import sys

from zenith.lakehouse.runtime import local_builder


def main(table: str) -> int:
    spark = local_builder("zenith-spark-floor").getOrCreate()
    rows = spark.read.format("delta").load(table).count()
    print(json.dumps({"rows": rows}))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
