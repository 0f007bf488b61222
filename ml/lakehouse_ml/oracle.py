"""How far the model is from the best possible: two references computed from the generator's own world.

On generated data the generator knows every visit (a session-item slot) of every (user, product) pair:
its session, when its first event happened and its purchase probability; and the weights by which each
session's day was drawn. Sessions' days are independent draws, a visit buys independently with its
probability, and a pair converts at snapshot T when one of its visits buys within [T, T + horizon).

* **Bayes oracle**: knows the generator's parameters (every visit and its purchase probability, the
  day weights) and what is observable before T (which of the pair's visits happened, and which sessions
  had begun). A visit of a session that began before T but that had not yet happened (a session running
  past midnight) comes within the window; a session that had not begun falls on a day >= T drawn with
  the day weights, so in the window with probability r = w[T, T + h) / w[T, end]. Then
      P(convert) = 1 - prod_pending (1 - p_v) * prod_sessions (1 - r * (1 - prod_visits (1 - p_v))),
  exact for this process: no Monte Carlo is needed. No leakage-free model can do better in expectation
  (it knows a superset of what any model can observe).
* **Clairvoyant bound**: also knows which visits fall inside the window; only the purchase draws are
  unknown: P = 1 - prod_{visits in window} (1 - p_v). The irreducible part.

The label is counted on the purchase event's date; a visit whose purchase comes after midnight of its
first event's day is counted by its first event's day here (rare: sessions last minutes). Pairs and
purchases the generator did not make (hand-written rows) have probability 0. Only the model report reads
these files; no model does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lakehouse_ml.metrics import evaluate

METRICS = ["roc_auc", "pr_auc", "log_loss", "brier", "lift_top_decile"]
# metrics where lower is better: their share of the oracle's is the oracle's divided by the score's
LOWER_IS_BETTER = {"log_loss", "brier"}


def _namespaced(frame: pd.DataFrame) -> pd.DataFrame:
    source = frame["source_system"].astype(str)
    return frame.assign(
        user_id=source + ":" + frame["user_id"].astype(str), product_id=source + ":" + frame["product_id"].astype(str)
    )


def load_truth(oracle_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every source's visit truth (keys namespaced like the Silver keys, `<source>:<id>`, with each visit's
    session start) and day weights."""
    visits, days = [], []
    for path in sorted(Path(oracle_dir).glob("*_visit_truth.parquet")):
        visits.append(_namespaced(pd.read_parquet(path)))
        days.append(pd.read_parquet(path.with_name(path.name.replace("_visit_truth", "_day_weights"))))
    if not visits:
        raise FileNotFoundError(f"no generator truth (*_visit_truth.parquet) in {oracle_dir}")
    truth = pd.concat(visits, ignore_index=True)
    truth["first_event_at"] = pd.to_datetime(truth["first_event_at"])
    truth["session_start"] = truth.groupby(["source_system", "session_index"])["first_event_at"].transform("min")
    weights = pd.concat(days, ignore_index=True)
    weights["day"] = pd.to_datetime(weights["day"])
    return truth, weights


