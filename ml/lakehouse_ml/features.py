"""The feature contract between the Gold feature mart and the model."""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY_COLUMNS = ["as_of_date", "user_id", "product_id"]
LABEL = "converted"
# the share of its stratum a mart row's draw kept: the row stands for 1 / DRAW_SHARE candidate pairs. Never
# a feature: the draw keeps the converters, so it depends on the label window
DRAW_SHARE = "draw_share"
# the seed project's three features, recomputed from the past only: the baseline's inputs
BASELINE_FEATURES = ["interaction_score", "funnel_depth", "engagement_score"]
FEATURES = [
    *BASELINE_FEATURES,
    "views_30d",
    "views_7d",
    "views_1d",
    "carts_30d",
    "removes_30d",
    "purchases_30d",
    "sessions_with_item_30d",
    "days_since_last_interaction",
    "active_days_30d",
    "hours_since_last_view",
    "last_interaction_hour",
    "as_of_weekday",
    "user_category_views_30d",
    "user_category_share_30d",
    "price_to_category_median",
    "user_views_30d",
    "user_carts_30d",
    "user_purchases_30d",
    "user_products_30d",
    "user_conversion_rate_30d",
    "product_users_30d",
    "product_views_30d",
    "product_purchases_30d",
    "product_conversion_rate_30d",
]


class FeatureContractError(ValueError):
    """The feature table does not hold what the model needs."""


def check_contract(frame: pd.DataFrame, with_label: bool = True) -> None:
    """Raise a one-line error naming the missing columns."""
    needed = KEY_COLUMNS + FEATURES + ([LABEL] if with_label else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise FeatureContractError(f"feature table lacks columns: {', '.join(missing)}")


def usable_features(frame: pd.DataFrame, columns: list[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The features that carry information in ``frame`` (the training pairs), and why each other one is
    left out of the fit: null in every pair (e.g. prices, when a source delivers none) or the same value
    in every pair. A value and nulls are two values: missingness is information the model uses."""
    kept: list[str] = []
    left_out: dict[str, str] = {}
    for name in columns or FEATURES:
        column = frame[name]
        if column.notna().sum() == 0:
            left_out[name] = "null in every training pair"
        elif column.nunique(dropna=False) <= 1:
            left_out[name] = f"the same value ({column.iloc[0]:g}) in every training pair"
        else:
            kept.append(name)
    return kept, left_out


def pair_weights(frame: pd.DataFrame) -> np.ndarray:
    """The candidate pairs each row stands for (1 / ``draw_share``), scaled to a mean of 1 so that the
    model's regularisation keeps its scale; ones when the frame carries no draw (every pair kept)."""
    if DRAW_SHARE not in frame.columns or len(frame) == 0:
        return np.ones(len(frame))
    weight = 1.0 / frame[DRAW_SHARE].fillna(1.0).to_numpy(dtype=float)
    return weight / weight.mean()


def feature_matrix(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """The model inputs as float64 (nulls stay NaN: the gradient boosting model handles them)."""
    # the column selection is a new frame already: no second copy when the columns are float64
    return frame[columns or FEATURES].astype("float64", copy=False)


def split_dates(dates: list, valid_days: int = 1, embargo_days: int = 0) -> tuple[pd.Timestamp | None, pd.Timestamp]:
    """The last training snapshot date and the first validation one, from the labelled snapshot dates.

    Validation is the last ``valid_days`` dates. Training is purged: a snapshot whose label window
    [as_of_date, as_of_date + ``embargo_days``) reaches the first validation date is dropped, so no
    training label counts a purchase on a day that validation's snapshots look at. ``embargo_days`` is
    the label horizon. The first element is None when no training date is left.
    """
    ordered = sorted(pd.to_datetime(pd.Series(list(dates))).unique())
    if len(ordered) < valid_days + 1:
        raise FeatureContractError(
            f"need at least {valid_days + 1} labelled snapshot dates for a time split, got {len(ordered)}"
        )
    first_valid = pd.Timestamp(ordered[-valid_days])
    last_train = first_valid - pd.Timedelta(days=max(embargo_days, 1))
    earlier = [pd.Timestamp(d) for d in ordered[:-valid_days] if pd.Timestamp(d) <= last_train]
    return (earlier[-1] if earlier else None), first_valid


def time_split(frame: pd.DataFrame, valid_days: int = 1, embargo_days: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on earlier snapshots, validate on the last ``valid_days`` snapshot dates (no shuffling),
    with the training snapshots whose label window reaches validation dropped (``split_dates``)."""
    as_of = pd.to_datetime(frame["as_of_date"])
    last_train, first_valid = split_dates(as_of.unique(), valid_days, embargo_days)
    if last_train is None:
        raise FeatureContractError(
            f"no training snapshot ends its {embargo_days}-day label window before the validation snapshot "
            f"{first_valid:%Y-%m-%d} (more days of data are needed)"
        )
    # boolean selection makes new frames already (a .copy() on top held a third copy at the peak)
    return frame[as_of <= last_train], frame[as_of >= first_valid]


def stratified_sample(frame: pd.DataFrame, max_rows: int, seed: int = 7) -> pd.DataFrame:
    """At most ``max_rows`` rows, the same share drawn from every (snapshot, label) stratum.

    The positive rate and the mix of snapshot dates are kept; rows keep their order. Returns ``frame``
    itself when it is small enough.
    """
    if max_rows <= 0 or len(frame) <= max_rows:
        return frame
    share = max_rows / len(frame)
    # the draw needs only the strata's two columns (the same rows as drawing from the whole frame); the
    # whole frame is copied once, for the rows kept
    strata = frame[["as_of_date", LABEL]]
    keep = strata.groupby(["as_of_date", LABEL], group_keys=False, sort=False).sample(frac=share, random_state=seed)
    return frame.loc[frame.index.isin(keep.index)]
