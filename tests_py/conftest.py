"""One local lakehouse per test session: its own home folder, one SparkSession, one dbt build."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# small but enough for a time split: ~20k events over 3 weeks
SAMPLE_EVENTS = 20_000
SAMPLE_DAYS = 21


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
    from lakehouse.runtime import get_spark, stop_spark

    session = get_spark()
    yield session
    stop_spark()


@pytest.fixture(scope="session")
def dbt_target_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dbt_target")
    os.environ["DBT_LOG_PATH"] = str(path / "logs")
    return path


@pytest.fixture(scope="session")
def run_dbt(spark, dbt_target_path: Path):  # type: ignore[no-untyped-def]
    """Run a dbt command in the test session's SparkSession; fail the test with dbt's verdict."""
    from lakehouse.dbt_runner import run_dbt as _run

    def run(*args: str) -> None:
        assert _run([*args, "--target-path", str(dbt_target_path)]), f"dbt {' '.join(args)} failed"

    return run


@pytest.fixture(scope="session")
def sample_landing(lakehouse_home: Path):  # type: ignore[no-untyped-def]
    import datetime as dt

    from lakehouse.generate import GeneratorConfig, write_landing
    from lakehouse.paths import lakehouse_paths

    paths = lakehouse_paths()
    cfg = GeneratorConfig(events=SAMPLE_EVENTS, days=SAMPLE_DAYS, start_date=dt.date(2019, 10, 1), seed=7)
    return write_landing(cfg, paths.landing, paths.oracle, progress=False)


@pytest.fixture(scope="session")
def built(sample_landing, run_dbt):  # type: ignore[no-untyped-def]
    """The whole project built once (seeds, SQL and Python models, data tests) on the sample."""
    run_dbt("build")
    return sample_landing
