"""How far the model is from the best possible: two references computed from the generator's own world.

The generator draws a fixed number of visits (session-item slots): each goes to a user by activity and
to a product from the user's consideration set or by popularity, its session's day by the day weights,
and it buys with a probability of its pair and kind. For every (user, product) pair that had a visit it
records the process' own parameters: the visits of each kind the pair expects over the period and each
kind's purchase probability; and every visit that happened (its first event's time, its probability).

* **Bayes oracle**: knows those parameters and treats the visits as independent draws given them, so
  what happened before the snapshot adds nothing. (Not quite: the generator fixes each user's number of
  visits, so a user seen in the past has fewer left; on generated data this oracle predicts about 13%
  more purchases than happen. Conditioning on the past is the next step.) A user's visits come in
  sessions (a new one after each visit with probability b, so of geometric length), each on a day drawn
  by the day weights; a session's visit is
  the pair's of a kind with the kind's share of the user's visits (pi) and buys with its probability.
  With S = the user's expected visits * b sessions over the period, W the day weights' share of the
  window [T, T + h) and x = 1 - sum_kind pi * p the chance that one visit is no purchase of the pair:
      P(convert) = 1 - exp(-S * W * (1 - E[x^L])),   E[x^L] = b * x / (1 - (1 - b) * x),
  sessions in the window being Poisson.
* **Clairvoyant bound**: also knows which visits fall inside the window; only the purchase draws are
  unknown: P = 1 - prod_{visits in window} (1 - p_v). The irreducible part.

The label is counted on the purchase event's date; a visit is placed on its first event's day (a
purchase after midnight of it is rare: sessions last minutes). Pairs the generator did not make
(hand-written rows) have probability 0. Only the model report reads these files; no model does.
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


def load_truth(oracle_dir: Path) -> dict[str, pd.DataFrame]:
    """Every source's truth, keys namespaced like the Silver keys (`<source>:<id>`): ``visits``,
    ``rates`` (per pair) and ``days`` (the day weights)."""
    parts: dict[str, list[pd.DataFrame]] = {"visits": [], "rates": [], "days": []}
    for path in sorted(Path(oracle_dir).glob("*_visit_truth.parquet")):
        parts["visits"].append(_namespaced(pd.read_parquet(path)))
        parts["rates"].append(
            _namespaced(pd.read_parquet(path.with_name(path.name.replace("visit_truth", "pair_rates"))))
        )
        parts["days"].append(pd.read_parquet(path.with_name(path.name.replace("visit_truth", "day_weights"))))
    if not parts["visits"]:
        raise FileNotFoundError(f"no generator truth (*_visit_truth.parquet) in {oracle_dir}")
    truth = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    truth["visits"]["first_event_at"] = pd.to_datetime(truth["visits"]["first_event_at"])
    truth["days"]["day"] = pd.to_datetime(truth["days"]["day"])
    return truth


def reference_probabilities(
    pairs: pd.DataFrame, truth: dict[str, pd.DataFrame], horizon_days: int
) -> dict[str, np.ndarray]:
    """The Bayes oracle's and the clairvoyant bound's probability that each (as_of_date, user_id,
    product_id) row of ``pairs`` converts within ``horizon_days`` (see the module docstring)."""
    keys = pairs[["as_of_date", "user_id", "product_id"]].reset_index(drop=True).copy()
    keys["as_of_date"] = pd.to_datetime(keys["as_of_date"])
    keys["row"] = np.arange(len(keys))
    bayes = np.zeros(len(keys))
    log_none = np.zeros(len(keys))
    horizon = pd.Timedelta(days=horizon_days)
    days = truth["days"]
    for as_of, rows in keys.groupby("as_of_date"):
        in_window = (days["day"] >= as_of) & (days["day"] < as_of + horizon)
        share = days[in_window].groupby("source_system")["weight"].sum()
        rated = truth["rates"].merge(rows, on=["user_id", "product_id"])
        visits = rated["user_visits_expected"]
        b = rated["session_break_prob"]
        x = (
            1.0
            - (
                rated["revisits_expected"] * rated["revisit_purchase_prob"]
                + rated["browses_expected"] * rated["browse_purchase_prob"]
            )
            / visits
        )
        none_in_session = b * x / (1.0 - (1.0 - b) * x)
        sessions_in_window = visits * b * rated["source_system"].map(share).fillna(0.0)
        bayes[rated["row"].to_numpy()] = 1.0 - np.exp(-(sessions_in_window * (1.0 - none_in_session)).to_numpy())
        visits = truth["visits"].merge(rows, on=["user_id", "product_id"])
        visits = visits[(visits["first_event_at"] >= as_of) & (visits["first_event_at"] < as_of + horizon)]
        no_buy = np.log1p(-visits["purchase_prob"].clip(upper=1 - 1e-12)).to_numpy()
        np.add.at(log_none, visits["row"].to_numpy(), no_buy)
    return {"bayes": bayes, "clairvoyant": 1.0 - np.exp(log_none)}


def comparison_table(
    y_true: np.ndarray,
    scores: dict[str, np.ndarray],
    reference: str = "bayes_oracle",
    bootstrap: int = 200,
    seed: int = 0,
    weight: np.ndarray | None = None,
) -> pd.DataFrame:
    """Each score's metrics on the same rows, each as a share of the ``reference``'s (higher is better for
    every share: for log loss and Brier it is the reference's divided by the score's), with bootstrap 95%
    intervals: every resample draws the same rows for every score, so the intervals of the shares hold
    the scores' correlation. ``weight``: the pairs each row stands for (a drawn snapshot), resampled with
    its row."""
    y_true = np.asarray(y_true).astype(int)
    w = np.ones(len(y_true)) if weight is None else np.asarray(weight, dtype=float)
    rng = np.random.default_rng(seed)
    point = {name: evaluate(y_true, prob, w) for name, prob in scores.items()}
    draws: dict[str, list[dict[str, float]]] = {name: [] for name in scores}
    for _ in range(bootstrap):
        idx = rng.integers(0, len(y_true), len(y_true))
        for name, prob in scores.items():
            draws[name].append(evaluate(y_true[idx], np.asarray(prob)[idx], w[idx]))
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
        f"validation snapshot {valid_date}: {n_rows:,} pairs drawn, {positive_rate:.2%} of the pairs they stand "
        "for converted; "
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
