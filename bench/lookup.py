"""Lookup benchmark: identifier lookup, filtered case list, offence/abuse-type filter on N cases.

    python -m bench.lookup --cases 1000000     # the reference run (~5 minutes of generation)
    python -m bench.lookup --cases 20000       # a quick run

Creates (drops and recreates) the database `casework_bench_lookup` on the server given by
CASEWORK_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), migrates it
with the app, loads the reference data, generates N synthetic cases (seed/generator.py) and reports
how long that took, then VACUUM ANALYZEs and times each query shape twice over the same parameters:
as the natural SQLAlchemy ORM query against casework.models and as hand-written SQL through
psycopg2 (the baseline), with p50/p95/p99 and the ORM/raw ratio. Latency is measured in-process
around execute + fetch (warm cache, localhost: it is the server's time plus a local round trip).
EXPLAIN (ANALYZE, BUFFERS) of the slowest sample of each query is summarised to show which indexes
are used; a sequential scan of `cases` prints a WARNING and makes the exit status 1.

--try-index NAME creates one of CANDIDATE_INDEXES in the bench database only (labelled BENCH-ONLY;
the schema itself changes only through migrations) and measures again, to show its effect; each
candidate is measured alone and removed afterwards. --reuse measures an existing bench database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import flask_migrate
import psycopg2
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import exists, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from casework import create_app
from casework.extensions import db
from casework.models import Case, CaseIdentifier, CaseOffence, Identifier
from casework.models.identifiers import IdentifierKind
from casework.services import demo, reference
from seed import generator

DATABASE = "casework_bench_lookup"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_P95_MS = 20.0
PAGE = 25  # case list page size
LOOKUP_LIMIT = 100  # cases shown for one identifier

# Candidate indexes, created only in the bench database with --try-index (never a migration), each
# measured on its own. The last one also needs a column: the case's offence code ids denormalised
# onto cases (as has_minor_victim is), so one GIN index answers "offence X and abuse type Y".
BENCH_ONLY_COLUMN = "bench_only_offence_code_ids"
CANDIDATE_INDEXES: dict[str, list[str]] = {
    "cases_org_status_received": [
        "CREATE INDEX bench_only_cases_org_status_received"
        " ON cases (organisation_id, status, received_on DESC, id DESC)"
    ],
    "cases_org_status_state_received": [
        "CREATE INDEX bench_only_cases_org_status_state_received"
        " ON cases (organisation_id, status, state_code, received_on DESC, id DESC)"
    ],
    "cases_org_received_id": [
        "CREATE INDEX bench_only_cases_org_received_id ON cases (organisation_id, received_on DESC, id DESC)"
    ],
    "case_offences_code_case": [
        "CREATE INDEX bench_only_case_offences_code_case ON case_offences (offence_code_id, case_id)"
    ],
    "cases_offence_code_ids_gin": [
        f"ALTER TABLE cases ADD COLUMN {BENCH_ONLY_COLUMN} integer[]",
        f"UPDATE cases c SET {BENCH_ONLY_COLUMN} = x.codes FROM (SELECT case_id, array_agg(offence_code_id) AS codes"
        " FROM case_offences GROUP BY case_id) x WHERE x.case_id = c.id",
        "VACUUM FULL cases",  # the UPDATE rewrote every row: compact again, as a fresh load would be
        f"CREATE INDEX bench_only_cases_abuse_offences ON cases USING gin (abuse_types, {BENCH_ONLY_COLUMN})",
    ],
}


# --- The queries: ORM (natural app code) and raw SQL (baseline), same parameters -------------------


def orm_identifier_lookup(session: Session, p: dict[str, Any]) -> list[Any]:
    """(a) Cases naming an identifier, newest first, with the role it played in each."""
    statement = (
        select(Case, CaseIdentifier.role)
        .join(CaseIdentifier, CaseIdentifier.case_id == Case.id)
        .join(Identifier, Identifier.id == CaseIdentifier.identifier_id)
        .where(Identifier.kind == IdentifierKind(p["kind"]), Identifier.value == p["value"])
        .order_by(Case.received_on.desc(), Case.id.desc())
        .limit(LOOKUP_LIMIT)
    )
    return list(session.execute(statement).all())


RAW_IDENTIFIER_LOOKUP = f"""
SELECT c.*, o.id, o.name, o.kind, o.code, ci.role
FROM identifiers i
JOIN case_identifiers ci ON ci.identifier_id = i.id
JOIN cases c ON c.id = ci.case_id
JOIN organisations o ON o.id = c.organisation_id
WHERE i.kind = %(kind)s AND i.value = %(value)s
ORDER BY c.received_on DESC, c.id DESC
LIMIT {LOOKUP_LIMIT}
"""


def _list_filters(p: dict[str, Any]) -> list[Any]:
    return [
        Case.organisation_id == p["org"],
        Case.status == p["status"],
        Case.state_code == p["state"],
        Case.received_on.between(p["since"], p["until"]),
    ]


def orm_case_list(session: Session, p: dict[str, Any]) -> list[Any]:
    """(b) One page of an organisation's cases filtered by status, state and received date."""
    statement = select(Case).where(*_list_filters(p)).order_by(Case.received_on.desc(), Case.id.desc()).limit(PAGE)
    return list(session.scalars(statement).all())


