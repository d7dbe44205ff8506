"""Lookup benchmark: the app's identifier look-up and case lists, timed server-side on N synthetic cases.

    python -m bench.lookup --cases 1000000     # the reference run (~4 minutes of generation)
    python -m bench.lookup --cases 20000       # a quick run
    python -m bench.lookup --reuse             # measure the existing bench database again

Creates (drops and recreates) the database `casework_bench_lookup` on the server given by
CASEWORK_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), migrates it
with the app, loads the reference data, generates N synthetic cases (seed/generator.py), reports how
long that took and VACUUM ANALYZEs. It then acts as a supervisor of the police unit that owns the
most cases (an account made with casework.services.users.create_user) and times, inside an app
context and without HTTP, the service functions the API calls:

  a  casework.services.identifiers.lookup() for identifiers that exist, some named by many cases.
     It appends an audit row: that INSERT is part of the time, and each call is rolled back
     afterwards (the API commits) so the audit table does not grow during the run.
  b  casework.services.cases.list_cases() filtered by status, state and received date range, newest
     first, 25 per page: the count the API returns as `total`, the page, its offences and victims.
  c  list_cases() filtered by an offence code and an abuse type, same sort and page.

Each is compared with the same SQL statements written out by hand below and sent through psycopg2
(the baseline), on the same parameters in the same run, alternately: p50/p95/p99, the service/raw
ratio and the 20 ms p95 target. Both sides must find the same cases (checked on every call).
EXPLAIN (ANALYZE, BUFFERS) of every statement of the slowest calls of each shows which indexes are
used; a sequential scan of `cases` or `case_identifiers` prints a WARNING and makes the exit status 1.

--try-index NAME creates one of CANDIDATE_INDEXES in the bench database only (labelled BENCH-ONLY;
the schema itself changes only through migrations) and measures again, to show its effect; each
candidate is measured alone and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_migrate
import psycopg2
import sqlalchemy as sa
from flask import Flask
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from casework import create_app, encryption
from casework.extensions import db
from casework.models import Case, Organisation, User
from casework.models.identifiers import IdentifierKind
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from casework.schemas.cases import CaseQuerySchema, LookupQuerySchema
from casework.services import audit, cases, demo, identifiers, reference, users
from casework.services.cases import COUNT_CAP, COUNT_PROBE
from seed import generator

DATABASE = "casework_bench_lookup"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
IDENTITY_KEY = "bench-identity-key"
TARGET_P95_MS = 20.0
PER_PAGE = 25
SEQ_SCAN_FORBIDDEN = ("cases", "case_identifiers")

# Candidate indexes, created only in the bench database with --try-index (never a migration), each
# measured on its own. The status list index (now with a trailing state) and the offence_code_ids
# GIN index were candidates here and are migrations now.
CANDIDATE_INDEXES: dict[str, list[str]] = {
    # a: the cases naming a serial identifier by an index-only scan instead of one heap visit each.
    "case_identifiers_identifier_case": [
        "CREATE INDEX bench_only_case_identifiers_identifier_case ON case_identifiers (identifier_id, case_id)"
    ],
}


# --- The baseline: the statements the services send, by hand ------------------------------------
#
# Written from the SQL the services emit (SQLAlchemy's echo), with the same predicates, order and
# limits, one statement per round trip as the service makes them, selecting the same rows (c.* is
# every column the ORM lists). The services' record scope for a supervisor is the organisation.

# a: casework.services.identifiers.lookup()
LOOKUP_IDENTIFIERS = """
SELECT i.* FROM identifiers i
WHERE i.kind = %(kind)s AND i.value = %(value)s
"""
LOOKUP_IDENTIFIERS_QUALIFIED = """
SELECT i.* FROM identifiers i
WHERE i.kind = %(kind)s AND i.value = %(value)s AND i.qualifier = %(qualifier)s
"""
LOOKUP_CASES = """
SELECT DISTINCT ci.case_id, c.organisation_id
FROM case_identifiers ci JOIN cases c ON c.id = ci.case_id
WHERE ci.identifier_id IN %(identifier_ids)s
"""
SCOPED_CASE_IDS = """
SELECT c.id FROM cases c
WHERE c.organisation_id = %(organisation_id)s AND c.id IN %(case_ids)s
"""
ORGANISATIONS = """
SELECT o.* FROM organisations o WHERE o.id IN %(ids)s
"""
# casework.services.audit.record(): the chain lock, then the row hashed onto the previous one
AUDIT_LOCK = "SELECT pg_advisory_xact_lock(%(key)s)"
AUDIT_INSERT = """
INSERT INTO audit_events (occurred_at, actor_id, organisation_id, action, object_type, object_id, outcome,
                          request_id, client_address, details, prev_hash, hash)
