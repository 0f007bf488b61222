"""Score the latest feature snapshot with the `champion` model, distributed in Spark.

Incremental by as_of_date: a rerun for the same snapshot replaces its rows (merge on the pair key).
Outputs probabilities (never class labels) with the model name, version and run id on every row.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key=["as_of_date", "user_id", "product_id"],
    )
    from lakehouse_ml.pipeline import score_latest

    # scoring must follow training (DAG edge), even though it reads the model from the registry
    dbt.ref("ml_conversion_training_runs")
    return score_latest(
        session,
        dbt.ref("ml_user_item_features"),
        model_name=dbt.config.meta_get("ml_model_name"),
        tracking_uri=dbt.config.meta_get("mlflow_tracking_uri"),
        registry_uri=dbt.config.meta_get("mlflow_registry_uri"),
    )
