"""`lakehouse`: generate sample data, run dbt in the local Spark session, print the run summary."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from lakehouse.engine.paths import lakehouse_paths


def _cmd_generate(args: argparse.Namespace) -> int:
    from lakehouse.datagen.generate import GeneratorConfig, write_landing

    paths = lakehouse_paths()
    cfg = GeneratorConfig(
        events=args.events,
        days=args.days,
        start_date=dt.date.fromisoformat(args.start_date),
        seed=args.seed,
        gzip=args.gzip,
        retailrocket_share=args.app_share,
        app_start_date=dt.date.fromisoformat(args.app_start_date) if args.app_start_date else None,
    )
    started = time.perf_counter()
    result = write_landing(cfg, paths.landing, paths.oracle, progress=not args.quiet)
    took = time.perf_counter() - started
    print(f"generated {result.events:,} events under {paths.landing} in {took:.1f}s")
    for src in result.sources.values():
        print(
            f"  {src.source}: {src.events:,} events ({src.users:,} users, {src.products:,} products, "
            f"{src.sessions:,} sessions) in {len(src.files)} files; event mix {src.counts}"
        )
    if result.catalog_files:
        print(f"  catalog: {result.catalog_records:,} product records in {len(result.catalog_files)} files")
    return 0


def _report_landing_problems() -> None:
    """One line per landing file this run could not ingest (rejected or empty), on stderr."""
    from lakehouse.engine.runtime import get_spark

    spark = get_spark()
    if not spark.catalog.tableExists("bronze.brz_landing_files"):
        return
    latest = spark.sql(
        "select file_path, status, problem from bronze.brz_landing_files "
        "where status != 'ok' and inspected_at = (select max(inspected_at) from bronze.brz_landing_files)"
    ).collect()
    for row in latest:
        print(f"warning: landing file {row.file_path} not ingested ({row.status}): {row.problem}", file=sys.stderr)


def _cmd_dbt(args: argparse.Namespace) -> int:
    from lakehouse.engine.dbt_runner import run_dbt

    ok = run_dbt(args.dbt_args)
    if args.dbt_args[:1] in (["build"], ["run"]):
        _report_landing_problems()
    return 0 if ok else 1


def _cmd_bench(args: argparse.Namespace) -> int:
    from lakehouse.bench import pipeline as pipeline_bench
    from lakehouse.bench import report

    out = Path(args.out) if args.out else None
    kept = out.parent / report.RESULTS if out else None
    if args.report_only:
        if out is None or kept is None:
            print("error: --report-only needs --out (the report to write)", file=sys.stderr)
            return 2
        report.write(out, kept)
        print(f"{out} written from {kept}")
        return 0
    sizes = [int(float(x)) for x in args.sizes.split(",")]
    results = pipeline_bench.run_sizes(sizes, args.days, Path(args.work_dir))
    print(pipeline_bench.render(results))
    if out is not None and kept is not None:
        report.save(kept, results)
        report.write(out, kept)
        print(f"results kept in {kept}; {out} written from them")
    return 0 if all(r["full_build_ok"] and r["daily_build_ok"] for r in results) else 1


def _cmd_bench_one(args: argparse.Namespace) -> int:
    import json

    from lakehouse.bench import pipeline as pipeline_bench

    result = pipeline_bench.run_one(args.events, args.days, Path(args.work_dir))
    Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    return 0


def _cmd_reliability(args: argparse.Namespace) -> int:
    import tempfile

    from lakehouse.ops import reliability

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="lakehouse-reliability-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"reliability scenarios in {work} (a fresh lakehouse; your LAKEHOUSE_HOME is not touched)")
    rows = reliability.run_report(work, recovery=not args.no_recovery)
    print(reliability.render(rows))
    if args.json:
        Path(args.json).write_text(reliability.to_json(rows))
    failed = [r.scenario for r in rows if not r.passed or (r.rows_lost or 0) != 0]
    if failed:
        print(f"error: {len(failed)} scenario(s) did not end as expected: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(rows)} scenarios as expected; rows lost: 0")
    return 0


def _cmd_fingerprints(args: argparse.Namespace) -> int:
    import json

    from lakehouse.engine.runtime import get_spark
    from lakehouse.ops.reliability import fingerprints

    got = fingerprints(get_spark())
    text = json.dumps(got, indent=1, sort_keys=True)
    if args.json:
        Path(args.json).write_text(text)
    else:
        print(text)
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from lakehouse.engine.dbt_runner import target_dir
    from lakehouse.engine.runtime import get_spark
    from lakehouse.reports import summary

    print(summary.render(get_spark(), lakehouse_paths(), str(target_dir())))
    return 0


def _dashboard(out: str | None) -> Path:
    from lakehouse.engine.runtime import get_spark
    from lakehouse.reports import dashboard

    path = Path(out) if out else lakehouse_paths().reports / "kpi_dashboard.html"
    return dashboard.build(get_spark(), path)


def _cmd_dashboard(args: argparse.Namespace) -> int:
    path = _dashboard(args.out)
    print(f"KPI dashboard: {path} (open it in a browser: file://{path.resolve()})")
    if args.screenshot:
        from lakehouse.reports import browser

        shot = browser.screenshot(path.resolve().as_uri(), Path(args.screenshot))
        print(f"screenshot (headless Chromium): {shot}")
    return 0


def _eda(out: str | None, compiled: dict[str, str] | None = None) -> tuple[Path, list]:
    from lakehouse.engine.dbt_runner import project_dir, target_dir
    from lakehouse.engine.runtime import get_spark
    from lakehouse.reports import eda

    root = project_dir()
    path = Path(out) if out else lakehouse_paths().reports / "eda.html"
    checks = eda.build(get_spark(), path, target_dir() / "eda", root / "seeds" / "event_types.csv", compiled)
    return path, checks


def _report_checks(path: Path, checks: list) -> int:
    broken = [c for c in checks if c.broken]
    for c in checks:
        print(f"  [{'n/a' if not c.applies else 'ok' if c.holds else 'BROKEN'}] {c.name}: {c.detail}")
    print(f"EDA report: {path}")
    if broken:
        print(
            f"error: {len(broken)} assumption(s) the marts and the model rely on do not hold: "
            + "; ".join(c.name for c in broken),
            file=sys.stderr,
        )
        return 1
    return 0


def _cmd_eda(args: argparse.Namespace) -> int:
    path, checks = _eda(args.out)
    return _report_checks(path, checks)


def _cmd_sql(args: argparse.Namespace) -> int:
    import io

    from lakehouse.access import sql_access
    from lakehouse.engine.runtime import get_spark

    spark = get_spark()
    if args.execute:
        errors = sql_access.run_shell(spark, io.StringIO(args.execute), interactive=False)
    else:
        errors = sql_access.run_shell(spark, sys.stdin, interactive=sys.stdin.isatty())
    return 1 if errors else 0


def _cmd_sql_server(args: argparse.Namespace) -> int:
    from lakehouse.access import sql_access

    return sql_access.serve(args.host, args.port)


def _cmd_sql_load(args: argparse.Namespace) -> int:
    """A bounded load test of a running `lakehouse sql-server` on this machine: the analysts' guide's queries."""
    from lakehouse.access import sql_access
    from lakehouse.engine.dbt_runner import project_dir

    queries = sql_access.analyst_queries((project_dir() / "docs" / "analysts.md").read_text())
    try:
        result = sql_access.load_test(
            args.port,
            queries,
            sessions=args.sessions,
            seconds=args.seconds,
            host=args.host,
            user=os.environ.get("LAKEHOUSE_SQL_USER", "analyst"),
            password=os.environ.get("LAKEHOUSE_SQL_PASSWORD") or None,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(queries)} analyst queries from docs/analysts.md, round-robin")
    print(sql_access.render_load(result, args.seconds))
    return 1 if result["failed"] else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """Generate data if the landing zone is empty, build everything, generate docs, print the summary."""
    import yaml

    from lakehouse.engine.dbt_runner import run_dbt, scheduled_build, target_dir
    from lakehouse.reports import eda

    try:
        build = scheduled_build(args.vars)
    except (ValueError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = lakehouse_paths()
    timings: dict[str, float] = {}
    # sample data only into an empty landing zone: a user's own files, of any source, are never added to
    if not any(p.is_file() for p in paths.landing.rglob("*")) if paths.landing.exists() else True:
        started = time.perf_counter()
        rc = _cmd_generate(args)
        timings["generate"] = time.perf_counter() - started
        if rc:
            return rc
    # the docs with the build's vars: other vars would make dbt parse the whole project again
    docs = ["docs", "generate", *build[build.index("--vars") :]]
    for name, dbt_args in (("dbt build", build), ("dbt docs generate", docs)):
        started = time.perf_counter()
        ok = run_dbt(dbt_args)
        if name == "dbt build":
            _report_landing_problems()
        if not ok:
            print(f"error: `{name}` failed; see the dbt output above (logs in logs/dbt.log)", file=sys.stderr)
            return 1
        timings[name] = time.perf_counter() - started
    started = time.perf_counter()
    dashboard_path = _dashboard(None)
    print(f"KPI dashboard: {dashboard_path}")
    # `docs generate` compiled every node, the EDA's analyses among them: no second dbt compile
    eda_path, checks = _eda(None, eda.compiled_analyses(target_dir()))
    timings["dashboard + EDA"] = time.perf_counter() - started
    _cmd_summary(args)
    if _report_checks(eda_path, checks):
        return 1
    print("Timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()))
    return 0


def _cmd_bench_ingest(args: argparse.Namespace) -> int:
    from lakehouse.bench import stages as bench

    phases, memory = bench.run_ingestion_benchmark(args.events, args.days, args.seed)
    print(bench.render(phases, memory))
    return 0


def _cmd_bench_ml(args: argparse.Namespace) -> int:
    from lakehouse.bench import stages as bench

    for line in bench.run_ml_benchmark(args.min_pairs, args.model_name, train=not args.scoring_only):
        print(line)
    return 0


def _cmd_model_report(args: argparse.Namespace) -> int:
    from lakehouse.reports import model_report

    return model_report.main(args.model_name, args.bootstrap)


def _cmd_check_bundle(args: argparse.Namespace) -> int:
    from lakehouse.ops import bundle_check

    return bundle_check.main(Path(args.manifest) if args.manifest else None)


def _cmd_scan_secrets(args: argparse.Namespace) -> int:
    from lakehouse.ops import secret_scan

    return secret_scan.main()


def _add_generate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--events", type=int, default=200_000, help="number of events to generate (default 200k)")
    p.add_argument("--days", type=int, default=28, help="days of history, one file per day (default 28)")
    p.add_argument("--start-date", default="2019-10-01", help="first day, ISO date (default 2019-10-01)")
    p.add_argument("--seed", type=int, default=42, help="random seed: same seed, same files")
    p.add_argument("--gzip", action="store_true", help="write .csv.gz files")
    p.add_argument(
        "--app-share", type=float, default=0.2, help="share of events from the app (RetailRocket layout; 0 = none)"
    )
    p.add_argument("--app-start-date", help="the app's first day, ISO date, when it is not the web shop's")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakehouse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write generated multi-source landing files (web, app, catalog)")
    _add_generate_options(gen)
    gen.set_defaults(func=_cmd_generate)
    demo = sub.add_parser("demo", help="generate (if empty), dbt build, docs, summary")
    _add_generate_options(demo)
    demo.add_argument(
        "--vars",
        help='dbt vars for the build, as YAML, e.g. "{landing_encodings: {rees46: cp1252}}" (README: Your own data)',
    )
    demo.set_defaults(func=_cmd_demo)
    dbt = sub.add_parser("dbt", help="run dbt inside the local Spark session, e.g. `lakehouse dbt build`")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER)
    dbt.set_defaults(func=_cmd_dbt)
    bench = sub.add_parser(
        "bench-ingest", help="time generation, Bronze and Silver on N events (set LAKEHOUSE_HOME to an empty folder)"
    )
    bench.add_argument("--events", type=int, default=10_000_000)
    bench.add_argument("--days", type=int, default=30)
    bench.add_argument("--seed", type=int, default=42)
    bench.set_defaults(func=_cmd_bench_ingest)
    bench_all = sub.add_parser(
        "bench", help="the whole pipeline at several sizes, the daily incremental run, floor and pandas baselines"
    )
    bench_all.add_argument("--sizes", default="1000000,5000000,10000000", help="events per run, comma-separated")
    bench_all.add_argument("--days", type=int, default=30)
    bench_all.add_argument("--work-dir", default="/tmp/lakehouse-bench", help="one lakehouse per size under it")
    bench_all.add_argument(
        "--out", help="keep each size's result under benchmarks/results/ beside this file and write it (BENCHMARKS.md)"
    )
    bench_all.add_argument(
        "--report-only", action="store_true", help="write --out from the kept results without running the bench"
    )
    bench_all.set_defaults(func=_cmd_bench)
    one = sub.add_parser("bench-one", help="one size of `bench`, in a fresh LAKEHOUSE_HOME")
    one.add_argument("--events", type=int, required=True)
    one.add_argument("--days", type=int, default=30)
    one.add_argument("--work-dir", required=True)
    one.add_argument("--json", required=True)
    one.set_defaults(func=_cmd_bench_one)
    bench_ml = sub.add_parser(
        "bench-ml", help="time training and distributed scoring on the labelled pairs of a built lakehouse"
    )
    bench_ml.add_argument("--min-pairs", type=int, default=1_000_000)
    bench_ml.add_argument("--model-name", default="ecommerce_conversion")
    bench_ml.add_argument("--scoring-only", action="store_true", help="skip the training measurement")
    bench_ml.set_defaults(func=_cmd_bench_ml)
    rel = sub.add_parser(
        "reliability", help="run the bad-input and fault scenarios on small data; print where every row went"
    )
    rel.add_argument("--work-dir", help="folder for the scenario lakehouse (default: a new temp folder)")
    rel.add_argument("--json", help="also write the table as JSON here")
    rel.add_argument("--no-recovery", action="store_true", help="skip the killed-run scenario (two extra builds)")
    rel.set_defaults(func=_cmd_reliability)
    fp = sub.add_parser("fingerprints", help="row count and content checksum of every Silver/Gold table")
    fp.add_argument("--json", help="write them here instead of printing")
    fp.set_defaults(func=_cmd_fingerprints)
    report = sub.add_parser(
        "model-report",
        help="champion vs both baselines vs the Bayes oracle and the clairvoyant bound, with 95%% intervals",
    )
    report.add_argument("--model-name", default="ecommerce_conversion")
    report.add_argument(
        "--bootstrap", type=int, default=200, help="resamples of the validation rows for the 95%% intervals"
    )
    report.set_defaults(func=_cmd_model_report)
    bundle = sub.add_parser("check-bundle", help="offline checks of the Databricks bundle")
    bundle.add_argument(
        "--manifest", help="a databricks-target manifest.json: also check the jobs of its Python models"
    )
    bundle.set_defaults(func=_cmd_check_bundle)
    sub.add_parser("scan-secrets", help="fail on committed credentials").set_defaults(func=_cmd_scan_secrets)
    dash = sub.add_parser("dashboard", help="write the KPI dashboard page (HTML) from the Gold marts")
    dash.add_argument("--out", help="output file (default $LAKEHOUSE_HOME/reports/kpi_dashboard.html)")
    dash.add_argument("--screenshot", help="also save a PNG of the page as headless Chromium renders it")
    dash.set_defaults(func=_cmd_dashboard)
    eda = sub.add_parser("eda", help="run analyses/, write the EDA report, fail if an assumption breaks")
    eda.add_argument("--out", help="output file (default $LAKEHOUSE_HOME/reports/eda.html)")
    eda.set_defaults(func=_cmd_eda)
    sql = sub.add_parser("sql", help="SQL shell on the local lakehouse (statements end with ';')")
    sql.add_argument("-e", "--execute", help="run these statements and exit")
    sql.set_defaults(func=_cmd_sql)
    server = sub.add_parser("sql-server", help="Thrift/JDBC server for desktop SQL editors (HiveServer2 protocol)")
    server.add_argument("--port", type=int, default=10000)
    server.add_argument("--host", default="127.0.0.1", help="bind address (default: this machine only)")
    server.set_defaults(func=_cmd_sql_server)
    load = sub.add_parser(
        "sql-load", help="load test of a running sql-server on this machine: concurrent sessions, latency"
    )
    load.add_argument("--port", type=int, default=10000)
    load.add_argument("--host", default="127.0.0.1", help="loopback only")
    load.add_argument("--sessions", type=int, default=16)
    load.add_argument("--seconds", type=float, default=120.0)
    load.set_defaults(func=_cmd_sql_load)
    summ = sub.add_parser("summary", help="print tables, row counts and the model's metrics")
    summ.set_defaults(func=_cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from lakehouse.engine.dbt_runner import DbtCommandError
    from lakehouse.engine.runtime import JavaNotFoundError, LakehouseBusyError

    try:
        return int(args.func(args))
    except DbtCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except JavaNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LakehouseBusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
