"""Offline checks of the Databricks Asset Bundle (no workspace needed).

Every resource is loaded into Databricks' own typed models (PyPI `databricks-bundles`), which reject
unknown fields, wrong types and enum values as `databricks bundle validate` would. On top, what only this
project knows: every file the bundle names exists, each job's task graph is acyclic with known
dependencies, every `${var.x}` is declared, and dbt tasks use selectors and models that exist here.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from pathlib import Path

import yaml

VAR_REF = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")
REQUIRED_TARGETS = ("dev", "prod")


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def _walk_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_strings(value)


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle in ``graph`` (node -> nodes it depends on) as a list of nodes, or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def _project_names(project: Path) -> tuple[set[str], set[str]]:
    """Selector names (selectors.yml) and node names (models, seeds, snapshots) of the dbt project."""
    selectors = {s["name"] for s in _load(project / "selectors.yml").get("selectors", [])}
    nodes = {p.stem for folder in ("models", "python_models", "seeds") for p in (project / folder).rglob("*.*")}
    nodes |= {s["name"] for p in (project / "snapshots").glob("*.yml") for s in _load(p).get("snapshots", [])}
    return selectors, nodes


def _check_dbt_command(command: str, selectors: set[str], nodes: set[str]) -> list[str]:
    errors = []
    words = shlex.split(command)
    if not words or words[0] != "dbt":
        return [f"dbt task command does not start with `dbt`: {command!r}"]
    for flag, value in itertools.pairwise(words):
        if flag == "--selector" and value not in selectors:
            errors.append(f"dbt command uses selector {value!r}, which selectors.yml does not define")
        if flag in ("--select", "-s", "--exclude"):
            for item in value.split():
                name = item.strip("+").split(":")[-1]
                if ":" not in item and name not in nodes:
                    errors.append(f"dbt command selects {item!r}, which is no model, seed or snapshot here")
    # unit tests check the SQL on fixed inputs, so a scheduled run would spend compute to learn nothing new
    # (they run in CI); dbt Labs recommends leaving them out of production builds
    excluded = {value for flag, value in itertools.pairwise(words) if flag == "--exclude-resource-type"}
    if words[1:2] == ["build"] and "unit_test" not in excluded:
        errors.append(f"dbt build runs the unit tests (add `--exclude-resource-type unit_test`): {command!r}")
    return errors


# resource kinds of a bundle's `resources:` -> the typed model that loads one (module, class)
TYPED_RESOURCES = {
    "jobs": ("databricks.bundles.jobs", "Job"),
    "dashboards": ("databricks.bundles.dashboards", "Dashboard"),
    "pipelines": ("databricks.bundles.pipelines", "Pipeline"),
    "schemas": ("databricks.bundles.schemas", "Schema"),
    "volumes": ("databricks.bundles.volumes", "Volume"),
}


def typed_resource_errors(path_name: str, resources: dict) -> list[str]:
    """Problems Databricks' typed models find in one file's ``resources:`` mapping."""
    import copy
    import importlib

    errors = []
    for kind, items in resources.items():
        if kind not in TYPED_RESOURCES:
            errors.append(
                f"{path_name}: resource kind {kind!r} is not one this check knows ({sorted(TYPED_RESOURCES)})"
            )
            continue
        module, name = TYPED_RESOURCES[kind]
        model = getattr(importlib.import_module(module), name)
        for key, value in (items or {}).items():
            try:
                model.from_dict(copy.deepcopy(value))
            except (ValueError, TypeError, KeyError) as exc:
                errors.append(f"{path_name}: {kind}.{key}: {exc}")
    return errors


def check_bundle(project: Path) -> list[str]:
    """All problems found in ``project``'s bundle; an empty list means it passed."""
    errors: list[str] = []
    root_file = project / "databricks.yml"
    if not root_file.exists():
        return ["databricks.yml is missing"]
    root = _load(root_file)
    if not (root.get("bundle") or {}).get("name"):
        errors.append("databricks.yml: bundle.name is required")
    targets = root.get("targets") or {}
    errors += [f"databricks.yml: target {t!r} is missing" for t in REQUIRED_TARGETS if t not in targets]

    documents: list[tuple[Path, dict]] = [(root_file, root)]
    for pattern in root.get("include", []):
        matches = sorted(project.glob(pattern))
        if not matches:
            errors.append(f"databricks.yml: include {pattern!r} matches no file")
        documents += [(p, _load(p)) for p in matches]

    declared = set((root.get("variables") or {}).keys())
    for path, doc in documents:
        for text in _walk_strings(doc):
            errors += [
                f"{path.name}: ${{var.{v}}} is not declared under variables"
                for v in VAR_REF.findall(text)
                if v not in declared
            ]
    for name, target in targets.items():
        for var in (target or {}).get("variables", {}) or {}:
            if var not in declared:
                errors.append(f"databricks.yml: target {name!r} sets undeclared variable {var!r}")

    for name, artifact in (root.get("artifacts") or {}).items():
        if not (project / artifact.get("path", "")).joinpath("pyproject.toml").exists():
            errors.append(f"databricks.yml: artifact {name!r} path has no pyproject.toml")

    selectors, nodes = _project_names(project)
    jobs = {}
    dashboards = {}
    for path, doc in documents:
        resources = doc.get("resources") or {}
        errors += typed_resource_errors(path.name, resources)
        jobs.update({k: (path, v) for k, v in (resources.get("jobs") or {}).items()})
        dashboards.update({k: (path, v) for k, v in (resources.get("dashboards") or {}).items()})
    if not jobs:
        errors.append("the bundle defines no job")
    for job_name, (path, job) in jobs.items():
        where = f"{path.name}: job {job_name!r}"
        tasks = job.get("tasks") or []
        if not tasks:
            errors.append(f"{where}: has no tasks")
        if not (job.get("schedule") or job.get("trigger")):
            errors.append(f"{where}: has no schedule")
        if not ((job.get("email_notifications") or {}).get("on_failure") or job.get("webhook_notifications")):
            errors.append(f"{where}: has no failure notification")
        environments = {e["environment_key"] for e in job.get("environments") or []}
        keys = [t.get("task_key") for t in tasks]
        if len(set(keys)) != len(keys) or None in keys:
            errors.append(f"{where}: task keys must be present and unique")
        graph = {t.get("task_key"): [d["task_key"] for d in t.get("depends_on") or []] for t in tasks}
        for task, deps in graph.items():
            errors += [f"{where}: task {task!r} depends on unknown task {d!r}" for d in deps if d not in graph]
        if cycle := _cycle(graph):
            errors.append(f"{where}: task graph has a cycle: {' -> '.join(cycle)}")
        for task in tasks:
            if task.get("environment_key") and task["environment_key"] not in environments:
                errors.append(
                    f"{where}: task {task['task_key']!r} uses unknown environment {task['environment_key']!r}"
                )
            dbt_task = task.get("dbt_task")
            if dbt_task:
                if not dbt_task.get("commands"):
                    errors.append(f"{where}: dbt task {task['task_key']!r} has no commands")
                for command in dbt_task.get("commands") or []:
                    errors += [f"{where}: {e}" for e in _check_dbt_command(command, selectors, nodes)]
    for name, (path, dashboard) in dashboards.items():
        file_path = path.parent / dashboard.get("file_path", "")
        if not file_path.is_file():
            errors.append(f"{path.name}: dashboard {name!r} file {dashboard.get('file_path')!r} does not exist")
            continue
        errors += [f"{file_path.name}: {e}" for e in check_dashboard(json.loads(file_path.read_text()), nodes)]
    return errors


