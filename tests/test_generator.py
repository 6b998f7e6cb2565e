"""The demo data generator: exact anomaly counts, determinism, atomic files, and Spark can read it all."""

from __future__ import annotations

import csv
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from zenith.demo.generator import (
    CUSTOMERS_FILE,
    PRODUCTS_FILE,
    GenerationReport,
    GeneratorSettings,
    generate,
    landing_is_empty,
)
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError

ANOMALIES = ("duplicates", "late", "unknown_user", "unknown_product", "malformed", "null_id", "bad_timestamp")
HIGH_RATES = {
    "duplicate_rate": 0.03,
    "late_rate": 0.02,
    "unknown_user_rate": 0.03,
    "unknown_product_rate": 0.02,
    "malformed_rate": 0.01,
    "null_id_rate": 0.02,
    "bad_timestamp_rate": 0.01,
}
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SMALL = GeneratorSettings(customers=20, products=10, events=300, files=3)


@pytest.fixture
def config(tmp_path) -> Config:
    return Config(lakehouse=tmp_path / "lakehouse")


def quiet(settings: GeneratorSettings, config: Config) -> GenerationReport:
    return generate(config, settings, log=lambda line: None)


def records_of(path: Path, json_array: bool) -> list[str]:
    """Each record of an event file as text: a line, or an array element re-serialised."""
    text = path.read_text()
    if json_array:
        return [json.dumps(record) for record in json.loads(text)]
    return text.splitlines()


def anomalies_found(files: list[Path], settings: GeneratorSettings) -> Counter:
    """Count every anomaly by reading the files the way a careful consumer would, in file order."""
    found: Counter = Counter()
    seen: set[str] = set()
    latest_before_file: datetime | None = None
    for path in files:
        latest_in_file = latest_before_file
        for text in records_of(path, settings.json_array):
            found["records"] += 1
            if text in seen:
                found["duplicates"] += 1
                continue
            seen.add(text)
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                found["malformed"] += 1
                continue
            if record.get("event_id") is None:
                found["null_id"] += 1
            if not isinstance(record["user_id"], int):
                found["malformed"] += 1
            elif not 1 <= record["user_id"] <= settings.customers:
                found["unknown_user"] += 1
            if not 1 <= record["product_id"] <= settings.products:
                found["unknown_product"] += 1
            try:
                stamp = datetime.fromisoformat(record["event_timestamp"])
            except ValueError:
                found["bad_timestamp"] += 1
                continue
            if latest_before_file and stamp <= latest_before_file - timedelta(minutes=10):
                found["late"] += 1
            latest_in_file = max(latest_in_file or stamp, stamp)
        latest_before_file = latest_in_file
    return found


def all_files(config: Config) -> dict[str, bytes]:
    root = config.lakehouse
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def clean_events(report: GenerationReport) -> list[dict]:
    events = []
    for path in report.event_files:
        for line in path.read_text().splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


# --- Determinism ---------------------------------------------------------------------------------
def test_same_seed_writes_identical_bytes(tmp_path):
    settings = GeneratorSettings(customers=20, products=10, events=500, files=3, batches=2)
    first, second = Config(lakehouse=tmp_path / "a"), Config(lakehouse=tmp_path / "b")
    quiet(settings, first)
    quiet(settings, second)
    assert all_files(first) == all_files(second)
    assert len(all_files(first)) == 2 + 6


def test_different_seed_writes_different_files(tmp_path):
    first, second = Config(lakehouse=tmp_path / "a"), Config(lakehouse=tmp_path / "b")
    quiet(SMALL, first)
    quiet(GeneratorSettings(**{**SMALL.__dict__, "seed": 7}), second)
    a, b = all_files(first), all_files(second)
    assert a.keys() == b.keys()
    assert all(a[name] != b[name] for name in a)


# --- Anomalies -----------------------------------------------------------------------------------
@pytest.mark.parametrize("json_array", [False, True], ids=["json_lines", "json_array"])
def test_reported_anomaly_counts_are_exact_and_match_the_files(config, json_array):
    settings = GeneratorSettings(
        customers=30, products=12, events=1000, files=5, batches=2, json_array=json_array, **HIGH_RATES
    )
    report = quiet(settings, config)
    expected = {"duplicates": 60, "late": 40, "unknown_user": 60, "unknown_product": 40}
    expected |= {"malformed": 20, "null_id": 40, "bad_timestamp": 20}
    assert {name: getattr(report, name) for name in ANOMALIES} == expected
    found = anomalies_found(list(report.event_files), settings)
    assert {name: found[name] for name in ANOMALIES} == expected
    assert report.events_written == found["records"] == 2000


