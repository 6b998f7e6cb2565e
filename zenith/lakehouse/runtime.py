"""The one place that makes a SparkSession.

On Databricks it returns the workspace's session (classic or Spark Connect). With
``ZENITH_SPARK_REMOTE``/``SPARK_REMOTE`` set it connects to that Spark Connect server. Otherwise it
builds ``local[*]`` Spark with Delta Lake, fetching Delta's jars from Maven Central once into a cache
folder and loading them from there on every later run, so only the first start needs the network.
Nothing here touches ``sparkContext`` or the JVM, so every session shape gets the same code path.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import unquote

from pyspark.errors import PySparkException
from pyspark.logger import PySparkLogger
from pyspark.sql import SparkSession

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config, on_databricks, sql_string
from zenith.lakehouse.connect import (
    check_shared_lakehouse,
    connect_session,
    is_connect,
    remote_url,
    server_command,
)
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.jars import delta_jars
from zenith.lakehouse.tables import has_committed_version, register_local_table

MIN_JAVA = 17

# Settings for a 2-core laptop: few shuffle partitions, no UI, small broadcast of local files.
# The JVM's heap and collector keep a 1M-event run under 2 GB of memory for the whole process
# tree. No query keeps Spark state: silver deduplicates against its own recent rows.
LOCAL_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.databricks.delta.snapshotPartitions": "2",
    # Folder listings of more than 32 paths (the file source's landing folder, VACUUM's table folder) run
    # as a Spark job of up to this many tasks; Spark's 10,000 made one run over 10,000 landed files 30 s slower.
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "8",
    # Off: the Python call site of each column function, for the "== DataFrame ==" part of Spark's error
    # messages. A classic session records it with four calls to the JVM per function, which Spark's own
    # docs call a non-trivial overhead: a small run spent about 0.7 s of 11 on them.
    "spark.python.sql.dataFrameDebugging.enabled": "false",
    # Delta's commits and the streams' checkpoint files are written through Hadoop's FileSystem, not its
    # FileContext. Without Hadoop's native library, FileContext starts a `readlink` process for each status
    # it takes of a local file: about 150 processes in a small run. On a local disk both ways do the same:
    # write a temporary file, then rename it unless the target exists.
    "spark.delta.logStore.file.impl": "io.delta.storage.LocalLogStore",
    "spark.sql.streaming.checkpointFileManagerClass": (
        "org.apache.spark.sql.execution.streaming.checkpointing.FileSystemBasedCheckpointFileManager"
    ),
    "spark.driver.memory": "1536m",
    "spark.driver.extraJavaOptions": " ".join(
        (
            f"-Dlog4j2.configurationFile={Path(__file__).with_name('log4j2.properties')}",
            "-XX:+UseParallelGC",  # less work and memory than G1 on a 2-core machine
        )
    ),
}


# Few rows cost planning and compiling, not computing. Small work is run with expressions evaluated as
# they are rather than compiled to Java first, and without re-planning at run time: the same results, and
# on this 2-core machine a daily run of 2,000 events took a fifth less time; at 400,000 events the
# settings no longer won or lost. A stream's batch also takes one shuffle partition, which only the
# batch can set: a stream keeps the partitions of its first start in its checkpoint.
SMALL_RUN_ROWS = 100_000
SMALL_RUN_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}


def small_run_settings(rows: int) -> dict[str, str]:
    """The settings for work on ``rows`` rows: ``SMALL_RUN_CONF`` up to ``SMALL_RUN_ROWS``, none above."""
    return dict(SMALL_RUN_CONF) if rows <= SMALL_RUN_ROWS else {}


def small_batch_settings(rows: int) -> dict[str, str]:
    """The settings for a stream's batch of ``rows`` rows: the small-run ones and one shuffle partition."""
    small = small_run_settings(rows)
    return small | {"spark.sql.shuffle.partitions": "1"} if small else {}


def java_major_version(java: str) -> int | None:
    """The major version of ``java``, or None if it cannot be run."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> None:
    """Fail with one sentence, not a Py4J trace, when Java is missing or too old."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    major = java_major_version(java) if java else None
    if major is None:
        raise ZenithError(
            f"Java {MIN_JAVA}+ is required but no working 'java' was found: install a JDK "
            f"(e.g. 'apt-get install openjdk-{MIN_JAVA}-jdk-headless') or set JAVA_HOME."
        )
    if major < MIN_JAVA:
        raise ZenithError(
            f"Java {MIN_JAVA}+ is required but {java} is Java {major}: install a newer JDK "
            f"or point JAVA_HOME at one."
        )


def local_builder(app_name: str = "zenith", extra_conf: dict[str, str] | None = None) -> SparkSession.Builder:
    """A local Spark+Delta builder; Delta's jars come from the cache, fetched from Maven Central once."""
    os.environ["PYSPARK_PYTHON"] = sys.executable  # pandas UDFs run in this interpreter
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    builder = SparkSession.builder.master(os.environ.get("ZENITH_SPARK_MASTER", "local[*]")).appName(app_name)
    for key, value in {**LOCAL_CONF, **(extra_conf or {})}.items():
        builder = builder.config(key, value)
    return builder.config("spark.jars", ",".join(delta_jars()))


