"""Reading, writing and dropping the pipeline's Delta tables: the I/O edge every layer shares.

Locally every table is a Delta table at ``Config.table_path``, found and read by that path, and
registered by name in the session catalog for SQL; on Databricks tables are Unity Catalog managed
tables. Every write leaves its table with the comments, quality tier and constraints of
``catalog_docs`` (``table_docs``): a new local table gets them in the commit that writes its first
rows; elsewhere a table with constraints is created empty with them. Either way they hold from its first row.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from pyspark.sql import DataFrame, DataFrameWriter, SparkSession

from zenith.lakehouse.catalog_docs import QUALITY_PROPERTY, TABLE_DOCS
from zenith.lakehouse.config import Config, Table, quote, sql_string
from zenith.lakehouse.errors import storage_errors
from zenith.lakehouse.table_docs import document_table, local_properties, with_comments


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


def _holds_files(path: Path) -> bool:
    """True if a local table's folder exists and is not empty: Delta creates no table over files in it."""
    return path.is_dir() and any(path.iterdir())


def created_empty(config: Config, table: Table) -> bool:
    """True for a local table whose only commit created it without data: known empty with no Spark job.

    Its ``_delta_log`` holds the first version only, and that commit adds no data file.
    """
    path = config.table_path(table)
    log = path / "_delta_log" if path is not None else None
    if log is None or not log.is_dir():
        return False
    versions = [entry.name for entry in log.iterdir() if _VERSION_FILE.fullmatch(entry.name)]
    if versions != [f"{0:020}.json"]:
        return False
    with (log / versions[0]).open(encoding="utf-8") as commit:
        return not any("add" in json.loads(action) for action in commit if action.strip())


def table_exists(spark: SparkSession, config: Config, table: Table) -> bool:
    """True if ``table`` exists: in Unity Catalog on Databricks; locally, if its folder holds a Delta version.

    Locally the folder is the table, and looking at it needs no Spark call. The catalog would also
    be wrong there: in a ``foreachBatch`` session of a Spark 4.1 Connect server, ``tableExists``
    sometimes answers False for a table that another session registered.
    """
    path = config.table_path(table)
    if path is not None:
        return has_committed_version(path)
    return spark.catalog.tableExists(config.table_name(table).replace("`", ""))


def read_table(spark: SparkSession, config: Config, table: Table, version: int | None = None) -> DataFrame:
    """A table's current version, or ``version``, as a batch DataFrame: by name on Databricks, by path locally."""
    reader = spark.read if version is None else spark.read.option("versionAsOf", version)
    path = config.table_path(table)
    if path is not None:
        return reader.format("delta").load(str(path))
    return reader.table(config.table_name(table))


def register_local_table(spark: SparkSession, config: Config, table: Table) -> None:
    """Name a local Delta table in the session catalog (its schema and data stay in the Delta log)."""
    path = config.table_path(table)
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {config.table_name(table)} USING DELTA LOCATION {sql_string(path)}"
    )


def save(writer: DataFrameWriter, config: Config, table: Table) -> None:
    """Run ``writer`` into the table: by name on Databricks, by path locally; returns nothing.

    Writing local tables by path keeps Spark's in-memory catalog out of Delta's commit, which
    it cannot update for a partitioned table being replaced.
    """
    path = config.table_path(table)
    if path is None:
        writer.saveAsTable(config.table_name(table))
    else:
        writer.save(str(path))


def _save(writer: DataFrameWriter, spark: SparkSession, config: Config, table: Table) -> None:
    """Write to the table (``save``), then register a local table's name; a storage failure is one line."""
    with storage_errors(config.table_name(table)):
        save(writer, config, table)
        if config.table_path(table) is not None:
            register_local_table(spark, config, table)


def overwrite_table(df: DataFrame, config: Config, table: Table, partition_by: Sequence[str] = ()) -> None:
    """Replace a table's contents (and schema) with ``df`` in one Delta commit."""
    _write(df, config, table, "overwrite", {"overwriteSchema": "true"}, partition_by)


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
    options = {"mergeSchema": str(merge_schema).lower()}
    if txn is not None:
        options |= {"txnAppId": txn[0], "txnVersion": str(txn[1])}
    _write(df, config, table, "append", options, partition_by)


