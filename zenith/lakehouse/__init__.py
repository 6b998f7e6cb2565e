"""The ground floor every layer stands on: names and paths, the Spark session, table and stream I/O,
setup of the catalog, schemas and volumes, and the run-metrics table. It imports nothing above it."""
