"""``zenith maintain``: small writes are one file, maintenance leaves only live files, streams lose nothing."""

from __future__ import annotations

import fcntl
import json
import re
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.landing import event, write_events
from tests.reliability import gold_rows, quarantine_rows, run_pipeline, silver_rows, ts
from zenith.cli import main
from zenith.lakehouse import config as names
from zenith.lakehouse import maintenance
from zenith.lakehouse.catalog_docs import SMALL_WRITES
from zenith.lakehouse.config import Config
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.run_lock import LOCK_FILE, release_run_lock
from zenith.lakehouse.stream_backlog import unread_backlog
from zenith.lakehouse.tables import read_table

DESK, LAMP = (10, Decimal("249.99")), (20, Decimal("15.50"))
TIME_TRAVEL_LINE = (
    "note: retention 0 hours: time travel to earlier versions ends here; each table keeps only the files "
    "of its current version"
)
# Each table's files once maintain has run: one per partition (silver and gold by event_date), none
# for a table without rows.
COMPACTED = {
    "bronze_user_events": 1,
    "bronze_customer_profiles": 1,
    "bronze_product_details": 1,
    "silver_sessionized_activity": 2,
    "silver_quarantine": 1,
    "gold_daily_product_performance": 2,
    "customer_purchase_summary": 1,
    "gold_customer_state": 1,
    "null_region_users": 0,
    "run_metrics": 1,
    "ingested_event_files": 1,
    "silver_batches": 1,
}


def land_day_1(config) -> None:
    write_events(
        config,
        "events-1.json",
        event("a", "2026-03-01T10:00:00+00:00"),
        event("b", "2026-03-01T10:01:00+00:00", event_type="purchase"),
        "not json",
    )


def land_day_2(config) -> None:
    write_events(
        config, "events-2.json", event("c", "2026-03-02T09:00:00+00:00", 2, "purchase", product_id=20)
    )


def land_day_3(config) -> None:
    """A new event, and a copy of ``a``: a duplicate."""
    write_events(
        config,
        "events-3.json",
        event("d", "2026-03-02T09:05:00+00:00", 3, "add_to_cart", product_id=20),
        event("a", "2026-03-01T10:00:00+00:00"),
    )


def assert_three_days_exact(spark, config) -> None:
    """Silver, quarantine and both gold tables after days 1 to 3, row for row."""
    assert silver_rows(spark, config) == [
        ("a", ts("2026-03-01T10:00:00"), "East Coast", *DESK),
        ("b", ts("2026-03-01T10:01:00"), "East Coast", *DESK),
        ("c", ts("2026-03-02T09:00:00"), "West Coast", *LAMP),
        ("d", ts("2026-03-02T09:05:00"), "Central", *LAMP),
    ]
    assert quarantine_rows(spark, config) == [("corrupt_record", None, None)]
    assert gold_rows(spark, config) == [
        (ts("2026-03-01T00:00:00").date(), 10, 1, 0, 1, Decimal("249.99")),
        (ts("2026-03-02T00:00:00").date(), 20, 0, 1, 1, Decimal("15.50")),
    ]
    summary = read_table(spark, config, names.GOLD_CUSTOMER_SUMMARY).collect()
    assert sorted(tuple(row) for row in summary) == [
        (1, "East Coast", Decimal("249.99"), 1, 1, ts("2026-03-01T10:01:00")),
        (2, "West Coast", Decimal("15.50"), 1, 1, ts("2026-03-02T09:00:00")),
    ]


def files(reports, moment: str) -> dict[str, tuple[int, int]]:
    """(live files, files on disk) of each table maintained, ``before`` or ``after``."""
    return {
        r.table.name: (getattr(r, f"live_{moment}").count, getattr(r, f"disk_{moment}").count)
        for r in reports
    }


def only_live_files() -> dict[str, tuple[int, int]]:
    return {name: (count, count) for name, count in COMPACTED.items()}


