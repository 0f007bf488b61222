"""`lakehouse model-report`: the champion against both baselines and the generator's two references (the
Bayes oracle and the clairvoyant bound) on the validation snapshot, with bootstrap intervals."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

DEFAULT_MODEL = "ecommerce_conversion"
FEATURE_TABLE = "ml.ml_user_item_features"


def label_horizon_days() -> int:
    """The project's var `label_horizon_days`: the purged split's embargo, as training uses it."""
    import yaml

    from lakehouse.engine.dbt_runner import project_dir

    project = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
    return int(project["vars"]["label_horizon_days"])


class ModelReportError(RuntimeError):
    """The report cannot be made on this lakehouse (no champion, no generator truth, ...): one line."""


def build_report(
    spark, model_name: str = DEFAULT_MODEL, table: str = FEATURE_TABLE, bootstrap: int = 200
) -> tuple[pd.DataFrame, dict]:
    """The comparison table (``oracle.comparison_table``) and its context (validation date, rows, positive
    rate). ``table`` is the feature mart to split (the purged split training uses)."""
    from lakehouse.engine.paths import lakehouse_paths
    from lakehouse_ml import oracle, registry
    from lakehouse_ml.features import KEY_COLUMNS, LABEL, feature_matrix, pair_weights, time_split
    from lakehouse_ml.train import prior_baseline, three_feature_baseline

    horizon = label_horizon_days()
    features = spark.table(table).where("is_label_complete").toPandas()
    features = features.sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True)
    train, valid = time_split(features, embargo_days=horizon)
    registry.configure()
    version = registry.champion_version(model_name)
    if version is None:
        raise ModelReportError(f"model {model_name!r} has no champion yet: run `dbt build` first")
    champion = registry.score_with_version(model_name, version, feature_matrix(valid))
    if champion is None:
        raise ModelReportError(f"champion v{version} reads features the mart {table} does not have")
    try:
        truth = oracle.load_truth(lakehouse_paths().oracle)
    except FileNotFoundError as exc:
        # your own data has no generator behind it: the training run's metrics are in the runs table
        raise ModelReportError(f"{exc}: the report compares the model with the generator's world") from exc
    references = oracle.reference_probabilities(valid, truth, horizon)
    scores = {
        f"champion v{version}": champion,
        "baseline_lr3": three_feature_baseline(train, valid),
        "baseline_prior": prior_baseline(train, valid),
        "bayes_oracle": references["bayes"],
        "clairvoyant": references["clairvoyant"],
    }
    y_valid = valid[LABEL].astype(int).to_numpy()
    # each drawn pair weighted by the pairs it stands for, as training weighs its metrics
    weight = pair_weights(valid)
    comparison = oracle.comparison_table(y_valid, scores, bootstrap=bootstrap, weight=weight)
    context = {
        "valid_date": valid["as_of_date"].iloc[0],
        "n_rows": len(valid),
        "positive_rate": float(np.average(y_valid, weights=weight)),
    }
    return comparison, context


def main(model_name: str = DEFAULT_MODEL, bootstrap: int = 200) -> int:
    from lakehouse.engine.runtime import get_spark
    from lakehouse_ml.oracle import render

    try:
        table, context = build_report(get_spark(), model_name, bootstrap=bootstrap)
    except ModelReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(render(table, **context))
    return 0
