"""The dbt-sparksession adapter extension: in-session Python model runner and session factory."""

from __future__ import annotations

import pytest
from dbt.adapters.sparksession.connections import (
    SparkSessionCredentials,
    ensure_session,
    join_node_pool,
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


def test_each_node_queries_in_a_new_pool_that_wins_ties_with_earlier_ones(spark) -> None:  # type: ignore[no-untyped-def]
    import threading

    context = spark.sparkContext
    assert context.getConf().get("spark.scheduler.mode") == "FAIR"
    root = context._jsc.sc().taskScheduler().rootPool()
    joined: list[tuple[str, str | None]] = []
    lock = threading.Lock()

    def two_nodes() -> None:
        for _ in range(2):
            with lock:  # the order the pools were handed out in
                joined.append((threading.current_thread().name, join_node_pool(spark)))
            spark.range(10).count()

    threads = [threading.Thread(target=two_nodes, name=f"dbt-thread-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = [name for _, name in joined]
    assert all(names) and len(set(names)) == 4
    # each pool's name sorts before every earlier one's
    assert names == sorted(names, reverse=True)
    lasts = []
    for thread in ("dbt-thread-0", "dbt-thread-1"):
        first, last = (name for who, name in joined if who == thread)
        # the node's jobs ran in its pool, and the thread's earlier pool, empty, was removed
        assert root.getSchedulableByName(last) is not None
        assert root.getSchedulableByName(first) is None
        lasts.append(root.getSchedulableByName(last))
    # Spark's FAIR comparator: of two pools with no running tasks, the newer one goes first
    newer, older = sorted(lasts, key=lambda pool: names.index(pool.name()), reverse=True)
    fair = context._jvm.org.apache.spark.scheduler.FairSchedulingAlgorithm()
    assert fair.comparator(newer, older) and not fair.comparator(older, newer)
    assert context.getLocalProperty("spark.scheduler.pool") not in names


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