def test_null_event_ids_are_half_null_and_half_missing(config):
    report = quiet(GeneratorSettings(events=1000, files=2, null_id_rate=0.02, malformed_rate=0), config)
    events = clean_events(report)
    assert sum("event_id" not in e for e in events) == 10
    assert sum("event_id" in e and e["event_id"] is None for e in events) == 10


def test_default_rates_give_every_anomaly_some_events(config):
    report = quiet(GeneratorSettings(events=20_000, files=4), config)
    assert {name: getattr(report, name) for name in ANOMALIES} == {
        "duplicates": 200,
        "late": 100,
        "unknown_user": 200,
        "unknown_product": 100,
        "malformed": 40,
        "null_id": 40,
        "bad_timestamp": 40,
    }


def test_one_file_per_batch_has_no_late_events(config):
    settings = GeneratorSettings(events=1000, files=1, late_rate=0.05)
    report = quiet(settings, config)
    assert report.late == 0
    assert anomalies_found(list(report.event_files), settings)["late"] == 0


# --- Shape of the events -------------------------------------------------------------------------
def test_event_types_are_about_70_20_10_percent(config):
    report = quiet(GeneratorSettings(events=20_000, files=2), config)
    types = Counter(e["event_type"] for e in clean_events(report))
    total = sum(types.values())
    assert set(types) == {"view_product", "add_to_cart", "purchase"}
    assert types["view_product"] / total == pytest.approx(0.70, abs=0.02)
    assert types["add_to_cart"] / total == pytest.approx(0.20, abs=0.02)
    assert types["purchase"] / total == pytest.approx(0.10, abs=0.02)


def test_five_popular_products_get_three_quarters_of_views(config):
    report = quiet(GeneratorSettings(events=20_000, files=2, products=50, unknown_product_rate=0), config)
    views = Counter(e["product_id"] for e in clean_events(report) if e["event_type"] == "view_product")
    top_five = sum(count for _, count in views.most_common(5))
    assert top_five / views.total() == pytest.approx(0.75, abs=0.02)


def test_events_have_uuid4_ids_and_utc_microsecond_timestamps_within_the_batch_days(config):
    settings = GeneratorSettings(events=2000, files=4, days=2, **HIGH_RATES)
    report = quiet(settings, config)
    events = [e for e in clean_events(report) if e.get("event_id") and e["event_timestamp"] != "not-a-time"]
    assert all(uuid.UUID(e["event_id"]).version == 4 for e in events)
    assert all(len(e["event_timestamp"]) == 32 and e["event_timestamp"].endswith("+00:00") for e in events)
    stamps = [datetime.fromisoformat(e["event_timestamp"]) for e in events]
    on_time = [s for s in stamps if s >= START]
    assert len(stamps) - len(on_time) <= report.late
    assert max(on_time) < START + timedelta(days=2)
    assert list(events[0]) == [
        "event_id",
        "event_timestamp",
        "user_id",
        "event_type",
        "product_id",
        "session_id",
    ]


# --- Files: naming, atomicity, continuation ------------------------------------------------------
def test_second_call_continues_numbering_and_timeline_without_overwriting(config):
    settings = GeneratorSettings(**{**SMALL.__dict__, "late_rate": 0, "bad_timestamp_rate": 0})
    first = quiet(settings, config)
    before = {p: p.read_bytes() for p in first.event_files}
    second = quiet(settings, config)
    assert [p.name for p in first.event_files] == [f"events-00000{i}.json" for i in (1, 2, 3)]
    assert [p.name for p in second.event_files] == [f"events-00000{i}.json" for i in (4, 5, 6)]
    assert {p: p.read_bytes() for p in first.event_files} == before
    stamps = [datetime.fromisoformat(e["event_timestamp"]) for e in clean_events(second)]
    assert START + timedelta(days=3) <= min(stamps) <= max(stamps) < START + timedelta(days=6)


def test_second_call_with_another_seed_refuses_to_replace_the_customers_it_wrote(config):
    quiet(SMALL, config)
    before = all_files(config)

    with pytest.raises(ZenithError, match=r"customers\.csv already exists with other content"):
        quiet(GeneratorSettings(**{**SMALL.__dict__, "seed": 7}), config)

    assert all_files(config) == before


def test_batches_sleep_the_interval_between_them(config, monkeypatch):
    naps = []
    monkeypatch.setattr("zenith.demo.generator.time.sleep", naps.append)
    lines = []
    report = generate(
        config, GeneratorSettings(events=100, files=2, batches=3, interval=0.5), log=lines.append
    )
    assert naps == [0.5, 0.5]
    assert len(report.event_files) == 6
    assert len(lines) == 1 + 3


