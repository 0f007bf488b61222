"""Score feature snapshots with the `champion` model, distributed in Spark.

Scores the latest snapshot of each source whole (every run, from ml_user_item_latest_features) and the
drawn pairs of each snapshot after the champion's training data not scored yet, so the predictions of
earlier days meet their labels in the monitoring marts. Incremental by
as_of_date: a rerun for a snapshot replaces its rows. Locally the table is partitioned by as_of_date and a
run overwrites the partitions of the snapshots it scored (the strategy and partitioning are set in
_ml__models.yml, by target); on Databricks it merges on the pair key. Outputs probabilities (never
class labels) with the model name, version and run id on every row.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        unique_key=["as_of_date", "user_id", "product_id"],
    )
    from lakehouse_ml.scoring import score_snapshots

    return score_snapshots(
        session,
        # the features alone: no label is read (ml_user_item_features joins them)
        dbt.ref("ml_user_item_feature_snapshots"),
        model_name=dbt.config.meta_get("ml_model_name"),
        # each source's latest snapshot whole (the mart's snapshots are drawn)
        latest_sdf=dbt.ref("ml_user_item_latest_features"),
        # scoring follows training (a DAG edge) and needs the champion's training window
        runs_sdf=dbt.ref("ml_conversion_training_runs"),
        scored_sdf=session.table(str(dbt.this)) if dbt.is_incremental else None,
        tracking_uri=dbt.config.meta_get("mlflow_tracking_uri"),
        registry_uri=dbt.config.meta_get("mlflow_registry_uri"),
    )