SELECT %(occurred_at)s, %(actor_id)s, %(organisation_id)s, %(action)s, %(object_type)s, %(object_id)s,
       %(outcome)s, %(request_id)s, %(client_address)s, %(details)s::jsonb,
       prev.hash, encode(sha256(convert_to(prev.hash || %(payload)s, 'UTF8')), 'hex')
FROM (SELECT coalesce((SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), %(genesis)s) AS hash) AS prev
RETURNING id
"""
# casework.services.scoping.visible_cases(limit=LOOKUP_LIMIT) and SUMMARY_OPTIONS (victims, offences)
VISIBLE_CASES = """
SELECT c.*, o.*
FROM cases c JOIN organisations o ON o.id = c.organisation_id
WHERE c.organisation_id = %(organisation_id)s AND c.id IN %(case_ids)s
ORDER BY c.received_on DESC, c.id DESC
LIMIT 100
"""
CASE_VICTIMS = """
SELECT v.case_id, v.id FROM victims v WHERE v.case_id IN %(case_ids)s ORDER BY v.id
"""
CASE_OFFENCES = """
SELECT co.case_id, co.id, co.offence_code_id, oc.id, oc.code, oc.severity_rank
FROM case_offences co JOIN offence_codes oc ON oc.id = co.offence_code_id
WHERE co.case_id IN %(case_ids)s
ORDER BY co.id
"""

# b: casework.services.cases.list_cases(status, state, received_from, received_to, sort=-received_on)
# The total stops at COUNT_CAP (500) + 1 rows, as the service counts it.
CASE_LIST_TOTAL = """
SELECT count(*) FROM (SELECT c.id FROM cases c
WHERE c.organisation_id = %(organisation_id)s AND c.status = %(status)s AND c.state_code = %(state)s
  AND c.received_on >= %(received_from)s AND c.received_on <= %(received_to)s
LIMIT 501) AS capped
"""
CASE_LIST_PAGE = """
SELECT c.*, o.*
FROM cases c JOIN organisations o ON o.id = c.organisation_id
WHERE c.organisation_id = %(organisation_id)s AND c.status = %(status)s AND c.state_code = %(state)s
  AND c.received_on >= %(received_from)s AND c.received_on <= %(received_to)s
ORDER BY c.received_on DESC, c.id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""

# c: list_cases(abuse_type, offence, sort=-received_on); an unknown code filters by id 0
OFFENCE_CODE_ID = """
SELECT oc.id FROM offence_codes oc WHERE oc.code = %(code)s
"""
# The newest matches: among the organisation's newest 5,000 cases (COUNT_PROBE), an index-only walk of
# ix_cases_org_received_covering. If the cap is not reached there, the total is counted by the
# organisation-qualified keys of ix_cases_facets (they imply the organisation).
OFFENCE_LIST_NEWEST = """
SELECT newest.id FROM (SELECT c.id, c.received_on, c.abuse_types, c.offence_code_ids FROM cases c
  WHERE c.organisation_id = %(organisation_id)s ORDER BY c.received_on DESC, c.id DESC LIMIT %(probe)s) AS newest
WHERE newest.abuse_types @> %(abuse_types)s::varchar(40)[]
  AND newest.offence_code_ids @> %(offence_code_ids)s::integer[]
ORDER BY newest.received_on DESC, newest.id DESC
LIMIT 501
"""
OFFENCE_LIST_TOTAL = """
SELECT count(*) FROM (SELECT c.id FROM cases c
WHERE case_facets(c.organisation_id, c.abuse_types, c.offence_code_ids, c.contact_platform, c.moved_to_platforms)
      @> %(facets)s::text[]
LIMIT 501) AS capped
"""
# the page's ids when they are not among the newest matches: by the keys when they counted at most
# COUNT_CAP matches (then sorted), else by the walk of the covering index
OFFENCE_LIST_IDS_BY_KEYS = """
SELECT c.id FROM cases c
WHERE case_facets(c.organisation_id, c.abuse_types, c.offence_code_ids, c.contact_platform, c.moved_to_platforms)
      @> %(facets)s::text[]
ORDER BY c.received_on DESC, c.id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""
OFFENCE_LIST_IDS = """
SELECT c.id FROM cases c
WHERE c.organisation_id = %(organisation_id)s
  AND c.abuse_types @> %(abuse_types)s::varchar(40)[] AND c.offence_code_ids @> %(offence_code_ids)s::integer[]
