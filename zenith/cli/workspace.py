"""``zenith workspace setup|deploy|run``: the Databricks side of the command line."""

from __future__ import annotations

import argparse

from zenith.cli.arguments import add_run_arguments
from zenith.databricks.client import workspace_client
from zenith.pipeline.params import parse_layers

MANAGED_LOCATION_HELP = (
    "storage URL for a catalog that setup creates (CREATE CATALOG ... MANAGED LOCATION); "
    "needed where the metastore has no storage of its own, ignored when the catalog exists"
)


def add_workspace_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``zenith workspace setup|deploy|run``."""
    from zenith.databricks.job import WORKSPACE_FOLDER

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", help="profile in ~/.databrickscfg (default: DATABRICKS_* variables)")
    workspace = subparsers.add_parser("workspace", help="set up, deploy and run the pipeline on Databricks")
    commands = workspace.add_subparsers(dest="workspace_command", required=True)

    location = argparse.ArgumentParser(add_help=False)
    location.add_argument("--managed-location", help=MANAGED_LOCATION_HELP)
    setup = commands.add_parser(
        "setup", parents=[common, location], help="create the catalog, schemas and volumes"
    )
    setup.set_defaults(func=_setup_command)

    deploy_ = commands.add_parser(
        "deploy", parents=[common, location], help="upload the code and create/update the job"
    )
    deploy_.add_argument(
        "--workspace-dir", help=f"workspace folder (default: /Workspace/Users/<you>/{WORKSPACE_FOLDER})"
    )
    deploy_.set_defaults(func=_deploy_command)

    run = commands.add_parser("run", parents=[common], help="run the deployed job and follow it to the end")
    add_run_arguments(run)
    run.add_argument("--no-wait", action="store_true", help="start the run and return")
    run.set_defaults(func=_run_command)


def _setup_command(args: argparse.Namespace) -> int:
    from zenith.databricks.catalog import setup_workspace

    setup_workspace(workspace_client(args.profile), args.catalog, args.managed_location)
    return 0


def _deploy_command(args: argparse.Namespace) -> int:
    from zenith.databricks.job import deploy

    deploy(
        workspace_client(args.profile),
        args.catalog,
        args.workspace_dir,
        managed_location=args.managed_location,
    )
    return 0


def _run_command(args: argparse.Namespace) -> int:
    from zenith.databricks.job import job_parameters, run_job

    layers = ",".join(parse_layers(args.layers))  # a typo fails here, not minutes into the run
    parameters = job_parameters(
        args.catalog,
        layers,
        args.full_refresh,
        args.json_array,
        changed_files=args.changed_files,
        max_event_age_days=args.max_event_age_days,
        dedupe_horizon_hours=args.dedupe_horizon_hours,
    )
    run_job(workspace_client(args.profile), parameters, wait=not args.no_wait)
    return 0
