"""The adapter: dbt-spark's SparkAdapter with the in-session Python model runner."""

from __future__ import annotations

from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.contracts.connection import AdapterResponse
from dbt.adapters.spark.impl import SparkAdapter
from dbt.adapters.sparksession.connections import SparkSessionConnectionManager
from dbt.adapters.sparksession.python_job import SessionPythonJobHelper


class SparkSessionAdapter(SparkAdapter):
    ConnectionManager = SparkSessionConnectionManager

    @classmethod
    def type(cls) -> str:
        return "sparksession"

    @property
    def default_python_submission_method(self) -> str:
        return "session"

    @property
    def python_submission_helpers(self) -> dict[str, type[PythonJobHelper]]:
        return {"session": SessionPythonJobHelper}

    def generate_python_submission_response(self, submission_result: Any) -> AdapterResponse:
        return AdapterResponse(_message="OK")

    def _get_columns_for_catalog(self, relation: Any) -> Any:
        """The docs catalog's columns of one relation, with Delta's own statistics for a table.

        dbt-spark reads columns and statistics from the text of `show table extended`; for Delta tables the
        statistics there are the metastore's (zero rows), and the columns can be missing: the columns then
        come from `describe table`, the rows and bytes from Delta's log."""
        columns = list(super()._get_columns_for_catalog(relation))
        if relation.is_view:
            return columns
        if not columns:
            for column in self.get_columns_in_relation(relation):
                as_dict = column.to_column_dict()
                as_dict["column_name"] = as_dict.pop("column", None)
                as_dict["column_type"] = as_dict.pop("dtype")
                as_dict["table_database"] = None
                as_dict["table_type"] = "table"
                columns.append(as_dict)
        stats = SparkColumnStats.of(self, relation)
        if stats:
            for as_dict in columns:
                for key in [k for k in as_dict if k.startswith("stats:")]:
                    del as_dict[key]
                as_dict.update(stats)
        return columns


class SparkColumnStats:
    """Table statistics for the docs catalog, in dbt's `stats:<key>:<field>` shape."""

    @staticmethod
    def of(adapter: Any, relation: Any) -> dict[str, Any]:
        found: dict[str, int] = {}
        try:
            _, detail = adapter.execute(f"describe detail {relation}", fetch=True)
            row = dict(zip(detail.column_names, detail.rows[0], strict=True)) if detail.rows else {}
            if row.get("format") == "delta":
                found["bytes"] = int(row.get("sizeInBytes") or 0)
                # Delta answers count(*) from the file statistics of its log, without reading the data
                _, counted = adapter.execute(f"select count(*) as n from {relation}", fetch=True)
                found["rows"] = int(counted.rows[0][0])
        except Exception:
            return {}
        labels = {
            "rows": ("Row count", "Rows in the table (Delta file statistics)"),
            "bytes": ("Size", "Bytes of the table's current data files"),
        }
        stats: dict[str, Any] = {}
        for key, value in found.items():
            label, description = labels[key]
            stats[f"stats:{key}:label"] = label
            stats[f"stats:{key}:value"] = value
            stats[f"stats:{key}:description"] = description
            stats[f"stats:{key}:include"] = True
        stats["stats:has_stats:label"] = "Has Stats?"
        stats["stats:has_stats:value"] = bool(found)
        stats["stats:has_stats:description"] = "Indicates whether there are statistics for this table"
        stats["stats:has_stats:include"] = False
        return stats
