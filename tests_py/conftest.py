"""The test session's lakehouses: the shared one (main_lakehouse), built in this process, and the own-data
scenarios (own_data), run at the same time in a process of their own.

Spark starts once in each process. ``spark`` is the session of the test session's own home.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


class _Session:
    """The SparkSession of the test home, looked up on every use: opened by the first test that needs it."""

    def __getattr__(self, name: str) -> Any:
        from lakehouse.engine.runtime import get_spark

        return getattr(get_spark(), name)


@pytest.fixture(scope="session")
def lakehouse_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("lakehouse")
    os.environ["LAKEHOUSE_HOME"] = str(home)
    os.environ.pop("LAKEHOUSE_LANDING", None)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["DBT_TARGET"] = "local"
    return home


@pytest.fixture(scope="session")
def spark(lakehouse_home: Path):  # type: ignore[no-untyped-def]
    from lakehouse.engine.runtime import stop_spark

    yield _Session()
    stop_spark()


@pytest.fixture(scope="session")
def dbt_target_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dbt_target")
    os.environ["DBT_LOG_PATH"] = str(path / "logs")
    return path


@pytest.fixture(scope="session")
def run_dbt(spark, dbt_target_path: Path):  # type: ignore[no-untyped-def]
    """Run a dbt command in this process on the test home; fail the test with dbt's verdict."""
    from lakehouse.engine.dbt_runner import run_dbt as _run

    def run(*args: str, expect_success: bool = True) -> bool:
        full = [*args] if "--target-path" in args else [*args, "--target-path", str(dbt_target_path)]
        ok = _run(full)
        assert ok or not expect_success, f"dbt {' '.join(args)} failed"
        return ok

    return run


@pytest.fixture(scope="session")
def own_data_process(lakehouse_home: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The own-data scenarios, started in a process of their own (own_data.Background)."""
    from own_data import Background

    process = Background(tmp_path_factory.mktemp("own-data"))
    yield process
    process.stop()


@pytest.fixture(scope="session")
def own_data(own_data_process, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Every own-data scenario run as the README says, each in a fresh home; the killed-run recovery on the
    first scenario's files (``recovery()`` waits for its verdict). When the session builds the shared
    lakehouse as well, that build runs here, while the scenarios run."""
    if SESSION["builds_lakehouse"]:
        request.getfixturevalue("lakehouse")
    results = own_data_process.results()
    SESSION["own_data_account"] = results["account"]
    return {"runs": results["runs"], "recovery": own_data_process.recovery}


@pytest.fixture(scope="session")
def lakehouse(own_data_process, spark, run_dbt, lakehouse_home: Path, dbt_target_path: Path):  # type: ignore[no-untyped-def]
    """The shared lakehouse, built once (main_lakehouse), beside the own-data scenarios' process."""
    from main_lakehouse import build

    return build(lakehouse_home, spark, run_dbt, dbt_target_path)


BUILT = {"lakehouse", "own_data", "run_dbt", "eda_run"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reverse", action="store_true", help="run the tests in reverse order (they must pass in any order)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads a built lakehouse is a `dbt` test, whatever its module says (`make test-quick`
    runs the others). With --reverse the order is turned round: a test that relies on another having run
    first fails then."""
    for item in items:
        if BUILT.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dbt)
    if config.getoption("--reverse"):
        items.reverse()


# What the session holds: whether its tests need the shared lakehouse (known once collected), and the
# own-data process' account of its dbt invocations and Spark sessions
SESSION: dict[str, Any] = {"builds_lakehouse": False, "own_data_account": None}


def pytest_collection_finish(session: pytest.Session) -> None:
    SESSION["builds_lakehouse"] = any("lakehouse" in getattr(item, "fixturenames", ()) for item in session.items)


def pytest_configure(config: pytest.Config) -> None:
    import accounting

    accounting.install()


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Each process' dbt invocations and Spark sessions. The killed run and the SQL endpoint are processes
    of their own too, each with its own JVM, not counted here."""
    from accounting import ACCOUNT

    accounts = [("the test process", ACCOUNT), ("the own-data process", SESSION["own_data_account"])]
    if not any(account and account["dbt"] for _, account in accounts):
        return
    write = terminalreporter.write_line
    terminalreporter.section("where the suite's dbt time went")
    for name, account in accounts:
        if not account:
            continue
        calls = account["dbt"]
        write(f"{name}: {len(calls)} dbt invocations, {sum(s for _, s in calls):.0f} s in all:")
        for command, seconds in calls:
            write(f"  {seconds:7.1f} s  dbt {command}")
        write(f"{name}: {len(account['spark_sessions'])} Spark sessions started")
