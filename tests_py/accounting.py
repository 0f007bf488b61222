"""What a test process spends its time on: each dbt invocation made in it (command, seconds) and each Spark
session it starts (the home it opened). The test process and the own-data process each keep their own."""

from __future__ import annotations

import os
import time

ACCOUNT: dict[str, list] = {"dbt": [], "spark_sessions": []}


def install() -> dict[str, list]:
    """Wrap dbt's runner and Spark's session builder so that every use is recorded in ACCOUNT."""
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
    return ACCOUNT
