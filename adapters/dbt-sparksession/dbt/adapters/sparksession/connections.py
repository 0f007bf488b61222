"""Credentials and connection manager: dbt-spark's session method with an optional session factory."""

from __future__ import annotations

import contextlib
import importlib
import itertools
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


# Pool names count down, so each node's pool sorts before every earlier one: Spark breaks a tie between
# pools (the same running tasks per weight) by the name that sorts first.
_pool_numbers = itertools.count()
_POOL_NUMBER_START = 10**12 - 1


def join_node_pool(spark: Any) -> str | None:
    """Under Spark's FAIR scheduler, submit this thread's jobs from now on to a new scheduler pool and return
    its name (None under FIFO). The adapter calls it when a node opens its connection.

    One pool runs its jobs first in, first out: a small query (a test gating the next model) would wait
    there behind every task of a large query submitted first. Between pools, Spark gives a freed core to
    the pool with the fewest running tasks, and between pools with as many it picks the name that sorts
    first. The pool a large query's task just left has none running, as a waiting small query's has, so
    the tie decides. Each node's pool is named to sort before every earlier node's: the newest node wins
    the ties, so a small node started after large ones gets the next free core (one started before them
    still waits; Spark offers no other tie-break). The thread's previous pool, empty by then, is removed,
    since Spark keeps every pool and sorts them all on each task offer.
    """
    context = spark.sparkContext
    if getattr(_thread_state, "context", None) is not context:
        # read once per thread and context: getConf() copies every setting over the JVM gateway
        fair = (context.getConf().get("spark.scheduler.mode") or "FIFO").upper() == "FAIR"
        _thread_state.context, _thread_state.fair, _thread_state.pool = context, fair, None
    if not _thread_state.fair:
        return None
    name = f"dbt-{_POOL_NUMBER_START - next(_pool_numbers):012d}"
    previous = _thread_state.pool
    context.setLocalProperty("spark.scheduler.pool", name)
    _thread_state.pool = name
    if previous:
        _remove_empty_pool(context, previous)
    return name


def _remove_empty_pool(context: Any, name: str) -> None:
    """Drop the pool ``name`` when it holds no jobs. Spark recreates a pool that a job names again."""
    # Spark's scheduler internals, not a public API: should they change, an empty pool left behind only
    # costs a place in the sort
    with contextlib.suppress(Exception):
        root = context._jsc.sc().taskScheduler().rootPool()
        pool = root.getSchedulableByName(name)
        if pool is not None and pool.runningTasks() == 0 and pool.schedulableQueue().isEmpty():
            root.removeSchedulable(pool)


class SparkSessionConnectionManager(SparkConnectionManager):
    TYPE = "sparksession"

    @classmethod
    def open(cls, connection):  # type: ignore[no-untyped-def]
        # dbt opens a connection for each node, on the node's thread, before its first query
        join_node_pool(ensure_session(connection.credentials))
        return super().open(connection)
