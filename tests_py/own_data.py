"""Own-data scenarios: the README's "Your own data" steps, literally, in a fresh lakehouse home each.

Each scenario writes files in the public layouts (``realshaped``) into ``<home>/landing/<source>/``, as
the README says, then runs ``lakehouse demo`` (the command ``make demo`` runs) with the vars the README
names for it, and keeps what the tests check: the exit code and output, the pages, and the tables a
test reads, as pandas. The scenarios run in the test process one after another, each in its own home,
so one JVM serves them all (a warm JVM builds about 40% faster than a new one); ``run_in_home`` puts the
test session's own home back afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import realshaped as rs

# a scenario's files: (folder under landing/, file name, header, lines, encoding)
FileSpec = tuple[str, str, str, list[str], str]


@dataclass
class Scenario:
    name: str
    files: list[FileSpec]
    vars: str | None = None  # the dbt vars the README tells this user to pass
    encoding: str = "utf-8"  # the encoding the user's event files are in


@dataclass
class ScenarioRun:
    scenario: Scenario
    home: Path
    exit_code: int
    output: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    fingerprints: dict[str, tuple[int, int]] = field(default_factory=dict)
    seconds: float = 0.0  # the demo's wall time

    def landed(self, folder: str, pattern: str = "*.csv") -> list[Path]:
        base = self.home / "landing" / folder
        return sorted(base.glob(pattern)) if base.exists() else []


def _web_lines_cp1252() -> list[str]:
    """A month's web shop rows whose brands are written in cp1252 (`café`, `müller`), one brand with `€`."""
    lines = rs.rees46_lines(3, dt.date(2019, 10, 1), 21)
    out = [line.replace(",samsung,", ",café,").replace(",bosch,", ",müller,") for line in lines]
    euro = next(i for i, line in enumerate(out) if ",xiaomi," in line)
    out[euro] = out[euro].replace(",xiaomi,", ",€co,")
    return out


def scenarios() -> list[Scenario]:
    """Each shape the README promises to take, in as few builds as do not interfere."""
    web = _web_lines_cp1252()
    long_brand = web[1].split(",")
    long_brand[5] = "x" * 1_000_000
    return [
        Scenario(
            # no retailrocket/ and no catalog/ folder; a file with another delimiter, one with an overlong field
            "web shop only, cp1252",
            [
                ("rees46", "2019-Oct.csv", rs.REES46_HEADER, web, "cp1252"),
                (
                    "rees46",
                    "2019-Oct-semicolons.csv",
                    rs.REES46_HEADER.replace(",", ";"),
                    [web[0].replace(",", ";")],
                    "cp1252",
                ),
                ("rees46", "2019-Oct-long.csv", rs.REES46_HEADER, [",".join(long_brand)], "cp1252"),
            ],
            vars="{landing_encodings: {rees46: cp1252}}",
            encoding="cp1252",
        ),
        Scenario(
            # RetailRocket's events.csv alone: no item properties (no prices), no category tree, no web shop
            "app events only",
            [
                (
                    "retailrocket",
                    "events.csv",
                    rs.RR_EVENTS_HEADER,
                    rs.rr_event_lines(5, dt.date(2015, 8, 1), 21),
                    "utf-8",
                )
            ],
        ),
    ]


TABLES = {
    "agg_daily_kpis": "select * from gold.agg_daily_kpis",
    "dim_sources": "select * from gold.dim_sources",
    "files": "select file_name, source_dir, status, problem, delimiter from bronze.brz_landing_files",
    "bronze": (
        "select source_file_name, count(*) as n from ("
        + " union all ".join(
            f"select source_file_name from bronze.{t}" for t in ("brz_rees46__events", "brz_retailrocket__events")
        )
        + ") group by source_file_name"
    ),
    "validated": "select source_file_name, count(*) as n, count_if(is_price_missing) as unknown_price "
    "from silver.int_events_validated group by source_file_name",
    "quarantined": "select source_file_name, quarantine_reason, raw_bytes from silver.int_events_quarantined",
    "duplicates": "select source_file_name, count(*) as n from silver.int_events_duplicates group by 1",
    "brands": "select brand, count(*) as n from gold.fct_events group by brand",
    "training_runs": "select * from ml.ml_conversion_training_runs",
    "predictions": "select as_of_date, source_system, count(*) as n from ml.ml_conversion_predictions group by 1, 2",
    "top": "select * from gold.rpt_top_categories_brands",
}


@contextlib.contextmanager
def in_home(home: Path):  # type: ignore[no-untyped-def]
    """Run with ``home`` as LAKEHOUSE_HOME in this process: the running session is stopped and its home's
    lock given up first, and both are restored (lazily: the next ``get_spark`` opens the old home) after."""
    from lakehouse.engine.runtime import release_home_lock, stop_spark

    keys = ("LAKEHOUSE_HOME", "MLFLOW_TRACKING_URI", "LAKEHOUSE_SPILL_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")
    saved = {k: os.environ.get(k) for k in keys}
    stop_spark()
    release_home_lock()
    os.environ["LAKEHOUSE_HOME"] = str(home)
    # dbt's artifacts (the docs site among them) and log beside the scenario's lakehouse, not in the
    # project's target/ and logs/
    os.environ["DBT_TARGET_PATH"] = str(home / "target")
    os.environ["DBT_LOG_PATH"] = str(home / "logs")
    for key in ("MLFLOW_TRACKING_URI", "LAKEHOUSE_SPILL_DIR", "LAKEHOUSE_LANDING"):
        os.environ.pop(key, None)
    try:
        yield
    finally:
        stop_spark()
        release_home_lock()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_in_home(scenario: Scenario, home: Path, fingerprint: tuple[str, ...] = ()) -> ScenarioRun:
    """Land the scenario's files as the README says and run `lakehouse demo` in ``home``; keep the
    fingerprints of the tables of the ``fingerprint`` schemas (what a killed run is compared with)."""
    from lakehouse import cli
    from lakehouse.engine.runtime import get_spark
    from lakehouse.ops.reliability import fingerprints

    for folder, name, header, lines, encoding in scenario.files:
        rs.write(home / "landing" / folder / name, header, lines, encoding=encoding)
    args = ["demo", "--quiet", *(["--vars", scenario.vars] if scenario.vars else [])]
    out = io.StringIO()
    with in_home(home):
        started = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = cli.main(args)
        spark = get_spark()
        run = ScenarioRun(scenario, home, code, out.getvalue())
        run.seconds = time.perf_counter() - started
        for name, sql in TABLES.items():
            run.tables[name] = spark.sql(sql).toPandas()
        if fingerprint:
            run.fingerprints = fingerprints(spark, fingerprint)
    return run
