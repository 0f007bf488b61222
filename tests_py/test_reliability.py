"""Faults and bad input: `lakehouse reliability` runs every scenario on small data in its own lakehouse
(a subprocess, so it can also kill a run) and must account for every row."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse import reliability

ISSUE_SCENARIOS = {
    "malformed CSV lines",
    "truncated last line",
    "CRLF and UTF-8 BOM",
    "empty file",
    "corrupted gzip",
    "missing required column",
    "unexpected extra column",
    "renamed column",
    "wrong types",
    "unknown event types",
    "null keys",
    "zero and negative prices",
    "future and pre-opening timestamps",
    "duplicate events",
    "duplicate file (re-delivered)",
    "rerun on the same landing data",
    "second run while one is running",
    "failing critical test (quarantine share over limit)",
    "run killed mid-model (SIGKILL), then rerun",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    work = tmp_path_factory.mktemp("reliability")
    out = work / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli", "reliability", "--work-dir", str(work / "run"), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert out.exists(), f"no report (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    rows = {r["scenario"]: r for r in json.loads(out.read_text())}
    rows["_exit"] = {"code": done.returncode, "stdout": done.stdout}
    return rows


def test_every_scenario_of_the_issue_is_run_and_ends_as_expected(report: dict[str, dict]) -> None:
    assert set(report) >= ISSUE_SCENARIOS
    failed = {k: v["outcome"] for k, v in report.items() if k != "_exit" and not v["passed"]}
    assert failed == {}
    assert report["_exit"]["code"] == 0
    assert "rows lost: 0" in report["_exit"]["stdout"]


def test_no_row_is_lost_in_any_scenario(report: dict[str, dict]) -> None:
    for name, row in report.items():
        if name == "_exit" or row["rows_in"] is None:
            continue
        assert row["rows_lost"] == 0, name
        assert row["rows_in"] == row["rows_in_silver"] + row["rows_quarantined"] + row["duplicates_removed"], name


def test_bad_files_have_a_clear_one_line_outcome(report: dict[str, dict]) -> None:
    corrupt = report["corrupted gzip"]["outcome"]
    assert "corrupt gzip" in corrupt and "\n" not in corrupt
    assert "empty file" in report["empty file"]["outcome"]
    assert "missing_required_column" in report["missing required column"]["outcome"]
    assert "extra_columns" in report["unexpected extra column"]["outcome"]
    assert report["renamed column"]["rows_in_silver"] == 2
    assert report["reordered columns"]["rows_in_silver"] == 2
    assert "refused" in report["second run while one is running"]["outcome"]
    assert "SIGKILL during" in report["run killed mid-model (SIGKILL), then rerun"]["outcome"]


def test_rows_in_are_counted_from_the_bytes() -> None:
    """The report's own line count: header left out, CRLF and BOM read, a corrupted gzip unreadable."""
    assert reliability.rows_in(b"\xef\xbb\xbfevent_time,event_type\r\na,1\r\nb,2\r\n", "x.csv") == 2
    assert reliability.rows_in(gzip.compress(b"h,h\n1,2\n"), "x.csv.gz") == 1
    assert reliability.rows_in(gzip.compress(b"h,h\n1,2\n" * 500)[:40], "x.csv.gz") is None
    assert reliability.rows_in(b"", "x.csv") == 0


def test_file_register_reads_headers_and_rejects_a_corrupt_gzip(tmp_path: Path) -> None:
    """The Bronze file register's inspection, on files written here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "brz_landing_files", Path(__file__).parents[1] / "python_models/bronze/brz_landing_files.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    (tmp_path / "web").mkdir()
    good = tmp_path / "web" / "a.csv"
    good.write_bytes(b'\xef\xbb\xbf"Event Time",productId,user_id,user_id\r\n2019-10-01,1,2,3\r\n')
    info = module.inspect_file(str(good))
    assert info["status"] == "ok" and info["has_bom"]
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
