"""The job behind ``zenith workspace deploy|run``: its settings, the upload of the sources, and its runs.

``deploy`` uploads ELT.py, the ``zenith`` package, utils/ and notebooks/ to a workspace folder and
creates or resets the job; ``run_job`` starts it and follows the run to the end. Like the rest of
``zenith.databricks.client``, every public function takes a ``WorkspaceClient`` and the SDK is imported
inside functions.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from zenith.databricks.client import calling, one_line
from zenith.lakehouse import config as names
from zenith.lakehouse.config import parse_managed_location
from zenith.lakehouse.errors import ZenithError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.jobs import BaseJob, JobSettings, Run

JOB_NAME = "zenith_online_elt"
WORKSPACE_FOLDER = "zenith_online"  # under /Workspace/Users/<you>/ unless --workspace-dir says otherwise
REPO_ROOT = Path(__file__).resolve().parents[2]
ELT_NOTEBOOK = "ELT.py"
SETUP_NOTEBOOK = "utils/setup_environment.py"
NOTEBOOK_HEADER = b"# Databricks notebook source"
SCHEDULE_CRON = "0 0 6 * * ?"  # every day at 06:00
SCHEDULE_TIMEZONE = "UTC"


# --- deploy ----------------------------------------------------------------------------------
def workspace_sources(repo_root: Path = REPO_ROOT) -> list[Path]:
    """The repo-relative files deploy uploads: ELT.py, the zenith package, utils/ and notebooks/."""
    for required in (ELT_NOTEBOOK, SETUP_NOTEBOOK):
        if not (repo_root / required).is_file():
            raise ZenithError(f"{repo_root / required} is missing: the job runs it")
    files = {repo_root / ELT_NOTEBOOK, *(repo_root / "zenith").rglob("*.py")}
    for folder in ("utils", "notebooks"):
        files.update(path for path in (repo_root / folder).rglob("*") if path.is_file())
    hidden = ("__pycache__", ".")
    relative = (path.relative_to(repo_root) for path in files)
    return sorted(path for path in relative if not any(part.startswith(hidden) for part in path.parts))


def _is_notebook(path: Path, content: bytes) -> bool:
    return path.suffix == ".py" and content.removeprefix(b"\xef\xbb\xbf").startswith(NOTEBOOK_HEADER)


def upload_sources(w: WorkspaceClient, workspace_dir: str, repo_root: Path = REPO_ROOT) -> list[str]:
    """Upload the sources, notebooks as Python notebooks (without ``.py``); return the workspace paths."""
    from databricks.sdk.service.workspace import ImportFormat, Language

    sources = workspace_sources(repo_root)
    folder = PurePosixPath(workspace_dir)
    for parent in sorted({(folder / source).parent for source in sources}):
        with calling(w, f"creating workspace folder {parent}"):
            w.workspace.mkdirs(str(parent))
    uploaded = []
    for source in sources:
        content = (repo_root / source).read_bytes()
        target, how = folder / source, {"format": ImportFormat.AUTO}
        if _is_notebook(source, content):
            target, how = target.with_suffix(""), {"format": ImportFormat.SOURCE, "language": Language.PYTHON}
        with calling(w, f"uploading {source} to {target}"):
            w.workspace.import_(
                str(target), content=base64.b64encode(content).decode(), overwrite=True, **how
            )
        uploaded.append(str(target))
    return uploaded


def job_parameters(
    catalog: str = names.CATALOG,
    layers: str | None = None,
    full_refresh: bool = False,
    json_array: bool = False,
    **settings: object,
) -> dict[str, str]:
    """The job's parameters by name: ELT.py's widgets, with its defaults where none is given.

    ``settings`` gives other widgets' values by name (``changed_files``, ``max_event_age_days``).
    """
    flags = {"full_refresh": str(full_refresh).lower(), "json_array": str(json_array).lower()}
    flags |= {name: str(value) for name, value in settings.items() if name in names.WIDGET_DEFAULTS}
    parameters = {**names.WIDGET_DEFAULTS, "catalog": names.check_name("catalog", catalog), **flags}
    return parameters | ({"layers": layers} if layers else {})


def job_settings(
    workspace_dir: str, catalog: str = names.CATALOG, managed_location: str | None = None
) -> JobSettings:
    """The job: notebook ``setup`` then ``ELT`` on serverless compute, on a paused daily schedule.

    ``managed_location`` reaches the setup notebook, which uses it only if it creates the catalog.
    """
    from databricks.sdk.service import jobs

    def notebook(relative: str, **parameters: str) -> jobs.NotebookTask:
        path = PurePosixPath(workspace_dir, relative).with_suffix("")
        return jobs.NotebookTask(
            notebook_path=str(path), base_parameters=parameters or None, source=jobs.Source.WORKSPACE
        )

    return jobs.JobSettings(
        name=JOB_NAME,
        max_concurrent_runs=1,  # two runs would share streaming checkpoints
        parameters=[
            jobs.JobParameterDefinition(name=name, default=default)
            for name, default in job_parameters(catalog).items()
        ],
        schedule=jobs.CronSchedule(
            quartz_cron_expression=SCHEDULE_CRON,
            timezone_id=SCHEDULE_TIMEZONE,
            pause_status=jobs.PauseStatus.PAUSED,
        ),
        tasks=[
            jobs.Task(
                task_key="setup",
                notebook_task=notebook(
                    SETUP_NOTEBOOK,
                    catalog="{{job.parameters.catalog}}",
                    managed_location=parse_managed_location(managed_location) or "",
                ),
            ),
            jobs.Task(
                task_key="elt",
                depends_on=[jobs.TaskDependency(task_key="setup")],
                notebook_task=notebook(ELT_NOTEBOOK),
            ),
        ],
    )


def find_job(w: WorkspaceClient, name: str = JOB_NAME) -> BaseJob | None:
    """The job called ``name``, or None; more than one is an error rather than a guess."""
    with calling(w, f"looking up job {name}"):
        found = list(w.jobs.list(name=name))
    if len(found) > 1:
        ids = ", ".join(str(job.job_id) for job in found)
        raise ZenithError(f"{len(found)} jobs are named {name} (ids {ids}): delete all but one")
    return found[0] if found else None


def upsert_job(w: WorkspaceClient, settings: JobSettings) -> tuple[int, bool]:
    """Reset the job of that name to ``settings``, or create it; return its id and whether it is new."""
    existing = find_job(w, settings.name)
    if existing is None:
        with calling(w, f"creating job {settings.name}"):
            return w.jobs.create(**settings.as_shallow_dict()).job_id, True
    deployment = existing.settings.deployment if existing.settings else None
    if deployment is not None and deployment.kind is not None and deployment.kind.value == "BUNDLE":
        raise ZenithError(f"job {settings.name} belongs to an asset bundle: use `databricks bundle deploy`")
    with calling(w, f"updating job {settings.name}"):
        w.jobs.reset(existing.job_id, settings)
    return existing.job_id, False


def job_url(w: WorkspaceClient, job_id: int) -> str:
    return f"{w.config.host}/jobs/{job_id}"


def default_workspace_dir(w: WorkspaceClient) -> str:
    """``/Workspace/Users/<current user>/zenith_online``."""
    with calling(w, "looking up the current user"):
        user = w.current_user.me().user_name
    return f"/Workspace/Users/{user}/{WORKSPACE_FOLDER}"


def deploy(
    w: WorkspaceClient,
    catalog: str = names.CATALOG,
    workspace_dir: str | None = None,
    repo_root: Path = REPO_ROOT,
    managed_location: str | None = None,
) -> int:
    """Upload the sources and create or update the job; print its URL and return its id."""
    if workspace_dir is not None and not workspace_dir.startswith("/"):
        raise ZenithError(f"--workspace-dir must be an absolute workspace path, got {workspace_dir!r}")
    folder = (workspace_dir or default_workspace_dir(w)).rstrip("/")
    uploaded = upload_sources(w, folder, repo_root)
    print(f"uploaded {len(uploaded)} files to {folder}")
    job_id, created = upsert_job(w, job_settings(folder, catalog, managed_location))
    print(f"{'created' if created else 'updated'} job {JOB_NAME}: {job_url(w, job_id)}")
    return job_id


# --- run -------------------------------------------------------------------------------------
_FINISHED = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


def _state(state) -> str:
    """``TERMINATED FAILED``, ``RUNNING``: a run's or task's life-cycle state and result."""
    if state is None or state.life_cycle_state is None:
        return "UNKNOWN"
    result = f" {state.result_state.value}" if state.result_state else ""
    return state.life_cycle_state.value + result


def _progress(run: Run) -> str:
    tasks = ", ".join(f"{task.task_key} {_state(task.state)}" for task in run.tasks or ())
    return f"run {run.run_id}: {_state(run.state)}" + (f" ({tasks})" if tasks else "")


def wait_for_run(
    w: WorkspaceClient, run_id: int, poll_seconds: float = 10.0, sleep: Callable[[float], None] = time.sleep
) -> Run:
    """Poll the run until it ends, printing a line whenever its or a task's state changes."""
    last = None
    while True:
        with calling(w, f"reading run {run_id}"):
            run = w.jobs.get_run(run_id)
        if (line := _progress(run)) != last:
            print(line, flush=True)
            last = line
        if run.state and run.state.life_cycle_state and run.state.life_cycle_state.value in _FINISHED:
            return run
        sleep(poll_seconds)


