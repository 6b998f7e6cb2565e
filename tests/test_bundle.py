"""The asset bundle (databricks.yml, resources/) and ``zenith workspace deploy`` describe one job."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest
import yaml

from zenith.databricks import job as workspace_job
from zenith.lakehouse import config as names

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
CLUSTER_KEYS = {"job_cluster_key", "new_cluster", "existing_cluster_id", "job_clusters"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def bundle() -> dict:
    return load(ROOT / "databricks.yml")


@pytest.fixture(scope="module")
def job() -> dict:
    [job] = load(RESOURCES / "zenith_job.yml")["resources"]["jobs"].values()
    return job


@pytest.fixture(scope="module")
def maintenance_job() -> dict:
    [job] = load(RESOURCES / "zenith_maintenance_job.yml")["resources"]["jobs"].values()
    return job


def resolve(value: str, bundle: dict) -> str:
    """``${var.name}`` replaced by the variable's default, as ``bundle deploy`` does without ``--var``."""
    return re.sub(r"\$\{var\.(\w+)\}", lambda m: str(bundle["variables"][m.group(1)]["default"]), str(value))


def test_bundle_includes_the_job_and_has_a_dev_default_and_a_prod_target(bundle):
    assert bundle["bundle"]["name"] == "zenith_online"
    included = sorted(p.name for pattern in bundle["include"] for p in ROOT.glob(pattern))
    assert included == ["zenith_job.yml", "zenith_maintenance_job.yml"]
    assert bundle["variables"]["catalog"]["default"] == names.CATALOG
    assert bundle["targets"]["dev"] == {"mode": "development", "default": True}
    assert bundle["targets"]["prod"]["mode"] == "production"


def test_schedule_is_paused_except_in_prod(bundle, job):
    assert resolve(job["schedule"]["pause_status"], bundle) == "PAUSED"
    assert bundle["targets"]["prod"]["variables"]["schedule_pause_status"] == "UNPAUSED"


def test_every_notebook_a_job_runs_exists_in_the_repo(job, maintenance_job):
    tasks = [*job["tasks"], *maintenance_job["tasks"]]
    paths = [RESOURCES / task["notebook_task"]["notebook_path"] for task in tasks]

    missing = [str(path.resolve().relative_to(ROOT)) for path in paths if not path.is_file()]
    assert missing == []
    not_notebooks = [p.name for p in paths if not p.read_text().startswith("# Databricks notebook source")]
    assert not_notebooks == []


def test_setup_runs_before_elt(job):
    assert [task["task_key"] for task in job["tasks"]] == ["setup", "elt"]
    assert "depends_on" not in job["tasks"][0]
    assert job["tasks"][1]["depends_on"] == [{"task_key": "setup"}]


@pytest.mark.parametrize("which", ["job", "maintenance_job"])
def test_job_runs_on_serverless_compute(request, which):
    job = request.getfixturevalue(which)
    assert not CLUSTER_KEYS & {key for task in job["tasks"] for key in task}
    assert not CLUSTER_KEYS & set(job)


def test_maintenance_runs_weekly_one_run_at_a_time_paused_like_the_pipeline(bundle, job, maintenance_job):
    schedule = maintenance_job["schedule"]
    seconds, minutes, hours, day_of_month, month, day_of_week = schedule["quartz_cron_expression"].split()
    assert (seconds, minutes, hours, day_of_month, month, day_of_week) == ("0", "0", "3", "?", "*", "SUN")
    assert schedule["pause_status"] == job["schedule"]["pause_status"]  # paused but in prod
    assert resolve(schedule["pause_status"], bundle) == "PAUSED"
    assert maintenance_job["max_concurrent_runs"] == 1
    assert [task["task_key"] for task in maintenance_job["tasks"]] == ["maintain"]
    assert maintenance_job["tasks"][0]["notebook_task"]["notebook_path"] == "../utils/maintain.py"


def test_maintenance_parameters_are_the_catalog_and_deltas_default_retention(bundle, maintenance_job):
    from zenith.lakehouse.config import DEFAULT_RETENTION_HOURS

    parameters = {p["name"]: resolve(p["default"], bundle) for p in maintenance_job["parameters"]}
    assert parameters == {"catalog": names.CATALOG, "retention_hours": str(DEFAULT_RETENTION_HOURS)}


def _essentials(job: dict, repo_path: Callable[[str], str], value: Callable[[str], str] = str) -> dict:
    """What a job runs, when and with which parameters, with notebook paths relative to the repo."""
    return {
        "name": job["name"],
        "max_concurrent_runs": job["max_concurrent_runs"],
        "schedule": {key: value(item) for key, item in job["schedule"].items()},
        "parameters": {p["name"]: value(p["default"]) for p in job["parameters"]},
        "tasks": {
            task["task_key"]: (
                repo_path(task["notebook_task"]["notebook_path"]),
                task.get("depends_on"),
                {key: value(item) for key, item in task["notebook_task"].get("base_parameters", {}).items()},
            )
            for task in job["tasks"]
        },
    }


def test_deploy_command_creates_the_same_job_as_the_bundle(bundle, job):
    folder = "/Workspace/Users/ada@example.com/zenith_online"
    deployed = workspace_job.job_settings(folder).as_dict()

    assert _essentials(deployed, lambda path: str(PurePosixPath(path).relative_to(folder))) == _essentials(
        job,
        lambda path: (RESOURCES / path).resolve().relative_to(ROOT).with_suffix("").as_posix(),
        lambda item: resolve(item, bundle),
    )


def test_bundle_does_not_sync_the_virtualenv_or_the_local_lakehouse(bundle):
    # Anchored: a bare "lakehouse" would, like .gitignore, also leave out the zenith/lakehouse package.
    assert {".venv", "/lakehouse"} <= set(bundle["sync"]["exclude"])


# --- Databricks' own model of a job ------------------------------------------------------------------
def bundle_jobs() -> list[tuple[str, dict]]:
    """Every job in resources/*.yml, by file and key."""
    return [
        (f"{path.name}:{key}", job)
        for path in sorted(RESOURCES.glob("*.yml"))
        for key, job in (load(path).get("resources", {}).get("jobs") or {}).items()
    ]


@pytest.mark.parametrize(("where", "job"), bundle_jobs(), ids=[where for where, _ in bundle_jobs()])
def test_every_bundle_job_loads_in_databricks_job_model(where, job):
    """``databricks-bundles`` refuses unknown fields, bad enum values and wrong types."""
    from databricks.bundles.jobs import Job

    loaded = Job.from_dict(job)

    assert [task.task_key for task in loaded.tasks] == [task["task_key"] for task in job["tasks"]], where


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_concurent_runs": 1}, "Unexpected field 'max_concurent_runs'"),
        ({"schedule": {"quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "UTC", "pause_status": "PAUSD"}},
         "'PAUSD' is not a valid PauseStatus"),
        ({"max_concurrent_runs": "one"}, "invalid literal for int"),
    ],
)  # fmt: skip
def test_the_job_model_catches_a_misspelt_key_a_bad_enum_and_a_wrong_type(job, change, message):
    from databricks.bundles.jobs import Job

    with pytest.raises(ValueError, match=message):
        Job.from_dict({**job, **change})
