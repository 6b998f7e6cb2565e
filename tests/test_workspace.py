"""``zenith workspace``: the real databricks-sdk against a fake Databricks REST API on 127.0.0.1."""

from __future__ import annotations

import base64
import os

import pytest

from tests.fake_databricks import JOBS, RUN_FAILS, UC, USER, FakeDatabricks, serve
from zenith.cli import main
from zenith.databricks import catalog
from zenith.databricks import client as workspace
from zenith.databricks import job as workspace_job
from zenith.lakehouse import config as names
from zenith.lakehouse.errors import ZenithError

NOTEBOOK = "# Databricks notebook source\nprint('hi')\n"
FOLDER = f"/Workspace/Users/{USER}/zenith_online"
AUTH_HELP = (
    "set DATABRICKS_HOST and DATABRICKS_TOKEN, or pass --profile NAME to use a profile in ~/.databrickscfg"
)


@pytest.fixture(autouse=True)
def no_databricks_settings(monkeypatch, tmp_path):
    """Keep the developer's own DATABRICKS_* variables and ~/.databrickscfg out of every test."""
    for name in [name for name in os.environ if name.startswith("DATABRICKS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no.databrickscfg"))


@pytest.fixture
def fake():
    with serve(FakeDatabricks()) as server:
        yield server


@pytest.fixture
def client(fake):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    # One second of retries at most: a failing test must not hang.
    config = Config(
        host=fake.url, token="x", auth_type="pat", retry_timeout_seconds=1, http_timeout_seconds=5
    )
    return WorkspaceClient(config=config)


@pytest.fixture
def cli_env(fake, monkeypatch):
    """The environment ``zenith workspace`` finds its credentials in, pointing at the fake."""
    monkeypatch.setenv("DATABRICKS_HOST", fake.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "x")


@pytest.fixture
def repo(tmp_path):
    """A checkout with notebooks, package modules, and files deploy must leave behind."""
    files = {
        "ELT.py": NOTEBOOK,
        "utils/setup_environment.py": NOTEBOOK,
        "utils/README.md": "helpers\n",
        "notebooks/explore.py": NOTEBOOK,
        "zenith/__init__.py": "",
        "zenith/lakehouse/config.py": "CATALOG = 'x'\n",
        "zenith/lakehouse/log4j2.properties": "local only\n",
        "zenith/lakehouse/__pycache__/config.cpython-311.pyc": "",
        "tests/test_x.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def bodies(fake: FakeDatabricks, path: str) -> list[dict]:
    return [r.body for r in fake.calls("POST", path)]


# --- setup -----------------------------------------------------------------------------------
def test_setup_creates_catalog_schemas_and_managed_volumes(fake, client, capsys):
    steps = catalog.setup_workspace(client)

    assert bodies(fake, f"{UC}/catalogs") == [{"name": names.CATALOG}]
    assert bodies(fake, f"{UC}/schemas") == [
        {"name": s, "catalog_name": names.CATALOG} for s in names.SCHEMAS
    ]
    assert bodies(fake, f"{UC}/volumes") == [
        {"catalog_name": names.CATALOG, "schema_name": s, "name": v, "volume_type": "MANAGED"}
        for s, v in names.VOLUMES
    ]
    assert all(step.created for step in steps)
    assert len(steps) == 1 + len(names.SCHEMAS) + len(names.VOLUMES)
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"created  catalog {names.CATALOG}",
        f"created  schema  {names.SYSTEM}",
    ]


def test_second_setup_creates_nothing_and_reports_every_object_as_existing(fake, client, capsys):
    catalog.setup_workspace(client)
    creates = len(fake.calls("POST"))
    capsys.readouterr()

    steps = catalog.setup_workspace(client)

    assert len(fake.calls("POST")) == creates
    assert not any(step.created for step in steps)
    assert all(line.startswith("exists ") for line in capsys.readouterr().out.splitlines())


