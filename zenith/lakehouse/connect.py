"""Spark Connect: the remote mode's URL, a local server to try it with, and the shared-lakehouse check.

With ``ZENITH_SPARK_REMOTE`` (or Spark's own ``SPARK_REMOTE``) set to ``sc://host:port``, every
command, ``ELT.py`` and the notebooks use that Spark Connect server instead of starting Spark in
the process. The local lakehouse must then be a folder that client and server both see under the
same path: the client writes landing files and checks folders, the server reads and writes tables.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pyspark
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from zenith.lakehouse.errors import ZenithError

REMOTE_ENVS = ("ZENITH_SPARK_REMOTE", "SPARK_REMOTE")
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def remote_url() -> str | None:
    """The Spark Connect URL from ``ZENITH_SPARK_REMOTE`` or ``SPARK_REMOTE``, or None for local Spark."""
    for name in REMOTE_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            if not value.startswith("sc://"):
                raise ZenithError(
                    f"{name}={value!r}: expected a Spark Connect URL such as sc://localhost:15002"
                )
            return value
    return None


def is_connect(spark: SparkSession) -> bool:
    """True for a Spark Connect session (serverless, Databricks Connect, ``sc://``), False for classic."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def connect_session(url: str, app_name: str = "zenith") -> SparkSession:
    """A session on the Spark Connect server at ``url``; an unreachable server is a one-line error."""
    try:
        spark = SparkSession.builder.remote(url).appName(app_name).getOrCreate()
        spark.range(1).collect()  # the builder does not connect; this does
    except PySparkException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ZenithError(f"cannot use the Spark Connect server at {url}: {first}") from None
    return spark


def spark_submit() -> str:
    """The ``spark-submit`` script that ships with pyspark."""
    return str(Path(pyspark.__file__).parent / "bin" / "spark-submit")


def server_command(port: int, conf: dict[str, str], jars: list[str]) -> list[str]:
    """The ``spark-submit`` command that runs pyspark's own Spark Connect server on ``port``.

    ``conf`` holds the Spark settings (Delta's extension and catalog among them); ``jars`` the
    Delta jars.
    """
    command = [spark_submit(), "--class", SERVER_CLASS]
    command += ["--jars", ",".join(jars)]
    for key, value in {**conf, "spark.connect.grpc.binding.port": str(port)}.items():
        command += ["--conf", f"{key}={value}"]
    return command


def server_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: its Python workers (pandas UDFs) run this interpreter."""
    env = dict(os.environ if base is None else base)
    for name in REMOTE_ENVS:
        env.pop(name, None)
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    return env


def check_shared_lakehouse(spark: SparkSession, lakehouse: Path) -> None:
    """Fail in one line unless the Spark server reads what this process writes under ``lakehouse``.

    A marker file with a fresh token is written here and read back through Spark; a server on
    another machine, or one that mounts the lakehouse elsewhere, does not find it.
    """
    token = uuid.uuid4().hex
    marker = lakehouse / f"zenith-shared-check-{token}.txt"  # Spark skips names starting with "."
    try:
        lakehouse.mkdir(parents=True, exist_ok=True)
        marker.write_text(token)
    except OSError as exc:
        raise ZenithError(f"cannot write to the lakehouse {lakehouse}: {exc.strerror or exc}") from None
    try:
        seen = [row[0] for row in spark.read.text(str(marker)).collect()]
    except PySparkException:
        seen = []
    finally:
        marker.unlink(missing_ok=True)
    if seen != [token]:
        raise ZenithError(
            f"the Spark server does not see the lakehouse folder {lakehouse} that this machine writes: "
            "with a remote Spark server, put the lakehouse ($ZENITH_LAKEHOUSE) on storage both see under "
            "the same path"
        )
