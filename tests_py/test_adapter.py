"""The dbt-sparksession adapter extension: in-session Python model runner and session factory."""

from __future__ import annotations

import pytest
from dbt.adapters.sparksession.connections import (
    SparkSessionCredentials,
    ensure_session,
    join_thread_pool,
    load_factory,
)
from dbt.adapters.sparksession.python_job import SessionPythonJobHelper
from dbt_common.exceptions import DbtRuntimeError


def _credentials(**kwargs) -> SparkSessionCredentials:  # type: ignore[no-untyped-def]
    return SparkSessionCredentials(host="localhost", method="session", schema="default", database=None, **kwargs)


def _helper() -> SessionPythonJobHelper:
    return SessionPythonJobHelper({"schema": "scratch", "alias": "py_model", "config": {}}, _credentials())


def test_compiled_model_runs_with_spark_bound(spark) -> None:  # type: ignore[no-untyped-def]
    spark.sql("create schema if not exists scratch")
    code = (
        "def model(dbt, session):\n"
        "    return session.range(3)\n"
        "df = model(None, spark)\n"
        "df.write.mode('overwrite').format('delta').saveAsTable('scratch.py_model')\n"
    )
    _helper().submit(code)
    assert spark.table("scratch.py_model").count() == 3
    spark.sql("drop schema scratch cascade")


def test_failing_model_is_one_readable_dbt_error(spark) -> None:  # type: ignore[no-untyped-def]
    code = "def model(dbt, session):\n    raise ValueError('feature table is empty')\nmodel(None, spark)\n"
    with pytest.raises(DbtRuntimeError, match=r"Python model scratch.py_model failed: ValueError: feature table"):
        _helper().submit(code)


def test_session_factory_reuses_the_running_session(spark) -> None:  # type: ignore[no-untyped-def]
    from lakehouse.engine.runtime import get_spark

    running = get_spark()
    assert ensure_session(_credentials(session_factory="lakehouse.engine.runtime:get_spark")) is running


def test_each_dbt_thread_queries_in_a_scheduler_pool_of_its_own(spark) -> None:  # type: ignore[no-untyped-def]
    import threading

    context = spark.sparkContext
    assert context.getConf().get("spark.scheduler.mode") == "FAIR"
    pools: dict[str, str | None] = {}

    def query() -> None:
        pools[threading.current_thread().name] = join_thread_pool(spark)
        spark.range(10).count()

    threads = [threading.Thread(target=query, name=f"dbt-thread-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pools == {"dbt-thread-0": "dbt-thread-0", "dbt-thread-1": "dbt-thread-1"}
    # Spark creates a pool when the first job names it: both threads' jobs ran in their own pool
    assert all(context._jsc.sc().getPoolForName(name).isDefined() for name in pools)
    assert context.getLocalProperty("spark.scheduler.pool") != "dbt-thread-0"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("lakehouse.engine.runtime", "must look like 'module:function'"),
        ("no_such_module_xyz:f", "cannot import"),
        ("lakehouse.engine.runtime:DELTA_PACKAGE", "is not a callable"),
    ],
)
def test_bad_session_factory_is_a_clear_error(spec: str, message: str) -> None:
    with pytest.raises(DbtRuntimeError, match=message):
        load_factory(spec)
