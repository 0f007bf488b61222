"""Train the conversion model on the Gold feature mart; one row per training run (append-only).

Thin driver: the logic lives in the `lakehouse_ml` package (ml/). Every run is tracked in MLflow, a new
model version is registered, and the `champion` alias moves only if the candidate beats the current
champion on the same validation snapshot. A run trains only when it is due (`retrain_decision`: every
`ml_retrain_every_days` new labelled days, with no champion, or when asked with var `ml_retrain`);
otherwise it appends nothing and the champion keeps scoring.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
    )
    from lakehouse_ml.pipeline import RUN_SCHEMA_DDL, collect_training_pairs, run_training, training_due

    mart = dbt.ref("ml_user_item_features")
    meta = dbt.config.meta_get
    due, _reason = training_due(
        mart,
        session.table(str(dbt.this)) if dbt.is_incremental else None,
        model_name=meta("ml_model_name"),
        every_days=int(meta("ml_retrain_every_days") or 0),
        force=str(meta("ml_retrain")).strip().lower() in ("true", "1", "yes"),
        tracking_uri=meta("mlflow_tracking_uri"),
        registry_uri=meta("mlflow_registry_uri"),
    )
    if not due:
        return session.createDataFrame([], schema=RUN_SCHEMA_DDL)
    max_train_rows = int(meta("ml_max_train_pairs") or 0)
    # the sample is drawn in Spark: the driver never holds the whole mart
    features = collect_training_pairs(mart, max_train_rows)
    runs = run_training(
        features,
        model_name=meta("ml_model_name"),
        experiment=meta("mlflow_experiment"),
        tracking_uri=meta("mlflow_tracking_uri"),
        registry_uri=meta("mlflow_registry_uri"),
        max_train_rows=max_train_rows,
    )
    return session.createDataFrame(runs, schema=RUN_SCHEMA_DDL)
