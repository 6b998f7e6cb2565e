"""Rows the driver holds (a batch's record, a run's metrics) as a DataFrame whose plan carries them.

On a classic session, ``spark.createDataFrame`` of a Python list is backed by an RDD of pickled
rows: every Spark job that reads it starts a Python worker to unpickle them, about 0.25 s a job on a
2-core laptop against 0.06 s for the same rows in the plan. An Arrow table becomes a local relation,
read in the JVM, on a classic session and a Spark Connect one alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import to_arrow_schema


def local_rows(spark: SparkSession, rows: Iterable[Sequence], schema: str) -> DataFrame:
    """``rows`` (tuples in the column order of ``schema``, a DDL string) as a DataFrame; the same rows
    as ``spark.createDataFrame(rows, schema)`` gives, a naive datetime being local time as there."""
    struct = spark.createDataFrame([], schema).schema  # the DDL parsed: no row, no Spark job
    arrow = to_arrow_schema(struct)
    columns = list(zip(*rows, strict=True)) or [()] * len(arrow)
    arrays = [
        pa.array(map(_instant, values), type=field.type) for values, field in zip(columns, arrow, strict=True)
    ]
    return spark.createDataFrame(pa.Table.from_arrays(arrays, schema=arrow), struct)


def _instant(value: object) -> object:
    """A naive datetime as the instant it names in this machine's time zone (as PySpark reads it).

    Any other value is returned as it is.
    """
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.astimezone(dt.UTC)
    return value
