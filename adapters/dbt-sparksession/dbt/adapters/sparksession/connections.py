"""Credentials and connection manager: dbt-spark's session method with an optional session factory."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbt.adapters.spark.connections import SparkConnectionManager, SparkCredentials
from dbt_common.exceptions import DbtRuntimeError

_factory_lock = threading.Lock()
_thread_state = threading.local()


@dataclass
class SparkSessionCredentials(SparkCredentials):
    """dbt-spark credentials plus ``session_factory``, a ``"module:function"`` returning a SparkSession."""

    session_factory: str | None = None

    @property
    def type(self) -> str:
        return "sparksession"

    def _connection_keys(self) -> tuple[str, ...]:
        return (*super()._connection_keys(), "session_factory")


def load_factory(spec: str) -> Callable[[], Any]:
    """Resolve ``"package.module:function"`` to the callable, with a clear error when it is wrong."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise DbtRuntimeError(f"session_factory must look like 'module:function', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DbtRuntimeError(f"session_factory {spec!r}: cannot import {module_name!r}: {exc}") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise DbtRuntimeError(f"session_factory {spec!r}: {attr!r} is not a callable in {module_name}")
    return factory


def ensure_session(credentials: SparkSessionCredentials) -> Any:
    """Return the process' SparkSession, creating it with the configured factory the first time."""
    from pyspark.sql import SparkSession

    with _factory_lock:
        # the session this process built (what dbt-spark's cursors get too), when it is live; not the JVM
        # thread's "active" one, which a thread can inherit from a session stopped earlier
        active = SparkSession._instantiatedSession
        if active is not None and active._sc._jsc is not None:
            return active
        if credentials.session_factory:
            return load_factory(credentials.session_factory)()
        return SparkSession.builder.enableHiveSupport().getOrCreate()


def join_thread_pool(spark: Any) -> str | None:
    """Under Spark's FAIR scheduler, submit this thread's jobs to a scheduler pool of its own, named after
    the thread, and return its name (None under FIFO).

    One pool runs its jobs first in, first out: a dbt thread's small query (a test gating the next model)
    waits there behind every task of a large query that another thread submitted first. A pool per dbt
    thread lets the threads share the cores instead, but only partly: Spark creates a pool it was not told
    of with weight 1, and gives a freed core to the pool with the fewest running tasks, breaking ties by the
    pool's name. A small query in a pool whose name sorts after a large query's still waits for its tasks.
    The pool is a property of the calling thread in one SparkContext, so it is set once per thread and context.
    """
    context = spark.sparkContext
    if getattr(_thread_state, "context", None) is not context:
        fair = (context.getConf().get("spark.scheduler.mode") or "FIFO").upper() == "FAIR"
        _thread_state.pool = threading.current_thread().name if fair else None
        if _thread_state.pool:
            context.setLocalProperty("spark.scheduler.pool", _thread_state.pool)
        _thread_state.context = context
    return _thread_state.pool


class SparkSessionConnectionManager(SparkConnectionManager):
    TYPE = "sparksession"

    @classmethod
    def open(cls, connection):  # type: ignore[no-untyped-def]
        # dbt opens a thread's connection on that thread, before its first query
        join_thread_pool(ensure_session(connection.credentials))
        return super().open(connection)
