"""What analysts get after a build: EDA report, KPI dashboard and dbt docs site (rendered in headless
Chromium), the SQL shell, the Thrift/JDBC server, and the analysts' guide's queries."""

from __future__ import annotations

import functools
import http.server
import io
import re
import socket
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lakehouse.access import sql_access
from lakehouse.reports import browser, eda

pytestmark = pytest.mark.dbt

ROOT = Path(__file__).resolve().parents[1]
# the load test's length: every session runs at least one query however long it is, and its 16 sessions
# still overlap (each query takes a second or more while 16 share two cores)
LOAD_SECONDS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hive(port: int, user: str, password: str, statement: str) -> tuple[list[tuple], str]:
    """One statement in a HiveServer2 session of its own through PyHive (no JVM per client): the rows, or
    the server's refusal as text."""
    from pyhive import hive

    try:
        connection = hive.connect(host="127.0.0.1", port=port, username=user, password=password, auth="CUSTOM")
    except Exception as exc:  # the refused login: the server's message is in the transport's error
        return [], f"connect: {exc}"
    try:
        cursor = connection.cursor()
        cursor.execute(statement)
        return cursor.fetchall(), ""
    except Exception as exc:
        return [], str(exc)
    finally:
        connection.close()


def _beeline(port: int, user: str, password: str, statement: str) -> subprocess.CompletedProcess[str]:
    """One statement through beeline (`-e` stops at the first error, and beeline's script mode hangs on a
    refused statement, so each statement is a call of its own)."""
    import pyspark

    beeline = Path(pyspark.__file__).parent / "bin" / "beeline"
    return subprocess.run(
        [
            str(beeline),
            "-u",
            f"jdbc:hive2://127.0.0.1:{port}/default",
            "-n",
            user,
            "-p",
            password,
            "--silent=true",
            "--outputformat=csv2",
            "-e",
            statement,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_sql_server_serves_jdbc_and_16_concurrent_sessions_and_stops_on_sigterm(own_data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`lakehouse sql-server` as a user runs it (its own process), with a password, on the lakehouse the
    app-only own-data scenario built: that home is free for another process, since `stop_spark` closes its
    embedded metastore (this process' JVM keeps the shared lakehouse's). JDBC (beeline) and HiveServer2
    sessions (PyHive): the right password reads gold; a wrong one or another user is refused; files,
    writes and reflection are refused, each in a session of its own, twice over. Then the short version of
    `lakehouse sql-load` on the same server: 16 concurrent HiveServer2 sessions of analyst-shaped queries
    (filter, aggregate, join, order, limit) for a few seconds, every query answered after the refusals.
    SIGTERM stops it cleanly."""
    import os
    import signal
    import sys

    from test_own_data import APP

    run = own_data["runs"][APP]
    env = {**os.environ, "LAKEHOUSE_HOME": str(run.home), "LAKEHOUSE_SQL_PASSWORD": "kpi-reader-7"}
    for key in ("MLFLOW_TRACKING_URI", "LAKEHOUSE_SQL_USER", "LAKEHOUSE_SPILL_DIR", "LAKEHOUSE_LANDING"):
        env.pop(key, None)
    private_file = tmp_path / "private.txt"
    private_file.write_text("not-for-analysts\n")
    lakehouse = str(Path(sys.executable).parent / "lakehouse")
    kpis = run.tables["agg_daily_kpis"]
    expected = f"{len(kpis)},{int(kpis['purchases'].sum())}"
    queries = [
        "select event_date, sum(views) as views from gold.agg_daily_kpis group by event_date"
        " order by event_date desc limit 5",
        "select p.category_id, count(*) as events from gold.fct_events e join gold.dim_products p"
        " on e.product_id = p.product_id group by 1 order by 2 desc limit 10",
        "select max(active_users) as most from gold.agg_daily_kpis where purchases > 0",
    ]
    read_kpis = "select count(*) as days, sum(purchases) as purchases from gold.agg_daily_kpis"
    port = _free_port()
    # the server's output goes to a file: a pipe nobody reads while the clients run fills up and stops the
    # server at its next log line (each refused statement logs its stack trace)
    log = tmp_path / "sql-server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [lakehouse, "sql-server", "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            assert sql_access.wait_for_port("127.0.0.1", port, timeout=240), "the server did not open its port"
            refused = [
                "create table gold.mine as select 1 as x",
                f"select value from text.`{private_file}`",
                "select reflect('java.lang.System', 'getenv', 'LAKEHOUSE_SQL_PASSWORD')",
            ]
            # JDBC through beeline (a JVM each, started side by side): a refusal, the wrong password, a read;
            # the other refusals and logins through PyHive, a session each
            with ThreadPoolExecutor(max_workers=3) as clients:
                jdbc_create, wrong, read = clients.map(
                    lambda args: _beeline(port, *args),
                    [
                        ("analyst", "kpi-reader-7", refused[0]),
                        ("analyst", "guess", read_kpis + ";"),
                        ("analyst", "kpi-reader-7", read_kpis),
                    ],
                )
            sessions = [_hive(port, "analyst", "kpi-reader-7", s) for s in refused * 2]
            anyone = _hive(port, "anyone", "kpi-reader-7", read_kpis)
            # after every refusal: the refused write left nothing behind
            after = _hive(port, "analyst", "kpi-reader-7", "show tables in gold like 'mine'")
            load = sql_access.load_test(port, queries, sessions=16, seconds=LOAD_SECONDS, password="kpi-reader-7")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=180)
    out = log.read_text()
    lines = [line for line in read.stdout.splitlines() if line.strip()]
    assert lines[-2].endswith("days,purchases") and lines[-1] == expected, read.stdout[-2000:]
    assert after == ([], "")
    assert jdbc_create.returncode != 0
    assert "the SQL endpoint is read-only: CreateTableAsSelect" in jdbc_create.stderr, jdbc_create.stderr[-2000:]
    for create, from_file, reflect in (sessions[:3], sessions[3:]):
        assert not from_file[0] and "TABLE_OR_VIEW_NOT_FOUND" in from_file[1]
        assert "not-for-analysts" not in from_file[1]
        for (rows, refusal), what in ((create, "CreateTableAsSelect"), (reflect, "CallMethodViaReflection")):
            assert not rows and f"the SQL endpoint is read-only: {what}" in refusal, refusal[-2000:]
        assert "kpi-reader-7" not in str(reflect[0])
    assert "days,purchases" not in wrong.stdout
    refused_login = "wrong user name or password" in wrong.stderr or "Peer indicated failure" in wrong.stderr
    assert refused_login, wrong.stderr[-2000:]
    assert not anyone[0] and anyone[1].startswith("connect: "), anyone
    print(sql_access.render_load(load, LOAD_SECONDS))
    assert load["failed"] == 0, load["failures"]
    assert load["sessions_answered"] == 16 and load["answered"] >= 16  # type: ignore[operator]
    assert 0 < load["median_s"] <= load["p95_s"]  # type: ignore[operator]
    with pytest.raises(ValueError, match="this machine only"):
        sql_access.load_test(port, queries, host="192.0.2.1", seconds=1)
    assert f"jdbc:hive2://127.0.0.1:{port}/default" in out and "user analyst" in out
    assert "Thrift server stopped" in out and server.returncode == 0, out[-2000:]


def test_a_session_the_server_fails_to_close_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """The answers of a session stand when the server then fails to close it (Spark's Thrift server can fail
    there, initialising Hive's function registry); the load test names it instead of a thread traceback."""
    from pyhive import hive

    class Cursor:
        def execute(self, query: str) -> None:
            pass

        def fetchall(self) -> list[tuple[int]]:
            return [(1,)]

    class Connection:
        def cursor(self) -> Cursor:
            return Cursor()

        def close(self) -> None:
            raise hive.OperationalError("TCloseSessionResp(status=3, NoClassDefFoundError)\nat ...")

    monkeypatch.setattr(hive, "connect", lambda **kwargs: Connection())
    load = sql_access.load_test(1, ["select 1"], sessions=2, seconds=0.2)
    assert load["failed"] == 0 and load["sessions_answered"] == 2
    assert sorted(load["close_failures"]) == [  # type: ignore[arg-type]
        f"session {i}: close: TCloseSessionResp(status=3, NoClassDefFoundError)" for i in (0, 1)
    ]
    assert "session not closed by the server: session 0: close:" in sql_access.render_load(load, 0.2)


def test_sql_server_refuses_the_network_without_a_password(tmp_path: Path) -> None:
    """Any address but loopback needs LAKEHOUSE_SQL_PASSWORD: one line, before Spark starts."""
    import os
    import sys
    import time

    env = {**os.environ, "LAKEHOUSE_HOME": str(tmp_path / "home")}
    env.pop("LAKEHOUSE_SQL_PASSWORD", None)
    lakehouse = str(Path(sys.executable).parent / "lakehouse")
    started = time.monotonic()
    done = subprocess.run(
        [lakehouse, "sql-server", "--host", "0.0.0.0", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: --host 0.0.0.0 would serve the lakehouse to the network without a password")
    assert "LAKEHOUSE_SQL_PASSWORD" in line
    assert not (tmp_path / "home" / "metastore_db").exists()  # refused before any Spark started
    assert time.monotonic() - started < 60


@pytest.fixture(scope="module")
def eda_run(spark, lakehouse, dbt_target_path, lakehouse_home):  # type: ignore[no-untyped-def]
    out = lakehouse_home / "reports" / "eda.html"
    compiled = eda.compile_analyses(dbt_target_path / "eda")
    results = eda.run_analyses(spark, compiled)
    checks = eda.build(spark, out, dbt_target_path / "eda", ROOT / "seeds" / "event_types.csv", compiled)
    return out, results, checks


def test_the_analyses_a_compile_left_are_read_only_when_all_are_there(tmp_path: Path) -> None:
    """What `lakehouse demo` does after `docs generate` (which compiles every node) instead of compiling
    the analyses again: each one's SQL, or None when one is missing (then the EDA compiles them itself)."""
    folder = tmp_path / "compiled" / "ecommerce_lakehouse" / "analyses"
    folder.mkdir(parents=True)
    for name in eda.ANALYSES:
        (folder / f"{name}.sql").write_text(f"select '{name}' as analysis")
    assert eda.compiled_analyses(tmp_path) == {name: f"select '{name}' as analysis" for name in eda.ANALYSES}
    (folder / f"{eda.ANALYSES[-1]}.sql").unlink()
    assert eda.compiled_analyses(tmp_path) is None


def test_eda_report_plots_the_data_and_every_assumption_holds(spark, eda_run) -> None:  # type: ignore[no-untyped-def]
    out, results, checks = eda_run
    assert [c.name for c in checks if not c.holds] == []
    assert len(checks) == 8 and all(c.applies for c in checks)
    page = out.read_text()
    assert page.count("<svg") >= 6  # event mix, funnel, activity, prices, nulls, quarantine
    for section in ("event-mix", "funnel", "activity", "prices", "nulls", "quarantine", "labels"):
        assert f'id="{section}"' in page
    assert set(results["eda_event_mix"]["source_system"]) == {"rees46", "retailrocket"}
    # the label balance is of the candidate pairs: each drawn pair weighs the pairs it stands for (the draw
    # keeps the converters at a higher share than the other users)
    mart = spark.table("ml.ml_user_item_features").where("is_label_complete").toPandas()
    weight = 1 / mart["draw_share"]
    expected = (weight * mart["converted"]).groupby(mart["as_of_date"]).sum() / weight.groupby(mart["as_of_date"]).sum()
    balance = results["eda_label_balance"].set_index("as_of_date").sort_index()
    assert balance["positive_rate"].astype(float).to_numpy() == pytest.approx(expected.sort_index().to_numpy())
    assert (balance["drawn_pairs"] == mart.groupby("as_of_date").size().sort_index()).all()
    # gaps are judged per source, over its own range: the four years between the sources are no gap
    [coverage] = [c for c in checks if c.name.startswith("no day without events")]
    assert "rees46: 2019-10-01 to " in coverage.detail and "retailrocket: 2015-08-03 to " in coverage.detail
    # shares read as percentages, counts with separators
    assert re.search(r"<td>\d+\.\d\d%</td>", page)
    assert not re.search(r"<td>0\.\d{6,}</td>", page)


def test_a_broken_assumption_fails_loudly(eda_run) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    _, results, _ = eda_run
    broken = dict(results)
    extra = pd.DataFrame([{"source_system": "rees46", "event_type": "wishlist", "events": 3, "share_of_source": 0.0}])
    broken["eda_event_mix"] = pd.concat([results["eda_event_mix"], extra])
    coverage = results["eda_daily_coverage"].copy()
    web = coverage.index[coverage["source_system"] == "rees46"]
    coverage.loc[web[2:10], "events"] = 0  # eight days without events: five named, the rest counted
    broken["eda_daily_coverage"] = coverage
    checks = eda.check_assumptions(broken, eda.known_event_types(ROOT / "seeds" / "event_types.csv"))
    failed = {c.name: c.detail for c in checks if c.broken}
    gaps = "no day without events within each source's own range (rolling snapshots, daily KPIs)"
    assert set(failed) == {"event types are the seed's", gaps}
    assert "wishlist" in failed["event types are the seed's"]
    assert "8 without events: 2019-10-03, 2019-10-04, 2019-10-05, 2019-10-06, 2019-10-07 and 3 more" in failed[gaps]
    assert "retailrocket: 2015-08-03 to " in failed[gaps] and "retailrocket" not in failed[gaps].split("no gap")[-1]

    from lakehouse.cli import _report_checks

    assert _report_checks(Path("eda.html"), checks) == 1


def test_kpi_dashboard_renders_in_headless_chromium(spark, lakehouse, lakehouse_home) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from lakehouse.reports import dashboard

    out = dashboard.build(spark, lakehouse_home / "reports" / "kpi_dashboard.html")
    dom = browser.rendered_dom(out.resolve().as_uri())
    # one panel per source (four years apart: no combined panel), each over its own range
    assert re.findall(r'<section class="panel" id="(source-[a-z0-9]+)"', dom) == [
        "source-retailrocket",
        "source-rees46",
    ]
    for source in ("rees46", "retailrocket"):
        for tile in ("revenue", "orders", "sessions", "conversion", "abandonment", "aov"):
            assert f'id="tile-{tile}-{source}"' in dom
    charts = re.findall(r'<section class="card" id="(chart-[a-z]+)-rees46"><h2>[^<]*</h2><svg', dom)
    assert charts == [
        "chart-daily",
        "chart-rates",
        "chart-funnel",
        "chart-categories",
        "chart-brands",
        "chart-cohorts",
        "chart-rfm",
    ]
    kpis = (
        spark.sql(
            "select source_system, sum(revenue) as r, sum(orders) as o, sum(purchases_unknown_price) as u "
            "from gold.agg_daily_kpis group by 1"
        )
        .toPandas()
        .set_index("source_system")
    )
    for source in ("rees46", "retailrocket"):
        tile = re.search(
            rf'id="tile-revenue-{source}"><div class="label">Revenue</div><div class="value">([^<]+)<', dom
        )
        # money for reading: two decimals and thousands separators
        assert tile and tile.group(1) == f"{float(kpis.loc[source, 'r']):,.2f}"
        orders = re.search(
            rf'id="tile-orders-{source}"><div class="label">Orders</div><div class="value">([^<]+)<', dom
        )
        assert orders and orders.group(1) == f"{int(kpis.loc[source, 'o']):,}"
    # the app's purchases of unknown price are said next to its revenue, not counted as 0
    unknown = int(kpis.loc["retailrocket", "u"])
    assert f"{unknown:,} purchases of unknown price not included" in dom
    assert re.search(r'id="tile-conversion-rees46"><div class="label">[^<]+</div><div class="value">\d+\.\d\d%<', dom)
    shot = browser.screenshot(out.resolve().as_uri(), lakehouse_home / "reports" / "kpi_dashboard.png")
    image = Image.open(shot).convert("L")
    assert image.size == (1400, 1800)
    low, high = image.getextrema()
    assert high - low > 100  # drawn, not a blank page


def test_docs_site_serves_and_renders_lineage_in_chromium(own_data) -> None:  # type: ignore[no-untyped-def]
    """The site `lakehouse demo` generated on the app-only own-data scenario's lakehouse (every model is built
    there, the feeds it lacks as empty tables), served and rendered."""
    import json
    import os
    import shutil

    from test_own_data import APP

    run = own_data["runs"][APP]
    site = run.home / "target"
    # CI publishes this site (LAKEHOUSE_TEST_ARTIFACTS names where to put it) instead of building a lakehouse
    # of its own for it
    if artifacts := os.environ.get("LAKEHOUSE_TEST_ARTIFACTS"):
        (Path(artifacts) / "dbt-docs").mkdir(parents=True, exist_ok=True)
        for name in ("index.html", "manifest.json", "catalog.json"):
            shutil.copy2(site / name, Path(artifacts) / "dbt-docs" / name)
    manifest = json.loads((site / "manifest.json").read_text())
    parents = manifest["parent_map"]

    def upstream(node: str) -> set[str]:
        seen: set[str] = set()
        todo = [node]
        while todo:
            for parent in parents.get(todo.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    for leaf in ("agg_daily_kpis", "rpt_rfm_segments", "ml_targeting_daily"):
        lineage = upstream(f"model.ecommerce_lakehouse.{leaf}")
        assert "model.ecommerce_lakehouse.brz_rees46__events" in lineage
        assert "model.ecommerce_lakehouse.brz_retailrocket__events" in lineage
    assert "model.ecommerce_lakehouse.ml_conversion_predictions" in upstream(
        "model.ecommerce_lakehouse.ml_targeting_daily"
    )
    # the catalog lists every table and view the project builds, with its columns and their types, and
    # Delta tables with their row count and size
    catalog = json.loads((site / "catalog.json").read_text())["nodes"]
    built = [
        key
        for key, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot") and node["config"]["materialized"] != "ephemeral"
    ]
    missing = sorted(key for key in built if key not in catalog)
    assert not missing, missing
    for key in built:
        columns = catalog[key]["columns"]
        assert columns and all(c["type"] for c in columns.values()), key
    kpis = catalog["model.ecommerce_lakehouse.agg_daily_kpis"]
    assert kpis["columns"]["event_date"]["type"] == "date"
    assert kpis["stats"]["rows"]["value"] == len(run.tables["agg_daily_kpis"]) > 0
    assert kpis["stats"]["bytes"]["value"] > 0

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[method-assign,assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = f"http://127.0.0.1:{server.server_port}/index.html#!/model/model.ecommerce_lakehouse."
    try:
        dom = browser.rendered_dom(page + "agg_daily_kpis", wait_ms=15000)
        # a Delta table whose yml gives no types: its page shows them from the catalog, and its statistics
        sessions_dom = browser.rendered_dom(page + "fct_sessions", wait_ms=15000)
    finally:
        server.shutdown()
    assert "agg_daily_kpis" in dom
    assert "KPI mart, one row per source and day with activity" in dom  # the model's description, rendered
    assert "session_conversion_rate" in dom
    started_at_type = catalog["model.ecommerce_lakehouse.fct_sessions"]["columns"]["session_started_at"]["type"]
    assert started_at_type == "timestamp"
    # the column's row on the page: its name, then its type within the same table row
    assert re.search(r"session_started_at\s*<.{0,600}?>\s*timestamp\s*<", sessions_dom, flags=re.S), sessions_dom[:3000]
    assert "Row count" in sessions_dom


def test_sql_shell_runs_statements_and_reports_errors_in_one_line(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    days = spark.table("gold.agg_daily_kpis").count()
    script = io.StringIO(
        "select count(*) as days\n  from gold.agg_daily_kpis;\n"
        "select 'a;b' as text; -- a comment; with a semicolon\n"
        "select nonsense from nowhere;\n"
        "show tables in gold;\n"
        "quit;\nselect 1;\n"
    )
    out = io.StringIO()
    errors = sql_access.run_shell(spark, script, out, interactive=False)
    text = out.getvalue()
    assert errors == 1
    assert re.search(rf"\| days +\|\n\+-+\+\n\| {days} +\|", text)
    assert "| a;b  |" in text
    error_lines = [line for line in text.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and "nowhere" in error_lines[0]
    assert "Traceback" not in text
    assert "agg_daily_kpis" in text
    assert text.count(" row") == 3  # quit stopped the shell before `select 1`


def test_the_guides_analyst_queries_give_sensible_results(spark, lakehouse) -> None:  # type: ignore[no-untyped-def]
    queries = sql_access.analyst_queries((ROOT / "docs" / "analysts.md").read_text())
    assert len(queries) >= 5
    for query in queries:
        rows = spark.sql(query).collect()
        assert rows, query
        for row in rows:
            for value in row.asDict().values():
                if isinstance(value, float):
                    assert value == value  # no NaN in an analyst's answer


def test_source_freshness_passes_on_fresh_landings(spark, lakehouse, run_dbt, dbt_target_path) -> None:  # type: ignore[no-untyped-def]
    import json

    run_dbt("source", "freshness")
    results = json.loads((dbt_target_path / "sources.json").read_text())["results"]
    assert {r["unique_id"].rsplit(".", 1)[1]: r["status"] for r in results} == {
        "brz_rees46__events": "pass",
        "brz_retailrocket__events": "pass",
        "brz_catalog__products": "pass",
    }
