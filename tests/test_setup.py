"""Local setup: every schema and volume is created once, a rerun changes nothing, errors are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.setup import SetupStep, create_catalog_sql, setup_environment

ALL_OBJECTS = [
    ("catalog", "zenith_online"),
    ("schema", "_system"),
    ("schema", "00_landing"),
    ("schema", "01_bronze"),
    ("schema", "02_silver"),
    ("schema", "03_gold"),
    ("volume", "00_landing.batch"),
    ("volume", "00_landing.streaming"),
    ("volume", "_system.checkpoints"),
    ("volume", "_system.schemas"),
]


def listing(root: Path) -> list[tuple[str, float]]:
    """Every path under ``root`` with its modification time."""
    return sorted((str(p.relative_to(root)), p.stat().st_mtime) for p in root.rglob("*"))


def test_first_setup_creates_the_catalog_every_schema_and_every_volume(spark, lakehouse_config):
    steps = setup_environment(spark, lakehouse_config)

    assert steps == [SetupStep(kind, name, created=True) for kind, name in ALL_OBJECTS]
    lakehouse = lakehouse_config.lakehouse
    assert sorted(str(p.relative_to(lakehouse)) for p in lakehouse.rglob("*")) == [
        "Volumes",
        "Volumes/zenith_online",
        "Volumes/zenith_online/00_landing",
        "Volumes/zenith_online/00_landing/batch",
        "Volumes/zenith_online/00_landing/streaming",
        "Volumes/zenith_online/_system",
        "Volumes/zenith_online/_system/checkpoints",
        "Volumes/zenith_online/_system/schemas",
        "warehouse",
        "warehouse/00_landing",
        "warehouse/01_bronze",
        "warehouse/02_silver",
        "warehouse/03_gold",
        "warehouse/_system",
    ]
    # Spark prints a name that starts with a digit quoted.
    shown = {row.namespace for row in spark.sql("SHOW SCHEMAS").collect()}
    assert shown == {"default", "_system", "`00_landing`", "`01_bronze`", "`02_silver`", "`03_gold`"}


def test_second_setup_creates_nothing_and_leaves_the_lakehouse_untouched(spark, lakehouse_config):
    setup_environment(spark, lakehouse_config)
    before = listing(lakehouse_config.lakehouse)

    steps = setup_environment(spark, lakehouse_config)

    assert steps == [SetupStep(kind, name, created=False) for kind, name in ALL_OBJECTS]
    assert listing(lakehouse_config.lakehouse) == before


def test_setup_step_prints_as_an_aligned_line():
    assert str(SetupStep("schema", "01_bronze", True)) == "created  schema  01_bronze"
    assert str(SetupStep("volume", "00_landing.batch", False)) == "exists   volume  00_landing.batch"


def test_lakehouse_under_a_regular_file_is_a_one_line_error_naming_the_path(spark, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    config = Config(lakehouse=blocker / "lakehouse")

    with pytest.raises(ZenithError) as raised:
        setup_environment(spark, config)

    message = str(raised.value)
    assert message == f"cannot create {config.volumes_root}: Not a directory"
    assert "\n" not in message


def test_create_catalog_takes_a_managed_location_only_when_one_is_given():
    assert create_catalog_sql("zenith_online") == "CREATE CATALOG `zenith_online`"
    assert create_catalog_sql("my`cat", "  ") == "CREATE CATALOG `my``cat`"
    assert create_catalog_sql("zenith_online", "abfss://uc@acct.dfs.core.windows.net/zenith") == (
        "CREATE CATALOG `zenith_online` MANAGED LOCATION 'abfss://uc@acct.dfs.core.windows.net/zenith'"
    )


@pytest.mark.parametrize("location", ["s3://bucket/x' OR '1'='1", "bucket/path", "s3://a b", "s3://x\\y"])
def test_a_managed_location_that_is_not_a_plain_storage_url_is_refused(location):
    with pytest.raises(ZenithError, match=r"managed location: got .*expected a storage URL such as s3://"):
        create_catalog_sql("zenith_online", location)
