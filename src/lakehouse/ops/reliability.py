"""Reliability report: bad input and faults on small data, and where every delivered row ended up.

`lakehouse reliability` builds a fresh lakehouse (its own LAKEHOUSE_HOME) from a small generated base plus
one hand-written landing file per bad-input scenario, then runs the fault scenarios (rerun, re-delivered
file, a second run while one holds the home, a failing critical test, a run killed mid-model and rerun)
and prints one table: scenario, rows in, rows in Silver, rows quarantined, duplicates removed, rows lost
(must be 0) and the outcome. Rows in are counted here from the files' bytes, independently of Spark.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REES46_HEADER = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
RR_HEADER = "timestamp,visitorid,event,itemid,transactionid"
# columns whose values depend on when a run happened, not on the data: left out of the table checksums
RUN_COLUMNS = {
    "ingested_at",
    "batch_id",
    "inspected_at",
    "scored_at",
    "trained_at",
    "dbt_updated_at",
    "updated_at",
    "events_updated_at",
}


def _web(second: int, event: str = "view", product: int = 1, price: str = "10.00", user: int = 1, **kw: str) -> str:
    """One REES46-layout line on 2019-10-07 (scenario rows use their own product/user ids)."""
    values = {
        "event_time": f"2019-10-07 {8 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d} UTC",
        "event_type": event,
        "product_id": str(9_900_000 + product),
        "category_id": "2053013555631882655",
        "category_code": "electronics.smartphone",
        "brand": "acme",
        "price": price,
        "user_id": str(699_000_000 + user),
        "user_session": f"00000000-0000-4000-8000-{user:012d}",
    }
    values.update(kw)
    return ",".join(values[c] for c in REES46_HEADER.split(","))


@dataclass
class Scenario:
    """One landing file (or none, for a fault scenario) and what must become of it."""

    name: str
    expect: str  # what the outcome must be, checked by `check`
    source_dir: str = "rees46"
    file_name: str | None = None
    content: bytes = b""
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    silver: int | None = None  # expected rows in Silver
    duplicates: int = 0
    prices_unknown: int = 0  # of the rows in Silver, those whose price is unknown


def _lines(*lines: str, header: str = REES46_HEADER, eol: str = "\n") -> bytes:
    return (eol.join([header, *lines]) + eol).encode()


def _corrupt_gzip() -> bytes:
    whole = gzip.compress(_lines(*[_web(600 + i, user=60 + i) for i in range(200)]))
    return whole[: len(whole) // 2]


def bad_input_scenarios() -> list[Scenario]:
    """One file per bad-input case named by the issue, each with its expected outcome."""
    s = []

    def add(name: str, expect: str, content: bytes, file_name: str | None = None, **kw):
        safe = name.replace(" ", "_").replace("/", "_").replace(",", "")
        s.append(Scenario(name, expect, file_name=file_name or f"scenario_{safe}.csv", content=content, **kw))

    add(
        "malformed CSV lines",
        "quarantined",
        _lines(
            _web(1, user=1), "a line,with,too few fields", '2019-10-07 08:00:03 UTC,view,"broken quote', _web(4, user=1)
        ),
        silver=2,
        quarantine_reasons={"malformed_line": 2},
    )
    truncated = _lines(_web(1, user=2), _web(2, user=2, product=2))
    add(
        "truncated last line",
        "quarantined",
        truncated + b"2019-10-07 08:00:05 UTC,view,99000",
        silver=2,
        quarantine_reasons={"malformed_line": 1},
    )
    add(
        "CRLF and UTF-8 BOM",
        "ingested",
        b"\xef\xbb\xbf" + _lines(_web(1, user=3), _web(2, user=3, product=2), eol="\r\n"),
        silver=2,
    )
    add("empty file", "empty", b"")
    add("corrupted gzip", "rejected", _corrupt_gzip(), file_name="scenario_corrupted_gzip.csv.gz")
    # no user column: no row of the file can be an event (a missing price column would only leave the
    # prices unknown)
    no_user = ",".join(c for c in REES46_HEADER.split(",") if c != "user_id")
    add(
        "missing required column",
        "quarantined",
        _lines(
            *[
                ",".join(
                    v
                    for c, v in zip(REES46_HEADER.split(","), _web(i, user=4).split(","), strict=True)
                    if c != "user_id"
                )
                for i in (1, 2)
            ],
            header=no_user,
        ),
        silver=0,
        quarantine_reasons={"missing_required_column": 2},
    )
    add(
        "unexpected extra column",
        "ingested, extra column kept",
        _lines(_web(1, user=5) + ",spring_sale", _web(2, user=5, product=2) + ",", header=REES46_HEADER + ",campaign"),
        silver=2,
    )
    renamed = REES46_HEADER.replace("product_id", "productId").replace("user_session", "session_id")
    add("renamed column", "ingested", _lines(_web(1, user=6), _web(2, user=6, product=2), header=renamed), silver=2)
    cols = REES46_HEADER.split(",")
    order = [8, 7, 6, 5, 4, 3, 2, 1, 0]
    add(
        "reordered columns",
        "ingested",
        _lines(
            *[",".join(_web(i, user=7).split(",")[j] for j in order) for i in (1, 2)],
            header=",".join(cols[j] for j in order),
        ),
        silver=2,
    )
    add(
        "wrong types",
        "quarantined",
        _lines(
            _web(1, user=8, price="ten"),  # the event stands, its price is unknown
            _web(2, user=8, event_time="07/10/2019 08:00"),
            _web(3, user=8, user_id="abc"),
            _web(4, user=8, product_id="x1"),
        ),
        silver=1,
        quarantine_reasons={"invalid_event_time": 1, "missing_user_id": 1, "missing_product_id": 1},
        prices_unknown=1,
    )
    add(
        "unknown event types",
        "quarantined",
        _lines(_web(1, user=9, event="wishlist"), _web(2, user=9)),
        silver=1,
        quarantine_reasons={"unknown_event_type": 1},
    )
    add(
        "null keys",
        "quarantined",
        _lines(_web(1, user=10, user_id=""), _web(2, user=10, product_id=""), _web(3, user=10, event_time="")),
        silver=0,
        quarantine_reasons={"missing_user_id": 1, "missing_product_id": 1, "invalid_event_time": 1},
    )
    add(
        "zero and negative prices",
        "ingested, prices unknown",
        _lines(_web(1, user=11, price="0"), _web(2, user=11, price="-3.50"), _web(3, user=11)),
        silver=3,
        prices_unknown=2,
    )
    add(
        "future and pre-opening timestamps",
        "quarantined",
        _lines(
            _web(1, user=12, event_time="2031-01-01 00:00:00 UTC"),
            _web(2, user=12, event_time="2018-06-01 00:00:00 UTC"),
            _web(3, user=12),
        ),
        silver=1,
        quarantine_reasons={"future_event_time": 1, "before_shop_opened": 1},
    )
    add(
        "duplicate events",
        "duplicates removed",
        _lines(_web(1, user=13), _web(1, user=13), _web(1, user=13), _web(2, user=13, event="cart")),
        silver=2,
        duplicates=2,
    )
    # bytes that are not UTF-8 in a UTF-8 folder: a brand written in cp1252 (café, müller)
    add(
        "bytes that are not UTF-8",
        "quarantined, bytes kept",
        _lines(_web(1, user=15, brand="acme"), header=REES46_HEADER)
        + _web(2, user=15, brand="caf\u00e9").encode("cp1252")
        + b"\n"
        + _web(3, user=15, brand="m\u00fcller").encode("cp1252")
        + b"\n",
        silver=1,
        quarantine_reasons={"invalid_encoding": 2},
    )
    add(
        "field over the length limit",
        "quarantined",
        _lines(_web(1, user=16, brand="b" * 1_000_000), _web(2, user=16)),
        silver=1,
        quarantine_reasons={"field_too_long": 1},
    )
    add(
        "another delimiter",
        "rejected",
        _lines(_web(1, user=17).replace(",", ";"), header=REES46_HEADER.replace(",", ";")),
    )
    add(
        "unknown app event type",
        "quarantined",
        _lines(
            # the app's public data is from 2015
            "1439200000000,698000014,view,77001,",
            "1439200001000,698000014,like,77001,",
            header=RR_HEADER,
        ),
        silver=1,
        quarantine_reasons={"unknown_event_type": 1},
        prices_unknown=1,  # item 77001 has no item_properties: its price is unknown, the view is kept
    )
    s[-1].source_dir = "retailrocket"
    s[-1].file_name = "events_scenario_app.csv"
    return s


def rows_in(content: bytes, file_name: str) -> int | None:
    """Data lines of a file (header excluded); None when it cannot be read (a corrupted gzip)."""
    try:
        data = gzip.decompress(content) if file_name.endswith(".gz") else content
    except (OSError, EOFError):
        return None
    lines = [ln for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    if lines and not any(c.isdigit() for c in lines[0]):
        lines = lines[1:]
    return len(lines)


@dataclass
class ReportRow:
    scenario: str
    rows_in: int | None
    rows_in_silver: int | None
    rows_quarantined: int | None
    duplicates_removed: int | None
    rows_lost: int | None
    outcome: str
    passed: bool


def _file_counts(spark, file_name: str) -> tuple[int, dict[str, int], int, int]:
    """Rows of one landing file in Silver, quarantined (by reason), removed as duplicates, and of the Silver
    rows those whose price is unknown."""
    name = file_name.replace("'", "\\'")
    silver, unknown = spark.sql(
        "select count(*), count_if(is_price_missing) from silver.int_events_validated "
        f"where source_file_name = '{name}'"
    ).first()
    reasons = {
        r.quarantine_reason: r.n
        for r in spark.sql(
            "select quarantine_reason, count(*) as n from silver.int_events_quarantined "
            f"where source_file_name = '{name}' group by quarantine_reason"
        ).collect()
    }
    dups = spark.table("silver.int_events_duplicates").where(f"source_file_name = '{name}'").count()
    return int(silver), reasons, dups, int(unknown)


def _bytes_kept(spark, sc: Scenario) -> bool:
    """Every quarantined line of the file that is not UTF-8 has its delivered bytes in raw_bytes."""
    delivered = {line for line in sc.content.split(b"\n")[1:] if line and not _is_utf8(line)}
    kept = {
        bytes(r.raw_bytes)
        for r in spark.sql(
            "select raw_bytes from silver.int_events_quarantined "
            f"where source_file_name = '{sc.file_name}' and raw_bytes is not null"
        ).collect()
    }
    return bool(delivered) and kept == delivered


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_bad_input(spark, scenarios: list[Scenario]) -> list[ReportRow]:
    """Account for every row of every scenario file after a build."""
    files = {r.file_name: r for r in spark.table("bronze.brz_landing_files").collect()}
    out = []
    for sc in scenarios:
        n_in = rows_in(sc.content, sc.file_name or "")
        reg = files.get(sc.file_name)
        silver, reasons, dups, unknown = _file_counts(spark, sc.file_name or "")
        quarantined = sum(reasons.values())
        lost = None if n_in is None else n_in - silver - quarantined - dups
        status = reg.status if reg else "missing from brz_landing_files"
        if sc.expect == "rejected":
            ok = status == "rejected" and silver == quarantined == dups == 0
            outcome = f"file rejected, on record: {reg.problem if reg else status}; other files ingested"
            lost = 0 if ok else lost
        elif sc.expect == "empty":
            ok = status == "empty" and n_in == 0 and silver == quarantined == 0
            outcome = f"file registered as empty ({reg.problem if reg else status}); nothing to ingest"
        else:
            ok = (
                status == "ok"
                and lost == 0
                and (sc.silver is None or silver == sc.silver)
                and reasons == sc.quarantine_reasons
                and dups == sc.duplicates
                and unknown == sc.prices_unknown
            )
            parts = [f"{v} quarantined as {k}" for k, v in sorted(reasons.items())]
            if dups:
                parts.append(f"{dups} duplicate(s) removed")
            if unknown:
                parts.append(f"{unknown} kept with the price unknown")
            if sc.expect.endswith("extra column kept"):
                kept = spark.sql(
                    "select count(*) from silver.int_events_validated "
                    f"where source_file_name = '{sc.file_name}' and extra_columns['campaign'] is not null"
                ).first()[0]
                ok = ok and kept == 1  # one row has a campaign value, the other an empty field
                parts.append(f"extra column kept in extra_columns ({kept} non-empty value)")
            if sc.expect.endswith("bytes kept"):
                same = _bytes_kept(spark, sc)
                ok = ok and same
                parts.append("delivered bytes kept in raw_bytes" if same else "delivered bytes NOT kept")
            outcome = "; ".join(parts) or "all rows valid"
        out.append(ReportRow(sc.name, n_in, silver, quarantined, dups, lost, outcome, ok))
    return out


# --- fault scenarios ------------------------------------------------------------------------------------


# the ML tables whose content follows from the events alone (the run log, predictions, monitoring and drift
# carry run ids, model versions and scoring times)
DETERMINISTIC_ML_TABLES = (
    "ml_user_item_daily",
    "ml_user_item_feature_snapshots",
    "ml_user_item_latest_features",
    "ml_user_item_labels",
)


def fingerprints(spark, schemas: tuple[str, ...] = ("silver", "gold", "ml")) -> dict[str, tuple[int, int]]:
    """Row count and a checksum of every table of ``schemas`` that depends neither on the order of the rows
    nor on that of the columns (a table upgraded with appended columns holds the same content as one built
    fresh), run-time columns left out; of the ML schema only DETERMINISTIC_ML_TABLES (the others carry run
    ids by design). One query for all the tables: Spark's fixed cost per query is most of a small table's
    (39 tables of the test lakehouse: 7.3 s, against 9.0-9.6 s one query each)."""
    from functools import reduce

    from pyspark.sql import functions as F

    from lakehouse.reports.summary import layer_tables

    parts = []
    for schema, table_name in layer_tables(spark, schemas):
        name = f"{schema}.{table_name}"
        if schema == "ml" and table_name not in DETERMINISTIC_ML_TABLES:
            continue
        frame = spark.table(name)
        cols = [
            # a map has no stable hash: its entries, sorted, do
            F.array_sort(F.map_entries(F.col(f"`{f.name}`")))
            if f.dataType.typeName() == "map"
            else F.col(f"`{f.name}`")
            for f in sorted(frame.schema.fields, key=lambda field: field.name)
            if f.name not in RUN_COLUMNS
        ]
        row_hash = F.xxhash64(*cols).cast("decimal(38,0)")
        parts.append(frame.agg(F.lit(name).alias("t"), F.count(F.lit(1)).alias("n"), F.sum(row_hash).alias("h")))
    if not parts:
        return {}
    rows = reduce(lambda left, right: left.unionAll(right), parts).collect()
    return {r.t: (int(r.n), int(r.h or 0)) for r in rows}


def _lakehouse_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "lakehouse.cli", *args]


def _env(home: Path, landing: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"LAKEHOUSE_HOME": str(home), "LAKEHOUSE_LANDING": str(landing), "DBT_TARGET": "local"})
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


# the smallest selection that proves recovery from a SIGKILL: the file register, Bronze's event tables and
# Silver's deduplicated event stream, killed while it writes the stream (`build`, as a fresh home needs its
# seeds; no tests, recovery is about the tables)
KILLED_RUN_ARGS = [
    "build", "--select", "+int_events_ranked", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"
]  # fmt: skip
KILL_AT = "model silver.int_events_ranked"
# the layer schemas that selection writes (Bronze aside): what the rerun is compared in
KILLED_RUN_SCHEMAS = ("silver",)


# `lakehouse dbt <args>`, then `lakehouse fingerprints --json <file>`, in one process (one JVM start): run
# as `python -c` in the killed run's home, argv[1] the fingerprints file, the rest dbt's arguments
RERUN_AND_FINGERPRINT = """
import sys
from lakehouse import cli
sys.exit(cli.main(["dbt", *sys.argv[2:]]) or cli.main(["fingerprints", "--json", sys.argv[1]]))
"""


def killed_run_recovers(
    landing: Path, work: Path, dbt_args: list[str], expected: dict, kill_at: str
) -> tuple[bool, str]:
    """Build in a second home from the same landing zone, SIGKILL the run when dbt starts ``kill_at``,
    rerun, and compare every table's fingerprint with ``expected`` (the clean build)."""
    home = work / "killed_home"
    env = _env(home, landing)
    target = work / "killed_target"
    cmd = _lakehouse_cmd("dbt", *dbt_args, "--target-path", str(target))
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    killed_during = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if "START" in line and kill_at in line:
            time.sleep(1.0)  # inside the model's query
            os.killpg(proc.pid, signal.SIGKILL)
            # "START sql incremental model silver.int_events_ranked ... [RUN]" -> "model silver.int_events_ranked"
            named = re.search(r"\bmodel (\S+)", line)
            killed_during = f"model {named.group(1)}" if named else line.split("START", 1)[1].split("[")[0].strip()
            break
    proc.wait()
    if killed_during is None:
        return False, f"the run ended (exit {proc.returncode}) before {kill_at} started"
    out = work / "killed_fingerprints.json"
    rerun = subprocess.run(
        [sys.executable, "-c", RERUN_AND_FINGERPRINT, str(out), *dbt_args, "--target-path", str(target)],
        env=env,
        capture_output=True,
        text=True,
    )
    if rerun.returncode != 0 or not out.exists():
        return False, f"killed during {killed_during}; the rerun failed: {(rerun.stdout + rerun.stderr)[-400:]}"
    after = {k: tuple(v) for k, v in json.loads(out.read_text()).items()}
    # the tables the selection builds, each against the clean run's
    differ = sorted(k for k in after if expected.get(k) != after[k])
    if differ or not after:
        return False, f"killed during {killed_during}; after the rerun these tables differ from a clean run: {differ}"
    return True, f"SIGKILL during {killed_during}; rerun: all {len(after)} Silver/Gold tables equal a clean run's"


