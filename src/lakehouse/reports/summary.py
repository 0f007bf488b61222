"""What the run produced: tables with row counts and formats, the model's metrics, where outputs are."""

from __future__ import annotations

from dataclasses import dataclass

from lakehouse.engine.paths import LakehousePaths

LAYERS = ("bronze", "silver", "gold", "ml")


@dataclass
class TableInfo:
    schema: str
    name: str
    rows: int
    table_format: str


def layer_tables(spark, layers: tuple[str, ...] = LAYERS) -> list[tuple[str, str]]:
    """(schema, name) of every table of the layer schemas, views left out, from the catalog alone."""
    out: list[tuple[str, str]] = []
    existing = {row.namespace for row in spark.sql("show schemas").collect()}
    for schema in layers:
        if schema not in existing:
            continue
        # SHOW TABLES, not spark.catalog.listTables: that one fails outright on Spark 4 when any table of
        # the schema cannot be described (EXPRESSION_DECODING_FAILED), and it describes every table anyway
        views = {row.viewName for row in spark.sql(f"show views in {schema}").collect()}
        out += [
            (schema, row.tableName)
            for row in spark.sql(f"show tables in {schema}").collect()
            if not row.isTemporary and row.tableName not in views
        ]
    return out


def table_inventory(spark, layers: tuple[str, ...] = LAYERS) -> list[TableInfo]:
    """Every table of the layer schemas (views left out), with its row count and format (DESCRIBE DETAIL)."""
    out: list[TableInfo] = []
    for schema, name in layer_tables(spark, layers):
        fq = f"{schema}.{name}"
        fmt = spark.sql(f"describe detail {fq}").first()["format"]
        out.append(TableInfo(schema, name, spark.table(fq).count(), fmt))
    return out


def latest_training_run(spark):
    """The newest row of ml.ml_conversion_training_runs, or None."""
    if not spark.catalog.tableExists("ml.ml_conversion_training_runs"):
        return None
    return spark.sql("select * from ml.ml_conversion_training_runs order by trained_at desc limit 1").first()


def render(spark, paths: LakehousePaths, docs_dir: str | None = None) -> str:
    """The summary printed at the end of `make demo`."""
    tables = table_inventory(spark)
    width = max((len(f"{t.schema}.{t.name}") for t in tables), default=10)
    lines = ["", "Tables in the local lakehouse", f"  {'table'.ljust(width)}  {'rows':>10}  format"]
    lines += [f"  {(t.schema + '.' + t.name).ljust(width)}  {t.rows:>10,}  {t.table_format}" for t in tables]
    run = latest_training_run(spark)
    if run is not None:
        lines += [
            "",
            f"Conversion model {run.model_name} v{run.model_version} (run {run.run_id[:8]}), "
            f"validation snapshot {run.valid_date}: ROC-AUC {run.roc_auc:.3f}, PR-AUC {run.pr_auc:.3f}, "
            f"lift@10% {run.lift_top_decile:.2f}; baselines ROC-AUC: three features {run.baseline_lr3_roc_auc:.3f}, "
            f"popularity prior {run.baseline_prior_roc_auc:.3f}; promoted to champion: {run.promoted}",
        ]
    lines += [
        "",
        f"Warehouse (Delta tables): {paths.warehouse}",
        f"MLflow store:             {paths.mlflow_tracking_uri}  (UI: make mlflow-ui)",
    ]
    if docs_dir:
        lines.append(f"dbt docs site:            {docs_dir}/index.html  (serve: make docs-serve)")
    lines += [
        f"KPI dashboard:            {paths.reports / 'kpi_dashboard.html'}",
        f"EDA report:               {paths.reports / 'eda.html'}",
        "SQL:                      .venv/bin/lakehouse sql  (shell)  |  .venv/bin/lakehouse sql-server  (JDBC)",
    ]
    return "\n".join(lines)
