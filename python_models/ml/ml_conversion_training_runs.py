"""Train the conversion model on the Gold feature mart; one row per training run (append-only).

Thin driver: the logic lives in the `lakehouse_ml` package (ml/). Every run is tracked in MLflow, a new
model version is registered, and the `champion` alias moves only if the candidate beats the current
champion on the same validation snapshot.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
    )
    from lakehouse_ml.pipeline import RUN_SCHEMA_DDL, collect_training_pairs, run_training

    max_train_rows = int(dbt.config.meta_get("ml_max_train_pairs") or 0)
    # the sample is drawn in Spark: the driver never holds the whole mart
    features = collect_training_pairs(dbt.ref("ml_user_item_features"), max_train_rows)
    runs = run_training(
        features,
        model_name=dbt.config.meta_get("ml_model_name"),
        experiment=dbt.config.meta_get("mlflow_experiment"),
        tracking_uri=dbt.config.meta_get("mlflow_tracking_uri"),
        registry_uri=dbt.config.meta_get("mlflow_registry_uri"),
        max_train_rows=max_train_rows,
    )
    return session.createDataFrame(runs, schema=RUN_SCHEMA_DDL)
