"""A thin dbt adapter on top of dbt-spark's `session` method.

It adds two things and nothing else:

* ``session_factory`` (profile field, ``"module:function"``): builds the SparkSession the first time
  dbt opens a connection, so that plain ``dbt build`` gets the project's Delta-enabled session.
* an in-session runner for dbt Python models (``submission_method: session``): the compiled model runs
  in this process with ``spark`` bound to the active SparkSession.
"""

from dbt.adapters.base import AdapterPlugin
from dbt.adapters.sparksession.connections import (
    SparkSessionConnectionManager,
    SparkSessionCredentials,
)
from dbt.adapters.sparksession.impl import SparkSessionAdapter
from dbt.include import sparksession

Plugin = AdapterPlugin(
    adapter=SparkSessionAdapter,  # type: ignore[arg-type]
    credentials=SparkSessionCredentials,
    include_path=sparksession.PACKAGE_PATH,
    dependencies=["spark"],
)

__all__ = ["Plugin", "SparkSessionAdapter", "SparkSessionConnectionManager", "SparkSessionCredentials"]
