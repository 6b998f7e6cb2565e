"""``zenith workspace``: the Databricks client, its errors as one-line messages, Unity Catalog setup and the CLI.

Everything goes through the official databricks-sdk, which finds credentials in its standard
places: DATABRICKS_HOST and DATABRICKS_TOKEN, or a profile in ~/.databrickscfg. The SDK takes a
second to import, so it is imported inside functions and ``zenith --help`` never pays for it.
Every public function takes a ``WorkspaceClient``, so tests can hand it a client of their own.
Deploying the job and running it live in ``zenith.workspace_job``, which imports this module, so the
commands below import it where they use it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from zenith import config as names
from zenith.errors import ZenithError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from zenith.setup_env import SetupStep

# The SDK's default is five minutes of retries, which is how long a mistyped host would hang.
RETRY_TIMEOUT_SECONDS = 30
AUTH_HELP = (
    "set DATABRICKS_HOST and DATABRICKS_TOKEN, or pass --profile NAME to use a profile in ~/.databrickscfg"
)


def workspace_client(profile: str | None = None) -> WorkspaceClient:
    """A client authenticated from the environment or, with ``profile``, from ~/.databrickscfg."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    from zenith import __version__

    try:
        config = Config(
            profile=profile,
            retry_timeout_seconds=RETRY_TIMEOUT_SECONDS,
            product="zenith-online",
            product_version=__version__,
        )
    except ValueError:
        if profile:
            raise ZenithError(
                f"profile {profile!r} in ~/.databrickscfg has no usable host and token"
            ) from None
        raise ZenithError(f"no usable Databricks credentials found: {AUTH_HELP}") from None
    return WorkspaceClient(config=config)


@contextmanager
def calling(w: WorkspaceClient, action: str, needs: str | None = None) -> Iterator[None]:
    """Turn the SDK's errors while doing ``action`` into a one-line ZenithError.

    ``needs`` names the privileges that ``action`` requires, for the message on a 403.
    """
    from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied, Unauthenticated

    try:
        yield
    except Unauthenticated:
        raise ZenithError(f"authentication failed at {w.config.host}: {AUTH_HELP}") from None
    except PermissionDenied as exc:
        hint = f": you need {needs}" if needs else ""
        said = one_line(exc).removesuffix(one_line(w.config.debug_string())).rstrip(" .")
        raise ZenithError(f"permission denied {action}{hint} (Databricks said: {said}.)") from None
    except NotFound as exc:
        raise ZenithError(f"not found while {action}: {one_line(exc)}") from None
    except DatabricksError as exc:
        raise ZenithError(f"error {action}: {one_line(exc)}") from None
    except TimeoutError as exc:
        raise ZenithError(f"cannot reach {w.config.host} while {action} ({exc}): check the host") from None


def one_line(text: object) -> str:
    """``text`` as a string on one line, each run of whitespace made a single space."""
    return " ".join(str(text).split())


# --- setup -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _CatalogObject:
    """A Unity Catalog object setup makes sure of, and the privileges creating it takes."""

    kind: str
    label: str  # as ``zenith setup`` prints it locally
    full_name: str
    needs: str
    get: Callable[[], object]
    create: Callable[[], object]


def _catalog_objects(w: WorkspaceClient, catalog: str) -> Iterator[_CatalogObject]:
    from databricks.sdk.service.catalog import VolumeType

    get, create = partial(w.catalogs.get, catalog), partial(w.catalogs.create, catalog)
    yield _CatalogObject("catalog", catalog, catalog, "CREATE CATALOG on the metastore", get, create)
    for schema in names.SCHEMAS:
        full_name = f"{catalog}.{schema}"
        needs = f"USE CATALOG and CREATE SCHEMA on catalog {catalog}"
        get, create = partial(w.schemas.get, full_name), partial(w.schemas.create, schema, catalog)
        yield _CatalogObject("schema", schema, full_name, needs, get, create)
    for schema, volume in names.VOLUMES:
        full_name = f"{catalog}.{schema}.{volume}"
        needs = f"USE CATALOG on catalog {catalog}, USE SCHEMA and CREATE VOLUME on schema {catalog}.{schema}"
        get = partial(w.volumes.read, full_name)
        create = partial(w.volumes.create, catalog, schema, volume, VolumeType.MANAGED)
        yield _CatalogObject("volume", f"{schema}.{volume}", full_name, needs, get, create)


def _ensure(w: WorkspaceClient, obj: _CatalogObject) -> SetupStep:
    from databricks.sdk.errors import DatabricksError, NotFound, ResourceConflict

    from zenith.setup_env import SetupStep

    with calling(w, f"reading {obj.kind} {obj.full_name}"):
        try:
            obj.get()
            return SetupStep(obj.kind, obj.label, created=False)
        except NotFound:
            pass
    with calling(w, f"creating {obj.kind} {obj.full_name}", obj.needs):
        try:
            obj.create()
        except DatabricksError as exc:
            # Someone created it between our get and our create.
            if isinstance(exc, ResourceConflict) or (exc.error_code or "").endswith("ALREADY_EXISTS"):
                return SetupStep(obj.kind, obj.label, created=False)
            raise
    return SetupStep(obj.kind, obj.label, created=True)


def setup_workspace(w: WorkspaceClient, catalog: str = names.CATALOG) -> list[SetupStep]:
    """Create whatever of the catalog, schemas and managed volumes is missing; print and return each step."""
    steps = []
    for obj in _catalog_objects(w, catalog):
        steps.append(_ensure(w, obj))
        print(steps[-1])
    return steps


# --- command line ----------------------------------------------------------------------------
def add_workspace_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``zenith workspace setup|deploy|run``."""
    from zenith.elt import add_run_arguments
    from zenith.workspace_job import WORKSPACE_FOLDER

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", help="profile in ~/.databrickscfg (default: DATABRICKS_* variables)")
    workspace = subparsers.add_parser("workspace", help="set up, deploy and run the pipeline on Databricks")
    commands = workspace.add_subparsers(dest="workspace_command", required=True)

    setup = commands.add_parser("setup", parents=[common], help="create the catalog, schemas and volumes")
    setup.set_defaults(func=_setup_command)

    deploy_ = commands.add_parser(
        "deploy", parents=[common], help="upload the code and create/update the job"
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
    setup_workspace(workspace_client(args.profile), args.catalog)
    return 0


def _deploy_command(args: argparse.Namespace) -> int:
    from zenith.workspace_job import deploy

    deploy(workspace_client(args.profile), args.catalog, args.workspace_dir)
    return 0


def _run_command(args: argparse.Namespace) -> int:
    from zenith.elt import parse_layers
    from zenith.workspace_job import job_parameters, run_job

    layers = ",".join(parse_layers(args.layers))  # a typo fails here, not minutes into the run
    parameters = job_parameters(args.catalog, layers, args.full_refresh, args.json_array)
    run_job(workspace_client(args.profile), parameters, wait=not args.no_wait)
    return 0
