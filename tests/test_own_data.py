"""Bring your own data: user-named files in nested folders are read completely, and never mixed with demo data."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from tests.landing import PRODUCTS, event
from zenith.cli import main
from zenith.demo.generator import GeneratorSettings, generate
from zenith.lakehouse import config as names
from zenith.lakehouse.config import LANDING, Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.landing import landed_files
from zenith.lakehouse.tables import read_table
from zenith.pipeline.bronze import event_files
from zenith.pipeline.run import PipelineRun, RunParams

# Customer 2 lives in a city the region rule does not list; 3 has a blank location; 4 has none.
CUSTOMERS = "customer_id,signup_date,location\n1,2025-01-05,New York\n2,2025-02-11,Denver\n3,2025-03-20,   \n"
MORE_CUSTOMERS = "customer_id,signup_date,location\n4,2025-04-01,\n"
# Event file (relative to user_events) -> its events (event_id, user_id, product_id); 99 is unknown.
EVENT_FILES = {
    "events_0000.json": [("e1", 1, 10), ("e2", 2, 20)],
    "2026/03/28/part-0001.json": [("e3", 3, 10), ("e4", 99, 20)],
    "2026/03/29/part-0002.json.gz": [("e5", 4, 10)],
}
# Files Spark skips (names starting with "." or "_", or inside such a folder): never read, never counted.
HIDDEN = {
    "_SUCCESS": "",
    ".part-0001.json.crc": "not json",
    "_temporary/0/part-0009.json": event("e9", "2026-03-28T10:00:00+00:00") + "\n",
}


def event_lines(events: list[tuple[str, int, int]]) -> str:
    return "".join(
        event(event_id, f"2026-03-28T10:0{i}:00+00:00", user_id=user, product_id=product) + "\n"
        for i, (event_id, user, product) in enumerate(events)
    )


def land_users_files(config: Config) -> None:
    """A landing zone as a user might fill it: own names, date folders, gzip, marker files."""
    (config.customers_landing / "2026/03").mkdir(parents=True)
    (config.customers_landing / "customer_profiles.csv").write_text(CUSTOMERS)
    (config.customers_landing / "2026/03/more_customers.csv.gz").write_bytes(
        gzip.compress(MORE_CUSTOMERS.encode())
    )
    (config.products_landing / "catalog").mkdir(parents=True)
    PRODUCTS.to_parquet(config.products_landing / "catalog/product_details.parquet", index=False)
    for name, events in EVENT_FILES.items():
        path = config.events_landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = event_lines(events)
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    for name, text in HIDDEN.items():
        path = config.events_landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def zenith(capsys, config: Config, *argv: str) -> tuple[int, list[str], list[str]]:
    code = main(["--lakehouse", str(config.lakehouse), *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


SMALL_GENERATE = ("generate", "--customers", "3", "--products", "2", "--events", "20", "--files", "2")
USERS_FILES = 6  # 2 customers files, 1 products file, 3 event files


@pytest.fixture
def config(tmp_path, monkeypatch) -> Config:
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    config = Config(lakehouse=tmp_path / "lakehouse")
    land_users_files(config)
    return config


# --- Which files are data ------------------------------------------------------------------------
def test_landed_files_are_found_at_any_depth_and_hidden_ones_skipped(config):
    found = [str(p.relative_to(config.events_landing)) for p in landed_files(config.events_landing)]

    assert found == sorted(EVENT_FILES)
    assert landed_files(config.lakehouse / "no-such-folder") == []


def test_json_array_check_walks_sub_folders_and_names_the_nested_json_lines_file(config):
    with pytest.raises(
        ZenithError, match=r"user_events/2026/03/28/part-0001\.json: the JSON-array setting is on"
    ):
        event_files.check_json_arrays(config.events_landing)


def test_json_array_check_reads_gzip_files_decompressed(tmp_path):
    (tmp_path / "2026").mkdir()
    (tmp_path / "2026/part-1.json.gz").write_bytes(gzip.compress(b"[" + event("a", "x").encode() + b"]"))
    (tmp_path / "2026/part-2.json.gz").write_bytes(gzip.compress(event("b", "x").encode()))

    with pytest.raises(ZenithError, match=r"2026/part-2\.json\.gz: .* starts with '\{'"):
        event_files.check_json_arrays(tmp_path)


# --- The generator leaves your data alone ------------------------------------------------------------
def test_generate_if_empty_counts_every_file_of_the_user_and_writes_nothing(config, capsys):
    before = files_under(config.lakehouse)

    code, out, err = zenith(capsys, config, *SMALL_GENERATE, "--if-empty")

    landing = config.volumes_root / LANDING
    assert (code, err) == (0, [])
    assert out == [
        f"generate: landing zone {landing} already has {USERS_FILES} files: not generating demo data"
    ]
    assert files_under(config.lakehouse) == before


def test_generate_if_empty_sees_a_single_file_in_a_date_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    config = Config(lakehouse=tmp_path / "lakehouse")
    (config.events_landing / "2026/03/28").mkdir(parents=True)
    (config.events_landing / "2026/03/28/part-0001.json").write_text(event_lines([("e1", 1, 10)]))

    code, out, _ = zenith(capsys, config, *SMALL_GENERATE, "--if-empty")

    assert (code, len(out)) == (0, 1)
    assert "already has 1 files: not generating demo data" in out[0]
    assert landed_files(config.customers_landing) == []


def test_generate_without_force_refuses_to_mix_demo_data_into_the_users_files(config, capsys):
    before = files_under(config.lakehouse)

    code, out, err = zenith(capsys, config, *SMALL_GENERATE)

    assert (code, out) == (1, [])
    assert err == [
        f"zenith: error: the landing zone already has {USERS_FILES} files of your own "
        f"(such as {config.customers_landing / '2026/03/more_customers.csv.gz'}): not mixing demo data "
        "into them; pass --force to add demo files beside them"
    ]
    assert files_under(config.lakehouse) == before


def test_generate_with_force_adds_demo_files_beside_the_users_and_says_what_it_added(config, capsys):
    before = files_under(config.lakehouse)

    code, out, err = zenith(capsys, config, *SMALL_GENERATE, "--force", "--seed", "3")

    after = files_under(config.lakehouse)
    assert (code, err) == (0, [])
    assert {name: after[name] for name in before} == before
    landing = config.lakehouse / "Volumes/zenith_online/00_landing"
    added = sorted(
        str((config.lakehouse / name).relative_to(landing)) for name in after.keys() - before.keys()
    )
    assert added == [
        "batch/customers/customers.csv",
        "batch/products/products.parquet",
        "streaming/user_events/events-000001.json",
        "streaming/user_events/events-000002.json",
    ]
    assert out[0] == f"--force: adding demo files beside {USERS_FILES} files of your own"
    assert out[1] == (
        f"wrote 3 customers to {config.customers_landing / 'customers.csv'}; "
        f"wrote 2 products to {config.products_landing / 'products.parquet'}"
    )
    assert out[2].startswith(
        f"batch 0: 20 events in {config.events_landing}/events-000001.json..events-000002.json"
    )
    assert len(out) == 3


def test_generate_never_replaces_a_users_file_that_has_the_demo_name(tmp_path):
    config = Config(lakehouse=tmp_path / "lakehouse")
    config.customers_landing.mkdir(parents=True)
    (config.customers_landing / "customers.csv").write_text(CUSTOMERS)

    for force in (False, True):
        with pytest.raises(ZenithError, match=r"customers\.csv already exists with other content"):
            generate(config, GeneratorSettings(events=0), log=lambda _: None, force=force)

    assert (config.customers_landing / "customers.csv").read_text() == CUSTOMERS
    assert landed_files(config.products_landing) == []


# --- The pipeline reads all of it, and only it ---------------------------------------------------------
def test_users_nested_files_alone_reach_bronze_completely_and_regions_follow_the_rule(
    spark, lakehouse_config, capsys
):
    config = lakehouse_config
    land_users_files(config)
    assert zenith(capsys, config, "setup")[0] == 0
    assert zenith(capsys, config, *SMALL_GENERATE, "--if-empty")[0] == 0  # what `make run` does

    run = PipelineRun.start(RunParams(lakehouse=str(config.lakehouse)), log=lambda _: None)
    reports = {report.table: report for report in run.bronze()}
    silver_report = run.silver()

    assert [(r.files, r.rows) for r in reports.values()] == [(2, 4), (1, 2), (3, 5)]
    events = read_table(spark, config, names.BRONZE_EVENTS)
    read = events.select("event_id", F.regexp_extract("source_file", r"/user_events/(.*)$", 1))
    assert sorted(tuple(r) for r in read.collect()) == sorted(
        (event_id, name) for name, rows in EVENT_FILES.items() for event_id, _, _ in rows
    )
    customers = read_table(spark, config, names.BRONZE_CUSTOMERS)
    assert sorted(r.customer_id for r in customers.collect()) == [1, 2, 3, 4]
    silver = read_table(spark, config, names.SILVER_ACTIVITY).select("event_id", "region")
    assert sorted(tuple(r) for r in silver.collect()) == [
        ("e1", "East Coast"),
        ("e2", "Central"),  # Denver: not listed, still a region
        ("e3", None),  # blank location
        ("e4", None),  # unknown customer
        ("e5", None),  # no location
    ]
    assert silver_report.no_region == 3