def _write(
    df: DataFrame,
    config: Config,
    table: Table,
    mode: str,
    options: dict[str, str],
    partition_by: Sequence[str],
) -> None:
    """Write ``df`` in ``mode``, with its columns' comments; then give the table its docs if it lacks them.

    A new local table is created by the write, with its rows and docs in one commit
    (``_create_with_rows``). Otherwise a new table with constraints or Delta properties is first created
    empty with them, so they hold from its first row; any other new table is created by the write itself
    and gets its docs just after.
    """
    spark = df.sparkSession
    exists = table_exists(spark, config, table)
    path = config.table_path(table)
    if not exists and path is not None and not _holds_files(path):
        return _create_with_rows(df, config, table, options, partition_by)
    if not exists and (TABLE_DOCS[table].constraints or TABLE_DOCS[table].properties):
        _create_table(df, config, table, partition_by)
        exists = True
    writer = with_comments(df, table).write.format("delta").mode(mode).options(**options)
    if partition_by and (mode == "overwrite" or not exists):
        writer = writer.partitionBy(*partition_by)
    _save(writer, spark, config, table)
    document_table(spark, config, table)


# The writer options a table-creating write keeps: those that make an append idempotent.
_CREATE_OPTIONS = ("txnAppId", "txnVersion")


def _create_with_rows(
    df: DataFrame, config: Config, table: Table, options: dict[str, str], partition_by: Sequence[str]
) -> None:
    """Create a new local table with ``df``'s rows, comments, quality tier and constraints in one commit.

    A create-table-as-select by path: the constraints hold for its rows (a row that breaks one fails the
    write, which commits nothing), and ``txnAppId``/``txnVersion`` in ``options`` are recorded as an
    append's are, so a replayed batch finds its write committed.
    """
    spark, docs = df.sparkSession, TABLE_DOCS[table]
    writer = with_comments(df, table).writeTo(config.delta_target(table)).using("delta")
    writer = writer.options(**{key: value for key, value in options.items() if key in _CREATE_OPTIONS})
    for key, value in {"comment": docs.comment, **local_properties(table)}.items():
        writer = writer.tableProperty(key, value)
    if partition_by:
        writer = writer.partitionedBy(*partition_by)
    with storage_errors(config.table_name(table)):
        writer.create()
        register_local_table(spark, config, table)


def _create_table(df: DataFrame, config: Config, table: Table, partition_by: Sequence[str] = ()) -> None:
    """Create ``table`` empty: ``df``'s schema, its comments, quality tier and constraints.

    Locally that is one commit: Delta takes CHECK constraints among CREATE TABLE's properties. On
    Databricks, whose documentation names only ``ADD CONSTRAINT`` for them, the constraints and the
    docs stamp follow in ``document_table``. A local folder with only the leftovers of a killed first
    commit is written over instead (Delta refuses to create a table in a folder that holds files): a
    write by path ignores files that no committed version lists; the docs follow then too. Either way
    only ``df``'s schema is used, so ``df`` may be a stream or an observed batch: no row of it is read here.
    """
    spark, docs, name = df.sparkSession, TABLE_DOCS[table], config.table_name(table)
    path = config.table_path(table)
    if path is not None and _holds_files(path):
        empty = (
            with_comments(spark.createDataFrame([], df.schema), table).write.format("delta").mode("overwrite")
        )
        _save(empty.partitionBy(*partition_by), spark, config, table)
        return document_table(spark, config, table)
    columns = ", ".join(
        f"{quote(field.name)} {field.dataType.simpleString()}"
        + (f" COMMENT {sql_string(docs.columns[field.name])}" if field.name in docs.columns else "")
        for field in df.schema.fields
    )
    properties = (
        local_properties(table) if path is not None else {QUALITY_PROPERTY: docs.quality, **docs.properties}
    )
    settings = ", ".join(f"{sql_string(key)} = {sql_string(value)}" for key, value in properties.items())
    statement = (
        f"CREATE TABLE IF NOT EXISTS {name} ({columns}) USING DELTA"
        + (f" PARTITIONED BY ({', '.join(map(quote, partition_by))})" if partition_by else "")
        + (f" LOCATION {sql_string(path)}" if path is not None else "")
        + f" COMMENT {sql_string(docs.comment)} TBLPROPERTIES ({settings})"
    )
    with storage_errors(name):
        spark.sql(statement)
    if path is None:
        document_table(spark, config, table)


def ensure_table(df: DataFrame, config: Config, table: Table, partition_by: Sequence[str] = ()) -> None:
    """Create ``table`` empty with ``df``'s schema and its docs if it does not exist; else give it the docs it lacks."""
    spark = df.sparkSession
    if not table_exists(spark, config, table):
        return _create_table(df, config, table, partition_by)
    document_table(spark, config, table)


def drop_table(spark: SparkSession, config: Config, table: Table) -> None:
    """Drop a table and its data, and forget its streaming checkpoint (for a full refresh)."""
    spark.sql(f"DROP TABLE IF EXISTS {config.table_name(table)}")
    path = config.table_path(table)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(config.checkpoint(table), ignore_errors=True)
    shutil.rmtree(config.schema_location(table), ignore_errors=True)
