"""One code path for classic and Spark Connect sessions.

The tests marked ``connect`` need this run's own Spark Connect server (``--connect`` or
``ZENITH_TEST_CONNECT=1``); the others run in every mode.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, Row
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.testing import assertDataFrameEqual

from tests.test_pipeline import SETTINGS
from zenith.demo.generator import generate
from zenith.lakehouse import config as names
from zenith.lakehouse.connect import check_shared_lakehouse, is_connect, remote_url
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.landing import is_hidden
from zenith.lakehouse.run_metrics import RUN_LAYER
from zenith.lakehouse.runtime import register_local_schema
from zenith.lakehouse.streams import metrics_dict

REPO = Path(__file__).resolve().parent.parent
REMOTE_VARIABLES = ("ZENITH_SPARK_REMOTE", "SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE")
# Columns that say when or from which folder a row was written: they differ between any two runs.
RUN_SPECIFIC = {"ingestion_timestamp", "quarantined_at", "recorded_at", "run_id", "app_id", "committed_at"}


# --- Every mode -----------------------------------------------------------------------------------
def test_observed_metrics_read_the_same_from_a_classic_row_and_a_connect_row():
    classic = Row(rows=2, files=["a.json"])
    connect = Row(
        values=[2, ["a.json"]],
        schema={
            "type": "struct",
            "fields": [
                {"name": "rows", "type": "long", "nullable": False, "metadata": {}},
                {"name": "files", "type": {"type": "array", "elementType": "string"}, "nullable": False},
            ],
        },
    )

    assert metrics_dict(classic) == metrics_dict(connect) == {"rows": 2, "files": ["a.json"]}


@pytest.mark.parametrize(
    ("variables", "url"),
    [
        ({}, None),
        ({"SPARK_REMOTE": "sc://cluster:15002"}, "sc://cluster:15002"),
        ({"ZENITH_SPARK_REMOTE": "sc://mine:1", "SPARK_REMOTE": "sc://theirs:2"}, "sc://mine:1"),
        ({"ZENITH_SPARK_REMOTE": "  "}, None),
    ],
)
def test_remote_url_prefers_zenith_spark_remote_then_spark_remote(monkeypatch, variables, url):
    for name in ("ZENITH_SPARK_REMOTE", "SPARK_REMOTE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    assert remote_url() == url


def test_a_remote_that_is_not_a_spark_connect_url_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("ZENITH_SPARK_REMOTE", "localhost:15002")

    with pytest.raises(ZenithError, match=r"expected a Spark Connect URL such as sc://localhost:15002"):
        remote_url()


def test_the_spark_server_sees_the_lakehouse_this_process_writes(spark, tmp_path):
    check_shared_lakehouse(spark, tmp_path / "lakehouse")

    assert list((tmp_path / "lakehouse").iterdir()) == []  # the marker file is gone again


def test_a_server_that_sees_another_folder_under_the_lakehouse_path_is_a_clear_error(
    spark, tmp_path, monkeypatch
):
    # As if the server mounted other storage at this path: it reads a file, not the one written here.
    write_text = Path.write_text
    monkeypatch.setattr(Path, "write_text", lambda self, text: write_text(self, "written elsewhere"))

    with pytest.raises(ZenithError, match=r"does not see the lakehouse folder .* on storage both see"):
        check_shared_lakehouse(spark, tmp_path / "lakehouse")


def test_a_schema_registered_for_another_lakehouse_is_refused_not_reused(spark, lakehouse_config, tmp_path):
    register_local_schema(spark, lakehouse_config, names.BRONZE)
    other = lakehouse_config.with_(lakehouse=tmp_path / "other")

    with pytest.raises(ZenithError, match="belongs to another lakehouse"):
        register_local_schema(spark, other, names.BRONZE)
    register_local_schema(spark, lakehouse_config, names.BRONZE)  # its own lakehouse: fine


# --- Through Spark Connect --------------------------------------------------------------------------
@pytest.mark.connect
def test_the_session_is_spark_connect(spark):
    assert is_connect(spark)


@pytest.mark.connect
def test_the_servers_workers_cannot_import_zenith_so_a_passing_region_udf_needs_none(spark):
    """The server's Python workers refuse ``import zenith``: the region UDF passing proves it ships by value."""
    # ``is_hidden`` pickles by reference: its module is one no UDF or foreachBatch ships by value
    # (silver ships the config module, so a function from there would travel with it).
    hidden = pandas_udf(lambda names_: names_.map(is_hidden), "boolean")

    with pytest.raises(Exception, match="zenith is not importable on this Spark worker"):
        spark.range(1).select(hidden(F.lit("x"))).collect()


def table_rows(spark, lakehouse: Path, table: names.Table) -> DataFrame:
    """A table read by path, without the columns that differ between runs; source files by name."""
    df = spark.read.format("delta").load(str(lakehouse / "warehouse" / table.schema / table.name))
    if table == names.SILVER_ACTIVITY:
        # An event re-delivered in two files is kept once; which copy (so which file) is not specified.
        df = df.drop("source_file")
    if table == names.RUN_METRICS:
        df = df.where(F.col("layer") != RUN_LAYER)  # the run's durations
    if table == names.GOLD_CUSTOMER_STATE:
        # A sketch's bytes list its hashes in the order they arrived, which the two runs may not share.
        df = df.withColumn("product_sketch", F.hll_sketch_estimate("product_sketch"))
    if "source_file" in df.columns:
        df = df.withColumn("source_file", F.regexp_extract("source_file", r"([^/]+)$", 1))
    return df.drop(*RUN_SPECIFIC)


def run_python(*args: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr[-3000:]}"


@pytest.mark.connect
def test_elt_through_connect_writes_the_same_tables_as_through_a_classic_session(
    spark, lakehouse_config, tmp_path
):
    connect_lakehouse = lakehouse_config.lakehouse
    classic_lakehouse = tmp_path / "classic"
    generated = generate(lakehouse_config, SETTINGS, log=lambda _: None)
    shutil.copytree(connect_lakehouse / "Volumes", classic_lakehouse / "Volumes")
    connect_env = {**os.environ, "ZENITH_SPARK_REMOTE": remote_url()}
    classic_env = {name: value for name, value in os.environ.items() if name not in REMOTE_VARIABLES}

    run_python("-m", "zenith.cli", "--lakehouse", str(connect_lakehouse), "setup", env=connect_env)
    run_python("ELT.py", "--lakehouse", str(connect_lakehouse), env=connect_env)
    # Classic: setup and the run (what ELT.py does) in one process, so one JVM start, not two.
    args = ["--lakehouse", str(classic_lakehouse)]
    setup_then_run = (
        f"from zenith.cli import main; raise SystemExit(main({[*args, 'setup']}) or main({[*args, 'run']}))"
    )
    run_python("-c", setup_then_run, env=classic_env)

    bronze_events = table_rows(spark, connect_lakehouse, names.BRONZE_EVENTS)
    assert bronze_events.count() == generated.events_written
    for table in names.TABLES:
        assertDataFrameEqual(
            table_rows(spark, connect_lakehouse, table), table_rows(spark, classic_lakehouse, table)
        )