ORDER BY c.received_on DESC, c.id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""
CASES_BY_ID = """
SELECT c.*, o.*
FROM cases c JOIN organisations o ON o.id = c.organisation_id
WHERE c.organisation_id = %(organisation_id)s AND c.id IN %(case_ids)s
"""


@dataclass(frozen=True)
class Outcome:
    """What one call found, to check that the service and the baseline agree."""

    case_ids: tuple[int, ...]  # the cases returned in full, in their order
    total: int  # list: the `total`; look-up: cases naming the identifier, in scope or not


@dataclass(frozen=True)
class RawActor:
    id: int
    organisation_id: int


def _summaries(cursor: Any, sql: str, params: dict[str, Any]) -> tuple[int, ...]:
    """Cases (id first) with their victims and offences, as SUMMARY_OPTIONS loads them."""
    cursor.execute(sql, params)
    found = tuple(row[0] for row in cursor.fetchall())
    _children(cursor, found)
    return found


def _summaries_by_id(cursor: Any, actor: RawActor, ids: Sequence[int]) -> tuple[int, ...]:
    """Cases by id with their victims and offences, in the order of ids (the service's _in_order)."""
    if not ids:
        return ()
    cursor.execute(CASES_BY_ID, {"organisation_id": actor.organisation_id, "case_ids": tuple(ids)})
    found = {row[0] for row in cursor.fetchall()}
    ordered = tuple(i for i in ids if i in found)
    _children(cursor, ordered)
    return ordered


def _children(cursor: Any, found: tuple[int, ...]) -> None:
    if found:
        cursor.execute(CASE_VICTIMS, {"case_ids": found})
        cursor.fetchall()
        cursor.execute(CASE_OFFENCES, {"case_ids": found})
        cursor.fetchall()


def _raw_audit(cursor: Any, actor: RawActor, action: str, object_type: str, object_id: Any, **details: Any) -> None:
    fields = {
        "occurred_at": datetime.now(UTC).isoformat(),
        "actor_id": actor.id,
        "organisation_id": actor.organisation_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "outcome": "success",
        "request_id": None,
        "client_address": None,
        "details": details,
    }
    cursor.execute(AUDIT_LOCK, {"key": audit._AUDIT_LOCK_KEY})  # the app's lock: same serialisation
    cursor.execute(
        AUDIT_INSERT,
        {
            **fields,
            "details": json.dumps(details),
            "payload": json.dumps(fields, sort_keys=True, default=str, separators=(",", ":")),
            "genesis": audit.GENESIS,
        },
    )
    cursor.fetchone()


def raw_lookup(cursor: Any, actor: RawActor, p: dict[str, Any]) -> Outcome:
    q = p["lookup"]
    args = {"kind": q["kind"].value, "value": q["value"], "qualifier": q["qualifier"]}
    cursor.execute(LOOKUP_IDENTIFIERS_QUALIFIED if q["qualifier_given"] else LOOKUP_IDENTIFIERS, args)
    ids = [row[0] for row in cursor.fetchall()]
    rows: list[tuple[int, int]] = []
    if ids:
        cursor.execute(LOOKUP_CASES, {"identifier_ids": tuple(ids)})
        rows = cursor.fetchall()
    in_scope: set[int] = set()
    if rows:
        scope = {"organisation_id": actor.organisation_id, "case_ids": tuple({case_id for case_id, _ in rows})}
        cursor.execute(SCOPED_CASE_IDS, scope)
        in_scope = {row[0] for row in cursor.fetchall()}
    elsewhere: dict[int, int] = {}
    for case_id, organisation_id in rows:
        if case_id not in in_scope:
            elsewhere[organisation_id] = elsewhere.get(organisation_id, 0) + 1
    if elsewhere:
        cursor.execute(ORGANISATIONS, {"ids": tuple(elsewhere)})
        cursor.fetchall()
    object_id = ids[0] if len(ids) == 1 else None
    _raw_audit(
        cursor, actor, "identifier.lookup", "identifiers", object_id, kind=q["kind"].value, matched_cases=len(rows)
    )
    found: tuple[int, ...] = ()
    if in_scope:
        found = _summaries(
            cursor, VISIBLE_CASES, {"organisation_id": actor.organisation_id, "case_ids": tuple(in_scope)}
        )
    return Outcome(found, len(found) + sum(elsewhere.values()))


