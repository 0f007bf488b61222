"""The Databricks side, offline: the bundle's structure and a scan for committed credentials."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from lakehouse.ops.bundle_check import check_bundle
from lakehouse.ops.secret_scan import scan, scan_text

PROJECT = Path(__file__).resolve().parents[1]


def test_the_bundle_passes_its_offline_checks() -> None:
    assert check_bundle(PROJECT) == []


def test_the_job_runs_ingest_medallion_train_score_in_order() -> None:
    job = yaml.safe_load((PROJECT / "resources" / "ecommerce_lakehouse_job.yml").read_text())
    tasks = job["resources"]["jobs"]["ecommerce_lakehouse_daily"]["tasks"]
    order = [t["task_key"] for t in tasks]
    assert order == ["ingest", "medallion", "train", "score"]
    for before, task in zip(order, tasks[1:], strict=False):
        assert [d["task_key"] for d in task["depends_on"]] == [before]


def _copy_project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("databricks.yml", "selectors.yml"):
        shutil.copy(PROJECT / name, copy / name)
    for folder in ("resources", "snapshots", "models", "python_models", "seeds", "ml"):
        shutil.copytree(PROJECT / folder, copy / folder, ignore=shutil.ignore_patterns("build", "*.egg-info", "dist"))
    return copy


def test_the_check_catches_a_cycle_a_missing_selector_a_missing_file_and_unit_tests_in_the_job(
    tmp_path: Path,
) -> None:
    copy = _copy_project(tmp_path)
    job_file = copy / "resources" / "ecommerce_lakehouse_job.yml"
    doc = yaml.safe_load(job_file.read_text())
    tasks = doc["resources"]["jobs"]["ecommerce_lakehouse_daily"]["tasks"]
    tasks[0]["depends_on"] = [{"task_key": "score"}]  # ingest waits for score: a cycle
    tasks[1]["dbt_task"]["commands"] = ["dbt build --selector no_such_selector"]
    tasks[2]["dbt_task"]["commands"] = ["dbt build --select no_such_model+ --exclude-resource-type unit_test"]
    tasks[3]["dbt_task"]["commands"] = ["dbt build --selector score"]
    job_file.write_text(yaml.safe_dump(doc))
    (copy / "resources" / "dashboards" / "ecommerce_kpis.lvdash.json").unlink()
    errors = "\n".join(check_bundle(copy))
    assert "task graph has a cycle: ingest -> score -> train -> medallion -> ingest" in errors
    assert "selector 'no_such_selector'" in errors
    assert "'no_such_model+'" in errors
    assert "dbt build runs the unit tests (add `--exclude-resource-type unit_test`): 'dbt build --selector score'" in (
        errors
    )
    assert "dashboard 'ecommerce_kpis' file" in errors


def test_the_scan_recognises_credentials_and_leaves_references_alone() -> None:
    """detect-secrets with the baseline's plugins, the project's Databricks token plugin among them."""
    token = "dapi" + "0123456789abcdef" * 2  # built here so that this file holds no token itself
    assert scan_text(f"DATABRICKS_TOKEN={token}") == [(1, "Databricks personal access token")]
    assert scan_text("password: " + "hunter2hunter2") == [(1, "Secret Keyword")]
    assert scan_text("-----BEGIN RSA " + "PRIVATE KEY-----") == [(1, "Private Key")]
    assert scan_text("aws_key = '" + "AKIA" + "IOSFODNN7EXAMPL1'", name="settings.py") == [(1, "AWS Access Key")]
    assert scan_text("      token: \"{{ env_var('DATABRICKS_TOKEN') }}\"") == []
    assert scan_text("  DATABRICKS_TOKEN: ${{ secrets.DATABRICKS_TOKEN }}") == []


def test_a_committed_credential_fails_the_scan_and_names_its_file(tmp_path: Path) -> None:
    """A new finding that the baseline does not hold fails, with the file and line; the clean tree passes."""
    import shutil
    import subprocess

    repo = tmp_path / "repo"
    plugins = Path("src") / "lakehouse" / "ops" / "secret_plugins.py"  # the baseline names it by this path
    (repo / plugins).parent.mkdir(parents=True)
    shutil.copy(PROJECT / ".secrets.baseline", repo / ".secrets.baseline")
    shutil.copy(PROJECT / plugins, repo / plugins)
    (repo / "profiles.yml").write_text("token: \"{{ env_var('DATABRICKS_TOKEN') }}\"\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    assert scan(repo) == []
    digits = "fedcba9876543210"  # pragma: allowlist secret
    (repo / "profiles.yml").write_text("host: x\ntoken: " + "dapi" + digits * 2 + "\n")
    assert scan(repo) == ["profiles.yml:2: looks like a Databricks personal access token"]


def test_the_dashboard_reads_only_built_marts_through_defined_datasets() -> None:
    from lakehouse.ops.bundle_check import check_dashboard

    dashboard = {
        "datasets": [
            {"name": "kpis", "queryLines": ["select * from gold.agg_daily_kpis"]},
            {"name": "gone", "queryLines": ["select * from gold.agg_weekly_kpis"]},
        ],
        "pages": [{"layout": [{"widget": {"name": "w", "queries": [{"query": {"datasetName": "nope"}}]}}]}],
    }
    errors = check_dashboard(dashboard, {"agg_daily_kpis"})
    assert errors == [
        "dataset 'gone' reads gold.agg_weekly_kpis, which no dbt model builds",
        "widget 'w' uses unknown dataset 'nope'",
    ]


def test_databricks_typed_models_reject_a_misspelt_field_a_wrong_enum_and_a_wrong_type() -> None:
    from lakehouse.ops.bundle_check import typed_resource_errors

    def job_with(change) -> dict:  # type: ignore[no-untyped-def,type-arg]
        resources = yaml.safe_load((PROJECT / "resources" / "ecommerce_lakehouse_job.yml").read_text())["resources"]
        change(resources["jobs"]["ecommerce_lakehouse_daily"])
        return resources

    assert typed_resource_errors("job.yml", job_with(lambda job: None)) == []
    misspelt = typed_resource_errors("job.yml", job_with(lambda job: job.update(max_concurent_runs=1)))
    assert misspelt == ["job.yml: jobs.ecommerce_lakehouse_daily: Unexpected field 'max_concurent_runs' for class Job"]
    enum = typed_resource_errors("job.yml", job_with(lambda job: job["schedule"].update(pause_status="SOMETIMES")))
    assert enum == ["job.yml: jobs.ecommerce_lakehouse_daily: 'SOMETIMES' is not a valid PauseStatus"]
    wrong_type = typed_resource_errors("job.yml", job_with(lambda job: job.update(tasks="ingest")))
    assert len(wrong_type) == 1 and "Unexpected type" in wrong_type[0]
    dashboards = yaml.safe_load((PROJECT / "resources" / "ecommerce_kpis_dashboard.yml").read_text())["resources"]
    dashboards["dashboards"]["ecommerce_kpis"]["embed_credential"] = True
    assert typed_resource_errors("d.yml", dashboards) == [
        "d.yml: dashboards.ecommerce_kpis: Unexpected field 'embed_credential' for class Dashboard"
    ]


def test_python_model_jobs_are_checked_as_dbt_databricks_compiles_them() -> None:
    """The job dbt-databricks would submit for a workflow-job Python model is loaded into Databricks' typed
    Job: a well-formed environment passes; a misspelt environment field and a task environment that no
    environment defines are named with the model."""
    from lakehouse.ops.bundle_check import python_model_job_errors

    def manifest(job_config: dict) -> dict:  # type: ignore[type-arg]
        node = {
            "resource_type": "model",
            "language": "python",
            "name": "ml_model",
            "original_file_path": "python_models/ml/ml_model.py",
            "database": "ecommerce",
            "schema": "ml",
            "alias": "ml_model",
            "config": {"submission_method": "workflow_job", "python_job_config": job_config},
        }
        return {"nodes": {"model.p.ml_model": node}}

    good = {
        "additional_task_settings": {"environment_key": "ml"},
        "environments": [{"environment_key": "ml", "spec": {"environment_version": "4", "dependencies": ["x"]}}],
    }
    assert python_model_job_errors(manifest(good)) == []
    misspelt = {**good, "environments": [{"environment_key": "ml", "spec": {"environment_versoin": "4"}}]}
    errors = python_model_job_errors(manifest(misspelt))
    assert len(errors) == 1 and "ml_model" in errors[0] and "environment_versoin" in errors[0]
    undefined = {**good, "additional_task_settings": {"environment_key": "gpu"}}
    assert python_model_job_errors(manifest(undefined)) == [
        "python_models/ml/ml_model.py: ml_model: its task uses environment 'gpu', which is not defined"
    ]


def test_limited_file_statistics_keep_the_clustering_keys_and_the_run_stamp() -> None:
    """A model limiting Delta's file statistics keeps them on its liquid clustering keys (else Databricks
    refuses the table) and on its run stamp (what the scoped tests filter on); each missing one is named."""
    from lakehouse.ops.bundle_check import table_layout_errors

    def manifest(stats: str | None, clustered: list[str] | str | None) -> dict:  # type: ignore[type-arg]
        config = {
            "tblproperties": {} if stats is None else {"delta.dataSkippingStatsColumns": stats},
            "liquid_clustered_by": clustered,
            "meta": {"run_stamp_column": "updated_at"},
        }
        node = {"resource_type": "model", "name": "fct_x", "original_file_path": "models/fct_x.sql", "config": config}
        return {"nodes": {"model.p.fct_x": node}}

    assert table_layout_errors(manifest("event_date, event_type,updated_at", ["event_date", "event_type"])) == []
    assert table_layout_errors(manifest(None, ["event_date"])) == []  # Delta's default: the first 32 columns
    assert table_layout_errors(manifest("event_date", "event_type")) == [
        "models/fct_x.sql: fct_x: clusters on 'event_type', which has no file statistics",
        "models/fct_x.sql: fct_x: its run stamp 'updated_at' has no file statistics (the scoped tests filter on it)",
    ]


def test_the_ml_wheel_pins_the_model_libraries_the_local_install_runs() -> None:
    """A model trained locally loads where the Python models run on Databricks: the ML wheel's pins of
    mlflow and scikit-learn (the job environment installs the wheel) are the root package's and the lock
    file's."""
    import tomllib

    def pins(requirements: list[str]) -> dict[str, str]:
        return dict(r.split("==", 1) for r in requirements if r.split("==")[0] in ("mlflow", "scikit-learn"))

    root = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["dependencies"]
    wheel = tomllib.loads((PROJECT / "ml" / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = [line.strip() for line in (PROJECT / "constraints.txt").read_text().splitlines() if "==" in line]
    assert pins(wheel) == pins(root) == pins(locked)
    assert set(pins(wheel)) == {"mlflow", "scikit-learn"}
