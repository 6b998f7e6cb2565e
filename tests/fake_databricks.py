"""A tiny Databricks REST API on 127.0.0.1, for driving the real databricks-sdk in tests.

It answers only the endpoints ``zenith workspace`` calls, keeps what they create in memory,
records every API request, and answers with errors injected by a test. The server thread stops
when the test is done, or after ``MAX_SECONDS`` whatever happens.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_SECONDS = 30
USER = "ada@example.com"
UC = "/api/2.1/unity-catalog"
JOBS = "/api/2.2/jobs"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict
    body: dict


@dataclass
class Failure:
    method: str
    path: str
    status: int
    error_code: str
    message: str


class ApiError(Exception):
    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


# A run that ends well, and one whose ``elt`` task fails: each runs/get answers the next state.
RUN_SUCCEEDS = (
    {"state": ("PENDING", None)},
    {"state": ("RUNNING", None), "tasks": {"setup": ("RUNNING", None)}},
    {"state": ("RUNNING", None), "tasks": {"setup": ("RUNNING", None)}},
    {
        "state": ("TERMINATED", "SUCCESS"),
        "tasks": {"setup": ("TERMINATED", "SUCCESS"), "elt": ("TERMINATED", "SUCCESS")},
    },
)
RUN_FAILS = (
    {"state": ("RUNNING", None), "tasks": {"setup": ("TERMINATED", "SUCCESS"), "elt": ("RUNNING", None)}},
    {
        "state": ("TERMINATED", "FAILED"),
        "message": "Workload failed, see run output for details",
        "tasks": {"setup": ("TERMINATED", "SUCCESS"), "elt": ("TERMINATED", "FAILED")},
    },
)


@dataclass
class FakeDatabricks:
    """The workspace's state, the requests it got, and the errors it is told to answer with."""

    user: str = USER
    catalogs: set[str] = field(default_factory=set)
    schemas: set[str] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=lambda: {"/Workspace/Users/" + USER})
    objects: dict[str, dict] = field(default_factory=dict)
    jobs: dict[int, dict] = field(default_factory=dict)
    run_script: tuple[dict, ...] = RUN_SUCCEEDS
    runs: dict[int, list[dict]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    url: str = ""

    def fail(self, method: str, path: str, status: int, error_code: str, message: str) -> None:
        """Answer ``method path`` (a prefix) with this error from now on."""
        self.failures.append(Failure(method, path, status, error_code, message))

    def calls(self, method: str | None = None, prefix: str = "/api/") -> list[Request]:
        """The API requests received, optionally only one method's."""
        return [r for r in self.requests if r.path.startswith(prefix) and method in (None, r.method)]

    def handle(self, method: str, path: str, query: dict, body: dict) -> dict:
        if path == "/.well-known/databricks-config":
            return {}  # no host metadata: the SDK falls back to its own configuration
        self.requests.append(Request(method, path, query, body))
        for failure in self.failures:
            if failure.method == method and path.startswith(failure.path):
                raise ApiError(failure.status, failure.error_code, failure.message)
        for route_method, pattern, handler in self._routes():
            if route_method == method and (match := re.fullmatch(pattern, path)):
                return handler(query, body, *match.groups())
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")

    def _routes(self):
        return (
            ("GET", "/api/2.0/preview/scim/v2/Me", lambda q, b: {"userName": self.user, "id": "7"}),
            ("GET", f"{UC}/catalogs/([^/]+)", lambda q, b, name: self._get(self.catalogs, "CATALOG", name)),
            ("POST", f"{UC}/catalogs", lambda q, b: self._create(self.catalogs, "CATALOG", b["name"])),
            ("GET", f"{UC}/schemas/([^/]+)", lambda q, b, name: self._get(self.schemas, "SCHEMA", name)),
            ("POST", f"{UC}/schemas", self._create_schema),
            ("GET", f"{UC}/volumes/([^/]+)", lambda q, b, name: self._get(self.volumes, "VOLUME", name)),
            ("POST", f"{UC}/volumes", self._create_volume),
            ("POST", "/api/2.0/workspace/mkdirs", self._mkdirs),
            ("POST", "/api/2.0/workspace/import", self._import),
            ("GET", f"{JOBS}/list", self._list_jobs),
            ("POST", f"{JOBS}/create", self._create_job),
            ("POST", f"{JOBS}/reset", self._reset_job),
            ("POST", f"{JOBS}/run-now", self._run_now),
            ("GET", f"{JOBS}/runs/get", self._get_run),
        )

    # --- Unity Catalog ------------------------------------------------------------------------
    @staticmethod
    def _get(existing: set[str], kind: str, name: str) -> dict:
        if name not in existing:
            raise ApiError(404, f"{kind}_DOES_NOT_EXIST", f"{kind.title()} '{name}' does not exist.")
        return {"full_name": name}

    @staticmethod
    def _create(existing: set[str], kind: str, name: str) -> dict:
        if name in existing:
            raise ApiError(409, f"{kind}_ALREADY_EXISTS", f"{kind.title()} '{name}' already exists")
        existing.add(name)
        return {"full_name": name}

    def _create_schema(self, query: dict, body: dict) -> dict:
        self._get(self.catalogs, "CATALOG", body["catalog_name"])
        return self._create(self.schemas, "SCHEMA", f"{body['catalog_name']}.{body['name']}")

    def _create_volume(self, query: dict, body: dict) -> dict:
        schema = f"{body['catalog_name']}.{body['schema_name']}"
        self._get(self.schemas, "SCHEMA", schema)
        return self._create(self.volumes, "VOLUME", f"{schema}.{body['name']}")

    # --- Workspace files ------------------------------------------------------------------------
    def _mkdirs(self, query: dict, body: dict) -> dict:
        parts = body["path"].strip("/").split("/")
        self.folders.update("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))
        return {}

    def _import(self, query: dict, body: dict) -> dict:
        path = body["path"]
        if path.rsplit("/", 1)[0] not in self.folders:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"The parent folder of {path} does not exist.")
        if path in self.objects and not body.get("overwrite"):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"{path} already exists.")
        self.objects[path] = body
        return {}

    # --- Jobs -----------------------------------------------------------------------------------
    def _list_jobs(self, query: dict, body: dict) -> dict:
        name = query.get("name", [""])[0].lower()
        found = [
            {"job_id": job_id, "settings": settings}
            for job_id, settings in self.jobs.items()
            if not name or settings["name"].lower() == name
        ]
        return {"jobs": found} if found else {}

    def _create_job(self, query: dict, body: dict) -> dict:
        job_id = 100 + len(self.jobs)
        self.jobs[job_id] = body
        return {"job_id": job_id}

    def _reset_job(self, query: dict, body: dict) -> dict:
        self._job(body["job_id"])
        self.jobs[body["job_id"]] = body["new_settings"]
        return {}

    def _job(self, job_id: int) -> dict:
        if job_id not in self.jobs:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Job {job_id} does not exist.")
        return self.jobs[job_id]

    def _run_now(self, query: dict, body: dict) -> dict:
        self._job(body["job_id"])
        run_id = 500 + len(self.runs)
        self.runs[run_id] = [{"job_id": body["job_id"], **step} for step in self.run_script]
        return {"run_id": run_id, "number_in_job": run_id}

    def _get_run(self, query: dict, body: dict) -> dict:
        run_id = int(query["run_id"][0])
        if run_id not in self.runs:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Run {run_id} does not exist.")
        steps = self.runs[run_id]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        return {
            "run_id": run_id,
            "job_id": step["job_id"],
            "state": _state(*step["state"], step.get("message", "")),
            "tasks": [
                {"task_key": key, "state": _state(*state)} for key, state in step.get("tasks", {}).items()
            ],
        }


def _state(life_cycle_state: str, result_state: str | None, message: str = "") -> dict:
    state = {"life_cycle_state": life_cycle_state, "state_message": message}
    return state | ({"result_state": result_state} if result_state else {})


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDatabricks

    def _answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        try:
            status, payload = 200, self.fake.handle(self.command, url.path, parse_qs(url.query), body)
        except ApiError as err:
            status, payload = err.status, {"error_code": err.error_code, "message": err.message}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args) -> None:
        pass


@contextmanager
def serve(fake: FakeDatabricks) -> Iterator[FakeDatabricks]:
    """Serve ``fake`` on a free port of 127.0.0.1 until the block ends (at most ``MAX_SECONDS``)."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.timeout = 0.05
    stop, deadline = threading.Event(), time.monotonic() + MAX_SECONDS

    def loop() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            server.handle_request()

    thread = threading.Thread(target=loop, name="fake-databricks", daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield fake
    finally:
        stop.set()
        thread.join(timeout=5)
        server.server_close()
