"""Run a compiled dbt Python model inside the current SparkSession."""

from __future__ import annotations

import traceback
from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.sparksession.connections import SparkSessionCredentials, ensure_session
from dbt_common.exceptions import DbtRuntimeError


class SessionPythonJobHelper(PythonJobHelper):
    """``submission_method: session``: exec the compiled model with ``spark`` bound, in-process."""

    def __init__(self, parsed_model: dict, credentials: SparkSessionCredentials) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials
        self.relation = f"{parsed_model['schema']}.{parsed_model['alias']}"

    def submit(self, compiled_code: str) -> Any:
        spark = ensure_session(self.credentials)
        filename = f"<dbt python model {self.relation}>"
        namespace: dict[str, Any] = {"spark": spark, "__name__": "__dbt_python_model__"}
        try:
            code = compile(compiled_code, filename, "exec")
            exec(code, namespace)
        except Exception as exc:  # surface one readable error, keep the model's own frames
            frames = [
                line for line in traceback.format_exception(exc) if filename in line or not line.startswith("  File ")
            ]
            raise DbtRuntimeError(
                f"Python model {self.relation} failed: {type(exc).__name__}: {exc}\n" + "".join(frames[-12:])
            ) from exc
        return None
