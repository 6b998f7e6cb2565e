"""The local runtime: Java checks, the Delta jar cache, and tables that outlive the process."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from pyspark.errors import utils as pyspark_error_utils
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType, TimestampType

from zenith.lakehouse import config as names
from zenith.lakehouse import jars as delta_jar_cache
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.jars import FETCH_ATTEMPTS, cached_delta_jars, delta_jars
from zenith.lakehouse.local_rows import local_rows
from zenith.lakehouse.runtime import (
    SMALL_RUN_CONF,
    SMALL_RUN_ROWS,
    check_java,
    java_major_version,
    small_batch_settings,
    small_run_settings,
)
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import overwrite_table

DELTA = version("delta-spark")
ARTIFACT = delta_jar_cache.delta_artifact()  # its naming per release is tested below
DELTA_SPARK_JAR = f"io.delta_{ARTIFACT}-{DELTA}.jar"
RELEASE = f"{ARTIFACT}-{DELTA}"  # the cache's folder for the installed Delta release


def fake_jdk(root: Path, version_line: str) -> Path:
    """A JAVA_HOME whose ``bin/java -version`` prints ``version_line`` to stderr, as a real JDK does."""
    java = root / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\necho 'OpenJDK Runtime Environment' >&2\n")
    java.chmod(0o755)
    return root


@pytest.mark.parametrize(
    ("version_line", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
        ("this is not java", None),
    ],
)
def test_java_major_version_reads_both_old_and_new_version_strings(tmp_path, version_line, major):
    java = fake_jdk(tmp_path, version_line) / "bin" / "java"

    assert java_major_version(str(java)) == major


def test_java_major_version_of_a_missing_program_is_none(tmp_path):
    assert java_major_version(str(tmp_path / "no_such_java")) is None


def test_java_8_is_refused_in_one_sentence_asking_for_java_17(tmp_path, monkeypatch):
    home = fake_jdk(tmp_path / "jdk8", 'java version "1.8.0_392"')
    monkeypatch.setenv("JAVA_HOME", str(home))

    with pytest.raises(ZenithError) as raised:
        check_java()

    assert str(raised.value) == (
        f"Java 17+ is required but {home / 'bin' / 'java'} is Java 8: install a newer JDK "
        "or point JAVA_HOME at one."
    )


def test_no_java_anywhere_is_one_sentence_asking_for_java_17(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ZenithError) as raised:
        check_java()

    assert str(raised.value) == (
        "Java 17+ is required but no working 'java' was found: install a JDK "
        "(e.g. 'apt-get install openjdk-17-jdk-headless') or set JAVA_HOME."
    )


def test_java_17_passes_the_check(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(fake_jdk(tmp_path, 'openjdk version "17.0.15" 2025-04-15')))

    check_java()


def jar_cache(root: Path, *jar_names: str, folder: str = RELEASE) -> Path:
    """A jar cache whose ``folder`` (the installed release's, unless named) holds these jars."""
    (root / folder / "jars").mkdir(parents=True)
    for name in jar_names:
        (root / folder / "jars" / name).touch()
    return root


def test_few_rows_get_the_small_run_settings_and_more_keep_sparks():
    assert SMALL_RUN_CONF == {
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.codegen.factoryMode": "NO_CODEGEN",
        "spark.sql.adaptive.enabled": "false",
    }
    assert small_run_settings(0) == SMALL_RUN_CONF
    assert small_run_settings(SMALL_RUN_ROWS) == SMALL_RUN_CONF
    assert small_run_settings(SMALL_RUN_ROWS + 1) == {}
    # A stream's batch sets its shuffle partitions itself: its checkpoint keeps those of the stream's first start.
    assert small_batch_settings(SMALL_RUN_ROWS) == SMALL_RUN_CONF | {"spark.sql.shuffle.partitions": "1"}
    assert small_batch_settings(SMALL_RUN_ROWS + 1) == {}


def test_a_local_session_records_no_python_call_site_for_each_column_function(spark, monkeypatch):
    """Spark's DataFrame debugging is off in local sessions (``LOCAL_CONF``): building a column costs no stack walk."""
    call_sites = []
    monkeypatch.setattr(
        pyspark_error_utils, "_capture_call_site", lambda depth: call_sites.append(depth) or ""
    )

    assert spark.range(2).select((F.col("id") + F.lit(1)).alias("n")).collect() == [Row(n=1), Row(n=2)]
    assert call_sites == []


def test_empty_jar_cache_means_the_jars_must_be_fetched(tmp_path):
    assert cached_delta_jars(tmp_path) == []


def test_cache_missing_delta_storage_means_the_jars_must_be_fetched(tmp_path):
    cache = jar_cache(tmp_path, DELTA_SPARK_JAR, "org.antlr_antlr4-runtime-4.13.1.jar")

    assert cached_delta_jars(cache) == []


def test_full_cache_gives_every_jar_of_the_installed_release_folder(tmp_path):
    cache = jar_cache(
        tmp_path,
        DELTA_SPARK_JAR,
        f"io.delta_delta-storage-{DELTA}.jar",
        "org.antlr_antlr4-runtime-4.13.1.jar",
    )
    jars = cache / RELEASE / "jars"

    assert cached_delta_jars(cache) == [
        str(jars / DELTA_SPARK_JAR),
        str(jars / f"io.delta_delta-storage-{DELTA}.jar"),
        str(jars / "org.antlr_antlr4-runtime-4.13.1.jar"),
    ]


def test_jars_of_another_release_or_another_spark_are_not_used(tmp_path):
    other_spark = f"delta-spark_9.9_2.13-{DELTA}"
    jar_cache(
        tmp_path, f"io.delta_{other_spark}.jar", f"io.delta_delta-storage-{DELTA}.jar", folder=other_spark
    )
    # the flat jars/ folder the cache had before it kept a folder per release
    jar_cache(tmp_path, DELTA_SPARK_JAR, f"io.delta_delta-storage-{DELTA}.jar", folder="")

    assert cached_delta_jars(tmp_path) == []


def installed(monkeypatch, **versions: str) -> None:
    """Make the jar code see these package versions (``delta_spark=``, ``pyspark=``)."""
    monkeypatch.setattr(delta_jar_cache, "version", lambda name: versions[name.replace("-", "_")])


@pytest.mark.parametrize(
    ("delta", "spark", "package"),
    [
        ("4.0.1", "4.0.1", "io.delta:delta-spark_2.13:4.0.1"),
        ("4.4.0", "4.1.4", "io.delta:delta-spark_4.1_2.13:4.4.0"),
        ("4.4.0", "4.2.0", "io.delta:delta-spark_4.2_2.13:4.4.0"),
        ("4.1.0", "4.0.1", "io.delta:delta-spark_4.0_2.13:4.1.0"),
    ],
)
def test_the_delta_package_names_the_spark_it_is_built_for_from_delta_4_1(monkeypatch, delta, spark, package):
    installed(monkeypatch, delta_spark=delta, pyspark=spark)

    assert delta_jar_cache.delta_package() == package


def test_a_pyspark_that_delta_does_not_support_is_one_line_naming_both_versions(tmp_path, monkeypatch):
    installed(monkeypatch, delta_spark="4.4.0", pyspark="4.3.0")
    monkeypatch.setattr(
        delta_jar_cache, "requires", lambda name: ["pyspark<=4.2.0,>=4.0.1", "importlib_metadata>=1.0.0"]
    )
    monkeypatch.setenv(delta_jar_cache.JARS_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(delta_jar_cache, "_fetch_delta_jars", lambda cache: pytest.fail("must not fetch"))

    with pytest.raises(ZenithError) as error:
        delta_jars()

    assert str(error.value) == (
        "delta-spark 4.4.0 supports pyspark <=4.2.0,>=4.0.1 but pyspark 4.3.0 is installed: "
        "install the versions pinned in constraints.txt (make install)"
    )


def test_the_installed_pyspark_and_delta_spark_match():
    delta_jar_cache.check_delta_supports_spark()


DELTA_JARS = (DELTA_SPARK_JAR, f"io.delta_delta-storage-{DELTA}.jar")


def test_a_failed_download_is_tried_again_under_the_cache_lock(tmp_path, monkeypatch):
    attempts = []

    def flaky_fetch(cache):
        attempts.append(cache)
        if len(attempts) == 1:
            return "Downloaded file size (0) doesn't match expected Content Length"
        jar_cache(cache, *DELTA_JARS)
        return ""

    monkeypatch.setenv(delta_jar_cache.JARS_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(delta_jar_cache, "_fetch_delta_jars", flaky_fetch)

    jars = delta_jars()

    assert [Path(jar).name for jar in jars] == list(DELTA_JARS)
    assert attempts == [tmp_path / "cache", tmp_path / "cache"]
    assert (tmp_path / "cache" / ".fetch.lock").is_file()


def test_jars_that_cannot_be_fetched_are_a_one_line_error_with_the_reason(tmp_path, monkeypatch):
    attempts = []
    monkeypatch.setenv(delta_jar_cache.JARS_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(
        delta_jar_cache, "_fetch_delta_jars", lambda cache: attempts.append(1) or "module not found"
    )

    with pytest.raises(ZenithError) as error:
        delta_jars()

    assert len(attempts) == FETCH_ATTEMPTS
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"cannot fetch io.delta:{ARTIFACT}:{DELTA} from Maven Central into ")
    assert "(module not found)" in message
    assert delta_jar_cache.JARS_CACHE_ENV in message


def test_table_written_in_one_process_is_queryable_by_name_from_the_next(spark, lakehouse_config, tmp_path):
    setup_environment(spark, lakehouse_config)
    products = spark.createDataFrame(
        [(3, "Lamp"), (1, "Desk"), (2, "Rug")], "product_id int, product_name string"
    )
    overwrite_table(products, lakehouse_config, names.BRONZE_PRODUCTS)
    env = {key: value for key, value in os.environ.items() if key != names.LAKEHOUSE_ENV}

    # A fresh process has an empty session catalog: it must find the table under the lakehouse.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "zenith.cli",
            "--lakehouse",
            str(lakehouse_config.lakehouse),
            "sql",
            "SELECT product_id FROM `01_bronze`.`bronze_product_details` ORDER BY product_id",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "".join(json.dumps({"product_id": i}) + "\n" for i in (1, 2, 3))


@pytest.mark.parametrize(
    ("zone", "stored"),
    [("UTC", "2026-01-02 03:04:05.123456"), ("America/New_York", "2026-01-02 08:04:05.123456")],
)
def test_local_rows_are_the_rows_create_data_frame_gives_held_in_the_plan(
    spark, monkeypatch, capsys, zone, stored
):
    schema = "name STRING, n BIGINT, at TIMESTAMP, m INT"
    at = dt.datetime(2026, 1, 2, 3, 4, 5, 123456)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        # A naive datetime is this machine's local time, as createDataFrame and collect take it.
        rows = local_rows(spark, [("a", 1, at, None), (None, None, None, 7)], schema)
        assert rows.collect() == [Row(name="a", n=1, at=at, m=None), Row(name=None, n=None, at=None, m=7)]
        assert [row.at for row in rows.selectExpr("string(at) AS at").collect()] == [stored, None]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert rows.schema == StructType(
        [
            StructField("name", StringType()),
            StructField("n", LongType()),
            StructField("at", TimestampType()),
            StructField("m", IntegerType()),
        ]
    )
    assert local_rows(spark, [], schema).collect() == []
    rows.explain()
    assert "LocalTableScan" in capsys.readouterr().out  # no Python worker reads the rows