RAW_CASE_LIST = f"""
SELECT c.*, o.id, o.name, o.kind, o.code
FROM cases c JOIN organisations o ON o.id = c.organisation_id
WHERE c.organisation_id = %(org)s AND c.status = %(status)s AND c.state_code = %(state)s
  AND c.received_on BETWEEN %(since)s AND %(until)s
ORDER BY c.received_on DESC, c.id DESC
LIMIT {PAGE}
"""


def orm_case_list_total(session: Session, p: dict[str, Any]) -> list[Any]:
    """(b2) The total shown with that page."""
    return [session.scalar(select(func.count()).select_from(Case).where(*_list_filters(p)))]


RAW_CASE_LIST_TOTAL = """
SELECT count(*) FROM cases c
WHERE c.organisation_id = %(org)s AND c.status = %(status)s AND c.state_code = %(state)s
  AND c.received_on BETWEEN %(since)s AND %(until)s
"""


def orm_offence_filter(session: Session, p: dict[str, Any]) -> list[Any]:
    """(c) An organisation's cases involving an offence code and an abuse type, newest first."""
    statement = (
        select(Case)
        .where(
            Case.organisation_id == p["org"],
            exists().where(CaseOffence.case_id == Case.id, CaseOffence.offence_code_id == p["code_id"]),
            Case.abuse_types.contains([p["abuse"]]),
        )
        .order_by(Case.received_on.desc(), Case.id.desc())
        .limit(PAGE)
    )
    return list(session.scalars(statement).all())


def orm_offence_filter_denormalised(session: Session, p: dict[str, Any]) -> list[Any]:
    """(c) as above through the bench-only array column (cases_offence_code_ids_gin)."""
    codes = sa.column(BENCH_ONLY_COLUMN, postgresql.ARRAY(sa.Integer))
    statement = (
        select(Case)
        .where(
            Case.organisation_id == p["org"],
            codes.contains([p["code_id"]]),
            Case.abuse_types.contains([p["abuse"]]),
        )
        .order_by(Case.received_on.desc(), Case.id.desc())
        .limit(PAGE)
    )
    return list(session.scalars(statement).all())


RAW_OFFENCE_FILTER_DENORMALISED = f"""
SELECT c.*, o.id, o.name, o.kind, o.code
FROM cases c JOIN organisations o ON o.id = c.organisation_id
WHERE c.organisation_id = %(org)s
  AND c.{BENCH_ONLY_COLUMN} @> ARRAY[%(code_id)s]::integer[]
  AND c.abuse_types @> %(abuse_array)s::varchar[]
ORDER BY c.received_on DESC, c.id DESC
LIMIT {PAGE}
"""


RAW_OFFENCE_FILTER = f"""
SELECT c.*, o.id, o.name, o.kind, o.code
FROM cases c JOIN organisations o ON o.id = c.organisation_id
WHERE c.organisation_id = %(org)s
  AND EXISTS (SELECT 1 FROM case_offences co WHERE co.case_id = c.id AND co.offence_code_id = %(code_id)s)
  AND c.abuse_types @> %(abuse_array)s::varchar[]
ORDER BY c.received_on DESC, c.id DESC
LIMIT {PAGE}
"""


@dataclass
class QueryShape:
    label: str
    orm: Callable[[Session, dict[str, Any]], list[Any]]
    raw: str
    params: list[dict[str, Any]]