def test_a_new_catalog_gets_the_managed_location_given(fake, client):
    catalog.setup_workspace(client, managed_location="s3://zenith-bucket/uc")

    assert bodies(fake, f"{UC}/catalogs") == [
        {"name": names.CATALOG, "storage_root": "s3://zenith-bucket/uc"}
    ]


def test_an_existing_catalog_is_never_created_again_whatever_the_location(fake, client):
    fake.catalogs.add(names.CATALOG)

    steps = catalog.setup_workspace(client, managed_location="s3://zenith-bucket/uc")

    assert bodies(fake, f"{UC}/catalogs") == []
    assert (steps[0].kind, steps[0].created) == ("catalog", False)


def test_object_created_by_someone_else_meanwhile_is_reported_as_existing(fake, client):
    fake.catalogs.add(names.CATALOG)
    fake.fail("GET", f"{UC}/catalogs/", 404, "CATALOG_DOES_NOT_EXIST", "Catalog does not exist.")

    steps = catalog.setup_workspace(client)

    assert bodies(fake, f"{UC}/catalogs") == [{"name": names.CATALOG}]  # answered 409
    assert (steps[0].kind, steps[0].created) == ("catalog", False)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            f"{UC}/catalogs",
            "permission denied creating catalog zenith_online: you need CREATE CATALOG on the metastore",
        ),
        (
            f"{UC}/schemas",
            "permission denied creating schema zenith_online._system: "
            "you need USE CATALOG and CREATE SCHEMA on catalog zenith_online",
        ),
        (
            f"{UC}/volumes",
            "permission denied creating volume zenith_online.00_landing.batch: you need "
            "USE CATALOG on catalog zenith_online, USE SCHEMA and CREATE VOLUME on schema zenith_online.00_landing",
        ),
    ],
)
def test_permission_denied_names_the_object_and_the_privilege_it_needs(fake, client, path, expected):
    fake.fail("POST", path, 403, "PERMISSION_DENIED", "User does not have the privilege.")

    with pytest.raises(ZenithError) as error:
        catalog.setup_workspace(client)

    assert str(error.value) == f"{expected} (Databricks said: User does not have the privilege.)"


def test_bad_token_says_authentication_failed_and_how_to_set_credentials(fake, client):
    fake.fail("GET", "/api/", 401, "UNAUTHENTICATED", "Invalid access token.")

    with pytest.raises(ZenithError) as error:
        catalog.setup_workspace(client)

    assert str(error.value) == f"authentication failed at {fake.url}: {AUTH_HELP}"


def test_cli_prints_the_error_on_one_line_and_exits_1(fake, cli_env, capsys):
    fake.fail("GET", "/api/", 401, "UNAUTHENTICATED", "Invalid access token.")

    assert main(["workspace", "setup"]) == 1
    assert capsys.readouterr().err == f"zenith: error: authentication failed at {fake.url}: {AUTH_HELP}\n"


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (None, f"no usable Databricks credentials found: {AUTH_HELP}"),
        ("dev", "profile 'dev' in ~/.databrickscfg has no usable host and token"),
    ],
)
def test_missing_credentials_are_a_one_line_error(profile, expected):
    with pytest.raises(ZenithError) as error:
        workspace.workspace_client(profile)

    assert str(error.value) == expected


