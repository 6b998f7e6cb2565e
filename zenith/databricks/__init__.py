"""A side wing: the Databricks workspace client, Unity Catalog setup through its API, and the job's
definition, deployment and runs. Stands on ``zenith.lakehouse`` only."""
