# Databricks notebook source
# MAGIC %md
# MAGIC # Pipeline health
# MAGIC Did the last runs work, and how fresh are silver and gold? The view `zenith status` prints and `ELT.py` ends with:
# MAGIC the last runs (when, how long, what each layer read, wrote and quarantined by reason, and whether the run ended),
# MAGIC the newest event in silver and day in gold, and the time since the last successful run; then a chart over time.

# COMMAND ----------

# MAGIC %md The `zenith` package sits one level up. Its folder is found from this notebook's own path, not from the
# MAGIC working directory, which a job or a bundle deployment does not guarantee.

# COMMAND ----------

import os
import sys


def notebook_folder() -> str:
    """This notebook's folder, from its own path: the file locally, the notebook context in a workspace."""
    if "__file__" in globals():
        return os.path.dirname(os.path.abspath(__file__))
    try:
        path = dbutils.notebook.entry_point.getDbutils().notebook().getContext().notebookPath().get()
    except Exception:  # no notebook context: Databricks Runtime 14+ runs a notebook in its own folder
        return os.getcwd()
    return os.path.dirname(path if path.startswith("/Workspace") else "/Workspace" + path)


repo_root = os.path.normpath(os.path.join(notebook_folder(), ".."))
if repo_root not in sys.path:
    sys.path.insert(0, repo_root)

# COMMAND ----------

# MAGIC %md ## Parameters
# MAGIC The catalog to read; on a laptop the default one in the local lakehouse, printed as text.

# COMMAND ----------

from zenith.notebook import open_catalog

config, spark, display = open_catalog(globals().get("dbutils"), globals().get("display"))

# COMMAND ----------

# MAGIC %md ## What the runs recorded
# MAGIC The last 30 runs' metrics from `_system.run_metrics` and a recent slice of every pipeline table's Delta history:
# MAGIC each commit a run makes is tagged with its id, so a run that wrote something but recorded no metrics (killed,
# MAGIC failed, or still running) shows as unfinished, never as a clean run. A run with nothing new writes nothing.

# COMMAND ----------

from zenith.pipeline.health.read import read_health, utc_now

health = read_health(spark, config, runs=30)

# COMMAND ----------

# MAGIC %md ## Status
# MAGIC The last 5 runs, newest first, and how fresh silver and gold are.

# COMMAND ----------

from zenith.pipeline.health.status import format_health, runs_frame

print(format_health(health, utc_now(), shown=5))

# COMMAND ----------

# MAGIC %md ## Rows per run and quarantined rows per reason, over time

# COMMAND ----------

from zenith.charts import runs_chart

runs = runs_frame(health)
display(runs_chart(runs))
