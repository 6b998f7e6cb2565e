"""One local Spark + Delta session for the whole test run, and a fresh lakehouse per test."""

from __future__ import annotations

import pytest

from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.runtime import local_builder


@pytest.fixture(scope="session")
def spark():
    session = local_builder(
        "zenith-tests",
        {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
    ).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def lakehouse_config(spark, tmp_path) -> Config:
    """A Config pointing at an empty lakehouse folder, with the session catalog emptied."""
    for schema in names.SCHEMAS:
        spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")
    return Config(lakehouse=tmp_path / "lakehouse")
