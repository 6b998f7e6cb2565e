"""The ``zenith`` command run in-process: exit codes, one-line errors, and exact output."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from pyspark.logger import PySparkLogger

from zenith.cli import main
from zenith.lakehouse import config as names
from zenith.lakehouse.config import Config
from zenith.lakehouse.setup import setup_environment
from zenith.lakehouse.tables import overwrite_table

SMALL_GENERATE = ["generate", "--customers", "3", "--products", "2", "--events", "20", "--files", "2"]


@pytest.fixture(autouse=True)
def local_environment(monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.delenv(names.LAKEHOUSE_ENV, raising=False)


@pytest.fixture
def cli_spark(spark):
    """The session the CLI reuses; the runtime settings it changes are put back afterwards."""
    before = dict(spark.conf.getAll)
    yield spark
    for key, value in dict(spark.conf.getAll).items():
        if before.get(key) != value and spark.conf.isModifiable(key):
            if key in before:
                spark.conf.set(key, before[key])
            else:
                spark.conf.unset(key)


def files_under(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its exact contents."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_lines(capsys, *argv: str) -> tuple[int, list[str], list[str]]:
    """Exit code, stdout lines and stderr lines of one in-process ``zenith`` run."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_unknown_flag_exits_2_with_one_line_on_stderr(tmp_path, capsys):
    code, out, err = run_lines(capsys, "--lakehouse", str(tmp_path), "setup", "--bogus")

    assert (code, out, err) == (2, [], ["zenith: error: unrecognized arguments: --bogus"])


def test_negative_event_count_exits_2_naming_the_flag(tmp_path, capsys):
    code, out, err = run_lines(capsys, "--lakehouse", str(tmp_path), "generate", "--events", "-5")

    assert (code, out) == (2, [])
    assert err == ["zenith generate: error: argument --events: expected a number >= 0, got -5"]
    assert not tmp_path.joinpath("Volumes").exists()


