"""The test session's lakehouses: the shared one (main_lakehouse), the own-data scenarios (own_data), one
Spark JVM for all of them.

Spark starts once per session. The own-data scenarios run first, each in a fresh home of its own, then the
shared lakehouse is built; ``spark`` always means the session of the test session's own home (it is
reopened after a scenario has used the JVM for its home).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest


class _Session:
    """The SparkSession of the current home, looked up on every use: a scenario stops the session to open
    its own home, and the next use opens the test home's again."""

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
def own_data(lakehouse_home: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Every own-data scenario run as the README says, each in a fresh home; and, in the background, the
    killed-run recovery on the first scenario's files (a process of its own: it is killed)."""
    import shutil

    from own_data import run_in_home, scenarios

    from lakehouse.ops import reliability

    first_scenario, *others = scenarios()
    # the first scenario's clean build is what the killed run is compared with
    first = run_in_home(first_scenario, tmp_path_factory.mktemp("own-data"), reliability.KILLED_RUN_SCHEMAS)
    work = tmp_path_factory.mktemp("killed-run")
    shutil.copytree(first.home / "landing", work / "landing")
    recovery: dict[str, Any] = {}

    def recover() -> None:
        vars_ = ["--vars", first.scenario.vars] if first.scenario.vars else []
        recovery["result"] = reliability.killed_run_recovers(
            work / "landing", work, [*reliability.KILLED_RUN_ARGS, *vars_], first.fingerprints, reliability.KILL_AT
        )

    worker = threading.Thread(target=recover, daemon=True)
    worker.start()
    runs = {first.scenario.name: first}
    for scenario in others:
        runs[scenario.name] = run_in_home(scenario, tmp_path_factory.mktemp("own-data"))
    yield {"runs": runs, "recovery": recovery, "worker": worker}


@pytest.fixture(scope="session")
def lakehouse(own_data, spark, run_dbt, lakehouse_home: Path, dbt_target_path: Path):  # type: ignore[no-untyped-def]
    """The shared lakehouse, built once (main_lakehouse); after the own-data scenarios, so the JVM is warm."""
    from main_lakehouse import build

    return build(lakehouse_home, spark, run_dbt, dbt_target_path)


BUILT = {"lakehouse", "own_data", "run_dbt", "eda_run"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reverse", action="store_true", help="run the tests in reverse order (they must pass in any order)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads a built lakehouse is a `dbt` test, whatever its module says (`make test-quick`
    runs the others). Those run first, in file order, so that the Spark session the builds leave serves
    the rest (no session is started on the shared home before the own-data scenarios' homes). With
    --reverse the order is turned round: a test that relies on another having run first fails then."""
    for item in items:
        if BUILT.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dbt)
    items.sort(key=lambda item: item.get_closest_marker("dbt") is None)
    if config.getoption("--reverse"):
        items.reverse()


# What the suite spent its time on, printed at its end: each in-process dbt invocation (command, seconds)
# and each Spark session started in this process. Subprocesses (the killed run, the SQL endpoint) count
# apart: their own JVM each.
ACCOUNT: dict[str, list] = {"dbt": [], "spark_sessions": []}


def pytest_configure(config: pytest.Config) -> None:
    from dbt.cli.main import dbtRunner
    from pyspark.sql import SparkSession

    invoke = dbtRunner.invoke

    def counted_invoke(self, args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return invoke(self, args, **kwargs)
        finally:
            command = " ".join(a for a in list(args)[:3] if not str(a).startswith("/"))
            ACCOUNT["dbt"].append((command, time.perf_counter() - started))

    dbtRunner.invoke = counted_invoke  # type: ignore[method-assign]
    get_or_create = SparkSession.Builder.getOrCreate

    def counted_get_or_create(self):  # type: ignore[no-untyped-def]
        fresh = SparkSession._instantiatedSession is None
        session = get_or_create(self)
        if fresh:
            ACCOUNT["spark_sessions"].append(os.environ.get("LAKEHOUSE_HOME", ""))
        return session

    SparkSession.Builder.getOrCreate = counted_get_or_create  # type: ignore[method-assign]


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    calls = ACCOUNT["dbt"]
    if not calls:
        return
    write = terminalreporter.write_line
    terminalreporter.section("where the suite's dbt time went")
    write(f"{len(calls)} dbt invocations in this process, {sum(s for _, s in calls):.0f} s in all:")
    for command, seconds in calls:
        write(f"  {seconds:7.1f} s  dbt {command}")
    write(f"{len(ACCOUNT['spark_sessions'])} Spark sessions started in this process")
