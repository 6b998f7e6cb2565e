"""Issue 20: pipeline health (``zenith status``) and progress lines of long streams.

The text is a function of plain rows and a clock, tested exactly on hand-made rows; one test runs
the pipeline twice around a killed run and checks ``zenith status``'s output from a live read and
from the rows the last run stored.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from tests.landing import event, write_events
from tests.reliability import die_before_writing, run_pipeline
from zenith.cli import main
from zenith.lakehouse import config as names
from zenith.lakehouse import maintenance, streams
from zenith.lakehouse.history import (
    USER_METADATA_CONF,
    Commit,
    commits_tagged,
    described_commits,
    logged_commits,
    recent_commits,
    run_tag,
    tagged_run,
)
from zenith.lakehouse.run_lock import release_run_lock
from zenith.lakehouse.runtime import get_spark
from zenith.lakehouse.streams import progress_line
from zenith.pipeline import run as run_module
from zenith.pipeline.bronze import layer as bronze
from zenith.pipeline.health.read import Health
from zenith.pipeline.health.status import duration, format_health, runs_frame
from zenith.pipeline.params import RunParams
from zenith.pipeline.run import PipelineRun

NOW = dt.datetime(2026, 3, 2, 9, 0, 0)
BRONZE_EVENTS = "01_bronze.bronze_user_events"
INGESTED = "_system.ingested_event_files"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def metric_rows(run_id: str, recorded: str, **layers: dict[str, int]) -> list[tuple]:
    return [
        (run_id, at(recorded), layer, k, v) for layer, values in layers.items() for k, v in values.items()
    ]


# Two runs ended (a and c, c before a), b stopped after two bronze commits; z ended before the two
# shown and "old" stopped before them: neither is shown.
HEALTH = Health(
    catalog="zenith_online",
    runs=2,
    metrics=(
        *metric_rows(
            "run-a",
            "2026-03-02T08:00:00",
            bronze={"rows_in": 1200, "rows_out": 1200},
            silver={
                "rows_in": 1000,
                "rows_out": 950,
                "quarantined_corrupt_record": 10,
                "quarantined_late": 20,
                "quarantined_unknown_product": 0,
                "duplicates_removed": 20,
            },
            gold={"rows_in": 950, "rows_out": 40},
            run={
                "milliseconds": 75_300,
                "bronze_milliseconds": 20_000,
                "silver_milliseconds": 30_500,
                "gold_milliseconds": 9_000,
            },
        ),
        *metric_rows(
            "run-c",
            "2026-03-02T05:00:00",
            silver={"rows_in": 5, "rows_out": 5, "quarantined_late": 0, "duplicates_removed": 0},
            run={"milliseconds": 12_500, "bronze_milliseconds": 2_000, "silver_milliseconds": 6_000},
        ),
        *metric_rows("run-z", "2026-03-01T05:00:00", silver={"rows_in": 1, "rows_out": 1}),
    ),
    commits=(
        Commit(BRONZE_EVENTS, 7, at("2026-03-02T07:59:00"), "run-a"),
        Commit(INGESTED, 4, at("2026-03-02T06:10:05"), "run-b"),
        Commit(BRONZE_EVENTS, 6, at("2026-03-02T06:10:00"), "run-b"),
        Commit(BRONZE_EVENTS, 5, at("2026-03-01T04:00:00"), "old"),
    ),
    newest_silver_event=at("2026-03-02T07:59:58"),
    newest_gold_day=dt.date(2026, 3, 2),
)


def test_the_status_lists_ended_runs_and_a_run_that_stopped_after_writing_as_unfinished():
    assert format_health(HEALTH, NOW) == (
        "Pipeline health of catalog zenith_online at 2026-03-02 09:00:00 UTC\n"
        "Last successful run: run-a, ended 2026-03-02 08:00:00 UTC (1h 00m ago)\n"
        "Newest event in silver: 2026-03-02 07:59:58; newest day in gold: 2026-03-02\n"
        "\n"
        "Last runs, newest first:\n"
        "ended       2026-03-02 08:00:00 UTC  run run-a  took 1m 15s\n"
        "  bronze  rows in 1,200, rows out 1,200 (20.0s)\n"
        "  silver  rows in 1,000, rows out 950, duplicates 20, quarantined 30: corrupt_record 10, late 20 (30.5s)\n"
        "  gold    rows in 950, rows out 40 (9.0s)\n"
        "UNFINISHED  2026-03-02 06:10:05 UTC  run run-b  recorded no metrics: it stopped (or is still running) "
        "after writing to\n"
        "  01_bronze.bronze_user_events, _system.ingested_event_files\n"
        "ended       2026-03-02 05:00:00 UTC  run run-c  took 12.5s\n"
        "  bronze  nothing new (2.0s)\n"
        "  silver  rows in 5, rows out 5, duplicates 0, quarantined 0 (6.0s)"
    )


def test_a_status_shows_fewer_runs_when_asked_and_says_when_no_run_ended():
    assert format_health(HEALTH, NOW, shown=1).splitlines()[4:] == [
        "Last runs, newest first:",
        "ended       2026-03-02 08:00:00 UTC  run run-a  took 1m 15s",
        "  bronze  rows in 1,200, rows out 1,200 (20.0s)",
        "  silver  rows in 1,000, rows out 950, duplicates 20, quarantined 30: corrupt_record 10, late 20 (30.5s)",
        "  gold    rows in 950, rows out 40 (9.0s)",
    ]
    first_run_killed = Health(
        "zenith_online", 5, commits=(Commit(BRONZE_EVENTS, 0, at("2026-03-02T08:30:00"), "k"),)
    )
    assert format_health(first_run_killed, NOW).splitlines()[1:] == [
        "Last successful run: none recorded",
        "Newest event in silver: none; newest day in gold: none",
        "",
        "Last runs, newest first:",
        "UNFINISHED  2026-03-02 08:30:00 UTC  run k  recorded no metrics: it stopped (or is still running) after "
        "writing to",
        "  01_bronze.bronze_user_events",
    ]
    assert format_health(Health("zenith_online", 5), NOW).splitlines()[-1] == (
        "Last runs: none has written anything yet"
    )


def test_the_chart_rows_are_the_ended_runs_oldest_first_with_quarantined_rows_per_reason():
    assert runs_frame(HEALTH).to_dict("records") == [
        {"ended_at": at("2026-03-02T05:00:00"), "run_id": "run-c", "bronze_rows": 0, "silver_rows": 5,
         "gold_rows": 0, "quarantined_corrupt_record": 0, "quarantined_late": 0,
         "quarantined_unknown_product": 0},
        {"ended_at": at("2026-03-02T08:00:00"), "run_id": "run-a", "bronze_rows": 1200, "silver_rows": 950,
         "gold_rows": 40, "quarantined_corrupt_record": 10, "quarantined_late": 20,
         "quarantined_unknown_product": 0},
    ]  # fmt: skip


def test_health_rows_survive_the_manifest_json():
    assert Health.from_json(json.loads(json.dumps(HEALTH.to_json()))) == HEALTH


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.04, "0.0s"),
        (59.94, "59.9s"),
        (59.96, "1m 00s"),
        (245, "4m 05s"),
        (11_220, "3h 07m"),
        (190_000, "2d 4h"),
    ],
)
def test_durations_read_as_seconds_minutes_hours_or_days(seconds, text):
    assert duration(seconds) == text
    assert duration(dt.timedelta(seconds=-seconds)) == "0.0s"  # a clock that went back


def test_a_commit_names_its_run_only_through_the_run_tag():
    assert tagged_run(run_tag("abc")) == "abc"
    assert (tagged_run(None), tagged_run("a note of someone's")) == (None, None)


def test_progress_lines_give_the_micro_batch_the_rows_so_far_and_the_rate():
    label = "bronze  bronze_user_events"
    assert progress_line(label, 2, 1_200_000, 30.0) == (
        "bronze  bronze_user_events: micro-batch 3 running, 1,200,000 rows so far (40,000 rows/s), 30s"
    )
    assert progress_line(label, 3, 1_500_000, 36.4, done=True) == (
        "bronze  bronze_user_events: done, 1,500,000 rows in 3 micro-batch(es) (41,209 rows/s), 36s"
    )


# --- Real runs ----------------------------------------------------------------------------------------
def test_commits_are_tagged_inside_the_block_and_the_setting_is_restored(spark):
    spark.conf.set(USER_METADATA_CONF, "someone else's note")
    with commits_tagged(spark, "r1"):
        assert spark.conf.get(USER_METADATA_CONF) == "zenith run r1"
    assert spark.conf.get(USER_METADATA_CONF) == "someone else's note"
    spark.conf.unset(USER_METADATA_CONF)
    with pytest.raises(RuntimeError), commits_tagged(spark, "r2"):
        raise RuntimeError("a layer failed")
    assert spark.conf.get(USER_METADATA_CONF, None) is None


def test_after_a_run_killed_inside_a_batch_later_work_uses_this_process_session_untagged(
    spark, config, monkeypatch
):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"))
    killed = PipelineRun.start(RunParams(lakehouse=str(config.lakehouse)), log=lambda _: None)
    killed.bronze()
    write_events(config, "events-2.json", event("e2", "2026-03-01T10:01:00+00:00"))
    killed.bronze()  # a second file in bronze_user_events: the maintain below compacts the two
    with monkeypatch.context() as patch:  # killed in silver's batch, after the batch made a DataFrame
        die_before_writing(patch, names.SILVER_ACTIVITY)
        with pytest.raises(Exception, match="killed before writing"):
            killed.silver()
    release_run_lock(config)  # as the killed process's end would

    # Not the failed batch's session, which PySpark left active with the killed run's commit tag.
    assert get_spark(config) is spark
    maintenance.maintain(get_spark(config), config, retention_hours=0, log=lambda _: None)
    optimize, append = recent_commits(spark, config, names.BRONZE_EVENTS, 2)  # newest first
    assert (optimize.version, optimize.run_id) == (append.version + 1, None)
    assert append.run_id == killed.run_id  # the killed run's own commits carry its tag


def test_a_long_stream_prints_progress_lines_while_it_runs_and_a_last_one(spark, config, monkeypatch, capsys):
    write_events(config, "events-1.json", event("e1", "2026-03-01T10:00:00+00:00"), event("e2", "x"))
    monkeypatch.setattr(streams, "PROGRESS_SECONDS", 0.05)  # every stream is "long" now
    capsys.readouterr()

    bronze.ingest_events(spark, config)

    lines = capsys.readouterr().out.splitlines()
    clock = re.compile(r"\([\d,]+ rows/s\), \d+s$")
    assert {clock.sub("(N rows/s), Ns", line) for line in lines[:-1]} <= {
        f"bronze  bronze_user_events: micro-batch {n} running, {rows} rows so far (N rows/s), Ns"
        for n, rows in ((1, 0), (2, 2))
    }
    assert len(lines) > 1
    assert clock.sub("(N rows/s), Ns", lines[-1]) == (
        "bronze  bronze_user_events: done, 2 rows in 1 micro-batch(es) (N rows/s), Ns"
    )


def normalized(text: str) -> str:
    """The status with its wall-clock times and durations (which a real run cannot pin) replaced."""
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<time>", text)
    return re.sub(r"\b(\d+\.\ds|\d+m \d\ds|\d+h \d\dm|\d+d \d+h)\b", "<duration>", text)


def status_output(config, capsys) -> str:
    capsys.readouterr()
    assert main(["--lakehouse", str(config.lakehouse), "status"]) == 0
    return capsys.readouterr().out


def test_status_after_two_runs_and_a_killed_one_shows_the_killed_run_unfinished(
    spark, config, monkeypatch, capsys
):
    write_events(
        config,
        "events-1.json",
        event("e1", "2026-03-01T10:00:00+00:00"),
        event("odd", "2026-03-01T10:01:00+00:00", product_id=777),
    )
    first, _ = run_pipeline(config)
    write_events(
        config,
        "events-2.json",
        event("e3", "2026-03-01T10:05:00+00:00"),
        event("e3", "2026-03-01T10:05:01+00:00"),
    )
    killed = PipelineRun.start(RunParams(lakehouse=str(config.lakehouse)), log=lambda _: None)
    killed.bronze()
    with monkeypatch.context() as patch:  # killed in silver's first write: bronze has committed
        die_before_writing(patch, names.SILVER_ACTIVITY)
        with pytest.raises(Exception, match="killed before writing"):
            killed.silver()
    lines: list[str] = []

    last = run_module.run_pipeline(RunParams(lakehouse=str(config.lakehouse)), lines.append)

    expected = (
        "Pipeline health of catalog zenith_online at <time>\n"
        f"Last successful run: {last.run_id}, ended <time> (<duration> ago)\n"
        "Newest event in silver: 2026-03-01 10:05:00; newest day in gold: 2026-03-01\n"
        "\n"
        "Last runs, newest first:\n"
        f"ended       <time>  run {last.run_id}  took <duration>\n"
        "  bronze  nothing new (<duration>)\n"  # the killed run had ingested the new file
        "  silver  rows in 2, rows out 1, duplicates 1, quarantined 0 (<duration>)\n"
        "  gold    rows in 1, rows out 1 (<duration>)\n"  # one product-day row; no purchase, no customer
        f"UNFINISHED  <time>  run {killed.run_id}  recorded no metrics: it stopped (or is still running) "
        "after writing to\n"
        f"  {BRONZE_EVENTS}, {INGESTED}\n"
        f"ended       <time>  run {first.run_id}  took <duration>\n"
        "  bronze  rows in 7, rows out 7 (<duration>)\n"  # 3 customers, 2 products, 2 events
        "  silver  rows in 2, rows out 1, duplicates 0, quarantined 1: unknown_product 1 (<duration>)\n"
        "  gold    rows in 1, rows out 1 (<duration>)\n"
    )
    assert normalized(lines[-1]) == "\n" + expected.removesuffix("\n")  # the end of the last run
    with monkeypatch.context() as patch:  # nothing changed since: the stored rows, no Spark
        patch.setattr("zenith.lakehouse.runtime.get_spark", lambda *a, **k: pytest.fail("started Spark"))
        assert normalized(status_output(config, capsys)) == expected
    config.run_manifest.unlink()
    assert normalized(status_output(config, capsys)) == expected  # read from the tables
    # Locally the history comes from the Delta logs' files; it is what DESCRIBE HISTORY says.
    for table in names.TABLES:
        assert logged_commits(config, table, 50) == described_commits(spark, config, table, 50), table.name


def test_status_before_setup_is_a_one_line_error(lakehouse_config, capsys):
    assert main(["--lakehouse", str(lakehouse_config.lakehouse), "status"]) == 1
    assert capsys.readouterr().err == (
        "zenith: error: schema `_system` does not exist: run 'zenith setup' "
        "(or the utils/setup_environment notebook) first\n"
    )