def test_maintain_killed_after_its_first_optimize_loses_nothing_and_the_next_leaves_only_live_files(
    spark, config, monkeypatch
):
    """Small writes are one file each; a maintain killed midway is finished by the next; later runs are exact."""
    land_day_1(config)
    run_pipeline(config)
    land_day_2(config)
    run_pipeline(config)
    release_run_lock(config)  # the runs above kept it, as a finished process would not

    def killed(*args):
        raise RuntimeError("killed during maintenance")

    with monkeypatch.context() as patch:  # killed after its first table's OPTIMIZE, before that VACUUM
        patch.setattr(maintenance, "vacuum", killed)
        with pytest.raises(RuntimeError, match="killed during maintenance"):
            maintenance.maintain(spark, config, retention_hours=0, log=lambda line: None)
    assert lock_is_free(config)
    assert maintenance.live_files(spark, config.delta_target(names.BRONZE_EVENTS)).count == 1  # compacted
    newest = spark.sql(f"DESCRIBE HISTORY {config.delta_target(names.BRONZE_EVENTS)} LIMIT 1").first()
    assert newest.operation == "OPTIMIZE"  # (the files on disk below show that no VACUUM followed it)
    lines = []

    reports = maintenance.maintain(spark, config, retention_hours=0, log=lines.append)

    before = files(reports, "before")
    small_writes = [table.name for table in SMALL_WRITES]
    # The killed maintain compacted bronze's two files into one, deleted none, and reached no other table.
    assert {name: counts for name, counts in before.items() if name not in small_writes} == {
        "bronze_user_events": (1, 3),
        "bronze_customer_profiles": (1, 1),
        "bronze_product_details": (1, 1),
        "silver_sessionized_activity": (2, 2),
        "silver_quarantine": (1, 1),
    }
    # Two runs, each one file in each small table: the second gold batch replaced the one date it
    # touched and merged in one new customer.
    assert {name: before[name] for name in small_writes} == {
        "gold_daily_product_performance": (2, 2),
        "customer_purchase_summary": (2, 2),
        "gold_customer_state": (2, 2),
        "null_region_users": (0, 0),
        "run_metrics": (2, 2),
        "ingested_event_files": (2, 2),
        "silver_batches": (2, 2),
    }
    assert files(reports, "after") == only_live_files()
    # Locally VACUUM commits nothing: the newest commit of a table it emptied of old files is OPTIMIZE's.
    newest = spark.sql(f"DESCRIBE HISTORY {config.delta_target(names.RUN_METRICS)} LIMIT 1").first()
    assert newest.operation == "OPTIMIZE"
    assert lines[0] == TIME_TRAVEL_LINE
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        f"maintain {t.schema}.{t.name}" for t in names.TABLES
    ]
    disk_before = sum(count for _, count in before.values())
    assert re.fullmatch(
        rf"maintain: 12 tables optimized, 12 vacuumed \(retention 0 hours\); on disk {disk_before} files "
        rf"\(.+\) -> {sum(COMPACTED.values())} files \(.+\)",
        lines[-1],
    )
    assert silver_rows(spark, config) == [  # maintenance changes no row: days 1 and 2 as the runs wrote them
        ("a", ts("2026-03-01T10:00:00"), "East Coast", *DESK),
        ("b", ts("2026-03-01T10:01:00"), "East Coast", *DESK),
        ("c", ts("2026-03-02T09:00:00"), "West Coast", *LAMP),
    ]
    land_day_3(config)
    run_pipeline(config)
    assert_three_days_exact(spark, config)


def test_vacuum_keeps_the_files_a_stream_has_not_read_and_the_next_runs_are_exact(spark, config):
    land_day_1(config)
    run_pipeline(config)
    for reader, source in names.STREAM_SOURCES.items():  # the checkpoints read the tables named
        offset = json.loads((config.checkpoint(reader) / "offsets" / "0").read_text().splitlines()[2])
        detail = spark.sql(f"DESCRIBE DETAIL {config.delta_target(source)}").first()
        assert offset["reservoirId"] == detail.id, reader.name
    land_day_2(config)
    run_pipeline(config, layers=("bronze", "silver"))  # a run that stopped after silver: gold has not read it
    land_day_3(config)
    run_pipeline(config, layers=("bronze",))  # then one that stopped after bronze: silver has not read it
    lines = []

    reports = maintenance.maintain(spark, config, retention_hours=0, log=lines.append)

    # Each table a stream reads keeps the files of the version that stream has not read: bronze's third
    # append (day 3) and silver's second (day 2). No maintain came before, so no other version is between.
    assert [line for line in lines if line.startswith("note: VACUUM")] == [
        "note: VACUUM of 01_bronze.bronze_user_events skipped: the stream that writes "
        "02_silver.silver_sessionized_activity would need files VACUUM deletes, as it has not read version 3 "
        "yet; run the pipeline (it reads them), then maintain again",
        "note: VACUUM of 02_silver.silver_sessionized_activity skipped: the stream that writes "
        "03_gold.gold_daily_product_performance would need files VACUUM deletes, as it has not read version 2 "
        "yet; run the pipeline (it reads them), then maintain again",
    ]
    held = {r.table.name: (r.live_after.count, r.disk_after.count, r.vacuumed) for r in reports}
    assert held["bronze_user_events"] == (1, 4, False)  # three appends compacted, none deleted
    assert held["silver_sessionized_activity"] == (2, 2, False)  # one file per day: nothing to compact
    assert gold_rows(spark, config) == [(ts("2026-03-01T00:00:00").date(), 10, 1, 0, 1, Decimal("249.99"))]

    run_pipeline(config)  # reads what each stream had left: the held files were all still there
    assert_three_days_exact(spark, config)
    lines = []
    reports = maintenance.maintain(spark, config, retention_hours=0, log=lines.append)
    assert [line for line in lines if line.startswith("note:")] == [TIME_TRAVEL_LINE]
    assert files(reports, "after") == only_live_files()
    assert_three_days_exact(spark, config)


