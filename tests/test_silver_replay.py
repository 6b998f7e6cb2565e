"""A silver batch that dies between its writes is replayed by the next run: nothing twice, nothing lost."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from tests.landing import event, write_events
from tests.reliability import (
    die_before_writing,
    quarantine_rows,
    run_metrics,
    run_pipeline,
    silver_metrics,
    silver_rows,
    table_version,
    ts,
)
from zenith.lakehouse import config as names
from zenith.lakehouse.errors import ZenithError
from zenith.lakehouse.stream_backlog import replayed_batch
from zenith.lakehouse.tables import read_table


@pytest.mark.parametrize(
    "doomed", [names.SILVER_QUARANTINE, names.SILVER_BATCHES], ids=["before-quarantine", "before-counts"]
)
def test_a_batch_killed_between_its_writes_is_replayed_exactly_once(spark, config, monkeypatch, doomed):
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00"),
        event("e1", "2026-03-01T10:00:01+00:00"),  # a re-send
        event("odd", "2026-03-01T10:00:02+00:00", product_id=777),
        event("e2", "2026-03-01T10:00:03+00:00"),
    )
    run_pipeline(config, layers=("bronze",))
    die_before_writing(monkeypatch, doomed)
    with pytest.raises(Exception, match="killed before writing"):
        run_pipeline(config, layers=("silver",))
    silver_version = table_version(spark, config, names.SILVER_ACTIVITY)
    assert replayed_batch(config.checkpoint(names.SILVER_ACTIVITY)) == 0  # planned, not committed
    monkeypatch.undo()

    rerun, _ = run_pipeline(config, layers=("silver",))

    assert table_version(spark, config, names.SILVER_ACTIVITY) == silver_version  # not written twice
    assert [row[:2] for row in silver_rows(spark, config)] == [
        ("e1", ts("2026-03-01T10:00:00")),
        ("e2", ts("2026-03-01T10:00:03")),
    ]
    assert quarantine_rows(spark, config) == [("unknown_product", "odd", "2026-03-01T10:00:02+00:00")]
    assert run_metrics(spark, config, rerun) == silver_metrics(
        rows_read=4, quarantined_unknown_product=1, duplicates_removed=1, rows_written=2
    )


def test_the_batch_a_restarted_query_runs_again_is_its_last_planned_one_if_not_committed(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    assert replayed_batch(checkpoint) is None  # a query that never ran
    (checkpoint / "offsets").mkdir(parents=True)
    (checkpoint / "commits").mkdir()
    for batch in ("0", "1", "2", ".2.crc"):
        (checkpoint / "offsets" / batch).write_text("v1")
    for batch in ("0", "1"):
        (checkpoint / "commits" / batch).write_text("v1")
    assert replayed_batch(checkpoint) == 2
    (checkpoint / "commits" / "2").write_text("v1")
    assert replayed_batch(checkpoint) is None


def test_a_checkpoint_older_than_the_batches_written_is_one_line_and_writes_nothing(spark, config):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    run_pipeline(config, layers=("bronze", "silver"))  # batch 0
    write_events(config, "events-2.json", event("e2", "2026-03-01T10:01:00+00:00"))
    run_pipeline(config, layers=("bronze", "silver"))  # batch 1
    checkpoint = config.checkpoint(names.SILVER_ACTIVITY)
    for log in ("offsets", "commits"):  # back to the copy taken before batch 1
        for name in ("1", ".1.crc"):
            (checkpoint / log / name).unlink(missing_ok=True)
    assert replayed_batch(checkpoint) is None
    write_events(config, "events-3.json", event("e3", "2026-03-01T10:02:00+00:00"))
    run_pipeline(config, layers=("bronze",))
    versions = {table: table_version(spark, config, table) for table in SILVER_TABLES}

    # Batch 1 again, now with e3 too: Delta would skip its appends (and e3) as ones it already committed.
    with pytest.raises(ZenithError) as error:
        run_pipeline(config, layers=("silver",))

    assert str(error.value) == (
        f"silver's checkpoint ({checkpoint}) plans batch 1 anew, but that batch was written at "
        f"{batch_written(spark, config, 1):%Y-%m-%d %H:%M:%S} UTC (`_system`.`silver_batches`): the checkpoint is "
        "an older copy, and Delta would skip this batch's writes with any row it adds; rebuild with "
        "--full-refresh --layers silver,gold (the full_refresh and layers widgets on Databricks)"
    )
    assert {table: table_version(spark, config, table) for table in SILVER_TABLES} == versions
    assert [row[0] for row in silver_rows(spark, config)] == ["e1", "e2"]


SILVER_TABLES = (names.SILVER_ACTIVITY, names.SILVER_QUARANTINE, names.SILVER_BATCHES)


def batch_written(spark, config, batch_id: int):
    """When silver's stream recorded batch ``batch_id``."""
    batches = read_table(spark, config, names.SILVER_BATCHES).where(F.col("batch_id") == batch_id)
    return batches.select("committed_at").first()[0]
