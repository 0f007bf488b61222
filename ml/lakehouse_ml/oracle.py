"""How far the model is from the best possible: scores against the generator's own truth.

On generated data the generator knows, per (user, product) pair, the purchase probability of one visit
and the pair's visit rate. The oracle's probability that the pair converts within ``horizon_days`` is
then ``1 - (1 - p_visit) ** (visits_per_day * horizon_days)``, scored on the same validation pairs as
the model and the baselines. It is a reference, not a ceiling: it knows the true per-visit probability
and the pair's average visit rate over the whole period, but not *when* the visits happen; visits
cluster in time, and a model that reads recent activity (views yesterday, days since the last
interaction) can rank pairs better than the flat rate does, as the 600k-event demo shows. Only this
report reads the oracle; no model does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lakehouse_ml.metrics import evaluate


def load_truth(oracle_dir: Path) -> pd.DataFrame:
    """Every source's pair truth, with keys namespaced like the Silver keys (`<source>:<id>`)."""
    frames = []
    for path in sorted(oracle_dir.glob("*_pair_truth.parquet")):
        truth = pd.read_parquet(path)
        source = truth["source_system"].astype(str)
        frames.append(
            truth.assign(
                user_id=source + ":" + truth["user_id"].astype(str),
                product_id=source + ":" + truth["product_id"].astype(str),
            )
        )
    if not frames:
        raise FileNotFoundError(f"no generator truth (*_pair_truth.parquet) in {oracle_dir}")
    return pd.concat(frames, ignore_index=True)


def oracle_probability(pairs: pd.DataFrame, truth: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """The generator's probability that each (user_id, product_id) pair converts within the horizon."""
    merged = pairs[["user_id", "product_id"]].merge(
        truth[["user_id", "product_id", "purchase_prob_per_visit", "visits_per_day"]],
        on=["user_id", "product_id"],
        how="left",
    )
    p_visit = merged["purchase_prob_per_visit"].fillna(0.0).to_numpy()
    visits = merged["visits_per_day"].fillna(0.0).to_numpy() * horizon_days
    return 1.0 - (1.0 - p_visit) ** visits


def comparison_table(y_true: np.ndarray, scores: dict[str, np.ndarray], oracle: str = "oracle") -> pd.DataFrame:
    """Metrics of each score on the same rows, and each ROC-AUC as a share of the oracle's."""
    rows = [{"score": name, **evaluate(y_true, prob)} for name, prob in scores.items()]
    table = pd.DataFrame(rows).set_index("score")
    table["share_of_oracle_roc_auc"] = table["roc_auc"] / table.loc[oracle, "roc_auc"]
    return table[["roc_auc", "share_of_oracle_roc_auc", "pr_auc", "log_loss", "brier", "lift_top_decile"]]


def render(table: pd.DataFrame, n_rows: int, positive_rate: float, valid_date: object) -> str:
    lines = [
        f"validation snapshot {valid_date}: {n_rows:,} pairs, {positive_rate:.2%} converted",
        f"{'score':18} {'ROC-AUC':>8} {'/oracle':>8} {'PR-AUC':>8} {'log loss':>9} {'Brier':>8} {'lift@10%':>9}",
    ]
    for name, row in table.iterrows():
        lines.append(
            f"{name!s:18} {row['roc_auc']:8.4f} {row['share_of_oracle_roc_auc']:8.1%} {row['pr_auc']:8.4f} "
            f"{row['log_loss']:9.4f} {row['brier']:8.4f} {row['lift_top_decile']:9.2f}"
        )
    return "\n".join(lines)
