"""Every notebook runs top to bottom on a fresh local lakehouse, in the order a user runs them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from pyspark.sql import functions as F

from tests.notebook_runner import (
    DisplayRecorder,
    FakeWidgets,
    NotebookFormatError,
    WidgetError,
    parse_notebook,
    read_notebook,
    run_notebook,
    workspace_namespace,
)
from zenith.lakehouse import config as names
from zenith.lakehouse.tables import read_table, table_exists
from zenith.pipeline.analytics import DAILY_CATEGORY_REVENUE, QUESTIONS
from zenith.pipeline.health.status import run_statuses

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_FOLDERS = ("utils", "notebooks")
# Set up, land data, run the pipeline, then explore what it wrote (notebooks/ in name order).
RUN_ORDER = (
    "utils/setup_environment.py",
    "utils/generate_data.py",
    "ELT.py",
    "utils/maintain.py",
    *sorted(str(path.relative_to(REPO)) for path in (REPO / "notebooks").glob("*.py")),
)
# Job parameters per notebook; 500 events is the smallest batch with one malformed, one id-less
# and one untimed event. Maintenance keeps no history, so the notebooks after it read only the
# files it left.
PARAMETERS = {
    "utils/generate_data.py": {
        "seed": "7",
        "customers": "20",
        "products": "10",
        "events": "500",
        "files": "3",
    },
    "utils/maintain.py": {"catalog": names.CATALOG, "retention_hours": "0"},
}


def all_notebooks() -> list[str]:
    """ELT.py and every Python file under utils/ and notebooks/, repo-relative."""
    files = [REPO / "ELT.py", *(p for folder in NOTEBOOK_FOLDERS for p in (REPO / folder).rglob("*.py"))]
    return sorted(str(path.relative_to(REPO)) for path in files)


# --- The notebook format --------------------------------------------------------------------------
@pytest.mark.parametrize("notebook", all_notebooks())
def test_notebook_is_in_databricks_source_format(notebook):
    path = REPO / notebook
    assert path.read_text(encoding="utf-8").splitlines()[0] == "# Databricks notebook source"
    assert read_notebook(path), f"{notebook} has no code cell"


def test_the_run_covers_every_notebook():
    assert sorted(RUN_ORDER) == all_notebooks()


def test_cells_split_on_command_lines_and_keep_the_file_line_numbers(tmp_path):
    text = (
        "# Databricks notebook source\n"
        "# MAGIC %md # Title\n"
        "\n# COMMAND ----------\n\n"
        "x = 1\n"
        "# MAGIC %run ./elsewhere\n"
        "y = x + 1\n"
        "\n# COMMAND ----------\n\n"
        "raise RuntimeError(y)\n"
    )
    cells = parse_notebook(text)

    assert [(c.number, c.first_line, c.source) for c in cells] == [
        (1, 5, "\nx = 1\n\ny = x + 1\n"),
        (2, 11, "\nraise RuntimeError(y)"),
    ]
    notebook = tmp_path / "broken.py"
    notebook.write_text(text)
    with pytest.raises(RuntimeError) as failure:
        run_notebook(notebook, {})
    assert failure.value.args == (2,)
    assert failure.traceback[-1].lineno + 1 == 12  # pytest counts lines from 0
    assert failure.value.__notes__ == [f"in cell 2 of notebook {notebook}"]


def test_a_file_without_the_notebook_header_is_rejected():
    with pytest.raises(NotebookFormatError, match="first line must be exactly"):
        parse_notebook("# COMMAND ----------\nx = 1\n", "plain.py")


def test_widgets_take_job_parameters_and_refuse_values_a_dropdown_does_not_offer():
    widgets = FakeWidgets({"layers": "silver", "full_refresh": "maybe"})
    widgets.text("layers", "bronze,silver", "Layers")

    assert widgets.get("layers") == "silver"
    with pytest.raises(WidgetError, match="not one of"):
        widgets.dropdown("full_refresh", "false", ["false", "true"], "Full refresh")
    with pytest.raises(WidgetError, match="before it was created"):
        widgets.get("catalog")


# --- Every notebook, in order, against one lakehouse ---------------------------------------------
def test_notebooks_run_in_order_on_a_fresh_lakehouse(spark, lakehouse_config, monkeypatch, capsys, tmp_path):
    config = lakehouse_config
    monkeypatch.setenv(names.LAKEHOUSE_ENV, str(config.lakehouse))
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    # The notebooks' first cell puts the repository on the path; start without it to see it do so.
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p and Path(p).resolve() != REPO])
    recorder = DisplayRecorder()

    def run(notebook: str, parameters: dict[str, str] | None = None) -> dict:
        path = REPO / notebook
        monkeypatch.chdir(tmp_path)  # a job does not promise the notebook's folder as working directory
        recorder.notebook = notebook
        namespace = workspace_namespace(spark, recorder, parameters)
        namespace["__file__"] = str(path)  # the notebook's own path, as the notebook context gives it
        run_notebook(path, namespace)
        assert namespace["dbutils"].widgets.unused_parameters() == set()
        assert namespace["repo_root"] == str(REPO)
        assert str(REPO) in sys.path
        return namespace

    ran = {notebook: run(notebook, PARAMETERS.get(notebook)) for notebook in RUN_ORDER}

    assert [(step.kind, step.created) for step in ran["utils/setup_environment.py"]["steps"]] == [
        ("catalog", True),
        *[("schema", True)] * len(names.SCHEMAS),
        *[("volume", True)] * len(names.VOLUMES),
    ]

    generated = ran["utils/generate_data.py"]["report"]
    landed = sorted(path.name for path in config.events_landing.iterdir())
    assert landed == ["events-000001.json", "events-000002.json", "events-000003.json"]
    problems = (generated.events_written, generated.malformed, generated.null_id, generated.bad_timestamp)
    assert problems == (500, 1, 1, 1)

    silver_report = ran["ELT.py"]["silver_report"]
    assert silver_report.rows_written == read_table(spark, config, names.SILVER_ACTIVITY).count()
    assert silver_report.accounted == silver_report.rows_read == generated.events_written
    for table in (names.GOLD_PRODUCT_PERFORMANCE, names.GOLD_CUSTOMER_SUMMARY):
        assert table_exists(spark, config, table), config.table_name(table)
    data_quality, *answers = recorder.of("ELT.py")
    assert len(answers) == len(QUESTIONS)
    null_region_events = silver_report.no_region
    assert null_region_events == generated.unknown_user  # every unknown user's event has no region
    assert sum(events for _, events in data_quality.rows) == null_region_events

    maintained = ran["utils/maintain.py"]["maintained"]
    assert [(m.table, m.vacuumed, m.live_after == m.disk_after) for m in maintained] == [
        (table, True, True) for table in names.TABLES
    ]

    bronze = ran["notebooks/01_bronze_exploration.py"]
    assert dict(recorder.rows_of(bronze["row_counts"])) == {
        names.BRONZE_EVENTS.name: generated.events_written,
        names.BRONZE_CUSTOMERS.name: generated.customers,
        names.BRONZE_PRODUCTS.name: generated.products,
    }
    assert len(recorder.rows_of(bronze["corrupt_events"])) == generated.malformed
    assert len(recorder.rows_of(bronze["untimed_events"])) == generated.bad_timestamp

    silver = ran["notebooks/02_silver_exploration.py"]
    assert dict(recorder.rows_of(silver["quarantine_by_reason"])) == {
        "corrupt_record": generated.malformed,
        "missing_event_id": generated.null_id,
        "unparsable_timestamp": generated.bad_timestamp,
        "unknown_product": generated.unknown_product,  # one availableNow batch: nothing is late
    }
    silver_metrics = {
        metric: value
        for _, _, layer, metric, value in recorder.rows_of(silver["run_metrics"])
        if layer == "silver"
    }
    assert silver_metrics["rows_written"] == silver_report.rows_written

    gold = ran["notebooks/03_gold_analytics.py"]
    tables = [
        s.frame for s in recorder.of("notebooks/03_gold_analytics.py") if not isinstance(s.frame, Figure)
    ]
    charts = [s.frame for s in recorder.of("notebooks/03_gold_analytics.py") if isinstance(s.frame, Figure)]
    assert len(tables) == len(QUESTIONS)
    assert [chart.axes[0].get_title().split(" on ")[0] for chart in charts] == [
        "Top products by purchases",
        "Daily revenue by category",
    ]
    daily_revenue = recorder.rows_of(gold["answers"][DAILY_CATEGORY_REVENUE])
    purchases = read_table(spark, config, names.SILVER_ACTIVITY).where(F.col("action") == "purchase")
    revenue = purchases.agg(F.sum("price")).first()[0]
    assert sum(row[2] for row in daily_revenue) == revenue > 0

    health = ran["notebooks/04_pipeline_health.py"]
    elt_run = ran["ELT.py"]["run"]
    assert [(run.run_id, run.ended) for run in run_statuses(health["health"])] == [(elt_run.run_id, True)]
    assert health["runs"][["run_id", "silver_rows"]].values.tolist() == [
        [elt_run.run_id, silver_report.rows_written]
    ]
    (chart,) = (shown.frame for shown in recorder.of("notebooks/04_pipeline_health.py"))
    assert [axes.get_title() for axes in chart.axes] == [
        "Rows per run, by layer",
        "Quarantined rows per run, by reason",
    ]

    # Plain Python on a laptop has no spark, dbutils or display: default widgets, text tables.
    capsys.readouterr()
    gold_notebook = REPO / "notebooks/03_gold_analytics.py"
    plain = run_notebook(gold_notebook, {"__file__": str(gold_notebook)})  # as `python <file>` runs it
    printed = capsys.readouterr().out
    for answer in plain["answers"].values():
        assert re.search(r"\s+".join(answer.columns), printed), answer.columns
    assert printed.count("chart saved to ") == 2
