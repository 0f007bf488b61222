"""What analysts get after a build: EDA report, KPI dashboard and dbt docs site (rendered in headless
Chromium), the SQL shell, the Thrift/JDBC server, and the README's analyst queries."""

from __future__ import annotations

import functools
import http.server
import io
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from lakehouse import browser, eda, sql_access

pytestmark = pytest.mark.dbt

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sql_server_command_serves_a_jdbc_client_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`lakehouse sql-server` as a user runs it (its own process and lakehouse home), queried by beeline."""
    import os
    import signal
    import sys

    import pyspark

    env = {**os.environ, "LAKEHOUSE_HOME": str(tmp_path / "home")}
    env.pop("MLFLOW_TRACKING_URI", None)
    lakehouse = str(Path(sys.executable).parent / "lakehouse")
    setup = "create schema gold; create table gold.kpis using delta as select 21 as days, 7 as orders;"
    made = subprocess.run([lakehouse, "sql", "-e", setup], env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout[-1000:] + made.stderr[-1000:]
    port = _free_port()
    server = subprocess.Popen(
        [lakehouse, "sql-server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sql_access.wait_for_port("127.0.0.1", port, timeout=240), "the server did not open its port"
        beeline = Path(pyspark.__file__).parent / "bin" / "beeline"
        done = subprocess.run(
            [
                str(beeline),
                "-u",
                f"jdbc:hive2://127.0.0.1:{port}/default",
                "--silent=true",
                "--outputformat=csv2",
                "-e",
                "select days, orders from gold.kpis",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if line.endswith("days,orders"))
    assert lines[header + 1] == "21,7"
    assert f"jdbc:hive2://127.0.0.1:{port}/default" in out
    assert "Thrift server stopped" in out and server.returncode == 0, err[-1000:]


@pytest.fixture(scope="module")
def eda_run(spark, built, dbt_target_path, lakehouse_home):  # type: ignore[no-untyped-def]
    out = lakehouse_home / "reports" / "eda.html"
    results = eda.run_analyses(spark, eda.compile_analyses(dbt_target_path / "eda"))
    checks = eda.build(spark, out, dbt_target_path / "eda", ROOT / "seeds" / "event_types.csv")
    return out, results, checks


def test_eda_report_plots_the_data_and_every_assumption_holds(eda_run) -> None:  # type: ignore[no-untyped-def]
    out, results, checks = eda_run
    assert [c.name for c in checks if not c.holds] == []
    assert len(checks) == 8
    page = out.read_text()
    assert page.count("<svg") >= 6  # event mix, funnel, activity, prices, nulls, quarantine
    for section in ("event-mix", "funnel", "activity", "prices", "nulls", "quarantine", "labels"):
        assert f'id="{section}"' in page
    assert set(results["eda_event_mix"]["source_system"]) == {"rees46", "retailrocket"}


def test_a_broken_assumption_fails_loudly(eda_run) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    _, results, _ = eda_run
    broken = dict(results)
    extra = pd.DataFrame([{"source_system": "rees46", "event_type": "wishlist", "events": 3, "share_of_source": 0.0}])
    broken["eda_event_mix"] = pd.concat([results["eda_event_mix"], extra])
    coverage = results["eda_daily_coverage"].copy()
    coverage.loc[coverage.index[2], "events"] = 0
    broken["eda_daily_coverage"] = coverage
    checks = eda.check_assumptions(broken, eda.known_event_types(ROOT / "seeds" / "event_types.csv"))
    failed = {c.name: c.detail for c in checks if not c.holds}
    assert set(failed) == {
        "event types are the seed's",
        "no day without events between the first and last day (rolling snapshots, daily KPIs)",
    }
    assert "wishlist" in failed["event types are the seed's"]

    from lakehouse.cli import _report_checks

    assert _report_checks(Path("eda.html"), checks) == 1


def test_kpi_dashboard_renders_in_headless_chromium(spark, built, lakehouse_home) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from lakehouse import dashboard

    out = dashboard.build(spark, lakehouse_home / "reports" / "kpi_dashboard.html")
    dom = browser.rendered_dom(out.resolve().as_uri())
    for tile in ("revenue", "orders", "sessions", "conversion", "abandonment", "aov"):
        assert f'id="tile-{tile}"' in dom
    charts = re.findall(r'<section class="card" id="(chart-[a-z]+)"><h2>[^<]*</h2><svg', dom)
    assert charts == [
        "chart-daily",
        "chart-rates",
        "chart-funnel",
        "chart-categories",
        "chart-brands",
        "chart-cohorts",
        "chart-rfm",
    ]
    revenue = spark.sql("select sum(revenue) as r, sum(orders) as o from gold.agg_daily_kpis").first()
    tile = re.search(r'id="tile-revenue"><div class="label">Revenue</div><div class="value">([^<]+)<', dom)
    assert tile and tile.group(1) == f"{float(revenue.r):,.0f}"
    shot = browser.screenshot(out.resolve().as_uri(), lakehouse_home / "reports" / "kpi_dashboard.png")
    image = Image.open(shot).convert("L")
    assert image.size == (1400, 1800)
    low, high = image.getextrema()
    assert high - low > 100  # drawn, not a blank page


def test_docs_site_serves_and_renders_lineage_in_chromium(spark, built, run_dbt, dbt_target_path) -> None:  # type: ignore[no-untyped-def]
    import json

    run_dbt("docs", "generate")
    manifest = json.loads((dbt_target_path / "manifest.json").read_text())
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

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(dbt_target_path))
    handler.log_message = lambda *args: None  # type: ignore[method-assign,assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/index.html#!/model/model.ecommerce_lakehouse.agg_daily_kpis"
        dom = browser.rendered_dom(url, wait_ms=15000)
    finally:
        server.shutdown()
    assert "agg_daily_kpis" in dom
    assert "KPI mart, one row per day with activity" in dom  # the model's description, rendered by the app
    assert "session_conversion_rate" in dom


def test_sql_shell_runs_statements_and_reports_errors_in_one_line(spark, built) -> None:  # type: ignore[no-untyped-def]
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


def _readme_queries() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Analyst queries", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def test_readme_analyst_queries_give_sensible_results(spark, built) -> None:  # type: ignore[no-untyped-def]
    queries = _readme_queries()
    assert len(queries) >= 5
    for query in queries:
        rows = spark.sql(query.strip().rstrip(";")).collect()
        assert rows, query
        for row in rows:
            for value in row.asDict().values():
                if isinstance(value, float):
                    assert value == value  # no NaN in an analyst's answer


def test_source_freshness_passes_on_fresh_landings(spark, built, run_dbt, dbt_target_path) -> None:  # type: ignore[no-untyped-def]
    import json

    run_dbt("source", "freshness")
    results = json.loads((dbt_target_path / "sources.json").read_text())["results"]
    assert {r["unique_id"].rsplit(".", 1)[1]: r["status"] for r in results} == {
        "brz_rees46__events": "pass",
        "brz_retailrocket__events": "pass",
        "brz_catalog__products": "pass",
    }