def run_job(
    w: WorkspaceClient,
    parameters: dict[str, str] | None = None,
    wait: bool = True,
    poll_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Start the deployed job and, with ``wait``, follow it to the end; return the run id.

    A run that ends in anything but SUCCESS is a ZenithError naming the failed tasks.
    """
    job = find_job(w)
    if job is None:
        raise ZenithError(f"no job named {JOB_NAME} in {w.config.host}: run `zenith workspace deploy` first")
    with calling(w, f"starting job {JOB_NAME}"):
        run_id = w.jobs.run_now(job.job_id, job_parameters=parameters).run_id
    url = f"{job_url(w, job.job_id)}/runs/{run_id}"
    print(f"started run {run_id}: {url}")
    if not wait:
        return run_id
    try:
        run = wait_for_run(w, run_id, poll_seconds, sleep)
    except KeyboardInterrupt:
        raise ZenithError(f"stopped waiting; run {run_id} goes on: {url}") from None
    if _state(run.state) != "TERMINATED SUCCESS":
        failed = [t.task_key for t in run.tasks or () if t.state and _state(t.state) != "TERMINATED SUCCESS"]
        message = one_line(run.state.state_message or "") if run.state else ""
        detail = f"; tasks not succeeded: {', '.join(failed)}" if failed else ""
        raise ZenithError(f"run {run_id} ended {_state(run.state)}: {message}{detail} ({url})")
    print(f"run {run_id} succeeded: {url}")
    return run_id
