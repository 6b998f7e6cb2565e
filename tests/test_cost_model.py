"""The README's cost model, checked by taking away what a run must not read.

A second run gets one new landed file. Before it runs, the first run's landed file and the bronze
data files it wrote are deleted: a run that read history would fail on a missing file, and one
that reads only new data writes exactly the new rows. Then silver's files go too, and the
data-quality list still answers from what gold keeps. While the new batch writes its quarantine,
silver's older files and the dimensions' are hidden: the batch read them once, for silver's append.
(Gold's "touched dates only" row is checked the same way in ``test_gold_incremental.py``.)
The second run loads four rows on a session set as Spark's defaults are: its steps after bronze run
with the small-run settings, each stream batch with one shuffle partition too (the streams' checkpoints
keep the three of the first run's session), and the session has its own settings back after the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse

from tests.landing import event, write_events
from tests.reliability import DAY, gold_rows, quarantine_rows, run_metrics, run_pipeline, silver_metrics, ts
from zenith.lakehouse import config as names
from zenith.lakehouse.runtime import SMALL_RUN_CONF, conf_set, small_batch_settings
from zenith.lakehouse.tables import read_table
from zenith.pipeline.gold import batch as gold_batch
from zenith.pipeline.silver import batch as silver_batch

# Settings like Spark's defaults (the test session's are the small-run ones), and three shuffle partitions.
SPARKS_OWN = {
    "spark.sql.codegen.wholeStage": "true",
    "spark.sql.codegen.factoryMode": "FALLBACK",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.shuffle.partitions": "3",
}


def data_files(spark, config, table) -> list[Path]:
    """The data files of a table's current version."""
    return [Path(unquote(urlparse(uri).path)) for uri in read_table(spark, config, table).inputFiles()]


def settings_of(frame) -> dict[str, str]:
    """The values of ``SPARKS_OWN``'s settings in the session that runs ``frame``."""
    return {key: frame.sparkSession.conf.get(key) for key in SPARKS_OWN}


@contextmanager
def hidden(paths: list[Path]) -> Iterator[None]:
    """The files are unreadable (renamed) for the block, then back."""
    for path in paths:
        path.rename(path.with_name(path.name + ".hidden"))
    try:
        yield
    finally:
        for path in paths:
            path.with_name(path.name + ".hidden").rename(path)


def test_a_run_reads_the_new_landed_file_and_the_new_bronze_rows_only(spark, config, monkeypatch):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    with conf_set(spark, {"spark.sql.shuffle.partitions": "3"}):  # kept in the streams' checkpoints
        run_pipeline(config)
    old_bronze = data_files(spark, config, names.BRONZE_EVENTS)
    write_events(
        config,
        "events-2.json",
        event("e2", "2026-03-01T10:01:00+00:00", event_type="purchase"),
        event("e1", "2026-03-01T10:00:00+00:00"),  # a re-send: silver's recent ids are still read
        event("e3", "2026-03-01T10:02:00+00:00", user_id=99),  # not a customer: no region
        event("e4", "2026-03-01T10:03:00+00:00", product_id=30),  # not a product: quarantined
    )
    (config.events_landing / "events-1.json").unlink()
    for path in old_bronze:
        path.unlink()
    # Silver's append read silver's recent ids and both dimensions: the quarantine's write reads none again.
    lookups = [
        *data_files(spark, config, names.SILVER_ACTIVITY),
        *data_files(spark, config, names.BRONZE_PRODUCTS),
        *data_files(spark, config, names.BRONZE_CUSTOMERS),
    ]
    write_quarantine, merge_later_batch = silver_batch.write_quarantine, gold_batch.merge_later_batch
    batch_settings = {}

    def quarantine_with_lookups_hidden(classified, *args, **kwargs):
        batch_settings["silver"] = settings_of(classified)
        with hidden(lookups):
            write_quarantine(classified, *args, **kwargs)

    def gold_merge(new_rows, *args, **kwargs):
        batch_settings["gold"] = settings_of(new_rows)
        merge_later_batch(new_rows, *args, **kwargs)

    monkeypatch.setattr(silver_batch, "write_quarantine", quarantine_with_lookups_hidden)
    monkeypatch.setattr(gold_batch, "merge_later_batch", gold_merge)

    with conf_set(spark, SPARKS_OWN):
        second, _ = run_pipeline(config)
        second_after = settings_of(spark.range(1))

    small_batch = SPARKS_OWN | small_batch_settings(4)
    assert small_batch == SPARKS_OWN | SMALL_RUN_CONF | {"spark.sql.shuffle.partitions": "1"}
    assert batch_settings == {"silver": small_batch, "gold": small_batch}  # batches of four rows
    assert second_after == SPARKS_OWN

    silver = read_table(spark, config, names.SILVER_ACTIVITY).select("event_id", "event_dt", "action")
    assert sorted(tuple(row) for row in silver.collect()) == [
        ("e1", ts("2026-03-01T10:00:00"), "view_product"),
        ("e2", ts("2026-03-01T10:01:00"), "purchase"),
        ("e3", ts("2026-03-01T10:02:00"), "view_product"),
    ]
    assert quarantine_rows(spark, config) == [("unknown_product", "e4", "2026-03-01T10:03:00+00:00")]
    assert gold_rows(spark, config) == [(DAY, 10, 2, 0, 1, Decimal("249.99"))]
    assert run_metrics(spark, config, second) == silver_metrics(
        rows_read=4, duplicates_removed=1, quarantined_unknown_product=1, rows_written=2
    )
    bronze = run_metrics(spark, config, second, "bronze")
    assert {metric: n for metric, n in bronze.items() if n} == {"rows_in": 4, "rows_out": 4}  # no problem
    # The data-quality list reads what gold keeps, not silver: it needs none of silver's files.
    for path in data_files(spark, config, names.SILVER_ACTIVITY):
        path.unlink()
    (answer,) = second.data_quality().values()
    assert [tuple(row) for row in answer.collect()] == [(99, 1)]
