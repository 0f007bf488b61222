"""Train the conversion model on the Gold feature mart; one row per training run (append-only).

Thin driver: the logic lives in the `lakehouse_ml` package (ml/). Every run is tracked in MLflow, a new
model version is registered, and the `champion` alias moves only if the candidate beats the current
champion on the same validation snapshot. A run trains only when it is due (`retrain_decision`: every
`ml_retrain_every_days` new labelled days, with no champion, or when asked with var `ml_retrain`);
otherwise it appends nothing and the champion keeps scoring.

(Each config value is read by a `dbt.config.meta_get(<key>)` call of its own, assigned as it is: dbt finds
those calls when it parses the model and passes only their values to the compiled code, and it does not
look inside other expressions: wrapped in `int(... or 0)` the call is never seen and reads None.)
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        # a column added to the run log reaches an existing table (earlier rows read null in it)
        on_schema_change="append_new_columns",
    )
    from lakehouse_ml.sampling import collect_training_pairs
    from lakehouse_ml.schedule import training_due
    from lakehouse_ml.training_run import RUN_SCHEMA_DDL, run_training

    mart = dbt.ref("ml_user_item_features")
    model_name = dbt.config.meta_get("ml_model_name")
    tracking_uri = dbt.config.meta_get("mlflow_tracking_uri")
    registry_uri = dbt.config.meta_get("mlflow_registry_uri")
    retrain_every_days = dbt.config.meta_get("ml_retrain_every_days")
    retrain = dbt.config.meta_get("ml_retrain")
    max_train_pairs = dbt.config.meta_get("ml_max_train_pairs")
    max_valid_pairs = dbt.config.meta_get("ml_max_valid_pairs")
    label_horizon_days = dbt.config.meta_get("ml_label_horizon_days")
    due, reason = training_due(
        mart,
        session.table(str(dbt.this)) if dbt.is_incremental else None,
        model_name=model_name,
        every_days=int(retrain_every_days or 0),
        force=str(retrain).strip().lower() in ("true", "1", "yes"),
        tracking_uri=tracking_uri,
        registry_uri=registry_uri,
        embargo_days=int(label_horizon_days),
    )
    if not due:
        # one line in the run's output; the build stays green and the champion (if any) keeps scoring
        print(f"ml_conversion_training_runs: no training in this run: {reason}")
        return session.createDataFrame([], schema=RUN_SCHEMA_DDL)
    max_train_rows = int(max_train_pairs or 0)
    # the sample is drawn in Spark: the driver never holds the whole mart; passed straight in (no name
    # kept here), so training drops the collected frame once it has split it
    runs = run_training(
        collect_training_pairs(
            mart,
            max_train_rows,
            max_valid_rows=int(max_valid_pairs or 0),
            embargo_days=int(label_horizon_days),
        ),
        model_name=model_name,
        experiment=dbt.config.meta_get("mlflow_experiment"),
        tracking_uri=tracking_uri,
        registry_uri=registry_uri,
        max_train_rows=max_train_rows,
        embargo_days=int(label_horizon_days),
    )
    return session.createDataFrame(runs, schema=RUN_SCHEMA_DDL)