def raw_case_list(cursor: Any, actor: RawActor, p: dict[str, Any]) -> Outcome:
    f = p["filters"]
    args = {
        "organisation_id": actor.organisation_id,
        "status": f["status"].value,
        "state": f["state"],
        "received_from": f["received_from"],
        "received_to": f["received_to"],
        "limit": f["per_page"],
        "offset": (f["page"] - 1) * f["per_page"],
    }
    cursor.execute(CASE_LIST_TOTAL, args)
    total = min(cursor.fetchone()[0], COUNT_CAP)
    return Outcome(_summaries(cursor, CASE_LIST_PAGE, args), total)


def raw_offence_list(cursor: Any, actor: RawActor, p: dict[str, Any]) -> Outcome:
    f = p["filters"]
    cursor.execute(OFFENCE_CODE_ID, {"code": reference.normalise_offence_code(f["offence"])})
    row = cursor.fetchone()
    code_id = row[0] if row else 0
    args = {
        "organisation_id": actor.organisation_id,
        "abuse_types": [f["abuse_type"]],
        "offence_code_ids": [code_id],
        "probe": COUNT_PROBE,
        "facets": [f"{actor.organisation_id}:oa:{code_id}:{f['abuse_type']}"],
        "limit": f["per_page"],
        "offset": (f["page"] - 1) * f["per_page"],
    }
    cursor.execute(OFFENCE_LIST_NEWEST, args)
    newest = [row[0] for row in cursor.fetchall()]
    total = len(newest)
    if total <= COUNT_CAP:
        cursor.execute(OFFENCE_LIST_TOTAL, args)
        total = cursor.fetchone()[0]
    start, end = args["offset"], args["offset"] + args["limit"]
    if len(newest) >= end or total == len(newest):
        ids = newest[start:end]
    else:
        cursor.execute(OFFENCE_LIST_IDS_BY_KEYS if total <= COUNT_CAP else OFFENCE_LIST_IDS, args)
        ids = [row[0] for row in cursor.fetchall()]
    return Outcome(_summaries_by_id(cursor, actor, ids), min(total, COUNT_CAP))


# --- What the app runs ------------------------------------------------------------------------------


def service_lookup(actor: User, p: dict[str, Any]) -> Outcome:
    result = identifiers.lookup(actor=actor, **p["lookup"])
    found = tuple(case.id for case in result["cases"])
    return Outcome(found, len(found) + sum(e["case_count"] for e in result["elsewhere"]))


def service_list(actor: User, p: dict[str, Any]) -> Outcome:
    page = cases.list_cases(actor=actor, filters=p["filters"])
    return Outcome(tuple(case.id for case in page.items), page.total)


@dataclass
class QueryShape:
    label: str
    service: Callable[[User, dict[str, Any]], Outcome]
    raw: Callable[[Any, RawActor, dict[str, Any]], Outcome]
    params: list[dict[str, Any]]


# --- Parameters, sampled from the generated data and read as the API reads its query string ---------


def _rows_by_id(cursor: Any, rng: random.Random, query: str, table: str, count: int) -> list[tuple[Any, ...]]:
    """`count` rows of `query` (which takes `id = ANY(%s)` on `table`) for random ids, with repeats."""
    cursor.execute(f"SELECT min(id), max(id) FROM {table}")
    low, high = cursor.fetchone()
    found: list[tuple[Any, ...]] = []
    while len(found) < count:
        wanted = [rng.randint(low, high) for _ in range(2 * (count - len(found)) + 10)]
        cursor.execute(query, (wanted,))
        by_id = {row[0]: row[1:] for row in cursor.fetchall()}
        found += [by_id[i] for i in wanted if i in by_id]
    return found[:count]