def connect_server_command(port: int, extra_conf: dict[str, str] | None = None) -> list[str]:
    """``spark-submit`` for a local Spark Connect server with the same Delta jars and settings."""
    master = os.environ.get("ZENITH_SPARK_MASTER", "local[*]")
    conf = {"spark.master": master, **LOCAL_CONF, **(extra_conf or {})}
    return server_command(port, conf, delta_jars())


def set_conf(spark: SparkSession, key: str, value: str) -> bool:
    """Set a Spark setting if the platform allows it (serverless allows few); True if it did."""
    try:
        spark.conf.set(key, value)
    except PySparkException:
        return False
    return True


@contextmanager
def conf_set(spark: SparkSession, settings: dict[str, str]) -> Iterator[None]:
    """Spark settings for a block, each restored after it; one the platform refuses is left as it is."""
    restore = {}
    for key, value in settings.items():
        try:
            previous = spark.conf.get(key, None)
            spark.conf.set(key, value)
        except PySparkException:
            continue
        restore[key] = previous
    try:
        yield
    finally:
        for key, previous in restore.items():
            with suppress(PySparkException):
                if previous is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, previous)


def get_spark(config: Config | None = None, app_name: str = "zenith") -> SparkSession:
    """The SparkSession for this environment, with the lakehouse's tables registered locally."""
    if on_databricks():
        spark = SparkSession.builder.getOrCreate()
        set_conf(spark, "spark.sql.session.timeZone", "UTC")
        return spark
    # A session that already runs here (a test's, a notebook's) keeps its own settings.
    spark = SparkSession.getActiveSession()
    if spark is not None and not is_connect(spark):
        # PySpark makes the session of any createDataFrame call the process's "active" one, a stream
        # batch's session too: a copy of the settings at the stream's start (the run's commit tag
        # included) that a batch which failed leaves active. The builder returns the process's own.
        spark = SparkSession.builder.getOrCreate()
    url = remote_url()
    if spark is None and url is not None:
        spark = connect_session(url, app_name)
        set_conf(spark, "spark.sql.session.timeZone", "UTC")
    elif spark is None:
        check_java()  # the log level comes from log4j2.properties, not the JVM-only setLogLevel
        spark = local_builder(app_name).getOrCreate()
    # PySpark logs every failed SQL statement as a JSON stack trace; the CLI reports it in one line.
    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    if config is not None and config.is_local:
        if url is not None:
            check_shared_lakehouse(spark, config.lakehouse)
        register_local_tables(spark, config)
    return spark


def registered_location(spark: SparkSession, schema_name: str) -> str | None:
    """The folder a schema of the session catalog is registered at, or None if there is no such schema."""
    if not spark.catalog.databaseExists(schema_name.replace("`", "")):
        return None
    info = {row[0]: row[1] for row in spark.sql(f"DESCRIBE SCHEMA {schema_name}").collect()}
    return unquote(str(info.get("Location", "")).removeprefix("file:")) or None  # a URI: %20 is a space


def register_local_schema(spark: SparkSession, config: Config, schema: str) -> None:
    """Declare a local schema in the session catalog, backed by its lakehouse folder.

    A Spark Connect server keeps one catalog for all its clients: a schema another lakehouse
    registered there is a one-line error, not a silent write into that lakehouse.
    """
    name, path = config.schema_name(schema), config.schema_path(schema)
    location = registered_location(spark, name)
    if location is None:
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {name} LOCATION {sql_string(path)}")
    elif Path(location.removeprefix("//")).resolve() != path.resolve():
        raise ZenithError(
            f"schema {name} in this Spark session's catalog belongs to another lakehouse ({location}), "
            f"not {config.lakehouse}: use one lakehouse per Spark Connect server, or restart the server"
        )


def register_local_tables(spark: SparkSession, config: Config) -> list[str]:
    """Make the lakehouse's schemas and Delta tables known by name to this process's session.

    Local Spark keeps its catalog in memory, so each new process re-registers what it finds
    under the lakehouse folder: every folder with a committed Delta version. Returns the table
    names registered.
    """
    for schema in names.SCHEMAS:
        if config.schema_path(schema).is_dir():
            register_local_schema(spark, config, schema)
    registered = []
    for table in names.TABLES:
        path = config.table_path(table)
        if has_committed_version(path):
            register_local_table(spark, config, table)
            registered.append(config.table_name(table))
        elif (path / "_delta_log").is_dir():  # Delta would refuse to name it: not a table yet
            print(
                f"note: {path} holds no committed Delta version (a run stopped during the table's first "
                f"commit); {config.table_name(table)} is created by the next write",
                file=sys.stderr,
            )
    return registered