def reference_probabilities(
    pairs: pd.DataFrame, truth: pd.DataFrame, day_weights: pd.DataFrame, horizon_days: int
) -> dict[str, np.ndarray]:
    """The Bayes oracle's and the clairvoyant bound's probability that each (as_of_date, user_id,
    product_id) row of ``pairs`` converts within ``horizon_days`` (see the module docstring)."""
    keys = pairs[["as_of_date", "user_id", "product_id"]].reset_index(drop=True).copy()
    keys["as_of_date"] = pd.to_datetime(keys["as_of_date"])
    keys["row"] = np.arange(len(keys))
    log_none = {"bayes": np.zeros(len(keys)), "clairvoyant": np.zeros(len(keys))}
    horizon = pd.Timedelta(days=horizon_days)
    for as_of, rows in keys.groupby("as_of_date"):
        visits = truth.merge(rows, on=["user_id", "product_id"])
        visits = visits[visits["first_event_at"] >= as_of]
        if visits.empty:
            continue
        in_window = visits["first_event_at"] < as_of + horizon
        # clairvoyant: the visits that fall in the window buy with their probabilities
        clair = np.log1p(-visits["purchase_prob"].where(in_window, 0.0).clip(upper=1 - 1e-12))
        np.add.at(log_none["clairvoyant"], visits["row"].to_numpy(), clair.to_numpy())
        # Bayes: a visit of a session already begun is in the window for sure; a session not begun is
        # in it with the day weights' probability r (per source), all its visits together
        log_no_buy = np.log1p(-visits["purchase_prob"].clip(upper=1 - 1e-12))
        begun = visits["session_start"] < as_of
        np.add.at(log_none["bayes"], visits.loc[begun, "row"].to_numpy(), log_no_buy[begun].to_numpy())
        later = visits[~begun].assign(log_no_buy=log_no_buy[~begun])
        per_session = later.groupby(["row", "source_system", "session_index"], as_index=False)["log_no_buy"].sum()
        r = {}
        for source, weights in day_weights.groupby("source_system"):
            after = weights.loc[weights["day"] >= as_of, "weight"].sum()
            inside = weights.loc[(weights["day"] >= as_of) & (weights["day"] < as_of + horizon), "weight"].sum()
            r[source] = inside / after if after > 0 else 0.0
        session_buys = 1.0 - np.exp(per_session["log_no_buy"].to_numpy())
        reach = per_session["source_system"].map(r).fillna(0.0).to_numpy()
        np.add.at(
            log_none["bayes"], per_session["row"].to_numpy(), np.log1p(-np.minimum(reach * session_buys, 1 - 1e-12))
        )
    return {name: 1.0 - np.exp(values) for name, values in log_none.items()}


def comparison_table(
    y_true: np.ndarray,
    scores: dict[str, np.ndarray],
    reference: str = "bayes_oracle",
    bootstrap: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Each score's metrics on the same rows, each as a share of the ``reference``'s (higher is better for
    every share: for log loss and Brier it is the reference's divided by the score's), with bootstrap 95%
    intervals: every resample draws the same rows for every score, so the intervals of the shares hold
    the scores' correlation."""
    y_true = np.asarray(y_true).astype(int)
    rng = np.random.default_rng(seed)
    point = {name: evaluate(y_true, prob) for name, prob in scores.items()}
    draws: dict[str, list[dict[str, float]]] = {name: [] for name in scores}
    for _ in range(bootstrap):
        idx = rng.integers(0, len(y_true), len(y_true))
        for name, prob in scores.items():
            draws[name].append(evaluate(y_true[idx], np.asarray(prob)[idx]))
    rows = []
    for name in scores:
        row: dict[str, object] = {"score": name}
        for metric in METRICS:
            value, ref = point[name][metric], point[reference][metric]
            sampled = np.array([d[metric] for d in draws[name]])
            ref_sampled = np.array([d[metric] for d in draws[reference]])
            if metric in LOWER_IS_BETTER:
                share, shares = ref / value, ref_sampled / sampled
            else:
                share, shares = value / ref, sampled / ref_sampled
            row[metric] = value
            row[f"{metric}_low"], row[f"{metric}_high"] = _interval(sampled)
            row[f"{metric}_share"] = share
            row[f"{metric}_share_low"], row[f"{metric}_share_high"] = _interval(shares)
        rows.append(row)
    return pd.DataFrame(rows).set_index("score")


def _interval(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def render(table: pd.DataFrame, n_rows: int, positive_rate: float, valid_date: object) -> str:
    """The table as text: each metric with its 95% interval, and its share of the Bayes oracle's."""
    names = {
        "roc_auc": "ROC-AUC",
        "pr_auc": "PR-AUC",
        "log_loss": "log loss",
        "brier": "Brier",
        "lift_top_decile": "lift@10%",
    }
    lines = [
        f"validation snapshot {valid_date}: {n_rows:,} pairs, {positive_rate:.2%} converted; "
        "[95% bootstrap interval]; share = of the Bayes oracle's (for log loss and Brier: the oracle's / the score's)",
        f"{'score':20} " + " ".join(f"{names[m]:>28}" for m in METRICS),
    ]
    for name, row in table.iterrows():
        cells = [f"{row[m]:.4f} [{row[m + '_low']:.4f}, {row[m + '_high']:.4f}]" for m in METRICS]
        lines.append(f"{name!s:20} " + " ".join(f"{c:>28}" for c in cells))
        shares = [
            f"{row[m + '_share']:.1%} [{row[m + '_share_low']:.1%}, {row[m + '_share_high']:.1%}]" for m in METRICS
        ]
        lines.append(f"{'  share':20} " + " ".join(f"{c:>28}" for c in shares))
    return "\n".join(lines)