def sample_parameters(
    cursor: Any, organisation_id: int, n: int, rng: random.Random
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Parameters for each shape, and how many identifiers did not survive the API's normalisation."""
    # a: half by use (so serial identifiers come up often), half any identifier
    used = _rows_by_id(
        cursor,
        rng,
        "SELECT ci.id, i.kind::text, i.qualifier, i.value FROM case_identifiers ci"
        " JOIN identifiers i ON i.id = ci.identifier_id WHERE ci.id = ANY(%s)",
        "case_identifiers",
        n // 2,
    )
    anyone = _rows_by_id(
        cursor, rng, "SELECT id, kind::text, qualifier, value FROM identifiers WHERE id = ANY(%s)", "identifiers", n
    )
    lookups, stored_form = [], 0
    schema = LookupQuerySchema()
    for kind, qualifier, value in used + anyone[: n - len(used)]:
        try:
            args = schema.load({"kind": kind, "value": value, **({"qualifier": qualifier} if qualifier else {})})
        except ValidationError:
            args = None
        if args is not None and args["normalised"] == (qualifier, value):
            given = bool(args.get("qualifier")) or bool(qualifier)  # as casework.api.identifiers.lookup
            lookups.append({"kind": args["kind"], "qualifier": qualifier, "value": value, "qualifier_given": given})
        else:  # the API would refuse or re-qualify it (a generator quirk): look up the row as stored
            stored_form += 1
            lookups.append(
                {
                    "kind": IdentifierKind(kind),
                    "qualifier": qualifier,
                    "value": value,
                    "qualifier_given": bool(qualifier),
                }
            )
    rng.shuffle(lookups)

    # b: status, state and a quarter or a year up to a real case's received date
    query = CaseQuerySchema()
    own = _rows_by_id(
        cursor,
        rng,
        "SELECT id, status::text, state_code, received_on FROM cases"
        f" WHERE id = ANY(%s) AND organisation_id = {int(organisation_id)} AND state_code IS NOT NULL",
        "cases",
        n,
    )
    lists = []
    for status, state, received in own:
        filters = query.load(
            {
                "status": status,
                "state": state,
                "received_from": (received - timedelta(days=rng.choice([90, 365]))).isoformat(),
                "received_to": (received + timedelta(days=rng.randint(0, 30))).isoformat(),
                "sort": "-received_on",
                "page": "1",
                "per_page": str(PER_PAGE),
            }
        )
        lists.append({"filters": filters})

    # c: half an offence and abuse type of a real case of the unit (PC 383 comes up most), half any
    # offence code in use with any abuse type (rarer codes, often few or no matches)
    cursor.execute("SELECT DISTINCT oc.code FROM offence_codes oc JOIN case_offences co ON co.offence_code_id = oc.id")
    codes = sorted(row[0] for row in cursor.fetchall())
    hits = _rows_by_id(
        cursor,
        rng,
        "SELECT co.id, oc.code, c.abuse_types FROM case_offences co JOIN offence_codes oc ON oc.id = co.offence_code_id"
        f" JOIN cases c ON c.id = co.case_id WHERE co.id = ANY(%s) AND c.organisation_id = {int(organisation_id)}",
        "case_offences",
        n // 2,
    )
    pairs = [(code, rng.choice(types)) for code, types in hits]
    pairs += [(rng.choice(codes), rng.choice(generator.ABUSE_TYPES[0])) for _ in range(n - len(pairs))]
    offences = [
        {
            "filters": query.load(
                {"offence": code, "abuse_type": abuse, "sort": "-received_on", "page": "1", "per_page": str(PER_PAGE)}
            )
        }
        for code, abuse in pairs
    ]
    rng.shuffle(offences)
    return {"lookup": [{"lookup": p} for p in lookups], "list": lists, "offence": offences}, stored_form


# --- Measuring -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Timing:
    service_ms: list[float]
    raw_ms: list[float]
    slowest_service: dict[str, Any]
    slowest_raw: dict[str, Any]
    returned: list[int]  # cases returned in full per call
    totals: list[int]
    mismatches: list[tuple[dict[str, Any], Outcome, Outcome]]


def call_service(shape: QueryShape, actor_id: int, p: dict[str, Any]) -> tuple[Outcome, float]:
    """One request's worth: a fresh session, the actor loaded (untimed, as the API's authentication
    does), the service call timed, then rolled back (the API would commit) and the session closed."""
    actor = db.session.get_one(User, actor_id)
    began = time.perf_counter()
    outcome = shape.service(actor, p)
    elapsed = (time.perf_counter() - began) * 1000
    db.session.rollback()
    db.session.remove()
    return outcome, elapsed


def call_raw(shape: QueryShape, connection: Any, actor: RawActor, p: dict[str, Any]) -> tuple[Outcome, float]:
    with connection.cursor() as cursor:
        began = time.perf_counter()
        outcome = shape.raw(cursor, actor, p)
        elapsed = (time.perf_counter() - began) * 1000
    connection.rollback()
    return outcome, elapsed


def measure(shape: QueryShape, connection: Any, actor_id: int, raw_actor: RawActor, warmup: int) -> Timing:
    """Service and raw alternately on the same parameters (so neither gets a warmer cache)."""
    timing = Timing([], [], shape.params[0], shape.params[0], [], [], [])
    worst_service = worst_raw = -1.0
    for i, p in enumerate(shape.params[:warmup] + shape.params):
        if i % 2:
            raw, raw_elapsed = call_raw(shape, connection, raw_actor, p)
            service, service_elapsed = call_service(shape, actor_id, p)
        else:
            service, service_elapsed = call_service(shape, actor_id, p)
            raw, raw_elapsed = call_raw(shape, connection, raw_actor, p)
        if service != raw:
            timing.mismatches.append((p, service, raw))
        if i < warmup:
            continue
        timing.service_ms.append(service_elapsed)
        timing.raw_ms.append(raw_elapsed)
        timing.returned.append(len(service.case_ids))
        timing.totals.append(service.total)
        if service_elapsed > worst_service:
            worst_service, timing.slowest_service = service_elapsed, p
        if raw_elapsed > worst_raw:
            worst_raw, timing.slowest_raw = raw_elapsed, p
    return timing


# --- Plans -----------------------------------------------------------------------------------------


def service_statements(shape: QueryShape, actor_id: int, p: dict[str, Any]) -> list[tuple[str, Any]]:
    """The SQL the service sends for these parameters, as the driver receives it."""
    captured: list[tuple[str, Any]] = []
    actor = db.session.get_one(User, actor_id)

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        captured.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        shape.service(actor, p)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
        db.session.rollback()
        db.session.remove()
    return captured


class RecordingCursor:
    """A psycopg2 cursor that remembers what the baseline sent."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.statements: list[tuple[str, Any]] = []

    def execute(self, sql: str, params: Any = None) -> None:
        self.statements.append((sql, params))
        self.cursor.execute(sql, params)

    def fetchone(self) -> Any:
        return self.cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self.cursor.fetchall()


def raw_statements(shape: QueryShape, connection: Any, actor: RawActor, p: dict[str, Any]) -> list[tuple[str, Any]]:
    with connection.cursor() as cursor:
        recording = RecordingCursor(cursor)
        shape.raw(recording, actor, p)
    connection.rollback()
    return recording.statements


@dataclass
class Plan:
    statement: str
    milliseconds: float
    nodes: list[str]
    indexes: list[str]
    seq_scans: list[str]  # forbidden relations read sequentially


def explain(connection: Any, sql: str, params: Any) -> Plan:
    """EXPLAIN (ANALYZE, BUFFERS) in a transaction rolled back (the audit INSERT really runs)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]
    connection.rollback()
    result = Plan(describe(sql), plan["Execution Time"], [], [], [])

    def walk(node: dict[str, Any], depth: int) -> None:
        kind, relation = node["Node Type"], node.get("Relation Name")
        index = node.get("Index Name")
        if index:
            result.indexes.append(index)
        if kind == "Seq Scan" and relation in SEQ_SCAN_FORBIDDEN:
            result.seq_scans.append(relation)
        buffers = node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
        result.nodes.append(
            f"{'  ' * depth}{kind}{f' using {index}' if index else ''}{f' on {relation}' if relation else ''}"
            f"  rows={node.get('Actual Rows')} loops={node.get('Actual Loops')} buffers={buffers}"
        )
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    return result