# --- deploy ----------------------------------------------------------------------------------
def test_deploy_uploads_notebooks_as_python_notebooks_and_the_rest_as_files(fake, client, repo):
    workspace_job.deploy(client, repo_root=repo)

    assert sorted(fake.objects) == [
        f"{FOLDER}/ELT",
        f"{FOLDER}/notebooks/explore",
        f"{FOLDER}/utils/README.md",
        f"{FOLDER}/utils/setup_environment",
        f"{FOLDER}/zenith/__init__.py",
        f"{FOLDER}/zenith/lakehouse/config.py",
    ]
    elt = fake.objects[f"{FOLDER}/ELT"]
    assert (elt["format"], elt["language"], elt["overwrite"]) == ("SOURCE", "PYTHON", True)
    assert base64.b64decode(elt["content"]).decode() == NOTEBOOK
    assert fake.objects[f"{FOLDER}/zenith/lakehouse/config.py"]["format"] == "AUTO"
    assert "language" not in fake.objects[f"{FOLDER}/zenith/lakehouse/config.py"]
    first_import = next(i for i, r in enumerate(fake.calls()) if r.path.endswith("/import"))
    assert {r.body["path"] for r in fake.calls()[:first_import] if r.path.endswith("/mkdirs")} == {
        FOLDER,
        f"{FOLDER}/notebooks",
        f"{FOLDER}/utils",
        f"{FOLDER}/zenith",
        f"{FOLDER}/zenith/lakehouse",
    }


def test_deploy_creates_a_paused_serverless_job_with_setup_then_elt(fake, client, repo, capsys):
    job_id = workspace_job.deploy(client, catalog="demo", repo_root=repo)

    [job] = bodies(fake, f"{JOBS}/create")
    assert job["name"] == "zenith_online_elt"
    assert job["parameters"] == [
        {"name": "catalog", "default": "demo"},
        {"name": "layers", "default": "bronze,silver,gold,analytics"},
        {"name": "full_refresh", "default": "false"},
        {"name": "json_array", "default": "false"},
        {"name": "changed_files", "default": "warn"},
        {"name": "max_event_age_days", "default": "3650"},
        {"name": "dedupe_horizon_hours", "default": "24"},
    ]
    assert job["schedule"]["pause_status"] == "PAUSED"
    assert [t["task_key"] for t in job["tasks"]] == ["setup", "elt"]
    assert job["tasks"][0]["notebook_task"]["notebook_path"] == f"{FOLDER}/utils/setup_environment"
    assert job["tasks"][1]["notebook_task"]["notebook_path"] == f"{FOLDER}/ELT"
    assert job["tasks"][1]["depends_on"] == [{"task_key": "setup"}]
    assert not {"job_clusters", "new_cluster", "existing_cluster_id"} & {k for t in job["tasks"] for k in t}
    assert "job_clusters" not in job
    assert (
        capsys.readouterr().out.splitlines()[-1] == f"created job zenith_online_elt: {fake.url}/jobs/{job_id}"
    )


def test_second_deploy_resets_the_job_instead_of_creating_another(fake, client, repo, capsys):
    first = workspace_job.deploy(client, repo_root=repo)
    second = workspace_job.deploy(client, repo_root=repo, workspace_dir="/Shared/zenith/")

    assert first == second
    assert len(fake.jobs) == 1
    assert len(bodies(fake, f"{JOBS}/create")) == 1
    [reset] = bodies(fake, f"{JOBS}/reset")
    assert reset["job_id"] == first
    assert reset["new_settings"]["tasks"][1]["notebook_task"]["notebook_path"] == "/Shared/zenith/ELT"
    assert (
        capsys.readouterr().out.splitlines()[-1] == f"updated job zenith_online_elt: {fake.url}/jobs/{first}"
    )


def test_deploy_without_the_setup_notebook_fails_before_uploading_anything(fake, client, repo):
    (repo / "utils" / "setup_environment.py").unlink()

    with pytest.raises(ZenithError) as error:
        workspace_job.deploy(client, repo_root=repo, workspace_dir="/Shared/zenith")

    assert str(error.value) == f"{repo / 'utils' / 'setup_environment.py'} is missing: the job runs it"
    assert fake.calls() == []


def test_deploy_leaves_a_job_deployed_by_an_asset_bundle_alone(fake, client, repo):
    fake.jobs[100] = {"name": "zenith_online_elt", "deployment": {"kind": "BUNDLE"}}

    with pytest.raises(ZenithError, match="belongs to an asset bundle"):
        workspace_job.deploy(client, repo_root=repo)

    assert bodies(fake, f"{JOBS}/reset") == []