# --- Parameters, sampled from the generated data ----------------------------------------------------


def sample_parameters(cursor: Any, n: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Realistic parameters: mostly values that occur (weighted by use), some that match little or nothing."""

    def ids_of(table: str) -> tuple[int, int]:
        cursor.execute(f"SELECT min(id), max(id) FROM {table}")
        return cursor.fetchone()

    def rows_by_id(query: str, table: str, count: int) -> list[tuple[Any, ...]]:
        low, high = ids_of(table)
        cursor.execute(query, ([rng.randint(low, high) for _ in range(count)],))
        rows = cursor.fetchall()
        rng.shuffle(rows)
        return rows

    # (a) half by use (serial identifiers come up often), half any identifier, a few unknown numbers
    used = rows_by_id(
        "SELECT i.kind::text, i.value FROM case_identifiers ci JOIN identifiers i ON i.id = ci.identifier_id"
        " WHERE ci.id = ANY(%s) ORDER BY ci.id",
        "case_identifiers",
        n // 2,
    )
    anyone = rows_by_id("SELECT kind::text, value FROM identifiers WHERE id = ANY(%s) ORDER BY id", "identifiers", n)
    lookups = [{"kind": k, "value": v} for k, v in used + anyone[: n - len(used) - n // 10]]
    lookups += [{"kind": "phone", "value": f"+6019{rng.randrange(10**7):07d}0"} for _ in range(n - len(lookups))]
    rng.shuffle(lookups)

    # (b) filters taken from real cases, over a quarter or a year up to their received date
    cases = rows_by_id(
        "SELECT organisation_id, status::text, state_code, received_on FROM cases WHERE id = ANY(%s) ORDER BY id",
        "cases",
        n,
    )
    lists = [
        {
            "org": org,
            "status": status,
            "state": state,
            "until": received + timedelta(days=rng.randint(0, 30)),
            "since": received - timedelta(days=rng.choice([90, 365])),
        }
        for org, status, state, received in cases
    ]

    # (c) half from real case offences (hits), half any code x any abuse type x any owner (often empty)
    cursor.execute("SELECT DISTINCT organisation_id FROM cases ORDER BY 1")
    owners = [row[0] for row in cursor.fetchall()]
    cursor.execute("SELECT DISTINCT offence_code_id FROM case_offences ORDER BY 1")
    codes = [row[0] for row in cursor.fetchall()]
    hits = rows_by_id(
        "SELECT c.organisation_id, co.offence_code_id, c.abuse_types FROM case_offences co"
        " JOIN cases c ON c.id = co.case_id WHERE co.id = ANY(%s) ORDER BY co.id",
        "case_offences",
        n // 2,
    )
    offences = [{"org": org, "code_id": code, "abuse": rng.choice(types)} for org, code, types in hits]
    while len(offences) < n:
        offences.append(
            {"org": rng.choice(owners), "code_id": rng.choice(codes), "abuse": rng.choice(generator.ABUSE_TYPES[0])}
        )
    rng.shuffle(offences)
    for p in offences:
        p["abuse_array"] = [p["abuse"]]
    return {"lookup": lookups, "list": lists, "offence": offences}


# --- Measuring -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Timing:
    raw_ms: list[float]
    orm_ms: list[float]
    slowest: dict[str, Any]
    rows: int


def measure(shape: QueryShape, cursor: Any, session: Session, warmup: int) -> Timing:
    """Run raw and ORM alternately on the same parameters (so neither gets a warmer cache)."""
    raw_ms, orm_ms, rows, slowest, worst = [], [], 0, shape.params[0], -1.0
    for i, p in enumerate(shape.params[:warmup] + shape.params):
        timed = i >= warmup
        order = (0, 1) if i % 2 else (1, 0)
        for which in order:
            began = time.perf_counter()
            if which == 0:
                cursor.execute(shape.raw, p)
                found = len(cursor.fetchall())
            else:
                found = len(shape.orm(session, p))
            elapsed = (time.perf_counter() - began) * 1000
            if which == 1:
                session.expunge_all()  # each ORM query builds its objects afresh, like a new request
            if not timed:
                continue
            (raw_ms if which == 0 else orm_ms).append(elapsed)
            if which == 0:
                rows += found
                if elapsed > worst:
                    worst, slowest = elapsed, p
    session.rollback()
    return Timing(raw_ms, orm_ms, slowest, rows)


def plan_summary(cursor: Any, sql: str, params: dict[str, Any]) -> tuple[list[str], bool, float]:
    """EXPLAIN (ANALYZE, BUFFERS): one line per scan/join node, whether `cases` is read sequentially."""
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0][0]
    lines: list[str] = []
    seq_scan_on_cases = False

    def walk(node: dict[str, Any], depth: int) -> None:
        nonlocal seq_scan_on_cases
        kind = node["Node Type"]
        where = f" using {node['Index Name']}" if "Index Name" in node else ""
        relation = f" on {node['Relation Name']}" if "Relation Name" in node else ""
        if kind == "Seq Scan" and node.get("Relation Name") == "cases":
            seq_scan_on_cases = True
        buffers = node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
        lines.append(
            f"{'  ' * depth}{kind}{where}{relation}  rows={node.get('Actual Rows')} loops={node.get('Actual Loops')}"
            f" buffers={buffers}"
        )
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    return lines, seq_scan_on_cases, plan["Execution Time"]


def orm_sql(engine: sa.Engine, shape: QueryShape, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SQL the ORM sends for these parameters (to EXPLAIN it too)."""
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        captured.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            shape.orm(session, params)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    return captured[-1]


# --- Setting up ------------------------------------------------------------------------------------


def create_database(server_url: str) -> str:
    server = make_url(server_url).set(drivername="postgresql+psycopg2")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return server.set(database=DATABASE).render_as_string(hide_password=False)


def build_app(url: str) -> Flask:
    return create_app(
        {
            "CASEWORK_ENV": "development",
            "SECRET_KEY": "bench-only",
            "IDENTITY_HASH_KEY": "bench-identity-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": os.environ.get("CASEWORK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),  # never used
        }
    )


def prepare(app: Flask) -> None:
    """Schema by migrations, reference data, the synthetic owners."""
    with app.app_context():
        flask_migrate.upgrade()
        reference.load_reference_data()
        demo.ensure_synthetic_organisations()
        db.session.commit()


def drop_bench_objects(dsn: str) -> None:
    """Remove what --try-index added, so each candidate is measured on its own."""
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'bench_only_%'")
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT 1 FROM information_schema.columns WHERE column_name = %s", (BENCH_ONLY_COLUMN,))
        if cursor.fetchone():
            cursor.execute(f"ALTER TABLE cases DROP COLUMN {BENCH_ONLY_COLUMN}")
            cursor.execute("VACUUM FULL cases")
            cursor.execute("ANALYZE cases")
    connection.close()


def try_index(dsn: str, name: str) -> None:
    drop_bench_objects(dsn)
    print(f"\nBENCH-ONLY candidate {name!r} (bench database only, not in the migrations):")
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in CANDIDATE_INDEXES[name]:
            print(f"  {statement}")
            cursor.execute(statement)
        cursor.execute("ANALYZE cases")
        cursor.execute("ANALYZE case_offences")
    connection.close()
    print(f"  built in {time.perf_counter() - began:.1f} s")


def vacuum_analyze(dsn: str) -> float:
    began = time.perf_counter()
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return time.perf_counter() - began


# --- Reporting -------------------------------------------------------------------------------------


def report(label: str, timing: Timing, n: int) -> str:
    raw = [percentile(timing.raw_ms, q) for q in (0.5, 0.95, 0.99)]
    orm = [percentile(timing.orm_ms, q) for q in (0.5, 0.95, 0.99)]
    flag = "" if raw[1] < TARGET_P95_MS and orm[1] < TARGET_P95_MS else f"  << p95 over {TARGET_P95_MS:g} ms"
    return (
        f"{label:<34} raw {raw[0]:7.2f} {raw[1]:7.2f} {raw[2]:7.2f} | orm {orm[0]:7.2f} {orm[1]:7.2f} {orm[2]:7.2f}"
        f" | orm/raw p50 {orm[0] / raw[0]:4.1f}x p95 {orm[1] / raw[1]:4.1f}x | {timing.rows / n:6.1f} rows/query{flag}"
    )


def run_queries(app: Flask, dsn: str, shapes: list[QueryShape], warmup: int) -> bool:
    """Time every shape and summarise its plans; returns False when a plan reads `cases` sequentially."""
    ok = True
    print(f"\n{'query (ms, warm)':<34} raw     p50     p95     p99 | orm     p50     p95     p99")
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    timings = {}
    with app.app_context(), connection.cursor() as cursor:
        for shape in shapes:
            timings[shape.label] = timing = measure(shape, cursor, db.session, warmup)
            print(report(shape.label, timing, len(shape.params)), flush=True)
        print("\nplans for the slowest sample of each (EXPLAIN ANALYZE, BUFFERS):")
        for shape in shapes:
            slowest = timings[shape.label].slowest
            for source, (sql, params) in (
                ("raw", (shape.raw, slowest)),
                ("orm", orm_sql(db.engine, shape, slowest)),
            ):
                lines, seq_scan, executed = plan_summary(cursor, sql, params)
                print(f"- {shape.label} [{source}] {executed:.2f} ms  params={_short(slowest)}")
                for line in lines:
                    print(f"    {line}")
                if seq_scan:
                    ok = False
                    print(f"    WARNING: sequential scan on cases in {shape.label} [{source}]")
    connection.close()
    return ok


def _short(params: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in params.items() if k != "abuse_array"}, default=str)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to generate (default 1,000,000)")
    parser.add_argument("--queries", type=int, default=500, help="timed queries per shape (default 500)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=50, help="untimed queries per shape first (default 50)")
    parser.add_argument(
        "--try-index",
        action="append",
        default=[],
        choices=sorted(CANDIDATE_INDEXES),
        help="after measuring, create this index in the bench database only and measure again (repeatable)",
    )
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the existing bench database again (no generation; BENCH-ONLY indexes dropped first)",
    )
    args = parser.parse_args(argv)

    server = os.environ.get("CASEWORK_BENCH_DATABASE_URL", DEFAULT_SERVER)
    if args.reuse:
        url = make_url(server).set(drivername="postgresql+psycopg2", database=DATABASE).render_as_string(False)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        app = build_app(url)
        drop_bench_objects(dsn)
        print(f"reusing {DATABASE}", flush=True)
    else:
        url = create_database(server)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        app = build_app(url)
        prepare(app)
        print(f"database {DATABASE} on {make_url(server).host}: migrated, reference data loaded", flush=True)
        began = time.perf_counter()
        counts = generator.generate(
            dsn, args.cases, identity_key=b"bench-identity-key", seed=args.seed, progress=not args.no_progress
        )
        seconds = time.perf_counter() - began
        total = sum(counts.values())
        print(
            f"generated {args.cases:,} cases in {seconds:.1f} s ({args.cases / seconds:,.0f} cases/s;"
            f" {total:,} rows, {total / seconds:,.0f} rows/s): " + ", ".join(f"{t} {c:,}" for t, c in counts.items())
        )
        print(f"VACUUM ANALYZE {vacuum_analyze(dsn):.1f} s")

    connection = psycopg2.connect(dsn)
    with connection.cursor() as cursor:
        params = sample_parameters(cursor, args.queries, random.Random(args.seed))
    connection.close()
    shapes = [
        QueryShape("a identifier lookup", orm_identifier_lookup, RAW_IDENTIFIER_LOOKUP, params["lookup"]),
        QueryShape("b case list page", orm_case_list, RAW_CASE_LIST, params["list"]),
        QueryShape("b2 case list total", orm_case_list_total, RAW_CASE_LIST_TOTAL, params["list"]),
        QueryShape("c offence + abuse type page", orm_offence_filter, RAW_OFFENCE_FILTER, params["offence"]),
    ]
    ok = run_queries(app, dsn, shapes, args.warmup)

    for name in args.try_index:
        try_index(dsn, name)
        tried = shapes
        if name == "cases_offence_code_ids_gin":
            tried = shapes + [
                QueryShape(
                    "c' same via BENCH-ONLY array",
                    orm_offence_filter_denormalised,
                    RAW_OFFENCE_FILTER_DENORMALISED,
                    params["offence"],
                )
            ]
        ok = run_queries(app, dsn, tried, args.warmup) and ok
    if args.try_index:
        drop_bench_objects(dsn)

    with app.app_context():
        db.engine.dispose()
    if not ok:
        print("\nWARNING: a plan reads the whole cases table (Seq Scan on cases); see above.", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
