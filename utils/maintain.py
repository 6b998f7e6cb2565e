# Databricks notebook source
# MAGIC %md
# MAGIC # Maintain the tables
# MAGIC Compacts every pipeline table's small files (`OPTIMIZE`) and deletes the files no version within the
# MAGIC retention reads (`VACUUM`), one line per table. No row changes. A table that a stream reads keeps the
# MAGIC files of the versions that stream has not read yet. The weekly maintenance job runs this notebook; on
# MAGIC a laptop, `zenith maintain` does the same. Where predictive optimization is on, Databricks runs both
# MAGIC itself (README, "Maintenance").

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
# MAGIC `retention_hours`: the versions of the last so many hours stay readable (time travel); older versions'
# MAGIC files are deleted. Default 168, Delta's own; on Databricks it cannot be lower.

# COMMAND ----------

from zenith.notebook import open_catalog, retention_hours_from_widgets

retention_hours = retention_hours_from_widgets(globals().get("dbutils"))
config, spark, _ = open_catalog(globals().get("dbutils"))

# COMMAND ----------

# MAGIC %md ## OPTIMIZE and VACUUM
# MAGIC Per table: its live files (the current version's) before and after, and locally every data file on disk.

# COMMAND ----------

from zenith.lakehouse.maintenance import maintain

maintained = maintain(spark, config, retention_hours)