def run_report(work: Path, events: int = 3000, days: int = 14, recovery: bool = True) -> list[ReportRow]:
    """Build the scenario lakehouse under ``work`` (this process' Spark) and run every scenario."""
    import datetime as dt

    from lakehouse.datagen.generate import GeneratorConfig, write_landing
    from lakehouse.engine.dbt_runner import run_dbt
    from lakehouse.engine.paths import lakehouse_paths
    from lakehouse.engine.runtime import get_spark

    home = work / "home"
    os.environ["LAKEHOUSE_HOME"] = str(home)
    os.environ.pop("LAKEHOUSE_LANDING", None)
    paths = lakehouse_paths()
    cfg = GeneratorConfig(
        events=events, days=days, start_date=dt.date(2019, 10, 1), app_start_date=dt.date(2015, 8, 3), seed=11
    )
    write_landing(cfg, paths.landing, paths.oracle, progress=False)
    scenarios = bad_input_scenarios()
    for sc in scenarios:
        folder = paths.landing / sc.source_dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / (sc.file_name or "")).write_bytes(sc.content)
    # the SQL pipeline: Bronze to Gold and the feature mart (training on a few thousand events says nothing)
    sql_only = ["--exclude", "path:python_models/ml+"]
    target = ["--target-path", str(work / "target")]
    rows: list[ReportRow] = []
    build_ok = run_dbt(["build", *sql_only, *target])
    spark = get_spark()
    rows.append(
        ReportRow(
            "dbt build with every bad file in the drop",
            None,
            None,
            None,
            None,
            None,
            "passed" if build_ok else "FAILED",
            build_ok,
        )
    )
    rows += check_bad_input(spark, scenarios)

    # rerun on the same landing data (models only: the tests passed above and change nothing)
    before = fingerprints(spark, ("bronze", "silver", "gold", "ml"))
    run_dbt(["run", *sql_only, *target])
    after = fingerprints(spark, ("bronze", "silver", "gold", "ml"))
    changed = sorted(k for k in before if before[k] != after.get(k))
    rows.append(
        ReportRow(
            "rerun on the same landing data",
            None,
            None,
            None,
            None,
            0,
            f"{len(before)} tables unchanged" if not changed else f"changed: {changed}",
            not changed,
        )
    )

    # re-delivered file: a copy of an ingested file lands again (another folder, a later day)
    base = sorted((paths.landing / "rees46").glob("rees46_events_*.csv"))[0]
    again = paths.landing / "rees46" / "redelivered" / base.name
    again.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(base, again)
    n_again = rows_in(again.read_bytes(), again.name) or 0
    bronze_before = spark.table("bronze.brz_rees46__events").count()
    run_dbt(["run", *sql_only, *target])
    added = spark.table("bronze.brz_rees46__events").count() - bronze_before
    after2 = fingerprints(spark, ("silver", "gold", "ml"))
    changed = sorted(k for k in after2 if after.get(k) != after2[k])
    rows.append(
        ReportRow(
            "duplicate file (re-delivered)",
            n_again,
            0,
            0,
            n_again,
            0,
            f"skipped: same name and size already ingested; {added} Bronze rows added, "
            f"{'no table changed' if not changed else f'changed: {changed}'}",
            added == 0 and not changed,
        )
    )

    # a second run while this process holds the home
    second = subprocess.run(
        _lakehouse_cmd("dbt", "build", *sql_only), env=_env(home, paths.landing), capture_output=True, text=True
    )
    message = (second.stderr.strip().splitlines() or [""])[-1]
    refused = second.returncode == 3 and "in use by" in message
    rows.append(
        ReportRow(
            "second run while one is running",
            None,
            None,
            None,
            None,
            0,
            f"refused (exit {second.returncode}): {message}",
            refused,
        )
    )

    # a failing critical data test stops what is downstream: nothing reaches Gold or the model
    gate_target = work / "gate_target"
    run_dbt(
        [
            "build",
            "--select",
            "+ml_conversion_predictions",
            "--vars",
            "{max_quarantine_share: 0}",
            "--target-path",
            str(gate_target),
        ]
    )
    results = json.loads((gate_target / "run_results.json").read_text())["results"]
    status = {r["unique_id"].split(".")[-1]: r["status"] for r in results}
    gate_failed = status.get("assert_quarantine_share_within_limit") == "fail"
    downstream = {
        k: v
        for k, v in status.items()
        if k in ("ml_conversion_training_runs", "ml_conversion_predictions", "fct_events")
    }
    stopped = gate_failed and downstream and all(v == "skipped" for v in downstream.values())
    rows.append(
        ReportRow(
            "failing critical test (quarantine share over limit)",
            None,
            None,
            None,
            None,
            0,
            f"gate {'failed' if gate_failed else 'did not fail'}; skipped: {sorted(downstream)}",
            bool(stopped),
        )
    )

    if recovery:
        expected = fingerprints(spark, KILLED_RUN_SCHEMAS)
        ok, outcome = killed_run_recovers(paths.landing, work, KILLED_RUN_ARGS, expected, kill_at=KILL_AT)
        rows.append(ReportRow("run killed mid-model (SIGKILL), then rerun", None, None, None, None, 0, outcome, ok))
    return rows


def render(rows: list[ReportRow]) -> str:
    def fmt(v: object) -> str:
        return "-" if v is None else str(v)

    header = ["scenario", "rows in", "in Silver", "quarantined", "duplicates", "lost", "ok", "outcome"]
    table = [
        [
            r.scenario,
            fmt(r.rows_in),
            fmt(r.rows_in_silver),
            fmt(r.rows_quarantined),
            fmt(r.duplicates_removed),
            fmt(r.rows_lost),
            "yes" if r.passed else "NO",
            r.outcome,
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table, strict=False)]
    widths[-1] = 0
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths[:-1]] + ["-------"]), *map(line, table)])


def to_json(rows: list[ReportRow]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2)
