"""A silver batch that dies between its writes is replayed by the next run: nothing twice, nothing lost."""

from __future__ import annotations

import pytest

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
