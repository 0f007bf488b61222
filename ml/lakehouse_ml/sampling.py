"""The training and validation pairs, drawn from the feature mart in Spark by a hash of the pair key."""

from __future__ import annotations

import pandas as pd

from lakehouse_ml.features import DRAW_SHARE, FEATURES, KEY_COLUMNS, LABEL, FeatureContractError, split_dates
from lakehouse_ml.transfer import local_spill_dir, to_pandas

DRAW_BUCKETS = 1_000_000


def pair_draw_bucket():
    """The bucket (0 to ``DRAW_BUCKETS`` - 1) of a mart row's pair key by which samples are drawn: a row is
    kept when its bucket is below a threshold. The drift check's training profile
    (ml_feature_training_profile) draws with the same expression in SQL."""
    from pyspark.sql import functions as F

    return F.pmod(F.xxhash64("as_of_date", "user_id", "product_id", F.lit(7)), F.lit(DRAW_BUCKETS))


def collect_training_pairs(
    mart, max_train_rows: int = 0, valid_days: int = 1, max_valid_rows: int = 0, embargo_days: int = 0
) -> pd.DataFrame:
    """The labelled pairs ``run_training`` needs, drawn from the Spark feature mart without collecting it.

    The mart's snapshots are already drawn by user (ml_user_item_feature_snapshots), so "pairs" below are
    the drawn ones; each comes with its ``draw_share``, which weights it in training and in the metrics.
    Only the model's columns are read. When the training snapshots hold
    more than ``max_train_rows`` pairs, a deterministic hash of the pair key keeps about 5% more than that
    share, and ``run_training``'s stratified sample trims it to exactly ``max_train_rows``. The validation snapshots
    (the last ``valid_days`` labelled dates) come whole up to ``max_valid_rows`` pairs (0 = no cap); above
    it the same kind of hash keeps about ``max_valid_rows`` of them, a uniform draw, so the positive rate
    and the metrics estimate those of the whole snapshot (the candidate and the champion are compared on
    the same drawn rows). So the driver receives at most ~1.05 x ``max_train_rows`` + ~``max_valid_rows``
    rows, whatever the mart's size, and the same mart gives the same rows on any cluster layout. On a
    local session the rows come through Parquet files (``to_pandas``), not through the driver's heap.
    The features arrive as float64, the keys in ``to_pandas``'s compact dtypes (Arrow strings, datetime64).
    The training side is purged (``split_dates`` with ``embargo_days``): its snapshots end their label
    window before the first validation snapshot, and the purged ones are not read.
    """
    from pyspark.sql import functions as F

    # the features as the model reads them (float64, ``feature_matrix``), cast where they are read: the
    # mart's decimals would otherwise arrive as one Python Decimal object per value
    labelled = mart.where("is_label_complete").select(
        *KEY_COLUMNS, *(F.col(c).cast("double").alias(c) for c in FEATURES), LABEL, DRAW_SHARE
    )
    # one scan gives the snapshot dates and the pairs per date, i.e. both sides' sizes
    pairs_per_date = dict(labelled.groupBy("as_of_date").count().collect())
    dates = sorted(pairs_per_date)
    last_train, first_valid = split_dates(dates, valid_days, embargo_days)
    if last_train is None:
        raise FeatureContractError(
            f"no labelled snapshot ends its {embargo_days}-day label window before {first_valid:%Y-%m-%d}"
        )
    train = labelled.where(F.col("as_of_date") <= F.lit(last_train.date()))
    valid = labelled.where(F.col("as_of_date") >= F.lit(first_valid.date()))
    bucket = pair_draw_bucket()
    train_dates = [d for d in dates if pd.Timestamp(d) <= last_train]
    available = sum(pairs_per_date[d] for d in train_dates) if max_train_rows > 0 else 0
    if available > max_train_rows > 0:
        keep = int(DRAW_BUCKETS * min(1.0, 1.05 * max_train_rows / available)) + 1
        train = train.where(bucket < keep)
    valid_available = sum(pairs_per_date[d] for d in dates[-valid_days:]) if max_valid_rows > 0 else 0
    if valid_available > max_valid_rows > 0:
        valid = valid.where(bucket < int(DRAW_BUCKETS * max_valid_rows / valid_available) + 1)
    frame = to_pandas(train.unionByName(valid), local_spill_dir(mart.sparkSession), compact=True)
    frame.attrs["n_train_available"] = available
    frame.attrs["n_valid_available"] = valid_available
    return frame
