"""Unity Catalog setup through the workspace API: the catalog, its schemas and volumes, if missing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from zenith.databricks.client import calling
from zenith.lakehouse import config as names
from zenith.lakehouse.config import check_name, parse_managed_location
from zenith.lakehouse.setup import SetupStep

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient


@dataclass(frozen=True)
class _CatalogObject:
    """A Unity Catalog object setup makes sure of, and the privileges creating it takes."""

    kind: str
    label: str  # as ``zenith setup`` prints it locally
    full_name: str
    needs: str
    get: Callable[[], object]
    create: Callable[[], object]


def _catalog_objects(
    w: WorkspaceClient, catalog: str, managed_location: str | None = None
) -> Iterator[_CatalogObject]:
    from databricks.sdk.service.catalog import VolumeType

    get = partial(w.catalogs.get, catalog)
    create = partial(w.catalogs.create, catalog, storage_root=parse_managed_location(managed_location))
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


def setup_workspace(
    w: WorkspaceClient, catalog: str = names.CATALOG, managed_location: str | None = None
) -> list[SetupStep]:
    """Create whatever of the catalog, schemas and managed volumes is missing; print and return each step.

    An existing catalog is only read, never created again; ``managed_location`` is used only when
    the catalog is created.
    """
    check_name("catalog", catalog)
    steps = []
    for obj in _catalog_objects(w, catalog, managed_location):
        steps.append(_ensure(w, obj))
        print(steps[-1])
    return steps
