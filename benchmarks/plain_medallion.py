"""Yardstick (a) of ``bench_pipeline.py``: the medallion as a plain PySpark batch job.

``python benchmarks/plain_medallion.py LANDING OUT`` is the job a user would write first: read the
events (JSON Lines, with bronze's schema and permissive mode), customers (CSV) and products
(Parquet) under the landing volumes folder ``LANDING`` into bronze Delta tables; silver keeps the
rows that are not corrupt and have an id and a parsable time, drops re-sent ``event_id``s, joins
products (inner; the last row of the newest file wins) and customers (left) and adds the region,
partitioned by ``event_date``; gold is the daily product performance with its revenue rank and the
customer purchase summary. Every table is a Delta table under ``OUT``; the process prints one JSON
line of row counts and each step's seconds. No streaming, no checkpoints, no accounting, no quarantine table.

It starts Spark with the pipeline's own builder (``local_builder``): the same engine and settings.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from zenith.lakehouse.config import CORRUPT
from zenith.lakehouse.runtime import local_builder
from zenith.pipeline.bronze.transforms import CUSTOMER_SCHEMA, EVENT_SCHEMA
from zenith.pipeline.silver.regions import COASTAL_REGIONS, INLAND_REGION

PRICE = "decimal(10,2)"
MONEY = "decimal(20,2)"


def file_columns() -> list[Column]:
    """The source file of a row, its modification time and a row order within the file."""
    return [
        F.col("_metadata.file_path").alias("source_file"),
        F.col("_metadata.file_modification_time").alias("source_file_modified"),
        F.monotonically_increasing_id().alias("source_row"),
        F.current_timestamp().alias("ingestion_timestamp"),
    ]


def bronze(spark: SparkSession, landing: Path, out: Path) -> None:
    """The landed files, every record kept, as three Delta tables."""
    events = (
        spark.read.schema(EVENT_SCHEMA)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("recursiveFileLookup", "true")
        .json(str(landing / "streaming" / "user_events"))
    )
    events = events.select("*", F.try_to_timestamp("event_timestamp").alias("event_dt"), *file_columns())
    customers = (
        spark.read.schema(CUSTOMER_SCHEMA)
        .option("header", "true")
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("recursiveFileLookup", "true")
        .csv(str(landing / "batch" / "customers"))
    )
    products = spark.read.option("recursiveFileLookup", "true").parquet(str(landing / "batch" / "products"))
    tables = {
        "events": events,
        "customers": customers.select("*", *file_columns()),
        "products": products.select("*", *file_columns()),
    }
    for name, rows in tables.items():
        rows.write.format("delta").mode("overwrite").save(str(out / "bronze" / name))


def newest(key: str) -> Window:
    """The rows of one key, the last row of the newest file first."""
    return Window.partitionBy(key).orderBy(
        F.col("source_file_modified").desc(), F.col("source_file").desc(), F.col("source_row").desc()
    )


def one_per(rows: DataFrame, key: str) -> DataFrame:
    """One row per non-NULL ``key``: the last row of the newest file."""
    ranked = rows.where(F.col(key).isNotNull()).withColumn("_n", F.row_number().over(newest(key)))
    return ranked.where(F.col("_n") == 1)


def region(location: Column) -> Column:
    """East Coast, West Coast or Central by the pipeline's city list; NULL for a NULL or blank location."""
    key = F.lower(F.trim(location))
    cities = iter(COASTAL_REGIONS.items())
    city, coast = next(cities)
    chain = F.when(key == city, coast)
    for city, coast in cities:
        chain = chain.when(key == city, coast)
    return chain.when(key != "", INLAND_REGION)


def silver(spark: SparkSession, out: Path) -> None:
    """Trusted, deduplicated events joined to products and customers, partitioned by ``event_date``."""
    read = spark.read.format("delta")
    events = read.load(str(out / "bronze" / "events"))
    trusted = events.where(
        F.col(CORRUPT).isNull() & F.col("event_id").isNotNull() & F.col("event_dt").isNotNull()
    )
    products = one_per(read.load(str(out / "bronze" / "products")), "product_id").select(
        "product_id", "product_name", "category", F.col("price").cast(PRICE).alias("price")
    )
    customers = one_per(read.load(str(out / "bronze" / "customers")), "customer_id").select(
        "customer_id", region(F.col("location")).alias("region")
    )
    joined = (
        trusted.dropDuplicates(["event_id"])
        .join(F.broadcast(products), on="product_id", how="inner")
        .join(F.broadcast(customers), on=F.col("user_id") == F.col("customer_id"), how="left")
    )
    joined.select(
        "event_id",
        "event_dt",
        F.to_date("event_dt").alias("event_date"),
        F.col("event_type").alias("action"),
        "user_id",
        "session_id",
        "region",
        "product_id",
        "product_name",
        "category",
        "price",
        "source_file",
        "ingestion_timestamp",
    ).write.format("delta").mode("overwrite").partitionBy("event_date").save(str(out / "silver" / "activity"))


def count_action(action: str) -> Column:
    """The number of events of one action."""
    return F.count_if(F.col("action") == action)


def gold(spark: SparkSession, out: Path) -> None:
    """Daily product performance with a revenue rank per day and category; the customer summary."""
    activity = spark.read.format("delta").load(str(out / "silver" / "activity"))
    is_purchase = F.col("action") == "purchase"
    totals = activity.groupBy("event_date", "product_id", "product_name", "category").agg(
        count_action("view_product").alias("total_views"),
        count_action("add_to_cart").alias("total_adds_to_cart"),
        count_action("purchase").alias("total_purchases"),
        F.sum(F.when(is_purchase, F.col("price")).otherwise(0)).cast(MONEY).alias("total_revenue"),
    )
    by_revenue = Window.partitionBy("event_date", "category").orderBy(F.col("total_revenue").desc())
    performance = totals.withColumn("revenue_rank", F.rank().over(by_revenue))
    performance.write.format("delta").mode("overwrite").partitionBy("event_date").save(
        str(out / "gold" / "product_performance")
    )
    summary = (
        activity.where(is_purchase)
        .groupBy("user_id", "region")
        .agg(
            F.sum("price").cast(MONEY).alias("total_purchase_value"),
            F.count(F.lit(1)).alias("total_purchases"),
            F.approx_count_distinct("product_id").alias("distinct_products_purchased"),
            F.max("event_dt").alias("last_purchase_timestamp"),
        )
    )
    summary.write.format("delta").mode("overwrite").save(str(out / "gold" / "customer_summary"))


def main(landing: Path, out: Path) -> int:
    spark = local_builder("zenith-plain-medallion").getOrCreate()
    steps = {
        "bronze": lambda: bronze(spark, landing, out),
        "silver": lambda: silver(spark, out),
        "gold": lambda: gold(spark, out),
    }
    seconds = {}
    for name, step in steps.items():
        started = time.monotonic()
        step()
        seconds[f"{name} s"] = round(time.monotonic() - started, 1)
    tables = ("silver/activity", "gold/product_performance", "gold/customer_summary")
    counts = {table: spark.read.format("delta").load(str(out / table)).count() for table in tables}
    print(json.dumps(counts | seconds))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
