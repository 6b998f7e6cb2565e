"""Issue 19's edge cases, each on a fresh lakehouse: a backfill with old file times, a kill during a first commit."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from decimal import Decimal

from pyspark.sql import functions as F

from tests.landing import event, write_events
from tests.reliability import (
    DAY,
    gold_rows,
    quarantine_rows,
    run_metrics,
    run_pipeline,
    silver_metrics,
    silver_rows,
    views,
)
from tests.test_reliability import desk_view
from zenith.lakehouse import config as names
from zenith.lakehouse.landing import file_fingerprint
from zenith.lakehouse.runtime import register_local_tables
from zenith.lakehouse.tables import read_table
from zenith.pipeline.bronze import event_files
from zenith.pipeline.bronze import events as bronze

MONTH_AGO = time.time() - 30 * 24 * 3600


def bronze_files(spark, config) -> list[tuple]:
    """(event_id, file name) of every bronze event, sorted."""
    rows = read_table(spark, config, names.BRONZE_EVENTS).select(
        "event_id", F.regexp_extract("source_file", r"([^/]+)$", 1)
    )
    return sorted(tuple(r) for r in rows.collect())


def land_backfill(config, name: str, *lines: str) -> None:
    """Land an event file with a modification time 30 days back, as ``cp -p`` or ``rsync -a`` do."""
    write_events(config, name, *lines)
    os.utime(config.events_landing / name, (MONTH_AGO, MONTH_AGO))


# Case 2 --------------------------------------------------------------------------------------
def test_a_backfill_landed_with_old_file_times_is_read_by_the_next_run(spark, config):
    for n in (1, 2, 3):
        write_events(config, f"events-{n}.json", event(f"e{n}", f"2026-03-01T10:0{n}:00+00:00"))
    run_pipeline(config)
    land_backfill(config, "backfill.json", event("b4", "2026-03-01T10:04:00+00:00"))

    second, lines = run_pipeline(config)

    assert bronze_files(spark, config) == [
        ("b4", "backfill.json"),
        ("e1", "events-1.json"),
        ("e2", "events-2.json"),
        ("e3", "events-3.json"),
    ]
    assert silver_rows(spark, config) == [
        desk_view("b4", "2026-03-01T10:04:00"),
        *(desk_view(f"e{n}", f"2026-03-01T10:0{n}:00") for n in (1, 2, 3)),
    ]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [views(10, 4)]
    assert run_metrics(spark, config, second) == silver_metrics(rows_read=1, rows_written=1)
    assert run_metrics(spark, config, second, "bronze")["bronze_user_events.unread_files"] == 0
    assert not [line for line in lines if "warning" in line]


def test_a_landed_file_the_stream_did_not_read_is_named_in_a_warning_and_counted(spark, config, monkeypatch):
    monkeypatch.setattr(bronze, "MAX_FILE_AGE", "7d")  # Spark's default, which skipped old backfills
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    bronze.ingest_events(spark, config)
    land_backfill(config, "backfill.json", event("b1", "2026-03-01T10:01:00+00:00"))
    write_events(config, "empty.json")  # no record in it: nothing to read, nothing to say
    warnings: list[str] = []

    report = bronze.ingest_events(spark, config, warnings.append)

    modified = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(MONTH_AGO))
    assert warnings == [
        f"warning: 1 landed event file(s) were not read by bronze: backfill.json (modified {modified}); "
        "land them again under a new file name"
    ]
    assert (report.files, report.rows, report.problems["unread_files"]) == (0, 0, 1)
    assert bronze_files(spark, config) == [("e1", "events-1.json")]


# Case 4 --------------------------------------------------------------------------------------
def leave_first_commit_shell(config, table) -> None:
    """What a ``kill -9`` during a table's first commit leaves: a ``_delta_log`` without a version.

    An empty ``_staged_commits/``, the commit's temporary file, and a data file no version lists.
    """
    folder = config.table_path(table)
    (folder / "_delta_log" / "_staged_commits").mkdir(parents=True)
    (folder / "_delta_log" / f".{0:020d}.json.{uuid.uuid4()}.tmp").write_text('{"commitInfo":')
    (folder / f"part-00000-{uuid.uuid4()}-c000.snappy.parquet").write_bytes(b"PAR1")


def test_a_kill_during_any_tables_first_commit_leaves_a_folder_the_next_run_makes_the_table(
    spark, config, capsys
):
    for table in names.TABLES:  # the bronze stream's, silver's, gold's and the system tables
        leave_first_commit_shell(config, table)
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00", event_type="purchase"),
        event("e9", "2026-03-01T10:01:00+00:00", product_id=30),
    )

    assert register_local_tables(spark, config) == []
    notes = capsys.readouterr().err.splitlines()
    path = config.table_path(names.RUN_METRICS)
    assert (
        f"note: {path} holds no committed Delta version (a run stopped during the table's first commit); "
        f"{config.table_name(names.RUN_METRICS)} is created by the next write"
    ) in notes
    assert len([note for note in notes if note.startswith("note: ")]) == len(names.TABLES)

    run, _ = run_pipeline(config)

    assert bronze_files(spark, config) == [("e1", "events-1.json"), ("e9", "events-1.json")]
    assert silver_rows(spark, config) == [desk_view("e1", "2026-03-01T10:00:00")]
    assert quarantine_rows(spark, config) == [("unknown_product", "e9", "2026-03-01T10:01:00+00:00")]
    assert gold_rows(spark, config) == [(DAY, 10, 0, 0, 1, Decimal("249.99"))]
    assert run_metrics(spark, config, run) == silver_metrics(
        rows_read=2, quarantined_unknown_product=1, rows_written=1
    )
    summary = read_table(spark, config, names.GOLD_CUSTOMER_SUMMARY).select(
        "user_id", "region", "total_purchases", "total_purchase_value"
    )
    assert [tuple(r) for r in summary.collect()] == [(1, "East Coast", 1, Decimal("249.99"))]
    ingested = read_table(spark, config, names.INGESTED_FILES).select("rows")
    assert [tuple(r) for r in ingested.collect()] == [(2,)]
    assert sorted(register_local_tables(spark, config)) == sorted(map(config.table_name, names.TABLES))


# Case 1 and case 5 ---------------------------------------------------------------------------
def test_resends_stamped_hours_later_or_days_earlier_are_duplicates_within_the_horizon(spark, config):
    originals = [event(f"r{n}", f"2026-03-01T10:0{n}:00+00:00", event_type="purchase") for n in range(5)]
    write_events(config, "events-1.json", *originals)
    run_pipeline(config)
    write_events(
        config,
        "events-2.json",
        *(event(f"r{n}", f"2026-03-01T1{n + 3}:00:00+00:00", event_type="purchase") for n in range(4)),
        event(
            "r4", "2026-02-27T10:04:00+00:00", event_type="purchase"
        ),  # 2 days before, behind the watermark
        event("new", "2026-03-01T10:30:00+00:00"),
    )

    second, _ = run_pipeline(config)

    assert silver_rows(spark, config) == [
        desk_view("new", "2026-03-01T10:30:00"),
        *(desk_view(f"r{n}", f"2026-03-01T10:0{n}:00") for n in range(5)),
    ]
    assert quarantine_rows(spark, config) == []
    assert gold_rows(spark, config) == [(DAY, 10, 1, 0, 5, Decimal("1249.95"))]
    assert run_metrics(spark, config, second) == silver_metrics(
        rows_read=6, duplicates_removed=5, late_dropped=1, rows_written=1
    )


def test_a_same_size_rewrite_with_its_old_modification_time_is_still_a_changed_file(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    landed = config.events_landing / "events-1.json"
    bronze.ingest_events(spark, config)
    stat = landed.stat()
    write_events(config, "events-1.json", event("e2", "2026-03-01T10:00:00+00:00"))  # same size
    os.utime(landed, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as a clock set back, or cp -p, leaves it
    warnings: list[str] = []

    report = bronze.ingest_events(spark, config, warnings.append)

    assert landed.stat().st_size == stat.st_size
    assert warnings == [
        "warning: 1 landed event file(s) changed after bronze ingested them and will not be read again: "
        f"events-1.json (ingested {stat.st_size} bytes, now {stat.st_size}); land new content under a new file name"
    ]
    assert (report.rows, report.problems["changed_files"]) == (0, 1)
    assert bronze_files(spark, config) == [("e1", "events-1.json")]


def test_the_changed_file_check_reads_only_the_files_touched_since_ingestion(spark, config, monkeypatch):
    for n in (1, 2, 3):
        write_events(config, f"events-{n}.json", event(f"e{n}", f"2026-03-01T10:0{n}:00+00:00"))
    bronze.ingest_events(spark, config)
    rewritten = config.events_landing / "events-2.json"
    stat = rewritten.stat()
    write_events(config, "events-2.json", event("e9", "2026-03-01T10:02:00+00:00"))  # same size
    os.utime(rewritten, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    write_events(config, "events-4.json", event("e4", "2026-03-01T10:04:00+00:00"))
    opened = []

    def fingerprint(path):
        opened.append(path.name)
        return file_fingerprint(path)

    # No clock margin: the files landed a moment before bronze read them count as untouched since.
    monkeypatch.setattr(event_files, "CLOCK_MARGIN", dt.timedelta(0))
    monkeypatch.setattr(event_files, "file_fingerprint", fingerprint)
    checked = event_files.check_event_files(spark, config, warn=lambda line: None)

    assert opened == ["events-2.json"]
    assert (checked.changed, [path.name for path in checked.new]) == (1, ["events-4.json"])