_COLUMNS = re.compile(r"SELECT (DISTINCT )?(.+?) FROM ")
_IN_LIST = re.compile(r"IN \((?:%\(\w+\)s, )*%\(\w+\)s\)")


def describe(sql: str) -> str:
    """One line: long column lists and expanded IN lists shortened."""
    text = " ".join(sql.split())

    def columns(match: re.Match[str]) -> str:
        listed = match.group(2)
        short = listed if len(listed) <= 30 else f"<{listed.count(',') + 1} columns>"
        return f"SELECT {match.group(1) or ''}{short} FROM "

    text = _COLUMNS.sub(columns, text)
    text = _IN_LIST.sub(lambda m: f"IN (<{m.group(0).count('%')} values>)", text)
    return text if len(text) <= 200 else text[:197] + "..."


def plans_of(connection: Any, statements: list[tuple[str, Any]]) -> list[Plan]:
    return [explain(connection, sql, params) for sql, params in statements if "pg_advisory_xact_lock" not in sql]


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
            "IDENTITY_HASH_KEY": IDENTITY_KEY,
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": os.environ.get("CASEWORK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),  # not used here
        }
    )


def prepare(app: Flask) -> None:
    """Schema by migrations, reference data, the synthetic owners."""
    with app.app_context():
        flask_migrate.upgrade()
        reference.load_reference_data()
        demo.ensure_synthetic_organisations()
        db.session.commit()