TABLE_REF = re.compile(r"\b(?:from|join)\s+(?:\w+\.)?(\w+)\.(\w+)", re.IGNORECASE)


def check_dashboard(dashboard: dict, models: set[str]) -> list[str]:
    """An AI/BI dashboard reads only dbt models that exist, and each widget only datasets it defines."""
    errors = []
    datasets = {d["name"]: "".join(d.get("queryLines") or [d.get("query", "")]) for d in dashboard.get("datasets", [])}
    for name, query in datasets.items():
        tables = TABLE_REF.findall(query)
        if not tables:
            errors.append(f"dataset {name!r} reads no table")
        errors += [f"dataset {name!r} reads {s}.{t}, which no dbt model builds" for s, t in tables if t not in models]
    for page in dashboard.get("pages", []):
        for item in page.get("layout", []):
            widget = item.get("widget", {})
            for query in widget.get("queries", []):
                used = query.get("query", {}).get("datasetName")
                if used not in datasets:
                    errors.append(f"widget {widget.get('name')!r} uses unknown dataset {used!r}")
    return errors


def python_model_job_errors(manifest: dict) -> list[str]:
    """Problems of the jobs dbt-databricks would submit for the Python models of a ``databricks``-target
    manifest: each model's config read by dbt-databricks' own model, its job compiled as dbt-databricks
    compiles it (workflow jobs) and loaded into Databricks' typed Job; every task's environment defined."""
    from databricks.bundles.jobs import Job
    from dbt.adapters.databricks.python_models.python_config import ParsedPythonModel
    from dbt.adapters.databricks.python_models.python_submissions import PythonWorkflowConfigCompiler

    errors = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model" or node.get("language") != "python":
            continue
        where = f"{node['original_file_path']}: {node['name']}"
        try:
            parsed = ParsedPythonModel.model_validate(node)
        except ValueError as exc:
            errors.append(f"{where}: dbt-databricks rejects its config: {exc}")
            continue
        if node["config"].get("submission_method") != "workflow_job":
            continue
        spec, _ = PythonWorkflowConfigCompiler.create(parsed).compile(f"/Workspace/dbt/{node['name']}")
        try:
            # the compiled spec is checked here, by Job reading it
            Job.from_dict(spec)
        except (ValueError, TypeError, KeyError) as exc:
            errors.append(f"{where}: its job: {exc}")
            continue
        environments = {e.get("environment_key") for e in spec.get("environments") or []}
        for task in spec["tasks"]:
            if task.get("environment_key") and task["environment_key"] not in environments:
                errors.append(f"{where}: its task uses environment {task['environment_key']!r}, which is not defined")
    return errors


