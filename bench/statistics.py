"""Statistics benchmark: the workbook job and the line-list job against raw SQL, on N cases.

    python -m bench.statistics --cases 1000000     # the reference run (generation takes ~4 minutes)
    python -m bench.statistics --cases 20000       # a quick run
    python -m bench.statistics --reuse             # measure the existing bench database again

Creates (drops and recreates) `casework_bench_statistics` on CASEWORK_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, loads reference data and generates N
synthetic cases. Then each measurement runs in a fresh Python process, which reports its wall time
and its own peak resident memory (VmHWM):

  raw SQL      the statistics aggregates as plain SQL text through psycopg2, in one REPEATABLE READ
               transaction (the same statements the report builders generate): the baseline
  workbook     the export job for a statistics workbook, exactly as the worker runs it (aggregates,
               suppression, openpyxl workbook, stored in the database)
  line list    the export job for the de-identified line list (one row per case-offence, streamed)
  utility      the national report broken down by state, as an analyst receives it: every figure
               published by the cell-key method against its true count, by size band (mean and
               maximum absolute error, mean relative error, and how many are shown as "<5")

It prints time, peak memory, and the workbook / raw SQL ratio (targets: within 3x, under 300 MB;
line list flat memory under 300 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

import flask_migrate
import psycopg2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from casework import create_app, encryption
from casework.extensions import db
from casework.models.exports import Export, ExportKind, ExportStatus
from casework.models.users import Role, User
from casework.services import demo, reference, users
from reports.aggregates import period_dimension
from reports.dimensions import Dimension
from reports.queries import case_counts_query, list_counts_query, offence_counts_query, repeat_links_query
from reports.scope import ReportFilter
from seed import generator

DATABASE = "casework_bench_statistics"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "statistics timing passphrase 2026"


def database_url(server: str) -> str:
    return make_url(server).set(drivername="postgresql+psycopg2", database=DATABASE).render_as_string(False)


def app_for(url: str):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "CASEWORK_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": os.environ.get("CASEWORK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        }
    )


def prepare(server: str, n_cases: int) -> None:
    admin = sa.create_engine(make_url(server).set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    app = app_for(database_url(server))
    with app.app_context():
        flask_migrate.upgrade()
        reference.load_reference_data()
        owners = demo.ensure_synthetic_organisations()
        users.create_user(
            actor=None,
            email="analyst@bench.test",
            full_name="Bench Analyst",
            role=Role.ANALYST,
            organisation_id=owners[0].id,
            password=PASSWORD,
        )
        db.session.commit()
        started = time.perf_counter()
        counts = generator.generate(
            database_url(server),
            n_cases,
            identity_key=app.config["IDENTITY_HASH_KEY"].encode(),
            key_ring=encryption.ring(),
            progress=True,
        )
        elapsed = time.perf_counter() - started
        print(f"generated {counts['cases']:,} cases in {elapsed:.1f} s ({counts['cases'] / elapsed:,.0f} cases/s)")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        db.engine.dispose()


# ------------------------------------------------------------------ the measured tasks (children)


def raw_statements() -> list[str]:
    """The aggregate statements of an unfiltered report, as SQL text with literal parameters."""
    report_filter = ReportFilter()
    statements = [
        list_counts_query(report_filter),
        repeat_links_query(report_filter),
        offence_counts_query(report_filter),
        case_counts_query(report_filter, period_dimension(report_filter), Dimension.KNOWN_TO),
        case_counts_query(report_filter, Dimension.PAYMENTS, Dimension.MATERIAL_RELEASED),
    ]
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return [str(s.compile(dialect=dialect, compile_kwargs={"literal_binds": True})) for s in statements]


def task_raw(url: str) -> dict[str, Any]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    statements = raw_statements()
    connection = psycopg2.connect(dsn)
    connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
    rows = 0
    with connection:
        for number, statement in enumerate(statements):
            with connection.cursor(name=f"raw_{number}") as cursor:  # server-side, as the app streams
                cursor.itersize = 20_000
                cursor.execute(statement)
                rows += sum(1 for _ in cursor)
    connection.close()
    return {"rows": rows, "statements": len(statements)}


def task_export(url: str, kind: str) -> dict[str, Any]:
    from casework.jobs import exports as export_jobs  # noqa: PLC0415 - only in the child

    app = app_for(url)
    with app.app_context():
        analyst = db.session.scalar(sa.select(User).where(User.email == "analyst@bench.test"))
        export = Export(
            requested_by_id=analyst.id, kind=ExportKind(kind), filters={}, status=ExportStatus.QUEUED, progress=0
        )
        db.session.add(export)
        db.session.commit()
        status = export_jobs.run_export(export.id)
        db.session.refresh(export)
        result = {"status": status, "size_bytes": export.size_bytes, "rows": export.row_count, "error": export.error}
        db.session.execute(sa.delete(Export).where(Export.id == export.id))
        db.session.commit()
        return result


BANDS = ((1, 4), (5, 19), (20, 99), (100, None))


def task_utility(url: str) -> dict[str, Any]:
    """Published vs true counts of every figure of the national report by state."""
    from casework.services.statistics import cell_key_secret  # noqa: PLC0415 - only in the child
    from reports.cellkey import default_table  # noqa: PLC0415
    from reports.layouts import build_report  # noqa: PLC0415
    from reports.queries import aggregates_from_database  # noqa: PLC0415
    from reports.tables import published_values  # noqa: PLC0415

    app = app_for(url)
    with app.app_context():
        threshold = app.config["SUPPRESSION_THRESHOLD"]
        with db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with connection.begin():
                aggregates = aggregates_from_database(connection, ReportFilter(), Dimension.STATE)
        spec = build_report(aggregates)
        published = published_values(spec, default_table(), cell_key_secret())
    bands = []
    for low, high in BANDS:
        errors = [
            (abs(published[k] - v), abs(published[k] - v) / v, published[k] < threshold)
            for k, v in spec.book.values.items()
            if v >= low and (high is None or v <= high)
        ]
        bands.append(
            {
                "band": f"{low}-{high}" if high else f"{low}+",
                "cells": len(errors),
                "mean_abs": sum(e for e, _, _ in errors) / len(errors) if errors else 0.0,
                "max_abs": max((e for e, _, _ in errors), default=0),
                "mean_rel": sum(r for _, r, _ in errors) / len(errors) if errors else 0.0,
                "hidden": sum(1 for _, _, h in errors if h),
            }
        )
    return {"bands": bands, "zeros": sum(1 for v in spec.book.values.values() if v == 0)}


def peak_resident_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    fork and exec, so a child started by a big parent would report the parent's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: best effort


def child(task: str, url: str) -> None:
    started = time.perf_counter()
    if task == "raw":
        result = task_raw(url)
    elif task == "utility":
        result = task_utility(url)
    else:
        result = task_export(url, task)
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = peak_resident_mb()
    print("RESULT " + json.dumps(result))


def measure(task: str, url: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.statistics", "--child", task, "--url", url],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CASEWORK_ENV": "development"},
    )
    line = next((ln for ln in output.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if output.returncode != 0 or line is None:
        raise RuntimeError(f"{task} failed:\n{output.stdout[-2000:]}\n{output.stderr[-4000:]}")
    return json.loads(line[len("RESULT ") :])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statistics", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="measure the existing bench database")
    parser.add_argument("--server-url", default=os.environ.get("CASEWORK_BENCH_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--no-line-list", action="store_true", help="skip the (slow) line-list measurement")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url)
        return 0
    if not args.reuse:
        prepare(args.server_url, args.cases)
    url = database_url(args.server_url)
    measure("raw", url)  # warm the cache once, as a dashboard server would be
    raw = measure("raw", url)
    workbook = measure("statistics", url)
    line_list = None if args.no_line_list else measure("line_list", url)
    for name, result in (("workbook", workbook), ("line list", line_list)):
        if result is not None and result["status"] != "done":
            raise RuntimeError(f"{name} export {result['status']}: {result['error']}")
    ratio = workbook["seconds"] / raw["seconds"]
    print(f"\n{'':28}{'seconds':>10}{'peak MB':>10}")
    print(f"{'raw SQL aggregates':28}{raw['seconds']:>10.1f}{raw['peak_mb']:>10.0f}   ({raw['statements']} statements)")
    print(
        f"{'statistics workbook job':28}{workbook['seconds']:>10.1f}{workbook['peak_mb']:>10.0f}   "
        f"({workbook['size_bytes']:,} bytes)"
    )
    if line_list is not None:
        print(
            f"{'line list job':28}{line_list['seconds']:>10.1f}{line_list['peak_mb']:>10.0f}   "
            f"({line_list['rows']:,} rows, {line_list['size_bytes']:,} bytes)"
        )
    print(f"\nworkbook / raw SQL: {ratio:.2f}x (target <= 1.5x); peak memory targets: < 300 MB")
    utility = measure("utility", url)
    print("\nutility: published (cell-key method) vs true counts, national report by state")
    print(f"{'true count':>12}{'cells':>8}{'mean |err|':>12}{'max |err|':>11}{'mean rel':>10}{'shown <5':>10}")
    for band in utility["bands"]:
        print(
            f"{band['band']:>12}{band['cells']:>8}{band['mean_abs']:>12.2f}{band['max_abs']:>11}"
            f"{band['mean_rel']:>10.2%}{band['hidden']:>10}"
        )
    print(f"{'0':>12}{utility['zeros']:>8}{0:>12.2f}{0:>11}{'':>10}{utility['zeros']:>10}   (zeros stay 0)")
    print("targets: no count of 20 or more shown as '<5'; mean relative error under 1% from 100")
    return 0


if __name__ == "__main__":
    sys.exit(main())