def bench_actor(app: Flask) -> tuple[int, RawActor, str]:
    """A supervisor of the police unit owning the most cases (created through the users service once)."""
    with app.app_context():
        organisation_id, owned = db.session.execute(
            select(Case.organisation_id, func.count())
            .join(Organisation, Organisation.id == Case.organisation_id)
            .where(Organisation.kind == OrganisationKind.POLICE_UNIT)
            .group_by(Case.organisation_id)
            .order_by(func.count().desc(), Case.organisation_id)
            .limit(1)
        ).one()
        organisation = db.session.get_one(Organisation, organisation_id)
        email = f"bench-supervisor-{organisation.code.lower()}@example.com"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = users.create_user(
                actor=None,
                email=email,
                full_name=f"Bench Supervisor {organisation.code}",
                role=Role.SUPERVISOR,
                organisation_id=organisation_id,
                password=secrets.token_urlsafe(24),  # never used: nobody logs in
            )
            db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(Case))
        described = f"{email} ({user.role.value} of {organisation.code}, {owned:,} of {total:,} cases)"
        actor = (user.id, RawActor(user.id, organisation_id), described)
        db.session.remove()
    return actor


def drop_bench_objects(dsn: str) -> None:
    """Remove what --try-index added, so each candidate is measured on its own."""
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'bench_only_%'")
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
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
        cursor.execute("ANALYZE case_identifiers")
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


def report(label: str, timing: Timing) -> str:
    service = [percentile(timing.service_ms, q) for q in (0.5, 0.95, 0.99)]
    raw = [percentile(timing.raw_ms, q) for q in (0.5, 0.95, 0.99)]
    over = [side for side, p95 in (("service", service[1]), ("raw", raw[1])) if p95 >= TARGET_P95_MS]
    flag = f"  << p95 over {TARGET_P95_MS:g} ms ({', '.join(over)})" if over else ""
    n = len(timing.returned)
    return (
        f"{label:<30} {service[0]:7.2f} {service[1]:7.2f} {service[2]:7.2f} |"
        f" {raw[0]:7.2f} {raw[1]:7.2f} {raw[2]:7.2f} |"
        f" {service[0] / raw[0]:4.1f}x {service[1] / raw[1]:4.1f}x |"
        f" {sum(timing.returned) / n:5.1f} {max(timing.returned):5d} {sum(timing.totals) / n:9.1f}{flag}"
    )


HEADER = (
    f"{'ms, server-side, warm':<30} {'service':>7} {'':>7} {'':>7} | {'raw':>7} {'':>7} {'':>7} |"
    f" {'service/raw':<11} | {'cases returned':<11} {'total':>9}\n"
    f"{'':<30} {'p50':>7} {'p95':>7} {'p99':>7} | {'p50':>7} {'p95':>7} {'p99':>7} |"
    f" {'p50':>5} {'p95':>5} | {'mean':>5} {'max':>5} {'mean':>9}"
)


def print_plans(title: str, label: str, plans: list[Plan], params: dict[str, Any], full: bool) -> bool:
    """Print the plans of one call; True when none reads cases or case_identifiers sequentially."""
    ok = True
    total = sum(p.milliseconds for p in plans)
    print(f"- {label}, {title}: {total:.2f} ms in {len(plans)} statements  params={_short(params)}")
    for plan in plans:
        if full:
            print(f"    {plan.milliseconds:7.2f} ms  {plan.statement}")
            for line in plan.nodes:
                print(f"                {line}")
        else:
            indexes = ", ".join(dict.fromkeys(plan.indexes)) or "no index"
            line = f"    {plan.milliseconds:7.2f} ms  [{indexes}]  {plan.statement}"
            print(line if len(line) <= 160 else line[:157] + "...")
        for relation in plan.seq_scans:
            ok = False
            print(f"    !!! WARNING: Seq Scan on {relation} in {label} ({title}) !!!")
    return ok


