"""The bench's own helpers (the bench itself runs on demand: `make bench`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lakehouse.bench.pipeline import _hold_back_last_day


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


def _result(events: int, full: float, processor: str = "Test CPU 9000", measured: str = "2026-12-01") -> dict:
    """A bench result with every field the report reads (``run_one`` plus ``machine_facts``)."""
    layers = dict.fromkeys(("bronze", "silver", "gold", "features", "training", "scoring"), full / 6)
    memory = {
        "tree_peak_mib": 6000.0,
        "tree_peak_node": "model.ecommerce_lakehouse.fct_events",
        "python_peak_mib": 1000.0,
        "python_peak_node": "model.ecommerce_lakehouse.ml_conversion_training_runs",
        "jvm_peak_mib": 4000.0,
        "jvm_peak_node": "model.ecommerce_lakehouse.fct_events",
    }
    return {
        "events_requested": events,
        "events_generated": events + 17,
        "generate_seconds": 5.0,
        "floor_seconds": 10.0,
        "full_build_seconds": full,
        "daily_build_seconds": full / 4,
        "full_layers": layers,
        "daily_layers": layers,
        "full_build_ok": True,
        "daily_build_ok": True,
        "full_memory": memory,
        "daily_memory": {**memory, "tree_peak_mib": 9000.0},
        "sizes_mib": {"bronze": 30.0, "ml": 80.0},
        "labelled_pairs": 1234,
        "pandas_seconds": 3.0,
        "pandas_read_seconds": 1.0,
        "pandas_peak_rss_mib": 400.0,
        "python_peak_rss_mib": 2048.0,
        "jvm_peak_rss_mib": 4096.0,
        "processor": processor,
        "cores": 2,
        "mem_gib": 24,
        "commit": "abc1234",
        "measured": measured,
        "command": f"lakehouse bench --sizes {events} --days 30",
    }


def _targets(text: str) -> dict[str, str]:
    """The targets table's rows of a report, by figure."""
    return {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if " | <= " in line}


def test_the_report_is_written_whole_from_the_kept_results(tmp_path: Path) -> None:
    from lakehouse.bench import report

    kept = tmp_path / "results"
    ten = {**_result(10_000_000, 1800.0), "daily_slowest": [["fct_sessions", 120.4], ["dim_users", 60.0]]}
    report.save(kept, [_result(1_000_000, 300.0), ten])
    assert (
        "| - | not run |"
        in _targets(report.render(report.load(kept)))["a month: 42.4M events over 31 days, full build"]
    )
    report.save(kept, [_result(42_400_000, 2700.0)])
    # a second run of one size on the same machine replaces its file; another machine's run is kept beside it
    report.save(kept, [_result(1_000_000, 200.0, measured="2026-12-02")])
    report.save(kept, [_result(1_000_000, 500.0, processor="Other CPU", measured="2026-11-30")])
    assert len(list(kept.glob("*.json"))) == 4
    text = report.render(report.load(kept))

    rows = [line for line in text.splitlines() if line.startswith("| 1,000,017") or line.startswith("| 10,000,017")]
    assert len(rows) == 3 and sum("abc1234" in row for row in rows) == 3
    targets = _targets(text)
    # the newest 1M run (200 s over a 10 s floor), the 10M run (1,800 s; its daily build 450 s)
    assert "20.0x (200 s, floor 10 s)" in targets["full build, 1M events"]
    assert "180.0x (1,800 s" in targets["full build, 10M events"]
    assert "45.0x (450 s" in targets["daily build, 10M events"]
    assert "80 MiB" in targets["ml schema on disk, 1M events"]
    assert "9.4 GB at most" in targets["whole-run memory, sampled"]  # 9,000 MiB
    # the month: its full build in minutes (2,700 s) and its run's sampled peak
    assert "45.0 min, run 9.4 GB at most" in targets["a month: 42.4M events over 31 days, full build"]
    assert "Test CPU 9000 (2, 24 GiB)" in text and "Other CPU (2, 24 GiB)" in text
    # the slowest nodes of a build, where the result has them
    assert text.count("daily build's slowest nodes fct_sessions 120s, dim_users 60s") == 1
    assert "full build's slowest nodes" not in text


def test_the_slowest_nodes_come_longest_first_by_name(tmp_path: Path) -> None:
    import json

    from lakehouse.bench.pipeline import slowest_nodes

    results = [
        {"unique_id": "model.p.fct_events", "execution_time": 12.34},
        {"unique_id": "test.p.not_null_fct_events_event_id.abc", "execution_time": 0.5},
        {"unique_id": "model.p.dim_users", "execution_time": 40.0},
        {"unique_id": "operation.p.p-on-run-end-0", "execution_time": None},
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    assert slowest_nodes(tmp_path / "run_results.json", count=3) == [
        ["dim_users", 40.0],
        ["fct_events", 12.3],
        ["not_null_fct_events_event_id", 0.5],
    ]


def test_benchmarks_md_is_the_report_of_the_kept_results() -> None:
    """Nothing in BENCHMARKS.md is written by hand: it is what the bench writes from its result files."""
    from lakehouse.bench import report

    root = Path(__file__).resolve().parents[1]
    assert (root / "BENCHMARKS.md").read_text() == report.render(report.load(root / report.RESULTS))