def test_no_temporary_files_are_left_behind(config):
    quiet(SMALL, config)
    names = [p.name for p in config.lakehouse.rglob("*") if p.is_file()]
    assert sorted(names) == [
        CUSTOMERS_FILE,
        "events-000001.json",
        "events-000002.json",
        "events-000003.json",
        PRODUCTS_FILE,
    ]


def test_failed_write_leaves_no_final_or_temporary_file(config, monkeypatch):
    def half_write_then_fail(path, data):
        with open(path, "wb") as out:
            out.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_write_then_fail)
    with pytest.raises(ZenithError, match="No space left on device"):
        quiet(SMALL, config)
    assert [p for p in config.lakehouse.rglob("*") if p.is_file()] == []


def test_unwritable_lakehouse_raises_one_line_zenith_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(ZenithError, match=r"^cannot write .*customers\.csv: ") as error:
        quiet(SMALL, Config(lakehouse=blocker))
    assert "\n" not in str(error.value)


def test_landing_is_empty_until_generated(config):
    assert landing_is_empty(config)
    quiet(GeneratorSettings(events=0), config)
    assert not landing_is_empty(config)
    assert not config.events_landing.exists()


# --- Settings -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"events": -1}, "events"),
        ({"customers": 0}, "customers"),
        ({"files": 0}, "files"),
        ({"batches": 0}, "batches"),
        ({"interval": -1.0}, "interval"),
        ({"duplicate_rate": 1.5}, "duplicate_rate"),
        ({"late_rate": -0.1}, "late_rate"),
        ({"malformed_rate": 0.6, "null_id_rate": 0.6}, "anomaly rates"),
    ],
)
def test_invalid_settings_raise_zenith_error_naming_the_field(changes, field):
    with pytest.raises(ZenithError, match=f"^{field}: expected "):
        GeneratorSettings(**changes)


# --- Dimension files and Spark --------------------------------------------------------------------
def test_customers_csv_and_products_parquet_follow_the_lab_vocabulary(config):
    quiet(SMALL, config)
    with open(config.customers_landing / CUSTOMERS_FILE, newline="") as handle:
        customers = list(csv.DictReader(handle))
    assert list(customers[0]) == ["customer_id", "signup_date", "location"]
    assert [int(c["customer_id"]) for c in customers] == list(range(1, 21))
    assert all(datetime.fromisoformat(c["signup_date"]).date() < START.date() for c in customers)
    assert {c["location"] for c in customers} <= {
        *("New York", "Los Angeles", "Chicago", "Houston"),
        *("Phoenix", "Philadelphia", "San Antonio", "San Diego"),
    }
    products = pq.read_table(config.products_landing / PRODUCTS_FILE).to_pylist()
    assert [p["product_id"] for p in products] == list(range(1, 11))
    assert {p["category"] for p in products} <= {"Furniture", "Home Decor", "Electronics", "Office Supplies"}
    assert all(15.50 <= p["price"] <= 899.99 and round(p["price"], 2) == p["price"] for p in products)


def test_spark_reads_customers_products_and_json_lines(spark, config):
    report = quiet(GeneratorSettings(customers=20, products=10, events=1000, files=4, **HIGH_RATES), config)
    customers = spark.read.option("header", True).csv(str(config.customers_landing))
    products = spark.read.parquet(str(config.products_landing))
    events = spark.read.json(str(config.events_landing))
    assert (customers.columns, customers.count()) == (["customer_id", "signup_date", "location"], 20)
    assert (products.columns, products.count()) == (["product_id", "product_name", "category", "price"], 10)
    assert dict(products.dtypes)["price"] == "double"
    assert events.count() == report.events_written == 1000
    assert events.columns == [
        *("_corrupt_record", "event_id", "event_timestamp", "event_type"),
        *("product_id", "session_id", "user_id"),
    ]


def test_spark_reads_json_arrays_as_multiline_json(spark, config):
    report = quiet(GeneratorSettings(events=1000, files=4, json_array=True, **HIGH_RATES), config)
    events = spark.read.option("multiLine", True).json(str(config.events_landing))
    assert events.count() == report.events_written == 1000
    assert sorted(events.columns) == [
        "event_id",
        "event_timestamp",
        "event_type",
        "product_id",
        "session_id",
        "user_id",
    ]
    assert dict(events.dtypes)["user_id"] == "string"
