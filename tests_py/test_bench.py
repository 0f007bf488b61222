"""The bench's own helpers (the bench itself runs on demand: `make bench`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lakehouse.pipeline_bench import _hold_back_last_day


def test_the_held_back_day_takes_the_files_of_later_days_with_it(tmp_path: Path) -> None:
    """The day that lands after the full build is the newest: the next day's file (sessions that ran past
    the last midnight) goes with it, and a re-delivery of an older day stays."""
    landing, held = tmp_path / "landing", tmp_path / "held"
    files = [
        "rees46/rees46_events_2019-10-30.csv",
        "rees46/rees46_events_2019-10-31.csv",
        "rees46/rees46_events_2019-11-01.csv",
        "retailrocket/events_2019-11-01.csv",
        "retailrocket/item_properties.csv",
        "retailrocket/redelivery/events_2019-10-31.csv",
        "catalog/products_2019-10-30.jsonl",
        "catalog/products_2019-10-31.jsonl",
    ]
    for name in files:
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_text(name)

    moved = _hold_back_last_day(landing, held, dt.date(2019, 10, 31))

    assert sorted(str(p.relative_to(held)) for p in moved) == [
        "catalog/products_2019-10-31.jsonl",
        "rees46/rees46_events_2019-10-31.csv",
        "rees46/rees46_events_2019-11-01.csv",
        "retailrocket/events_2019-11-01.csv",
    ]
    assert all(p.read_text() == str(p.relative_to(held)) for p in moved)  # moved whole
    left = sorted(str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file())
    assert left == [
        "catalog/products_2019-10-30.jsonl",
        "rees46/rees46_events_2019-10-30.csv",
        "retailrocket/item_properties.csv",
        "retailrocket/redelivery/events_2019-10-31.csv",
    ]
