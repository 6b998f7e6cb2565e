"""The ``zenith`` command and ``python ELT.py``: every parameter is parsed here, then the package works.

Nothing in the package imports this module; it stands on top of the pipeline, the demo
generator and the Databricks client.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from zenith.cli.arguments import (
    Parser,
    add_global_arguments,
    add_run_arguments,
    elt_params,
    non_negative_float,
    non_negative_int,
    params_from_args,
    positive_int,
    rate,
)
from zenith.cli.workspace import add_workspace_parser
from zenith.demo.events import IN_PLACE_ANOMALIES
from zenith.lakehouse.config import CONNECT_PORT, DEFAULT_RETENTION_HOURS, LANDING, Config
from zenith.lakehouse.errors import ZenithError
from zenith.pipeline.params import STATUS_RUNS

__all__ = ["build_parser", "elt_params", "main"]

# Each anomaly the generator injects has a --<name>-rate flag.
ANOMALIES = ("duplicate", *IN_PLACE_ANOMALIES)
DESCRIPTION = (
    "Zenith Online on a local lakehouse: set it up, generate demo data, run the pipeline, query the tables; "
    "or set up, deploy and run it on Databricks."
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="zenith", description=DESCRIPTION)
    add_global_arguments(parser)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    sub.add_parser("setup", help="create the catalog, schemas and volumes (idempotent)").set_defaults(
        func=cmd_setup
    )

    gen = sub.add_parser(
        "generate", help="write demo customers, products and events into the landing volumes"
    )
    gen.set_defaults(func=cmd_generate)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--customers", type=positive_int, default=200)
    gen.add_argument("--products", type=positive_int, default=50)
    gen.add_argument("--events", type=non_negative_int, default=20_000, help="events per batch")
    gen.add_argument("--files", type=positive_int, default=10, help="event files per batch")
    gen.add_argument("--batches", type=positive_int, default=1, help="batches of event files to write")
    gen.add_argument("--interval", type=non_negative_float, default=0.0, help="seconds between batches")
    gen.add_argument("--json-array", action="store_true", help="write each event file as one JSON array")
    gen.add_argument(
        "--if-empty", action="store_true", help="do nothing if the landing zone has any data file"
    )
    gen.add_argument(
        "--force", action="store_true", help="add demo files even beside files of your own (never over them)"
    )
    for anomaly in ANOMALIES:
        flag = anomaly.replace("_", "-")
        gen.add_argument(f"--{flag}-rate", type=rate, default=None, help=f"share of {flag} anomalies")

    run = sub.add_parser("run", help="run the pipeline (what ELT.py does)")
    add_run_arguments(run)
    run.set_defaults(func=cmd_run)

    status = sub.add_parser(
        "status", help="the pipeline's health: the last runs, and how fresh silver and gold are"
    )
    status.add_argument(
        "--runs", type=positive_int, default=STATUS_RUNS, help="how many of the last runs that ended to show"
    )
    status.set_defaults(func=cmd_status)

    maintain = sub.add_parser(
        "maintain", help="compact every table's small files and delete the files no version still reads"
    )
    maintain.add_argument(
        "--retention-hours",
        type=non_negative_int,
        default=DEFAULT_RETENTION_HOURS,
        help="keep the files of the versions of the last N hours, for time travel "
        f"(default {DEFAULT_RETENTION_HOURS}, Delta's; 0 is allowed on a local lakehouse)",
    )
    maintain.set_defaults(func=cmd_maintain)

    sql = sub.add_parser("sql", help="run Spark SQL against the local lakehouse")
    sql.add_argument("query")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.set_defaults(func=cmd_sql)

    server = sub.add_parser(
        "connect-server", help="run a local Spark Connect server with Delta (for ZENITH_SPARK_REMOTE)"
    )
    server.add_argument("--port", type=positive_int, default=CONNECT_PORT)
    server.add_argument("--print", action="store_true", help="print the spark-submit command instead")
    server.set_defaults(func=cmd_connect_server)

    add_workspace_parser(sub)
    return parser


def _config(args: argparse.Namespace) -> Config:
    return Config.from_env(catalog=args.catalog, lakehouse=args.lakehouse)


def cmd_setup(args: argparse.Namespace) -> int:
    from zenith.lakehouse.runtime import get_spark
    from zenith.lakehouse.setup import existing_local_setup, setup_environment

    config = _config(args)
    steps = existing_local_setup(config) or setup_environment(get_spark(config), config)
    for step in steps:
        print(step)
    created = sum(step.created for step in steps)
    print(
        f"setup: created {created} objects"
        if created
        else "setup: everything already exists; nothing changed"
    )
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from zenith.demo.generator import GeneratorSettings, generate, landing_files

    config = _config(args)
    if args.if_empty and (found := landing_files(config)):
        landing = config.volumes_root / LANDING
        print(f"generate: landing zone {landing} already has {len(found)} files: not generating demo data")
        return 0
    rates = {
        f"{name}_rate": getattr(args, f"{name}_rate")
        for name in ANOMALIES
        if getattr(args, f"{name}_rate") is not None
    }
    settings = GeneratorSettings(
        seed=args.seed,
        customers=args.customers,
        products=args.products,
        events=args.events,
        files=args.files,
        batches=args.batches,
        interval=args.interval,
        json_array=args.json_array,
        **rates,
    )
    generate(config, settings, force=args.force)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from zenith.pipeline.run import run_pipeline

    run_pipeline(params_from_args(args))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print the pipeline's health; locally, if nothing changed since the last run, from what it stored."""
    from zenith.lakehouse.runtime import get_spark
    from zenith.lakehouse.setup import require_setup
    from zenith.pipeline.health.read import read_health, stored_health, utc_now
    from zenith.pipeline.health.status import format_health

    config = _config(args)
    health = stored_health(config, args.runs)
    if health is None:
        spark = get_spark(config, app_name="zenith-status")
        require_setup(spark, config)
        health = read_health(spark, config, args.runs)
    print(format_health(health, utc_now()))
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    """OPTIMIZE and VACUUM every pipeline table, with a line per table (what ``utils/maintain`` runs)."""
    from zenith.lakehouse.maintenance import maintain
    from zenith.lakehouse.runtime import get_spark
    from zenith.lakehouse.setup import require_setup

    config = _config(args)
    spark = get_spark(config, app_name="zenith-maintain")
    require_setup(spark, config)
    maintain(spark, config, args.retention_hours)
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import csv
    import json

    from pyspark.errors import PySparkException

    from zenith.lakehouse.runtime import get_spark
    from zenith.pipeline.analytics import format_table

    config = _config(args)
    spark = get_spark(config)
    try:  # errors surface when the query runs, so run it fully before printing anything
        df = spark.sql(args.query)
        rows = df.collect() if args.format != "table" else None
        text = format_table(df) if args.format == "table" else None
    except PySparkException as exc:  # analysis, parse and runtime errors in the user's SQL
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ZenithError(f"query failed: {first_line}") from None
    if args.format == "json":
        for row in rows:
            print(json.dumps(row.asDict(recursive=True), default=str))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(df.columns)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
    else:
        print(text)
    return 0


def cmd_connect_server(args: argparse.Namespace) -> int:
    """Run pyspark's Spark Connect server in the foreground (Ctrl-C stops it), or print its command."""
    import os
    import shlex

    from zenith.lakehouse.connect import server_environment
    from zenith.lakehouse.runtime import check_java, connect_server_command

    command = connect_server_command(args.port)
    if args.print:
        print(shlex.join(command))
        return 0
    check_java()
    print(
        f"Spark Connect server on sc://localhost:{args.port} (Ctrl-C stops it)", file=sys.stderr, flush=True
    )
    os.execve(command[0], command, server_environment())
    return 0  # not reached: the server replaces this process


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ZenithError as exc:
        print(f"zenith: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