def table_layout_errors(manifest: dict) -> list[str]:
    """Problems of the table layouts of a ``databricks``-target manifest: a model that limits Delta's file
    statistics (``delta.dataSkippingStatsColumns``) must keep them on its liquid clustering keys (Databricks
    refuses to cluster on a column without statistics) and on its run stamp (the scoped tests filter on it)."""
    errors = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        config = node.get("config") or {}
        listed = (config.get("tblproperties") or {}).get("delta.dataSkippingStatsColumns")
        if listed is None:
            continue
        where = f"{node['original_file_path']}: {node['name']}"
        stats = [c.strip() for c in listed.split(",") if c.strip()]
        clustered = config.get("liquid_clustered_by") or []
        for column in [clustered] if isinstance(clustered, str) else clustered:
            if column not in stats:
                errors.append(f"{where}: clusters on {column!r}, which has no file statistics")
        stamp = (config.get("meta") or {}).get("run_stamp_column")
        if stamp and stamp not in stats:
            errors.append(f"{where}: its run stamp {stamp!r} has no file statistics (the scoped tests filter on it)")
    return errors


def main(manifest_path: Path | None = None) -> int:
    from lakehouse.engine.dbt_runner import project_dir

    errors = check_bundle(project_dir())
    if manifest_path is not None:
        if not manifest_path.exists():
            errors.append(f"{manifest_path} is missing: run `make parse` first")
        else:
            manifest = json.loads(manifest_path.read_text())
            errors += python_model_job_errors(manifest) + table_layout_errors(manifest)
    for error in errors:
        print(f"error: {error}")
    print("bundle check: " + ("passed" if not errors else f"{len(errors)} problem(s)"))
    return 1 if errors else 0
