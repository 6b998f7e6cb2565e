"""Delta Lake's jars for a local session: the Maven package that matches the installed pyspark and
delta-spark, fetched once from Maven Central into a cache folder by Spark's own resolver.
"""

from __future__ import annotations

import fcntl
import glob
import os
import subprocess
import sys
import tempfile
from importlib.metadata import requires, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from zenith.lakehouse.connect import server_environment, spark_submit
from zenith.lakehouse.errors import ZenithError

SCALA = "2.13"
JARS_CACHE_ENV = "ZENITH_JARS_CACHE"


def delta_artifact() -> str:
    """The name of Delta's Maven artifact for the installed delta-spark and pyspark.

    From Delta 4.1 each release is built once per Spark minor version and the artifact names it
    (``delta-spark_4.1_2.13``); Delta 4.0 and older have one artifact per Scala version only.
    """
    delta = Version(version("delta-spark"))
    if delta < Version("4.1"):
        return f"delta-spark_{SCALA}"
    spark = Version(version("pyspark"))
    return f"delta-spark_{spark.major}.{spark.minor}_{SCALA}"


def delta_package() -> str:
    """The Maven coordinate of the Delta jar matching the installed delta-spark and pyspark."""
    return f"io.delta:{delta_artifact()}:{version('delta-spark')}"


def check_delta_supports_spark() -> None:
    """Fail in one line, naming both versions, when delta-spark does not support the installed pyspark."""
    delta, spark = version("delta-spark"), version("pyspark")
    wanted = [Requirement(r) for r in requires("delta-spark") or ()]
    supported = next((r.specifier for r in wanted if r.name == "pyspark"), SpecifierSet())
    if not supported.contains(spark, prereleases=True):
        raise ZenithError(
            f"delta-spark {delta} supports pyspark {supported} but pyspark {spark} is installed: "
            "install the versions pinned in constraints.txt (make install)"
        )


def jars_cache() -> Path:
    """Folder that keeps the Delta jars after their first download."""
    return Path(os.environ.get(JARS_CACHE_ENV, Path.home() / ".cache" / "zenith" / "ivy")).expanduser()


def delta_jars_folder(cache: Path) -> Path:
    """The cache's folder for the installed Delta release built for the installed Spark.

    Each release gets its own Ivy home (downloads in ``cache/``, the resolved jars in ``jars/``), so
    an upgrade never loads another release's dependencies beside its own.
    """
    return cache / f"{delta_artifact()}-{version('delta-spark')}"


def cached_delta_jars(cache: Path) -> list[str]:
    """The cached jar files for the installed Delta and Spark, or [] if they are not all there."""
    release = delta_jars_folder(cache)  # named <delta-spark artifact>-<version>, as its jar is
    jars = sorted(glob.glob(str(release / "jars" / "*.jar")))
    wanted = (f"{release.name}.jar", f"delta-storage-{version('delta-spark')}.jar")
    return jars if all(any(j.endswith(w) for j in jars) for w in wanted) else []


FETCH_ATTEMPTS = 3


def delta_jars() -> list[str]:
    """Delta's jars from the cache, fetched from Maven Central first when they are not all there.

    One process fetches at a time (a lock file in the cache): pytest's workers, or two runs started
    together on a fresh machine, would otherwise download the same files over each other. Spark's
    own resolver fetches them, in a ``spark-submit`` that starts no session; a failed download is
    tried again.
    """
    check_delta_supports_spark()
    cache = jars_cache()
    if jars := cached_delta_jars(cache):
        return jars
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        failure = ""
        for _ in range(FETCH_ATTEMPTS):
            if jars := cached_delta_jars(cache):
                return jars
            print(
                f"Fetching Delta Lake jars ({delta_package()}) into {cache} (first run only)...",
                file=sys.stderr,
            )
            failure = _fetch_delta_jars(cache)
    raise ZenithError(
        f"cannot fetch {delta_package()} from Maven Central into {cache} ({failure}): check the network "
        f"or proxy, or put its jars (delta-spark, delta-storage and their dependencies) in "
        f"{delta_jars_folder(cache) / 'jars'} yourself ({JARS_CACHE_ENV} names another cache folder)"
    )


def _fetch_delta_jars(cache: Path) -> str:
    """Run Spark's resolver for the Delta package into ``cache``; the reason when it failed, else ``""``."""
    with tempfile.NamedTemporaryFile("w", suffix=".py") as empty_app:
        command = [
            spark_submit(),
            "--packages",
            delta_package(),
            "--conf",
            f"spark.jars.ivy={delta_jars_folder(cache)}",
            empty_app.name,
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=600, env=server_environment()
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
    if done.returncode == 0:
        return ""
    errors = [line.strip() for line in done.stderr.splitlines() if "not found" in line or "Exception" in line]
    return (errors or [f"spark-submit exited with {done.returncode}"])[-1]
