"""One Spark + Delta session for the whole test run, and a fresh lakehouse per test.

By default the session is a local classic one. With ``--connect`` (or ``ZENITH_TEST_CONNECT=1``)
it is a Spark Connect session on a server this run starts on its own free port and stops at the
end; tests marked ``connect`` run only then.
"""

from __future__ import annotations

import os

import pytest

from tests.landing import write_customers, write_products
from tests.spark_conf import TEST_CONF
from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.connect import connect_session
from zenith.lakehouse.runtime import local_builder
from zenith.lakehouse.setup import setup_environment

CONNECT_ENV = "ZENITH_TEST_CONNECT"


def pytest_addoption(parser):
    parser.addoption(
        "--connect",
        action="store_true",
        help=f"run against a local Spark Connect server this run starts (or set {CONNECT_ENV}=1)",
    )


def connect_mode(config) -> bool:
    return bool(config.getoption("--connect")) or os.environ.get(CONNECT_ENV, "").strip() == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "connect: runs only through Spark Connect (--connect)")


def pytest_collection_modifyitems(config, items):
    if connect_mode(config):
        return
    skip = pytest.mark.skip(reason=f"needs a Spark Connect server: run with --connect or {CONNECT_ENV}=1")
    for item in items:
        if "connect" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def connect_server(request, tmp_path_factory):
    """The URL of this run's own Spark Connect server (skips the test outside connect mode)."""
    if not connect_mode(request.config):
        pytest.skip(f"needs a Spark Connect server: run with --connect or {CONNECT_ENV}=1")
    from tests.connect_server import start_server

    server = start_server(tmp_path_factory.mktemp("connect-server"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark(request):
    if connect_mode(request.config):
        url = request.getfixturevalue("connect_server")
        mp = pytest.MonkeyPatch()
        mp.setenv("ZENITH_SPARK_REMOTE", url)  # commands run in a subprocess use the same server
        session = connect_session(url, "zenith-tests")
        yield session
        session.stop()
        mp.undo()
        return
    session = local_builder(
        "zenith-tests",
        TEST_CONF,
    ).getOrCreate()
    yield session
    session.stop()


@pytest.fixture
def lakehouse_config(spark, tmp_path) -> Config:
    """A Config pointing at an empty lakehouse folder, with the session catalog emptied."""
    for schema in names.SCHEMAS:
        spark.sql(f"DROP SCHEMA IF EXISTS {names.quote(schema)} CASCADE")
    return Config(lakehouse=tmp_path / "lakehouse")


@pytest.fixture
def config(spark, lakehouse_config) -> Config:
    """A set-up lakehouse with the small hand-written customers and products landed (``tests.landing``).

    A module whose tests need other landing data defines its own ``config``.
    """
    setup_environment(spark, lakehouse_config)
    write_customers(lakehouse_config)
    write_products(lakehouse_config)
    return lakehouse_config
