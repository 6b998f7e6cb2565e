"""Bronze: every landed record reaches its Delta table, traceable to its file; bad input fails clearly."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from tests.catalog import assert_documented
from tests.landing import event, write_customers, write_events, write_products
from zenith.lakehouse import config as names
from zenith.lakehouse.catalog_docs import VERSION_PROPERTY
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.streams import write_available_now
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline.bronze import event_files
from zenith.pipeline.bronze import layer as bronze
from zenith.pipeline.bronze.rescued import RESCUED


@pytest.fixture
def config(spark, lakehouse_config):
    setup_environment(spark, lakehouse_config)
    return lakehouse_config


def bronze_events(spark, config):
    """The bronze events with the file name instead of the full path (also in ``_rescued_data``)."""
    return (
        read_table(spark, config, names.BRONZE_EVENTS)
        .withColumn("file", F.regexp_extract("source_file", r"([^/]+)$", 1))
        .withColumn(RESCUED, F.replace(RESCUED, "source_file", "file"))
        .select(
            "event_id",
            "event_timestamp",
            "event_dt",
            "user_id",
            "product_id",
            bronze.CORRUPT,
            RESCUED,
            "file",
        )
    )


def with_fields(line: str, **fields) -> str:
    """A JSON line with ``fields`` added or changed."""
    return json.dumps({**json.loads(line), **fields})


def previous_event_stream(spark, config):
    """Bronze's event stream as the version before ``_rescued_data`` read it: Spark's JSON reader."""
    raw = (
        spark.readStream.format("json")
        .schema(bronze.EVENT_SCHEMA)
        .options(recursiveFileLookup="true", maxFileAge=bronze.MAX_FILE_AGE)
        .options(mode="PERMISSIVE", columnNameOfCorruptRecord=bronze.CORRUPT)
        .load(str(config.events_landing))
    )
    # Today's columns but the rescued one, which that version did not have.
    return raw.withColumn(RESCUED, F.lit(None)).transform(bronze.with_event_metadata).drop(RESCUED)


def test_every_event_line_is_kept_with_its_problems_counted(spark, config):
    malformed = '{"event_id": "e3", "event_timestamp": "2026-03-01T10:0'
    wrong_type = event("e4", "2026-03-01T10:03:00+00:00", user_id="abc")
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00.123456+00:00"),
        event("e2", "not-a-time"),
        malformed,
        wrong_type,
        event(None, "2026-03-01T10:04:00+00:00"),
    )

    report = bronze.ingest_events(spark, config)

    assert (report.files, report.rows) == (1, 5)
    assert report.problems == {
        "corrupt_records": 1,
        "bad_timestamps": 1,
        "missing_event_ids": 1,
        "rescued_records": 1,
        "changed_files": 0,
        "unread_files": 0,
    }
    # A value of the wrong type is rescued, as Auto Loader rescues it; the rest of its record stays typed.
    rescued = '{"user_id":"abc","_file_path":"events-1.json"}'
    expected = [
        (
            "e1",
            "2026-03-01T10:00:00.123456+00:00",
            dt.datetime(2026, 3, 1, 10, 0, 0, 123456),
            1,
            10,
            None,
            None,
        ),
        ("e2", "not-a-time", None, 1, 10, None, None),
        (None, None, None, None, None, malformed, None),
        ("e4", "2026-03-01T10:03:00+00:00", dt.datetime(2026, 3, 1, 10, 3), None, 10, None, rescued),
        (None, "2026-03-01T10:04:00+00:00", dt.datetime(2026, 3, 1, 10, 4), 1, 10, None, None),
    ]
    expected_df = spark.createDataFrame(
        [(*row, "events-1.json") for row in expected],
        "event_id STRING, event_timestamp STRING, event_dt TIMESTAMP, user_id INT, product_id INT, "
        "_corrupt_record STRING, _rescued_data STRING, file STRING",
    )
    assertDataFrameEqual(bronze_events(spark, config), expected_df)


def test_second_run_adds_nothing_and_new_file_is_picked_up(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    first = bronze.ingest_events(spark, config)
    again = bronze.ingest_events(spark, config)
    write_events(config, "events-2.json", event("e2", "2026-03-01T10:05:00+00:00"))
    third = bronze.ingest_events(spark, config)

    assert [(r.files, r.rows) for r in (first, again, third)] == [(1, 1), (0, 0), (1, 1)]
    rows = bronze_events(spark, config).select("event_id", "file").orderBy("event_id").collect()
    assert [tuple(r) for r in rows] == [("e1", "events-1.json"), ("e2", "events-2.json")]


def test_json_array_files_are_read_when_the_setting_is_on(spark, config):
    config = config.with_(json_array=True)
    config.events_landing.mkdir(parents=True, exist_ok=True)
    records = [event("a1", "2026-03-01T10:00:00+00:00"), event("a2", "2026-03-01T10:01:00+00:00")]
    (config.events_landing / "events-1.json").write_text("[\n  " + ",\n  ".join(records) + "\n]\n")

    report = bronze.ingest_events(spark, config)

    assert (report.files, report.rows, report.problems["corrupt_records"]) == (1, 2, 0)
    assert sorted(r.event_id for r in bronze_events(spark, config).collect()) == ["a1", "a2"]


def test_fields_new_to_the_schema_are_rescued_counted_and_named_in_one_warning(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    bronze.ingest_events(spark, config)
    with_new_fields = {"device_type": "mobile", "campaign": {"id": "spring"}}
    write_events(
        config,
        "events-2.json",
        *(with_fields(event(f"e{n}", f"2026-03-01T10:0{n}:00+00:00"), **with_new_fields) for n in (2, 3)),
    )
    warnings: list[str] = []

    report = bronze.ingest_events(spark, config, warnings.append)

    assert (report.rows, report.problems["rescued_records"], report.problems["corrupt_records"]) == (2, 2, 0)
    assert warnings == [
        "warning: 2 event(s) in 1 file(s) had fields the schema does not hold or could not type, kept in "
        "_rescued_data: campaign, device_type"
    ]
    rows = bronze_events(spark, config).select("event_id", "user_id", RESCUED).orderBy("event_id")
    rescued = '{"device_type":"mobile","campaign":{"id":"spring"},"_file_path":"events-2.json"}'
    assert [tuple(row) for row in rows.collect()] == [("e1", 1, None), ("e2", 1, rescued), ("e3", 1, rescued)]


def test_a_bronze_table_from_before_rescued_data_gains_the_column_with_its_comment(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    write_available_now(
        previous_event_stream(spark, config), config, names.BRONZE_EVENTS, "bronze_user_events"
    )
    event_files.record_ingested_files(spark, config, None)
    spark.sql(
        f"ALTER TABLE {config.table_name(names.BRONZE_EVENTS)} "
        f"SET TBLPROPERTIES ('{VERSION_PROPERTY}' = 'before rescued data')"
    )
    assert RESCUED not in read_table(spark, config, names.BRONZE_EVENTS).columns
    write_events(
        config, "events-2.json", with_fields(event("e2", "2026-03-01T10:01:00+00:00"), device_type="tv")
    )

    report = bronze.ingest_events(spark, config)

    assert (report.files, report.rows, report.problems["rescued_records"]) == (1, 1, 1)
    rows = bronze_events(spark, config).select("event_id", RESCUED, "file").orderBy("event_id")
    assert [tuple(row) for row in rows.collect()] == [
        ("e1", None, "events-1.json"),
        ("e2", '{"device_type":"tv","_file_path":"events-2.json"}', "events-2.json"),
    ]
    assert_documented(spark, config, names.BRONZE_EVENTS)


def test_in_json_array_mode_each_element_is_typed_and_rescued_on_its_own(spark, config):
    config = config.with_(json_array=True)
    config.events_landing.mkdir(parents=True, exist_ok=True)
    records = [
        event("a1", "2026-03-01T10:00:00+00:00"),
        event("a2", "2026-03-01T10:01:00+00:00", user_id="x"),
    ]
    (config.events_landing / "events-1.json.gz").write_bytes(gzip.compress(f"[{','.join(records)}]".encode()))

    report = bronze.ingest_events(spark, config)

    assert (report.files, report.rows, report.problems["corrupt_records"]) == (1, 2, 0)
    rows = bronze_events(spark, config).select("event_id", "user_id", RESCUED).orderBy("event_id")
    assert [tuple(row) for row in rows.collect()] == [
        ("a1", 1, None),
        ("a2", None, '{"user_id":"x","_file_path":"events-1.json.gz"}'),
    ]


def test_json_array_setting_refuses_a_json_lines_file_instead_of_reading_one_record(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"), event("e2", "x"))

    with pytest.raises(
        ZenithError, match=r"events-1\.json: the JSON-array setting is on but the file starts"
    ):
        bronze.ingest_events(spark, config.with_(json_array=True))

    assert not table_exists(spark, config, names.BRONZE_EVENTS)


def test_customers_load_with_non_integer_ids_counted_not_hidden(spark, config):
    write_customers(
        config, "customer_id,signup_date,location\n1,2025-01-05,New York\nx7,2025-01-06,Chicago\n"
    )

    report = bronze.ingest_customers(spark, config)

    assert (report.rows, report.problems) == (2, {"non_integer_customer_id": 1})
    rows = read_table(spark, config, names.BRONZE_CUSTOMERS).select(
        "customer_id", "signup_date", "location", bronze.CORRUPT
    )
    expected = spark.createDataFrame(
        [(1, "2025-01-05", "New York", None), (None, "2025-01-06", "Chicago", "x7,2025-01-06,Chicago")],
        "customer_id INT, signup_date STRING, location STRING, _corrupt_record STRING",
    )
    assertDataFrameEqual(rows, expected)


def test_bad_customer_header_fails_naming_the_columns_and_keeps_the_table(spark, config):
    write_customers(config)
    bronze.ingest_customers(spark, config)
    write_customers(config, "id,location,signup_date\n9,Chicago,2025-01-01\n")

    with pytest.raises(ZenithError, match=r"customers\.csv: header id,location,signup_date does not match"):
        bronze.ingest_customers(spark, config)

    ids = [
        r.customer_id
        for r in read_table(spark, config, names.BRONZE_CUSTOMERS).orderBy("customer_id").collect()
    ]
    assert ids == [1, 2, 3]


def test_products_load_with_typed_columns(spark, config):
    write_products(config)

    report = bronze.ingest_products(spark, config)

    assert (report.files, report.rows) == (1, 2)
    rows = read_table(spark, config, names.BRONZE_PRODUCTS).select(
        "product_id", "product_name", "category", "price"
    )
    expected = spark.createDataFrame(
        [(10, "Oak Desk", "Furniture", 249.99), (20, "Desk Lamp", "Home Decor", 15.5)],
        "product_id INT, product_name STRING, category STRING, price DOUBLE",
    )
    assertDataFrameEqual(rows, expected)


def history_length(spark, config, table) -> int:
    return spark.sql(f"DESCRIBE HISTORY {config.table_name(table)}").count()


def test_unchanged_snapshot_files_are_not_reloaded_and_a_rewritten_one_is(spark, config):
    write_customers(config)
    write_products(config)
    bronze.ingest_customers(spark, config), bronze.ingest_products(spark, config)
    loaded = [history_length(spark, config, t) for t in (names.BRONZE_CUSTOMERS, names.BRONZE_PRODUCTS)]

    again = [bronze.ingest_customers(spark, config), bronze.ingest_products(spark, config)]

    assert [(r.unchanged, r.rows, r.rows_written) for r in again] == [(True, 3, 0), (True, 2, 0)]
    assert str(again[0]) == "bronze_customer_profiles: 1 files unchanged since the last load; nothing written"
    assert [
        history_length(spark, config, t) for t in (names.BRONZE_CUSTOMERS, names.BRONZE_PRODUCTS)
    ] == loaded

    write_customers(config, "customer_id,signup_date,location\n1,2025-01-05,Boston\n")
    reloaded = bronze.ingest_customers(spark, config)

    assert (reloaded.unchanged, reloaded.rows) == (False, 1)
    locations = [r.location for r in read_table(spark, config, names.BRONZE_CUSTOMERS).collect()]
    assert locations == ["Boston"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"product_id": [1], "product_name": ["x"], "price": [1.0]}),
            "column category is missing",
        ),
        (
            pd.DataFrame({"product_id": [1], "product_name": ["x"], "category": ["c"], "price": ["cheap"]}),
            "column price has type string",
        ),
        (
            pd.DataFrame(
                {
                    "product_id": [1, 2],
                    "product_name": ["x", "y"],
                    "category": ["c", "c"],
                    "price": [1.0, -1.5],
                }
            ),
            r"products\.parquet: product 2 has price -1\.5; every price must be a number of at least 0$",
        ),
        (
            pd.DataFrame(
                {"product_id": [7], "product_name": ["x"], "category": ["c"], "price": [float("nan")]}
            ),
            r"products\.parquet: product 7 has no price; every price must be a number of at least 0$",
        ),
    ],
    ids=["missing-column", "wrong-type", "negative-price", "missing-price"],
)
def test_bad_product_schema_fails_clearly_and_keeps_the_table(spark, config, frame, message):
    write_products(config)
    bronze.ingest_products(spark, config)
    write_products(config, frame)

    with pytest.raises(ZenithError, match=message):
        bronze.ingest_products(spark, config)

    assert read_table(spark, config, names.BRONZE_PRODUCTS).count() == 2


def test_missing_landing_files_is_a_clear_error(spark, config):
    with pytest.raises(ZenithError, match="no customer files"):
        bronze.ingest_customers(spark, config)
