"""Run dbt in this process, inside the local SparkSession (so Python models share it)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


class DbtCommandError(RuntimeError):
    """A dbt command the lakehouse runs for a report failed: the command line prints it as one error line."""


# the build a scheduled run makes (the demo, the bench): the data tests included, the dbt unit tests left
# to CI, since their inputs are fixed and a run on new data learns nothing new from them
SCHEDULED_BUILD = ("build", "--exclude-resource-type", "unit_test")
# and the data tests of the large incremental models read the rows this run wrote (macros/test_scope.sql):
# on a first build that is every row, on a daily one the day's
SCHEDULED_VARS: dict[str, Any] = {"test_scope": "run"}


def scheduled_build(user_vars: str | None = None) -> list[str]:
    """The scheduled build's arguments, with SCHEDULED_VARS under the user's own ``--vars`` (theirs win)."""
    import yaml

    merged: dict[str, Any] = dict(SCHEDULED_VARS)
    if user_vars:
        given = yaml.safe_load(user_vars)
        if not isinstance(given, dict):
            raise ValueError(f"--vars must be a YAML mapping, got {user_vars!r}")
        merged.update(given)
    return [*SCHEDULED_BUILD, "--vars", yaml.safe_dump(merged, default_flow_style=True, width=10_000).strip()]


class ProjectNotFoundError(RuntimeError):
    """No dbt_project.yml above the current directory."""


def project_dir(start: Path | None = None) -> Path:
    """The dbt project root: LAKEHOUSE_PROJECT_DIR, else the nearest folder holding dbt_project.yml."""
    if os.environ.get("LAKEHOUSE_PROJECT_DIR"):
        return Path(os.environ["LAKEHOUSE_PROJECT_DIR"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dbt_project.yml").exists():
            return folder
    raise ProjectNotFoundError("no dbt_project.yml here or above: run from the ecommerce-lakehouse checkout")


def target_dir() -> Path:
    """Where dbt writes its artifacts (the docs site, compiled SQL): DBT_TARGET_PATH, as dbt reads it
    (relative to the project), else the project's target/."""
    return project_dir() / os.environ.get("DBT_TARGET_PATH", "target")


def run_dbt(args: list[str], callbacks: list[Callable[[Any], None]] | None = None) -> bool:
    """Invoke dbt with ``args`` (project and profiles from the checkout). Returns True on success.

    ``callbacks`` receive every dbt event (the bench follows NodeStart / NodeFinished with them).

    The local target's SparkSession is created lazily by the adapter's ``session_factory`` on the first
    connection, and reused afterwards (also by later invocations in the same process).
    """
    from dbt.cli.main import dbtRunner

    root = project_dir()
    full = [*args]
    if "--project-dir" not in full:
        full += ["--project-dir", str(root)]
    if "--profiles-dir" not in full:
        full += ["--profiles-dir", str(root)]
    result = dbtRunner(callbacks=callbacks or []).invoke(full)
    return bool(result.success)
