"""Faults and bad input: the reliability scenarios (lakehouse.ops.reliability, the definitions `lakehouse
reliability` runs) as assertions on the shared lakehouse, whose first drop carries every scenario's file;
the fault scenarios on the smallest selection that proves each."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from lakehouse.ops import reliability

pytestmark = pytest.mark.dbt

ISSUE_SCENARIOS = {
    "malformed CSV lines",
    "truncated last line",
    "CRLF and UTF-8 BOM",
    "empty file",
    "corrupted gzip",
    "missing required column",
    "unexpected extra column",
    "renamed column",
    "reordered columns",
    "wrong types",
    "unknown event types",
    "null keys",
    "zero and negative prices",
    "future and pre-opening timestamps",
    "duplicate events",
    "bytes that are not UTF-8",
    "field over the length limit",
    "another delimiter",
    "unknown app event type",
}


@pytest.fixture(scope="module")
def bad_input(spark, lakehouse) -> dict[str, reliability.ReportRow]:  # type: ignore[no-untyped-def]
    return {row.scenario: row for row in reliability.check_bad_input(spark, lakehouse.scenarios)}


def test_every_bad_input_scenario_ends_as_expected(bad_input) -> None:  # type: ignore[no-untyped-def]
    assert set(bad_input) == ISSUE_SCENARIOS
    assert {name: row.outcome for name, row in bad_input.items() if not row.passed} == {}


def test_no_row_of_any_scenario_is_lost(bad_input) -> None:  # type: ignore[no-untyped-def]
    for name, row in bad_input.items():
        if row.rows_in is None:
            continue
        assert row.rows_lost == 0, name
        if row.scenario != "another delimiter":  # a rejected file: on record, not read
            assert row.rows_in == row.rows_in_silver + row.rows_quarantined + row.duplicates_removed, name


def test_bad_files_have_a_clear_one_line_outcome(bad_input) -> None:  # type: ignore[no-untyped-def]
    corrupt = bad_input["corrupted gzip"].outcome
    assert "corrupt gzip" in corrupt and "\n" not in corrupt
    assert "delimiter ';'" in bad_input["another delimiter"].outcome
    assert "empty file" in bad_input["empty file"].outcome
    assert bad_input["missing required column"].outcome == "2 quarantined as missing_required_column"
    assert "extra_columns" in bad_input["unexpected extra column"].outcome
    assert bad_input["zero and negative prices"].outcome == "2 kept with the price unknown"
    assert bad_input["bytes that are not UTF-8"].outcome == (
        "2 quarantined as invalid_encoding; delivered bytes kept in raw_bytes"
    )
    assert bad_input["renamed column"].rows_in_silver == 2
    assert bad_input["reordered columns"].rows_in_silver == 2


def test_a_redelivered_file_adds_nothing(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    copy = lakehouse.second_drop["copy"]
    lines = spark.table("bronze.brz_rees46__events").where(f"source_file_name = '{copy.name}'")
    assert lines.count() == lakehouse.second_drop["copy_lines"]  # the first copy's lines, once
    assert lines.where(f"source_file_path like '%{copy.parent.name}%'").count() == 0


def test_a_failing_critical_gate_stops_what_is_downstream(lakehouse) -> None:  # type: ignore[no-untyped-def]
    gate = lakehouse.gate
    assert gate["assert_quarantine_share_within_limit"] == "fail"
    assert gate["int_events_validated"] == gate["fct_events"] == "skipped"


def test_a_run_killed_mid_model_recovers_on_rerun(own_data) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL while dbt writes silver.int_events_ranked (a selection of the file register, Bronze's event
    tables and the Silver models up to it); the rerun leaves every table it builds equal to the clean build
    of the same files."""
    own_data["worker"].join(timeout=900)
    ok, outcome = own_data["recovery"]["result"]
    assert ok, outcome
    assert outcome.startswith(f"SIGKILL during {reliability.KILL_AT}")


def test_rows_in_are_counted_from_the_bytes() -> None:
    """The report's own line count: header left out, CRLF and BOM read, a corrupted gzip unreadable."""
    assert reliability.rows_in(b"\xef\xbb\xbfevent_time,event_type\r\na,1\r\nb,2\r\n", "x.csv") == 2
    assert reliability.rows_in(gzip.compress(b"h,h\n1,2\n"), "x.csv.gz") == 1
    assert reliability.rows_in(gzip.compress(b"h,h\n1,2\n" * 500)[:40], "x.csv.gz") is None
    assert reliability.rows_in(b"", "x.csv") == 0


def _register_module():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "brz_landing_files", Path(__file__).parents[1] / "python_models/bronze/brz_landing_files.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_file_register_reads_headers_and_rejects_what_it_cannot_read(tmp_path: Path) -> None:
    """The Bronze file register's inspection, on files written here."""
    module = _register_module()
    (tmp_path / "web").mkdir()
    good = tmp_path / "web" / "a.csv"
    good.write_bytes(b'\xef\xbb\xbf"Event Time",productId,user_id,user_id\r\n2019-10-01,1,2,3\r\n')
    info = module.inspect_file(str(good))
    assert info["status"] == "ok" and info["has_bom"] and info["delimiter"] == ","
    assert info["header_columns"] == ["event_time", "productid", "user_id", "user_id_2"]
    assert info["header_line"].startswith('"Event')
    bad = tmp_path / "web" / "b.csv.gz"
    bad.write_bytes(gzip.compress(b"h\n" + b"1\n" * 100_000)[:200])
    info = module.inspect_file(str(bad))
    assert info["status"] == "rejected" and info["problem"].startswith("corrupt gzip:")
    (tmp_path / "web" / "c.csv").write_bytes(b"")
    assert module.inspect_file(str(tmp_path / "web" / "c.csv"))["status"] == "empty"
    headerless = tmp_path / "web" / "d.csv"
    headerless.write_bytes(b"2019-10-01 00:00:00 UTC,view,1\n")
    assert module.inspect_file(str(headerless))["header_columns"] is None
    (tmp_path / "web" / ".hidden.csv").write_bytes(b"x")
    assert [p for _, p in module.landing_files(str(tmp_path))] == [
        str(good),
        str(bad),
        str(tmp_path / "web/c.csv"),
        str(headerless),
    ]


@pytest.mark.parametrize(
    ("header", "configured", "status", "found"),
    [
        ("event_time;event_type;product_id", ",", "rejected", ";"),
        ("event_time\tevent_type\tproduct_id", ",", "rejected", "\t"),
        ("event_time|event_type|product_id", ",", "rejected", "|"),
        ("event_time;event_type;product_id", ";", "ok", ";"),
        ("event_time,event_type,product_id", ",", "ok", ","),
    ],
)
def test_file_register_recognises_the_delimiter_of_a_header(  # type: ignore[no-untyped-def]
    tmp_path: Path, header: str, configured: str, status: str, found: str
) -> None:
    module = _register_module()
    path = tmp_path / "f.csv"
    path.write_text(header + "\n2019-10-01 00:00:00 UTC;view;1\n")
    info = module.inspect_file(str(path), configured)
    assert (info["status"], info["delimiter"]) == (status, found)
    assert info["header_columns"] == (
        ["event_time", "event_type", "product_id"] if status == "ok" else info["header_columns"]
    )
    if status == "rejected":
        name = {";": "';'", "\t": "tab", "|": "'|'"}[found]
        assert info["problem"].startswith(f"delimiter {name}: ") and "csv_delimiters" in info["problem"]
