"""Issue 29: fields that do not fit the event schema are kept in ``_rescued_data``, counted and named."""

from __future__ import annotations

import json

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from tests.landing import event, write_events
from tests.reliability import (
    gold_rows,
    quarantine_rows,
    run_metrics,
    run_pipeline,
    silver_rows,
    views,
)
from tests.test_reliability import desk_view
from zenith.lakehouse import config as names
from zenith.lakehouse.tables import read_table
from zenith.pipeline.bronze import layer as bronze
from zenith.pipeline.bronze.rescued import RESCUED, parse_json_records

AT = "2026-03-01T10:00:00+00:00"
PARSED = (
    "event_id STRING, event_timestamp STRING, user_id INT, event_type STRING, product_id INT, "
    "session_id STRING, _corrupt_record STRING, _rescued_data STRING"
)


def record(event_id: str, at: str = AT, **fields) -> str:
    """One event's JSON line: the generator's fields, with ``fields`` changed or added."""
    return json.dumps({**json.loads(event(event_id, at)), **fields})


def parsed(spark, *texts: str, file: str = "events.json"):
    """What the local reader makes of ``texts``, each a line (or a whole file) read by the file source."""
    text = spark.createDataFrame(
        [(t, (file,)) for t in texts], "value STRING, _metadata STRUCT<file_path: STRING>"
    )
    parse = parse_json_records(bronze.EVENT_COLUMNS, bronze.CORRUPT, F.col("_metadata.file_path"))
    return text.transform(parse).drop("_metadata")


def test_a_field_that_does_not_fit_is_rescued_and_the_rest_of_the_record_stays_typed(spark):
    renamed = json.loads(event("e4", AT))
    renamed["User_Id"] = renamed.pop("user_id")
    cut_off = '{"event_id": "e7", "event_timestamp": "2026-03-01T10:0'

    rows = parsed(
        spark,
        record("e1"),
        record("e2", device_type="mobile", campaign={"id": "spring", "channel": "email"}),
        record("e3", user_id="abc"),
        json.dumps(renamed),
        record("e5", session_id=12, product_id=None),  # any JSON value fits a string; null fits anything
        "not json",
        cut_off,
        "   ",  # a blank line is no record
        record("e9", product_id=3_000_000_000, referrer=None),
    )

    view = ("view_product", 10, "s-1")
    expected = [
        ("e1", AT, 1, *view, None, None),
        (
            "e2",
            AT,
            1,
            *view,
            None,
            '{"device_type":"mobile","campaign":{"channel":"email","id":"spring"},"_file_path":"events.json"}',
        ),
        ("e3", AT, None, *view, None, '{"user_id":"abc","_file_path":"events.json"}'),
        ("e4", AT, None, *view, None, '{"User_Id":1,"_file_path":"events.json"}'),
        ("e5", AT, 1, "view_product", None, "12", None, None),
        (None, None, None, None, None, None, "not json", None),
        (None, None, None, None, None, None, cut_off, None),
        (
            "e9",
            AT,
            1,
            "view_product",
            None,
            "s-1",
            None,
            '{"product_id":3000000000,"referrer":null,"_file_path":"events.json"}',
        ),
    ]
    assertDataFrameEqual(rows, spark.createDataFrame(expected, PARSED))


def test_each_element_of_a_json_array_is_a_record_rescued_or_corrupt_on_its_own(spark):
    array = "[\n  " + ",\n  ".join([record("a1"), record("a2", user_id="x"), "5"]) + "\n]\n"

    rows = parsed(spark, array, "[]", "[" + record("b1") + " oops", file="array.json")

    expected = [
        ("a1", AT, 1, "view_product", 10, "s-1", None, None),
        ("a2", AT, None, "view_product", 10, "s-1", None, '{"user_id":"x","_file_path":"array.json"}'),
        (None, None, None, None, None, None, "5", None),
        (None, None, None, None, None, None, "[" + record("b1") + " oops", None),  # not an array: corrupt
    ]
    assertDataFrameEqual(rows, spark.createDataFrame(expected, PARSED))


def test_on_databricks_auto_loader_is_asked_for_the_columns_the_local_reader_makes(spark, lakehouse_config):
    options = bronze.auto_loader_options(lakehouse_config.with_(json_array=True))
    local_columns = parsed(spark, record("e1")).columns

    assert {key: options[key] for key in ("cloudFiles.format", "mode", "multiLine")} == {
        "cloudFiles.format": "json",
        "mode": "PERMISSIVE",
        "multiLine": "true",
    }
    assert local_columns[-2:] == [options["columnNameOfCorruptRecord"], options["rescuedDataColumn"]]
    assert local_columns[-2:] == ["_corrupt_record", "_rescued_data"]


def test_new_fields_are_counted_named_in_one_warning_and_leave_silver_and_gold_as_they_were(spark, config):
    write_events(config, "events-1.json", record("e1"))
    first, first_lines = run_pipeline(config)
    campaign = {"id": "spring"}
    write_events(
        config,
        "events-2.json",
        record("e2", "2026-03-01T10:01:00+00:00", device_type="mobile", campaign=campaign),
        record("e3", "2026-03-01T10:02:00+00:00", device_type="tablet", campaign=campaign),
    )
    write_events(config, "events-3.json", record("e4", "2026-03-01T10:03:00+00:00", device_type="tv"))

    second, lines = run_pipeline(config)

    assert [line for line in lines if "warning" in line] == [
        "bronze  warning: 3 event(s) in 2 file(s) had fields the schema does not hold or could not type, "
        "kept in _rescued_data: campaign, device_type"
    ]
    assert not [line for line in first_lines if "warning" in line]
    bronze_metrics = [run_metrics(spark, config, run, "bronze") for run in (first, second)]
    assert [m["bronze_user_events.rescued_records"] for m in bronze_metrics] == [0, 3]
    assert [m["bronze_user_events.corrupt_records"] for m in bronze_metrics] == [0, 0]
    rescued = read_table(spark, config, names.BRONZE_EVENTS).select(
        "event_id", F.replace(RESCUED, "source_file", F.lit("<file>"))
    )
    assert sorted(tuple(row) for row in rescued.collect()) == [
        ("e1", None),
        ("e2", '{"device_type":"mobile","campaign":{"id":"spring"},"_file_path":"<file>"}'),
        ("e3", '{"device_type":"tablet","campaign":{"id":"spring"},"_file_path":"<file>"}'),
        ("e4", '{"device_type":"tv","_file_path":"<file>"}'),
    ]
    assert silver_rows(spark, config) == [
        desk_view(f"e{n}", f"2026-03-01T10:0{n - 1}:00") for n in (1, 2, 3, 4)
    ]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [views(10, 4)]
