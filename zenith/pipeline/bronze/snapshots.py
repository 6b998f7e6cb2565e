"""The batch snapshots: customers (CSV) and products (Parquet), each overwriting its bronze table.

A snapshot is reloaded whole, and only when its landed files changed since the last load.
"""

from __future__ import annotations

import time
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse import config as names
from zenith.lakehouse.config import CORRUPT, Config, Table
from zenith.lakehouse.tables import overwrite_table, read_table
from zenith.pipeline.bronze.report import IngestReport
from zenith.pipeline.bronze.snapshot_files import (
    PRODUCT_COLUMNS,
    checked_customer_files,
    checked_product_files,
    unchanged_snapshot_rows,
)
from zenith.pipeline.bronze.transforms import CUSTOMER_SCHEMA, with_batch_metadata


def ingest_customers(spark: SparkSession, config: Config, files: list[Path] | None = None) -> IngestReport:
    """Overwrite ``bronze_customer_profiles`` from the landed CSV files.

    Rows whose ``customer_id`` is not an integer are kept with their raw line in
    ``_corrupt_record`` and counted, not silently loaded as NULL keys. ``files`` is
    ``checked_customer_files``' result when the caller already listed and checked them.
    """
    started = time.monotonic()
    files = checked_customer_files(config) if files is None else files
    if (rows := unchanged_snapshot_rows(spark, config, names.BRONZE_CUSTOMERS, files)) is not None:
        return _unchanged_report(names.BRONZE_CUSTOMERS, files, rows, started)
    raw = (
        spark.read.schema(CUSTOMER_SCHEMA)
        .option("header", "true")
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .csv([str(f) for f in files])
    )
    overwrite_table(raw.transform(with_batch_metadata), config, names.BRONZE_CUSTOMERS)
    written = read_table(spark, config, names.BRONZE_CUSTOMERS)
    counts = written.agg(F.count(F.lit(1)).alias("rows"), F.count(CORRUPT).alias("bad")).first()
    return IngestReport(
        names.BRONZE_CUSTOMERS.name,
        len(files),
        counts["rows"],
        {"non_integer_customer_id": counts["bad"]},
        time.monotonic() - started,
    )


def ingest_products(spark: SparkSession, config: Config, files: list[Path] | None = None) -> IngestReport:
    """Overwrite ``bronze_product_details`` from the landed Parquet files.

    ``files`` is ``checked_product_files``' result when the caller already listed and checked them.
    """
    started = time.monotonic()
    files = checked_product_files(config) if files is None else files
    if (rows := unchanged_snapshot_rows(spark, config, names.BRONZE_PRODUCTS, files)) is not None:
        return _unchanged_report(names.BRONZE_PRODUCTS, files, rows, started)
    raw = spark.read.parquet(*[str(f) for f in files])
    typed = raw.transform(with_batch_metadata).select(
        *[
            F.col(column).cast(bronze_type).alias(column)
            for column, (_, bronze_type) in PRODUCT_COLUMNS.items()
        ],
        "source_file",
        "source_file_size",
        "source_file_modified",
        "source_row",
        "ingestion_timestamp",
    )
    overwrite_table(typed, config, names.BRONZE_PRODUCTS)
    rows = read_table(spark, config, names.BRONZE_PRODUCTS).count()
    return IngestReport(names.BRONZE_PRODUCTS.name, len(files), rows, {}, time.monotonic() - started)


def _unchanged_report(table: Table, files: list[Path], rows: int, started: float) -> IngestReport:
    return IngestReport(table.name, len(files), rows, {}, time.monotonic() - started, unchanged=True)
