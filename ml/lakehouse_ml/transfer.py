"""Spark to pandas: a local session hands results over as Parquet files, in compact dtypes."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pandas as pd


def local_spill_dir(spark) -> str | None:
    """Where a local Spark session can hand a result to this Python process as files, or None.

    Only a ``local[...]`` master outside Databricks qualifies: there Spark's tasks and this process share
    one file system. On a Databricks cluster (single-node ones run a local master too) results travel the
    usual way, through the driver, which is sized for it.
    """
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return None
    try:
        master = spark.conf.get("spark.master", "")
    except Exception:  # Spark Connect sessions do not expose it
        return None
    if not str(master).startswith("local"):
        return None
    return os.environ.get("LAKEHOUSE_SPILL_DIR") or tempfile.gettempdir()


def to_pandas(sdf, spill_dir: str | None = None, compact: bool = False) -> pd.DataFrame:
    """A Spark DataFrame as pandas; through Parquet files in ``spill_dir`` when one is given.

    ``toPandas`` gathers every Arrow batch in the driver JVM's heap before Python sees any: a million
    sampled pairs with their validation snapshot ran a 4 GiB local driver out of heap (and Spark then
    hung). Written as Parquet by the tasks and read back with pyarrow, the rows never enter the JVM heap;
    the frame is the same (columns, order of columns, dtypes). The folder is removed afterwards.

    ``compact``: strings arrive as Arrow-backed strings (``string[pyarrow]``) and dates as ``datetime64``,
    not as one Python object per value (about 60 bytes each instead of a few), on either route; the values
    and their order are the same.
    """
    if spill_dir is None:
        frame = sdf.toPandas()
        return _compact(frame) if compact else frame
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(spill_dir) / f"lakehouse-collect-{uuid.uuid4().hex}"
    try:
        sdf.write.mode("overwrite").parquet(folder.as_uri())
        table = pq.read_table(folder).select(sdf.columns)  # the part files; _SUCCESS and .crc are skipped
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not compact:
        return table.to_pandas()
    arrow_strings = pd.StringDtype("pyarrow")
    # self_destruct frees each Arrow column once converted, so the table and the frame are not both whole
    return table.to_pandas(
        types_mapper={pa.string(): arrow_strings, pa.large_string(): arrow_strings}.get,
        date_as_object=False,
        split_blocks=True,
        self_destruct=True,
    )


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """``to_pandas``'s compact dtypes for a frame that came through ``toPandas``."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        first = column.dropna().head(1)
        if first.empty:
            continue
        value = first.iloc[0]
        if isinstance(value, str):
            frame[name] = column.astype(pd.StringDtype("pyarrow"))
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            frame[name] = pd.to_datetime(column).astype("datetime64[ms]")  # as pyarrow gives dates
    return frame
