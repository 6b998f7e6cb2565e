"""The Spark settings of the test run, for the classic session and the test Spark Connect server alike.

Test inputs are a few rows, where Spark's fixed costs per query dominate: one partition per shuffle
and per Delta log replay (a whole-suite run took 608 s against 721 s with two); no
adaptive re-planning, whose extra job per shuffle stage costs more than it saves on such data;
and expressions evaluated as they are rather than compiled to Java first (Spark's own test
switch; the same results, and a pipeline run on a few rows takes about a quarter less time).
"""

TEST_CONF = {
    "spark.master": "local[2]",
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.databricks.delta.snapshotPartitions": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}