def run_queries(
    app: Flask, dsn: str, shapes: list[QueryShape], actor_id: int, raw_actor: RawActor, warmup: int
) -> bool:
    """Time every shape and summarise its plans; False when a plan reads cases or case_identifiers sequentially."""
    ok = True
    calls = len(shapes[0].params)
    print(
        f"\n{calls} calls of each after {warmup} untimed; service = the app's function in an app context"
        " (ORM objects included, a fresh session per call);\nraw = the same statements through psycopg2."
        " Look-ups include their audit INSERT (both sides), rolled back after each call.\n"
    )
    print(HEADER)
    connection = psycopg2.connect(dsn)
    timings = {}
    with app.app_context():
        for shape in shapes:
            timings[shape.label] = timing = measure(shape, connection, actor_id, raw_actor, warmup)
            print(report(shape.label, timing), flush=True)
        for shape in shapes:
            mismatches = timings[shape.label].mismatches
            if mismatches:
                ok = False
                p, service, raw = mismatches[0]
                print(
                    f"WARNING: {shape.label}: service and raw SQL disagree on {len(mismatches)} calls,"
                    f" e.g. {_short(p)}: service {service.total} total {service.case_ids[:5]}...,"
                    f" raw {raw.total} total {raw.case_ids[:5]}..."
                )
        print(
            "\nEXPLAIN (ANALYZE, BUFFERS) of every statement of: the service with the parameters the database"
            " found hardest\n(the slowest raw call's; plan nodes), then the slowest service call and the slowest"
            " raw call (indexes used):"
        )
        for shape in shapes:
            timing = timings[shape.label]
            for title, params, full in (
                ("service, hardest parameters", timing.slowest_raw, True),
                ("service, slowest call", timing.slowest_service, False),
                ("raw, slowest call", timing.slowest_raw, False),
            ):
                if title.startswith("service"):
                    sent = service_statements(shape, actor_id, params)
                else:
                    sent = raw_statements(shape, connection, raw_actor, params)
                ok = print_plans(title, shape.label, plans_of(connection, sent), params, full) and ok
    connection.close()
    return ok


def _short(params: dict[str, Any]) -> str:
    inner = params.get("lookup") or params.get("filters") or {}
    return json.dumps({k: v for k, v in inner.items() if k not in ("sort", "page", "per_page")}, default=str)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to generate (default 1,000,000)")
    parser.add_argument("--queries", type=int, default=500, help="timed calls per shape (default 500)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls per shape first (default 50)")
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
        help="measure the existing bench database again (no generation; migrated to head, BENCH-ONLY indexes dropped)",
    )
    args = parser.parse_args(argv)

    server = os.environ.get("CASEWORK_BENCH_DATABASE_URL", DEFAULT_SERVER)
    if args.reuse:
        url = make_url(server).set(drivername="postgresql+psycopg2", database=DATABASE).render_as_string(False)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        app = build_app(url)
        with app.app_context():
            flask_migrate.upgrade()  # a database generated before the latest migrations catches up
        drop_bench_objects(dsn)
        print(f"reusing {DATABASE}; VACUUM ANALYZE {vacuum_analyze(dsn):.1f} s", flush=True)
    else:
        url = create_database(server)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        app = build_app(url)
        prepare(app)
        print(f"database {DATABASE} on {make_url(server).host}: migrated, reference data loaded", flush=True)
        began = time.perf_counter()
        counts = generator.generate(
            dsn,
            args.cases,
            identity_key=IDENTITY_KEY.encode(),
            key_ring=encryption.ring_from_config(app.config),
            seed=args.seed,
            progress=not args.no_progress,
        )
        seconds = time.perf_counter() - began
        total = sum(counts.values())
        print(
            f"generated {args.cases:,} cases in {seconds:.1f} s ({args.cases / seconds:,.0f} cases/s;"
            f" {total:,} rows, {total / seconds:,.0f} rows/s): " + ", ".join(f"{t} {c:,}" for t, c in counts.items())
        )
        print(f"VACUUM ANALYZE {vacuum_analyze(dsn):.1f} s")

    actor_id, raw_actor, described = bench_actor(app)
    print(f"acting as {described}")
    connection = psycopg2.connect(dsn)
    with connection.cursor() as cursor:
        params, stored_form = sample_parameters(
            cursor, raw_actor.organisation_id, args.queries, random.Random(args.seed)
        )
    connection.close()
    if stored_form:
        print(
            f"note: {stored_form} of {args.queries} sampled identifiers do not survive the API's normalisation"
            " (generated data, e.g. chat groups without the 'telegram' qualifier, numbers libphonenumber rejects);"
            " they are looked up as stored"
        )
    shapes = [
        QueryShape("a identifier lookup + audit", service_lookup, raw_lookup, params["lookup"]),
        QueryShape("b case list: page + total", service_list, raw_case_list, params["list"]),
        QueryShape("c offence + abuse type list", service_list, raw_offence_list, params["offence"]),
    ]
    ok = run_queries(app, dsn, shapes, actor_id, raw_actor, args.warmup)

    for name in args.try_index:
        try_index(dsn, name)
        ok = run_queries(app, dsn, shapes, actor_id, raw_actor, args.warmup) and ok
    if args.try_index:
        drop_bench_objects(dsn)

    with app.app_context():
        db.engine.dispose()
    if not ok:
        print(
            "\nWARNING: see above (a Seq Scan on cases or case_identifiers, or the baseline disagreeing).",
            file=sys.stderr,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
