"""Which run wrote each Delta commit: a run tags its commits with its id, and the tables' history says so.

A run sets Delta's commit user metadata (``spark.databricks.delta.commitInfo.userMetadata``) to
``zenith run <run_id>`` while a layer works. Every commit the layer makes then carries it: batch
writes, MERGEs, and the commits of its streaming queries, which copy the session's settings when
they start (their ``foreachBatch`` writes too, on Spark Connect as well). A run killed after
writing something leaves tagged commits but no row in ``_system.run_metrics``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import SparkSession

from zenith.lakehouse.config import Config, Table
from zenith.lakehouse.manifest import DELTA_COMMIT
from zenith.lakehouse.runtime import conf_set
from zenith.lakehouse.tables import table_exists

USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"
RUN_TAG = "zenith run "
EPOCH = dt.datetime(1970, 1, 1)


def run_tag(run_id: str) -> str:
    """The user metadata of a commit made by run ``run_id``."""
    return RUN_TAG + run_id


def tagged_run(user_metadata: str | None) -> str | None:
    """The run id in a commit's user metadata; None for a commit no run tagged."""
    if user_metadata and user_metadata.startswith(RUN_TAG):
        return user_metadata.removeprefix(RUN_TAG)
    return None


@contextmanager
def commits_tagged(spark: SparkSession, run_id: str) -> Iterator[None]:
    """Tag every Delta commit made in this block with ``run_id``, then restore the setting.

    A platform that refuses the setting (serverless allows few) keeps its commits untagged: the
    run still works, and only the status's "unfinished" detection goes without it.
    """
    with conf_set(spark, {USER_METADATA_CONF: run_tag(run_id)}):
        yield


@dataclass(frozen=True)
class Commit:
    """One Delta commit of a table: its version, time and the run that tagged it (None if none)."""

    table: str  # "<schema>.<table>"
    version: int
    timestamp: dt.datetime
    run_id: str | None


def recent_commits(spark: SparkSession, config: Config, table: Table, limit: int) -> list[Commit]:
    """The table's newest ``limit`` commits, newest first; none if the table does not exist.

    Locally they are read from the table's ``_delta_log`` files (a listing and one line per commit,
    no Spark job); on Databricks with ``DESCRIBE HISTORY ... LIMIT n``. Both read only the last n commits.
    """
    if config.is_local:
        return logged_commits(config, table, limit)
    return described_commits(spark, config, table, limit)


def described_commits(spark: SparkSession, config: Config, table: Table, limit: int) -> list[Commit]:
    """``recent_commits`` through ``DESCRIBE HISTORY``."""
    if not table_exists(spark, config, table):
        return []
    history = spark.sql(f"DESCRIBE HISTORY {config.table_name(table)} LIMIT {int(limit)}")
    rows = history.select("version", "timestamp", "userMetadata").collect()
    name = f"{table.schema}.{table.name}"
    return [Commit(name, row.version, row.timestamp, tagged_run(row.userMetadata)) for row in rows]


def logged_commits(config: Config, table: Table, limit: int) -> list[Commit]:
    """``recent_commits`` of a local table, from its Delta log's commit files.

    As ``DESCRIBE HISTORY`` does, a commit's time is its file's modification time; its commit
    info (where the user metadata is) is the file's first action.
    """
    log = config.table_path(table) / "_delta_log"
    try:
        found = sorted((e.name for e in os.scandir(log) if DELTA_COMMIT.fullmatch(e.name)), reverse=True)
    except (FileNotFoundError, NotADirectoryError):
        return []
    commits = []
    for file_name in found[:limit]:
        try:
            with (log / file_name).open() as handle:
                info = next((json.loads(line)["commitInfo"] for line in handle if '"commitInfo"' in line), {})
            modified = (log / file_name).stat().st_mtime_ns // 1_000_000
        except FileNotFoundError:  # cleaned up since the listing: older than what is shown anyway
            continue
        at = EPOCH + dt.timedelta(milliseconds=modified)
        run_id = tagged_run(info.get("userMetadata"))
        commits.append(Commit(f"{table.schema}.{table.name}", int(file_name[:20]), at, run_id))
    return commits
