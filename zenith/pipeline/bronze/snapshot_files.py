"""The batch snapshots' landed files (customers CSV, products Parquet): found, checked, compared.

Every file is checked (CSV header, Parquet columns and types) before any table is written. A
bronze snapshot table keeps each row's source file with the file's size and modification time,
so a run compares those with the landing folder and skips the reload (and the new table version)
when nothing was added, removed or rewritten.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from zenith.lakehouse.config import Config, Table
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.landing import landed_files, read_start
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline.bronze.ingested_table import file_path

CUSTOMER_COLUMNS = ("customer_id", "signup_date", "location")
HEADER_BYTES = 65_536  # enough for any header line
# Parquet column -> (accepted Arrow type names, the bronze type it is cast to)
PRODUCT_COLUMNS = {
    "product_id": (("int8", "int16", "int32", "int64"), "int"),
    "product_name": (("string", "large_string"), "string"),
    "category": (("string", "large_string"), "string"),
    "price": (("float", "double", "halffloat"), "double"),
}


def checked_customer_files(config: Config) -> list[Path]:
    """The landed customer CSV files, each header checked."""
    files = landed_snapshot_files(config.customers_landing, "customer")
    check_customer_headers(files)
    return files


def checked_product_files(config: Config) -> list[Path]:
    """The landed product Parquet files, each file's columns, types and prices checked."""
    files = landed_snapshot_files(config.products_landing, "product")
    check_product_schema(files)
    return files


def landed_snapshot_files(folder: Path, what: str) -> list[Path]:
    """The data files under ``folder``; a ZenithError if there is none (``what`` names the snapshot)."""
    files = landed_files(folder)
    if not files:
        raise ZenithError(f"no {what} files in {folder} or its sub-folders: run 'zenith generate' first")
    return files


def check_customer_headers(files: list[Path]) -> None:
    """Fail, naming the file, if a CSV header is not exactly the expected columns."""
    for path in files:
        first_lines = read_start(path, HEADER_BYTES).decode("utf-8", errors="replace")
        header = next(csv.reader(io.StringIO(first_lines)), [])
        if tuple(h.strip() for h in header) != CUSTOMER_COLUMNS:
            raise ZenithError(
                f"{path}: header {','.join(header) or '(empty)'} does not match the expected columns "
                f"{','.join(CUSTOMER_COLUMNS)}"
            )


def check_product_schema(files: list[Path]) -> None:
    """Fail, naming the file and column, if a Parquet file lacks a column or has a wrong type.

    A price that is missing, negative or not a number fails too, naming the product: silver's prices
    are never NULL or negative (a table constraint), so revenue is a sum of real prices.
    """
    for path in files:
        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises several types for a non-Parquet file
            raise ZenithError(f"{path}: not a readable Parquet file ({exc})") from None
        for column, (accepted, _) in PRODUCT_COLUMNS.items():
            if column not in schema.names:
                raise ZenithError(
                    f"{path}: column {column} is missing (expected {', '.join(PRODUCT_COLUMNS)})"
                )
            actual = str(schema.field(column).type)
            if actual not in accepted:
                raise ZenithError(
                    f"{path}: column {column} has type {actual}, expected one of {', '.join(accepted)}"
                )
        check_product_prices(path)


def check_product_prices(path: Path) -> None:
    """Fail, naming the file and the first such product, if a price is missing, negative or NaN."""
    products = pq.read_table(path, columns=["product_id", "price"])
    valid = pc.fill_null(pc.greater_equal(products.column("price"), 0), False)  # NaN >= 0 is false
    if not pc.all(valid).as_py():
        bad = pc.index(valid, False).as_py()
        product, price = (products.column(name)[bad].as_py() for name in ("product_id", "price"))
        raise ZenithError(
            f"{path}: product {product} has {'no price' if price is None else f'price {price}'}; "
            "every price must be a number of at least 0"
        )


def landed_fingerprint(files: list[Path]) -> set[tuple[str, int, int]]:
    """Each landed file's absolute path, size in bytes and modification time in milliseconds."""
    stats = ((path.resolve(), path.stat()) for path in files)
    return {(str(path), stat.st_size, stat.st_mtime_ns // 1_000_000) for path, stat in stats}


def loaded_files(spark: SparkSession, config: Config, table: Table) -> dict[tuple[str, int, int], int]:
    """The same facts for the files behind a bronze snapshot table, with each file's row count.

    Empty if the table has none yet. One small aggregation: the run needs nothing else of the table.
    """
    if not table_exists(spark, config, table):
        return {}
    loaded = read_table(spark, config, table)
    if "source_file_modified" not in loaded.columns:  # a table from before these columns existed
        return {}
    files = loaded.groupBy(
        "source_file", "source_file_size", F.unix_millis("source_file_modified").alias("modified")
    ).count()
    return {
        (str(file_path(r.source_file)), r.source_file_size, r.modified): r["count"] for r in files.collect()
    }


def unchanged_snapshot_rows(
    spark: SparkSession, config: Config, table: Table, files: list[Path]
) -> int | None:
    """The table's row count when it was loaded from exactly these files, none changed since; else None."""
    loaded = loaded_files(spark, config, table)
    return sum(loaded.values()) if landed_fingerprint(files) == set(loaded) else None