def test_generate_into_a_lakehouse_under_a_regular_file_exits_1_with_one_line(tmp_path, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")

    code, out, err = run_lines(capsys, "--lakehouse", str(blocker / "lakehouse"), *SMALL_GENERATE)

    assert (code, out) == (1, [])
    assert len(err) == 1
    assert err[0].startswith(f"zenith: error: cannot write {blocker}/lakehouse/")


@pytest.fixture
def landed(tmp_path, capsys) -> Path:
    """A lakehouse whose landing volumes already hold a small generated data set."""
    lakehouse = tmp_path / "lakehouse"
    assert main(["--lakehouse", str(lakehouse), *SMALL_GENERATE]) == 0
    capsys.readouterr()
    return lakehouse


def test_generate_if_empty_leaves_a_landing_zone_with_data_alone(landed, capsys):
    lakehouse, before = landed, files_under(landed)

    code, out, err = run_lines(
        capsys, "--lakehouse", str(lakehouse), *SMALL_GENERATE, "--seed", "7", "--if-empty"
    )

    landing = Config(lakehouse=lakehouse.resolve()).volumes_root / names.LANDING
    assert (code, err) == (0, [])
    assert out == [f"generate: landing zone {landing} already has 4 files: not generating demo data"]
    assert files_under(lakehouse) == before


def test_rejected_generate_settings_leave_existing_landing_files_byte_identical(landed, capsys):
    lakehouse, before = landed, files_under(landed)

    code, out, err = run_lines(
        capsys,
        "--lakehouse",
        str(lakehouse),
        *SMALL_GENERATE,
        "--duplicate-rate",
        "0.7",
        "--late-rate",
        "0.7",
    )

    assert (code, out) == (1, [])
    # 0.7 + 0.7 plus the five default rates left unset (0.021).
    assert err == ["zenith: error: anomaly rates: expected a sum of at most 1, got 1.421"]
    assert files_under(lakehouse) == before


def test_second_setup_reports_every_object_as_existing_and_nothing_changed(
    cli_spark, lakehouse_config, capsys
):
    lakehouse = str(lakehouse_config.lakehouse)
    assert main(["--lakehouse", lakehouse, "setup"]) == 0
    first = capsys.readouterr().out.splitlines()

    code, out, err = run_lines(capsys, "--lakehouse", lakehouse, "setup")

    assert first[-1] == "setup: created 10 objects"
    assert (code, err) == (0, [])
    assert out == [
        "exists   catalog zenith_online",
        "exists   schema  _system",
        "exists   schema  00_landing",
        "exists   schema  01_bronze",
        "exists   schema  02_silver",
        "exists   schema  03_gold",
        "exists   volume  00_landing.batch",
        "exists   volume  00_landing.streaming",
        "exists   volume  _system.checkpoints",
        "exists   volume  _system.schemas",
        "setup: everything already exists; nothing changed",
    ]


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when written to, as in a real process."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@pytest.fixture
def spark_error_log():
    """Point PySpark's own log of failed SQL at the current stderr, as in a real ``zenith`` process.

    Its handler otherwise keeps the stderr of whichever test first created it, so what the
    failing-query tests see would depend on test order.
    """
    logger = PySparkLogger.getLogger("SQLQueryContextLogger")
    own = {handler: handler.stream for handler in logger.handlers if type(handler) is logging.StreamHandler}
    for handler in own:
        handler.stream = _CurrentStderr()  # not setStream: it flushes the old stream, which may be closed
    yield
    for handler, stream in own.items():
        handler.stream = stream


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("SELEC 1", "[PARSE_SYNTAX_ERROR]"),
        ("SELECT * FROM `01_bronze`.`no_such_table`", "[TABLE_OR_VIEW_NOT_FOUND]"),
        # Fails only when run, not when parsed: must be the same one-line error, not a traceback.
        ("SELECT CAST('abc' AS INT) AS n", "[CAST_INVALID_INPUT]"),
    ],
)
def test_failing_query_exits_1_with_one_line_naming_the_reason(
    cli_spark, lakehouse_config, spark_error_log, capsys, query, reason
):
    code, out, err = run_lines(capsys, "--lakehouse", str(lakehouse_config.lakehouse), "sql", query)

    assert (code, out) == (1, [])
    assert len(err) == 1
    assert err[0].startswith(f"zenith: error: query failed: {reason} ")


@pytest.fixture
def products_lakehouse(cli_spark, lakehouse_config) -> str:
    """A set-up lakehouse whose products table has a NULL, a comma and a quote to escape."""
    setup_environment(cli_spark, lakehouse_config)
    products = cli_spark.createDataFrame(
        [(2, 'Desk, "Oak"', 120.5), (1, "Lamp", 15.5), (3, None, 9.99)],
        "product_id int, product_name string, price double",
    )
    overwrite_table(products, lakehouse_config, names.BRONZE_PRODUCTS)
    return str(lakehouse_config.lakehouse)


QUERY = "SELECT product_id, product_name, price FROM `01_bronze`.`bronze_product_details` ORDER BY product_id"


def test_sql_as_csv_prints_a_header_and_quoted_rows_with_null_as_empty(products_lakehouse, capsys):
    assert main(["--lakehouse", products_lakehouse, "sql", QUERY, "--format", "csv"]) == 0

    out, err = capsys.readouterr()
    assert err == ""
    # The csv module ends rows with CRLF, as RFC 4180 asks.
    assert out == 'product_id,product_name,price\r\n1,Lamp,15.5\r\n2,"Desk, ""Oak""",120.5\r\n3,,9.99\r\n'


def test_sql_as_json_prints_one_object_per_row_with_null(products_lakehouse, capsys):
    assert main(["--lakehouse", products_lakehouse, "sql", QUERY, "--format", "json"]) == 0

    out, err = capsys.readouterr()
    assert err == ""
    assert out == (
        '{"product_id": 1, "product_name": "Lamp", "price": 15.5}\n'
        '{"product_id": 2, "product_name": "Desk, \\"Oak\\"", "price": 120.5}\n'
        '{"product_id": 3, "product_name": null, "price": 9.99}\n'
    )