def test_two_jobs_with_the_name_are_an_error_not_a_guess(fake, client):
    fake.jobs.update({100: {"name": "zenith_online_elt"}, 101: {"name": "ZENITH_ONLINE_ELT"}})

    with pytest.raises(ZenithError) as error:
        workspace_job.run_job(client)

    assert str(error.value) == "2 jobs are named zenith_online_elt (ids 100, 101): delete all but one"


# --- run -------------------------------------------------------------------------------------
@pytest.fixture
def deployed(fake, client, repo):
    workspace_job.deploy(client, repo_root=repo)
    return next(iter(fake.jobs))


def test_run_prints_progress_until_the_run_succeeds(fake, client, deployed, capsys):
    capsys.readouterr()
    run_id = workspace_job.run_job(client, {"catalog": "demo"}, sleep=lambda seconds: None)

    assert bodies(fake, f"{JOBS}/run-now") == [{"job_id": deployed, "job_parameters": {"catalog": "demo"}}]
    url = f"{fake.url}/jobs/{deployed}/runs/{run_id}"
    assert capsys.readouterr().out.splitlines() == [
        f"started run {run_id}: {url}",
        f"run {run_id}: PENDING",
        f"run {run_id}: RUNNING (setup RUNNING)",
        f"run {run_id}: TERMINATED SUCCESS (setup TERMINATED SUCCESS, elt TERMINATED SUCCESS)",
        f"run {run_id} succeeded: {url}",
    ]


def test_failed_run_is_an_error_naming_the_failed_task(fake, client, deployed):
    fake.run_script = RUN_FAILS

    with pytest.raises(ZenithError) as error:
        workspace_job.run_job(client, sleep=lambda seconds: None)

    assert str(error.value) == (
        "run 500 ended TERMINATED FAILED: Workload failed, see run output for details; "
        f"tasks not succeeded: elt ({fake.url}/jobs/{deployed}/runs/500)"
    )


def test_run_with_no_wait_only_starts_the_run(fake, client, deployed):
    assert workspace_job.run_job(client, wait=False) == 500
    assert fake.calls("GET", f"{JOBS}/runs/get") == []


def test_run_before_deploy_says_to_deploy_first(fake, client):
    with pytest.raises(ZenithError) as error:
        workspace_job.run_job(client)

    assert (
        str(error.value)
        == f"no job named zenith_online_elt in {fake.url}: run `zenith workspace deploy` first"
    )


def test_run_that_disappeared_is_a_not_found_error(fake, client, deployed):
    fake.fail("GET", f"{JOBS}/runs/get", 404, "RESOURCE_DOES_NOT_EXIST", "Run 500 does not exist.")

    with pytest.raises(ZenithError) as error:
        workspace_job.run_job(client)

    assert str(error.value) == "not found while reading run 500: Run 500 does not exist."


def test_cli_run_passes_its_flags_as_job_parameters_and_exits_1_on_failure(fake, deployed, cli_env, capsys):
    fake.run_script = RUN_FAILS[-1:]

    assert main(["workspace", "run", "--layers", "bronze", "--full-refresh"]) == 1

    [run_now] = bodies(fake, f"{JOBS}/run-now")
    assert run_now["job_parameters"] == {
        "catalog": names.CATALOG,
        "layers": "bronze",
        "full_refresh": "true",
        "json_array": "false",
        "changed_files": "warn",
        "max_event_age_days": "3650",
        "dedupe_horizon_hours": "24",
    }
    assert capsys.readouterr().err.startswith("zenith: error: run 500 ended TERMINATED FAILED: ")


def test_cli_run_with_an_unknown_layer_fails_before_starting_a_run(fake, deployed, cli_env, capsys):
    assert main(["workspace", "run", "--layers", "bronze,platinum"]) == 1

    assert bodies(fake, f"{JOBS}/run-now") == []
    assert capsys.readouterr().err.startswith("zenith: error: layers: got 'bronze,platinum'")
