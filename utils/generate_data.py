# Databricks notebook source
# MAGIC %md
# MAGIC # Generate demo data
# MAGIC Writes a customers CSV, a products Parquet file and JSON event files into the landing volumes. Every
# MAGIC batch of events carries a known number of each data-quality problem (duplicates, late events, unknown
# MAGIC ids, malformed records, missing ids, bad timestamps). The same seed writes the same files, and new event
# MAGIC files continue the numbering, so each run adds a batch. Run `utils/setup_environment` first.

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
# MAGIC Sizes are per batch; `batches` above 1 writes that many, `interval` seconds apart, to feed a running
# MAGIC stream. On a laptop the defaults apply (`zenith generate --help` takes the same settings as flags).

# COMMAND ----------

from zenith.notebook import generator_settings_from_widgets

config, settings = generator_settings_from_widgets(globals().get("dbutils"))

# COMMAND ----------

# MAGIC %md ## Generate
# MAGIC One line per batch, with the exact number of each problem it carries.

# COMMAND ----------

from zenith.demo.generator import generate

report = generate(config, settings)
print(f"{report.events_written} events in {len(report.event_files)} files under {config.events_landing}")
