"""Reading, writing and dropping the pipeline's Delta tables: the I/O edge every layer shares.

Locally every table is a Delta table at ``Config.table_path``, registered by name in the
session catalog; on Databricks tables are Unity Catalog managed tables.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from pyspark.sql import DataFrame, DataFrameWriter, SparkSession

from zenith.lakehouse.config import Config, Table, sql_string
from zenith.lakehouse.errors import storage_errors


def path_option(config: Config, table: Table) -> dict[str, str]:
    """Writer options that place a local table in the lakehouse; none on Databricks."""
    path = config.table_path(table)
    return {"path": str(path)} if path is not None else {}


# A committed Delta version: a commit ``<20 digits>.json`` or a checkpoint ``<20 digits>.checkpoint...``
# (classic, multi-part or v2) at the top of ``_delta_log``. Temporary files, ``.crc`` files and an
# empty ``_staged_commits/`` are not versions.
_VERSION_FILE = re.compile(r"\d{20}\.(json|checkpoint\..*(parquet|json))")


def has_committed_version(path: Path) -> bool:
    """True if the folder holds a Delta table: its ``_delta_log`` lists at least one committed version.

    A process killed during a table's first commit can leave a ``_delta_log`` with no version in
    it; such a folder is not a table yet, and the next write creates one there.
    """
    log = path / "_delta_log"
    return log.is_dir() and any(_VERSION_FILE.fullmatch(entry.name) for entry in log.iterdir())


def has_leftover_files(config: Config, table: Table) -> bool:
    """True if a local table's folder has files in it though it holds no table version yet."""
    path = config.table_path(table)
    return path is not None and path.is_dir() and any(path.iterdir()) and not has_committed_version(path)


def table_exists(spark: SparkSession, config: Config, table: Table) -> bool:
    """True if ``table`` is registered in this environment's catalog."""
    return spark.catalog.tableExists(config.table_name(table).replace("`", ""))


def read_table(spark: SparkSession, config: Config, table: Table) -> DataFrame:
    """The current version of a table as a batch DataFrame."""
    return spark.read.table(config.table_name(table))


def register_local_table(spark: SparkSession, config: Config, table: Table) -> None:
    """Name a local Delta table in the session catalog (its schema and data stay in the Delta log)."""
    path = config.table_path(table)
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {config.table_name(table)} USING DELTA LOCATION {sql_string(path)}"
    )


def _save(writer: DataFrameWriter, spark: SparkSession, config: Config, table: Table) -> None:
    """Write to the table: by name on Databricks; locally by path, then register the name.

    Writing local tables by path keeps Spark's in-memory catalog out of Delta's commit, which
    it cannot update for a partitioned table being replaced.
    """
    path = config.table_path(table)
    with storage_errors(config.table_name(table)):
        if path is None:
            writer.saveAsTable(config.table_name(table))
        else:
            writer.save(str(path))
            register_local_table(spark, config, table)


def overwrite_table(df: DataFrame, config: Config, table: Table, partition_by: Sequence[str] = ()) -> None:
    """Replace a table's contents (and schema) with ``df`` in one Delta commit."""
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    _save(writer, df.sparkSession, config, table)


def append_table(
    df: DataFrame,
    config: Config,
    table: Table,
    txn: tuple[str, int] | None = None,
    merge_schema: bool = False,
    partition_by: Sequence[str] = (),
) -> None:
    """Append ``df`` to a table, creating it on first use.

    ``txn`` (an application id and a version) makes the append idempotent: Delta skips it if
    that application already committed that version, as when a stream replays a micro-batch.
    ``merge_schema`` adds ``df``'s new columns to the table. ``partition_by`` lays out a table the
    append creates; an existing table keeps its layout.
    """
    writer = df.write.format("delta").mode("append").option("mergeSchema", str(merge_schema).lower())
    if partition_by and not table_exists(df.sparkSession, config, table):
        writer = writer.partitionBy(*partition_by)
    if txn is not None:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", str(txn[1]))
    _save(writer, df.sparkSession, config, table)


def drop_table(spark: SparkSession, config: Config, table: Table) -> None:
    """Drop a table and its data, and forget its streaming checkpoint (for a full refresh)."""
    spark.sql(f"DROP TABLE IF EXISTS {config.table_name(table)}")
    path = config.table_path(table)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(config.checkpoint(table), ignore_errors=True)
    shutil.rmtree(config.schema_location(table), ignore_errors=True)
