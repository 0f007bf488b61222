"""`lakehouse model-report`: champion vs baselines vs the generator's oracle on the validation snapshot."""

from __future__ import annotations

import pandas as pd

DEFAULT_MODEL = "ecommerce_conversion"


def _label_horizon_days() -> int:
    import yaml

    from lakehouse.dbt_runner import project_dir

    project = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
    return int(project["vars"]["label_horizon_days"])


def build_report(spark, model_name: str = DEFAULT_MODEL) -> tuple[pd.DataFrame, dict]:  # type: ignore[no-untyped-def]
    """The comparison table and its context (validation date, rows, positive rate)."""
    from lakehouse.paths import lakehouse_paths
    from lakehouse_ml import oracle, registry
    from lakehouse_ml.features import KEY_COLUMNS, LABEL, feature_matrix, time_split
    from lakehouse_ml.train import prior_baseline, three_feature_baseline

    features = spark.table("ml.ml_user_item_features").where("is_label_complete").toPandas()
    features = features.sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True)
    train, valid = time_split(features)
    registry.configure()
    version = registry.champion_version(model_name)
    if version is None:
        raise RuntimeError(f"model {model_name!r} has no champion yet: run `dbt build` first")
    champion = registry.score_with_version(model_name, version, feature_matrix(valid))
    truth = oracle.load_truth(lakehouse_paths().oracle)
    scores = {
        f"champion v{version}": champion,
        "baseline_lr3": three_feature_baseline(train, valid),
        "baseline_prior": prior_baseline(train, valid),
        "oracle": oracle.oracle_probability(valid, truth, _label_horizon_days()),
    }
    y_valid = valid[LABEL].astype(int).to_numpy()
    table = oracle.comparison_table(y_valid, scores)
    context = {"valid_date": valid["as_of_date"].iloc[0], "n_rows": len(valid), "positive_rate": y_valid.mean()}
    return table, context


def main(model_name: str = DEFAULT_MODEL) -> int:
    from lakehouse.runtime import get_spark
    from lakehouse_ml.oracle import render

    table, context = build_report(get_spark(), model_name)
    print(render(table, **context))
    return 0
