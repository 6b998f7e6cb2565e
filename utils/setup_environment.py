# Databricks notebook source
# MAGIC %md
# MAGIC # Setup environment
# MAGIC Creates whatever is missing of the catalog, the pipeline's schemas and its volumes; safe to rerun.
# MAGIC The job runs it before `ELT.py`. On a laptop, `python utils/setup_environment.py` (or `zenith setup`)
# MAGIC does the same under the local lakehouse folder.

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
# MAGIC The catalog to create: a widget here, the `catalog` parameter in the job, the default on a laptop.
# MAGIC `managed_location` (a storage URL) is used only when the catalog does not exist yet; a workspace
# MAGIC whose metastore has no storage of its own needs it. An existing catalog is left as it is.

# COMMAND ----------

from zenith.notebook import managed_location_from_widgets, open_catalog

config, spark, _ = open_catalog(globals().get("dbutils"))
config = config.with_(managed_location=managed_location_from_widgets(globals().get("dbutils")))

# COMMAND ----------

# MAGIC %md ## Create what is missing
# MAGIC One line per object: `created` by this run, or `exists` from an earlier one.

# COMMAND ----------

from zenith.lakehouse.setup import setup_environment
from zenith.notebook import setup_summary

steps = setup_environment(spark, config)
print(setup_summary(steps))
