"""Over a mixed landing zone, every bronze event is in silver, in quarantine with a reason, or a duplicate."""

from __future__ import annotations

from collections import Counter

from pyspark.sql import functions as F

from tests.landing import event, write_events
from tests.reliability import run_pipeline
from zenith.demo.generator import GeneratorSettings, generate
from zenith.lakehouse import config as names
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import read_table
from zenith.pipeline.silver.quarantine import REASONS

SETTINGS = GeneratorSettings(
    seed=11,
    customers=15,
    products=6,
    events=300,
    files=2,
    duplicate_rate=0.05,
    late_rate=0.03,
    unknown_user_rate=0.03,
    unknown_product_rate=0.03,
    malformed_rate=0.02,
    null_id_rate=0.02,
    bad_timestamp_rate=0.02,
)
ROW_KEY = ("source_file", "event_id", "event_timestamp", "_corrupt_record")


def keys(df) -> Counter:
    return Counter(tuple(row) for row in df.select(*ROW_KEY).collect())


def test_every_bronze_event_is_in_silver_in_quarantine_or_a_duplicate_of_a_silver_event(
    spark, lakehouse_config
):
    config = lakehouse_config
    setup_environment(spark, config)
    generate(config, SETTINGS, log=lambda _: None)
    write_events(  # data the generator did not write: bad clocks, a re-send with another time
        config,
        "extra-1.json",
        event("clock-future", "2099-01-01T00:00:00+00:00"),
        event("clock-epoch", "1970-01-01T00:00:00+00:00"),
        event("resent", "2026-03-01T12:00:00+00:00", product_id=1),
        event("resent", "2026-03-01T12:00:05+00:00", product_id=1),
    )
    runs = [run_pipeline(config)[0]]
    generate(config, SETTINGS, log=lambda _: None, force=True)  # a second batch, beside extra-1.json
    write_events(config, "extra-2.json", event("behind", "2026-03-01T00:00:00+00:00", product_id=1))  # late
    runs.append(run_pipeline(config)[0])

    bronze = read_table(spark, config, names.BRONZE_EVENTS)
    silver = read_table(spark, config, names.SILVER_ACTIVITY)
    quarantine = read_table(spark, config, names.SILVER_QUARANTINE)
    silver_ids = {row.event_id for row in silver.select("event_id").collect()}

    rest = keys(bronze) - keys(quarantine)  # bronze rows not in quarantine
    assert sum((keys(quarantine) - keys(bronze)).values()) == 0  # quarantine holds only bronze rows
    assert {key[1] for key in rest} <= silver_ids  # the rest are silver events or their copies
    duplicates = sum(rest.values()) - silver.count()
    assert quarantine.where(~F.col("quarantine_reason").isin(*REASONS)).count() == 0
    reasons = {row[0] for row in quarantine.select("quarantine_reason").distinct().collect()}
    assert {"late", "unknown_product", "future_timestamp", "stale_timestamp", "corrupt_record"} <= reasons

    metrics = read_table(spark, config, names.RUN_METRICS).where(
        F.col("run_id").isin([run.run_id for run in runs]) & (F.col("layer") == "silver")
    )
    totals = dict(metrics.groupBy("metric").agg(F.sum("value")).collect())
    assert totals["rows_read"] == bronze.count()
    assert totals["rows_written"] == silver.count()
    assert totals["duplicates_removed"] == duplicates
    assert sum(totals[f"quarantined_{reason}"] for reason in REASONS) == quarantine.count()