def lock_is_free(config) -> bool:
    """True if another process can take the lakehouse's run lock at once."""
    take = "import fcntl, sys; fcntl.flock(open(sys.argv[1], 'a+'), fcntl.LOCK_EX | fcntl.LOCK_NB)"
    return subprocess.run([sys.executable, "-c", take, str(config.lakehouse / LOCK_FILE)]).returncode == 0


def test_maintain_refuses_while_a_run_holds_the_lock(spark, config):
    with (config.lakehouse / LOCK_FILE).open("a+") as run:  # another run's lock: flock is per open file
        fcntl.flock(run, fcntl.LOCK_EX)
        run.write("2026-11-26 23:00:00 UTC (pid 4242)\n")
        run.flush()
        with pytest.raises(ZenithError) as raised:
            maintenance.maintain(spark, config, retention_hours=0, log=lambda line: None)

    assert str(raised.value) == (
        f"another run is in progress since 2026-11-26 23:00:00 UTC (pid 4242) on {config.lakehouse}: "
        "wait for it to end"
    )
    assert lock_is_free(config)


def test_cli_maintain_says_where_time_travel_ends_and_counts_the_tables(config, capsys):
    assert main(["--lakehouse", str(config.lakehouse), "maintain", "--retention-hours", "0"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        TIME_TRAVEL_LINE,
        "maintain: 0 tables optimized, 0 vacuumed (retention 0 hours)",
    ]


def test_cli_refuses_a_negative_retention_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--lakehouse", str(tmp_path), "maintain", "--retention-hours", "-1"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "zenith maintain: error: argument --retention-hours: expected a number >= 0, got -1\n"
    )


def test_a_retention_below_deltas_default_is_refused_on_databricks_only():
    with pytest.raises(ZenithError) as raised:
        maintenance.check_retention(Config(), 167)
    assert str(raised.value) == (
        "retention: 167 hours is for a local lakehouse only; on Databricks no run lock keeps other writers "
        "out, so use at least 168 (Delta's default)"
    )
    maintenance.check_retention(Config(), 168)
    maintenance.check_retention(Config(lakehouse="lakehouse"), 0)


# --- What a stream has read, from its checkpoint alone ---------------------------------------------
def offsets_file(version: int, index: int = -1, starting: bool = False) -> str:
    offset = {"sourceVersion": 1, "reservoirId": "r", "reservoirVersion": version, "index": index}
    return "v1\n{}\n" + json.dumps(offset | {"isStartingVersion": starting})


@pytest.mark.parametrize(
    ("offsets", "commits", "expected"),
    [
        ({}, (), None),
        ({0: offsets_file(3)}, (), "its first micro-batch (batch 0) has not committed"),
        ({0: offsets_file(3, index=4, starting=True)}, (0,), "it has read version 3 only in part"),
        ({0: offsets_file(3, index=4)}, (0,), "it has read version 3 only in part"),
        ({0: "v1\n{}\n"}, (0,), "the offset of its batch 0 cannot be read"),
    ],
    ids=["no-checkpoint", "first-batch-planned", "snapshot-in-part", "version-in-part", "unreadable"],
)
def test_a_checkpoint_short_of_a_version_boundary_keeps_the_files(tmp_path, offsets, commits, expected):
    config = Config(lakehouse=tmp_path)
    checkpoint = config.checkpoint(names.SILVER_ACTIVITY)
    for batch, text in offsets.items():
        (checkpoint / "offsets").mkdir(parents=True, exist_ok=True)
        (checkpoint / "offsets" / str(batch)).write_text(text)
    for batch in commits:
        (checkpoint / "commits").mkdir(parents=True, exist_ok=True)
        (checkpoint / "commits" / str(batch)).write_text("v1\n{}\n")

    assert unread_backlog(None, config, names.BRONZE_EVENTS, names.SILVER_ACTIVITY) == expected
