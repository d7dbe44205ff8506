"""Intake benchmark: cases created over HTTP (gunicorn, 2 workers) vs the same rows by raw psycopg2,
and the cost of encrypting victim identity at rest (the same app with encryption on and off).

    python -m bench.intake [--cases 400] [--rounds 5] [--clients 4] [--server-url postgresql://postgres@127.0.0.1/postgres]

Each case has 2 victims (the first with a full identity: name, national ID, date of birth, phone,
e-mail, safe-contact instructions), 3 identifiers and 3 offences (each linked to both victims).
The API path: one POST /api/v1/cases per case, a logged-in session with CSRF, audit row and all.
The baseline: the same rows in one psycopg2 transaction per case (reference counter, case,
victims, identifier upserts, links, offences, offence-victim links, one audit row), run with the
same number of concurrent clients. The two take turns in --rounds rounds, so a machine that
speeds up or slows down during the run (shared CPUs do) weighs on both alike. Prints each round's
ratio, then cases/s for both over all rounds and the ratio (target >= 40%).

Encryption: a second gunicorn runs the same app with CASEWORK_ENCRYPTION_ENABLED=off (values stored
in clear; allowed in development only) on the next port. In each round both servers create the
same number of cases, then each reads back its own cases with identity
(`GET /cases/{id}?include_identity=true`, which decrypts every identity field and writes an audit
row); the order of the two alternates by round. Prints intake and identity-read rates with
encryption on and off and the slowdown (target: under 10%).
A fresh database `casework_bench_intake` is created on the server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from casework import create_app, encryption
from casework.config import DEV_ENCRYPTION_KEYS
from casework.extensions import db
from casework.models.cases import Victim
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from casework.services import mfa, organisations, reference, users

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "casework_bench_intake"
PASSWORD = "intake timing passphrase 2026"


def payload(i: int) -> dict[str, Any]:
    """One realistic case; identifiers vary so some are new and some shared."""
    return {
        "intake_channel": "police_report",
        "reported_to_police": True,
        "received_on": "2026-03-01",
        "incident_started_on": "2026-02-01",
        "state": "MY-10",
        "contact_platform": "instagram",
        "moved_to_platforms": ["telegram"],
        "abuse_types": ["financial_sextortion", "threat_to_distribute"],
        "demands": {"money": True, "amount": "1000.00", "currency": "MYR"},
        "payments": {"count": 2, "total": "2000.00", "currency": "MYR"},
        "victims": [
            {
                "key": "a",
                "gender": "female",
                "date_of_birth": "2004-01-15",
                "phone": f"+6012{1000000 + i:07d}",
                "full_name": f"Bench Victim {i}",
                "national_id": f"040115-14-{i % 10000:04d}",
                "email": f"victim{i}@example.test",
                "safe_contact_instructions": "Text first; never call before 8pm.",
            },
            {"key": "b", "gender": "female", "age_years": 17},
        ],
        "identifiers": [
            {"kind": "phone", "value": f"+6011{20000000 + i % 5000:08d}"},
            {"kind": "bank_account", "value": f"{5620000000 + i % 3000}", "qualifier": "maybank"},
            {"kind": "chat_group", "value": f"https://t.me/group{i % 700}", "role": "posting_location"},
        ],
        "offences": [
            {"code": "PC 383", "victims": ["a", "b"]},
            {"code": "PC 506", "victims": ["a", "b"]},
            {"code": "CMA 233(1)", "victims": ["a", "b"]},
        ],
    }


def prepare_database(server_url: str) -> str:
    server = make_url(server_url)
    admin = sa.create_engine(server.set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    return server.set(database=DB_NAME).render_as_string(hide_password=False)


def drop_database(server_url: str) -> None:
    admin = sa.create_engine(make_url(server_url).set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


def setup_app_data(database_url: str, redis_url: str) -> list[str]:
    """Migrate, seed reference data, and create a police unit with one investigator, enrolled in
    the second factor; returns recovery codes, one per login (several logins in one 30-second
    step cannot all use TOTP codes: each step is accepted once)."""
    app = create_app(
        {
            "CASEWORK_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "MFA_RECOVERY_CODES": 500,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        reference.load_reference_data()
        org = organisations.create_organisation(
            actor=None, name="Bench unit", kind=OrganisationKind.POLICE_UNIT, code="BEN"
        )
        user = users.create_user(
            actor=None,
            email="bench@example.test",
            full_name="Bench",
            role=Role.INVESTIGATOR,
            organisation_id=org.id,
            password=PASSWORD,
        )
        _enrolment, codes = mfa.enrol_by_operator(user)
        db.session.commit()
        db.engine.dispose()
    return codes


RECOVERY_CODES: list[str] = []


class Session:
    """A logged-in keep-alive HTTP client."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, body, headers = self.request(
            "POST", "/api/v1/auth/login", {"email": "bench@example.test", "password": PASSWORD}
        )
        if status != 200:
            raise RuntimeError(f"login failed: {status} {body}")
        self.cookie = headers["Set-Cookie"].split(";", 1)[0]
        self.csrf = json.loads(body)["csrf_token"]
        status, body, headers = self.request(
            "POST", "/api/v1/auth/mfa/verification", {"code": RECOVERY_CODES.pop()}
        )  # the second factor
        if status != 200:
            raise RuntimeError(f"second factor failed: {status} {body}")
        self.cookie = headers["Set-Cookie"].split(";", 1)[0]
        self.csrf = json.loads(body)["csrf_token"]

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "cookie", None):
            headers |= {"Cookie": self.cookie, "X-CSRF-Token": self.csrf}
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())


def run_api(port: int, n: int, clients: int, first: int = 0, created: list[int] | None = None) -> float:
    """POST n cases; cases/s. The new cases' ids are appended to `created`."""
    sessions = [Session(port) for _ in range(clients)]
    counter = iter(range(first, first + n))
    lock = threading.Lock()
    errors: list[str] = []

    def work(session: Session) -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            status, body, _ = session.request("POST", "/api/v1/cases", payload(i))
            if status != 201:
                errors.append(f"{status} {body[:200]!r}")
            elif created is not None:
                created.append(json.loads(body)["id"])

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, sessions))
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} API errors, first: {errors[0]}")
    return n / elapsed


def run_reads(port: int, case_ids: list[int], clients: int) -> float:
    """GET each case with its victims' identity (decrypted, audited); reads/s."""
    sessions = [Session(port) for _ in range(clients)]
    pending = iter(case_ids)
    lock = threading.Lock()
    errors: list[str] = []

    def work(session: Session) -> None:
        while True:
            with lock:
                case_id = next(pending, None)
            if case_id is None:
                return
            status, body, _ = session.request("GET", f"/api/v1/cases/{case_id}?include_identity=true")
            if status != 200 or b"Bench Victim" not in body:
                errors.append(f"{status} {body[:200]!r}")

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, sessions))
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} read errors, first: {errors[0]}")
    return len(case_ids) / elapsed


RAW_SQL = {
    "counter": "INSERT INTO case_counters (organisation_id, year, last_number) VALUES (%s, 2026, 1) "
    "ON CONFLICT (organisation_id, year) DO UPDATE SET last_number = case_counters.last_number + 1 "
    "RETURNING last_number",
    "case": "INSERT INTO cases (organisation_id, reference, year, number, intake_channel, reported_to_police, "
    "received_on, incident_started_on, state_code, contact_platform, moved_to_platforms, abuse_types, demand_money, "
    "demand_amount, demand_currency, demand_images, demand_acts, payments_count, payments_total, payments_currency, "
    "has_minor_victim, status, assignee_id, created_by_id, version) VALUES (%s, %s, 2026, %s, 'police_report', true, "
    "'2026-03-01', '2026-02-01', 'MY-10', 'instagram', ARRAY['telegram'], "
    "ARRAY['financial_sextortion','threat_to_distribute'], true, 1000, 'MYR', false, false, 2, 2000, 'MYR', true, "
    "'open', %s, %s, 1) RETURNING id",
    "victim": "INSERT INTO victims (case_id, pseudonym, full_name, national_id, date_of_birth, phone, email, "
    "safe_contact_instructions, gender, age_years, is_minor, national_id_hash, phone_hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'female', %s, %s, %s, %s) RETURNING id",
    "identifier": "INSERT INTO identifiers (kind, qualifier, value) VALUES (%s, %s, %s) "
    "ON CONFLICT (kind, value, qualifier) DO UPDATE SET kind = EXCLUDED.kind RETURNING id",
    "link": "INSERT INTO case_identifiers (case_id, identifier_id, role, raw_value) VALUES (%s, %s, %s, %s)",
    "offence": "INSERT INTO case_offences (case_id, offence_code_id, status, attempted) "
    "VALUES (%s, (SELECT id FROM offence_codes WHERE code = %s), 'suspected', false) RETURNING id",
    "offence_victim": "INSERT INTO case_offence_victims (case_offence_id, victim_id) VALUES (%s, %s)",
    "audit": "INSERT INTO audit_events (actor_id, organisation_id, action, object_type, object_id, outcome, details, "
    "prev_hash, hash) VALUES (%s, %s, 'case.created', 'cases', %s, 'success', '{}', %s, %s)",
}


RING = encryption.ring_from_config({"ENCRYPTION_KEYS": DEV_ENCRYPTION_KEYS})
IDENTITY = ("full_name", "national_id", "date_of_birth", "phone", "email", "safe_contact_instructions")


def raw_case(cur: Any, i: int, org_id: int, user_id: int) -> None:
    """The same rows as the API writes, identity encrypted the same way (AES-GCM, same labels)."""
    data = payload(i)
    cur.execute(RAW_SQL["counter"], (org_id,))
    number = cur.fetchone()[0]
    cur.execute(RAW_SQL["case"], (org_id, f"RAW-2026-{number:06d}", number, user_id, user_id))
    case_id = cur.fetchone()[0]
    victim_ids = []
    for j, victim in enumerate(data["victims"]):
        phone, nid = victim.get("phone"), victim.get("national_id")
        digest = hashlib.sha256(phone.encode()).hexdigest() if phone else None
        nid_digest = hashlib.sha256(nid.encode()).hexdigest() if nid else None
        sealed = [
            RING.encrypt(victim[name].encode(), f"victims.{name}") if victim.get(name) else None for name in IDENTITY
        ]
        age = victim.get("age_years", 22)
        cur.execute(
            RAW_SQL["victim"],
            (case_id, f"Victim {j + 1}", *sealed, age, age < 18, nid_digest, digest),
        )
        victim_ids.append(cur.fetchone()[0])
    for item in data["identifiers"]:
        cur.execute(RAW_SQL["identifier"], (item["kind"], item.get("qualifier", "") or "", item["value"].lower()))
        cur.execute(RAW_SQL["link"], (case_id, cur.fetchone()[0], item.get("role", "contact"), item["value"]))
    for offence in data["offences"]:
        cur.execute(RAW_SQL["offence"], (case_id, offence["code"]))
        offence_id = cur.fetchone()[0]
        for victim_id in victim_ids:
            cur.execute(RAW_SQL["offence_victim"], (offence_id, victim_id))
    cur.execute(RAW_SQL["audit"], (user_id, org_id, str(case_id), "0" * 64, secrets.token_hex(32)))


def run_raw(dsn: str, n: int, clients: int, org_id: int, user_id: int, first: int = 100_000) -> float:
    counter = iter(range(first, first + n))
    lock = threading.Lock()

    def work(_: int) -> None:
        conn = psycopg2.connect(dsn)
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                with conn, conn.cursor() as cur:
                    raw_case(cur, i, org_id, user_id)
        finally:
            conn.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, range(clients)))
    return n / (time.perf_counter() - start)


def codec_cost(repeat: int = 20_000) -> tuple[float, float]:
    """Microseconds to encrypt, then to decrypt, one victim's six identity values through the
    models' column types (what the app adds per victim written or read), independent of load."""
    app = create_app({"CASEWORK_ENV": "development", "SQLALCHEMY_DATABASE_URI": "postgresql://unused/x"})
    victim = payload(1)["victims"][0]
    given = {**victim, "date_of_birth": date.fromisoformat(victim["date_of_birth"])}
    values = [(Victim.__table__.c[name].type, given[name]) for name in IDENTITY]
    with app.app_context():
        start = time.perf_counter()
        for _ in range(repeat):
            stored = [(t, t.process_bind_param(v, None)) for t, v in values]
        encrypt = (time.perf_counter() - start) / repeat * 1e6
        start = time.perf_counter()
        for _ in range(repeat):
            for t, v in stored:
                t.process_result_value(v, None)
        decrypt = (time.perf_counter() - start) / repeat * 1e6
    return encrypt, decrypt


def cpu_per_request(database_url: str, redis_url: str, n: int) -> dict[bool, tuple[float, float]]:
    """CPU milliseconds of this process per intake and per identity read, with encryption on and
    off: the whole request (routing, schemas, ORM, encryption) in-process through Flask's test
    client, alternating between the two apps request by request. CPU time, unlike wall time,
    barely moves when other processes load the machine; the database's own work is not in it."""
    clients = {}
    for encrypted in (True, False):
        app = create_app(
            {
                "CASEWORK_ENV": "development",
                "SQLALCHEMY_DATABASE_URI": database_url,
                "REDIS_URL": redis_url,
                "ENCRYPTION_ENABLED": encrypted,
            }
        )
        client = app.test_client()
        login = client.post("/api/v1/auth/login", json={"email": "bench@example.test", "password": PASSWORD})
        clients[encrypted] = (client, {"X-CSRF-Token": login.get_json()["csrf_token"]})
    spent = {True: [0.0, 0.0], False: [0.0, 0.0]}
    for i in range(n + 20):
        for encrypted in (True, False) if i % 2 else (False, True):
            client, headers = clients[encrypted]
            start = time.process_time()
            created = client.post("/api/v1/cases", json=payload(3_000_000 + 2 * i + encrypted), headers=headers)
            middle = time.process_time()
            read = client.get(f"/api/v1/cases/{created.get_json()['id']}?include_identity=true")
            end = time.process_time()
            if created.status_code != 201 or b"Bench Victim" not in read.data:
                raise RuntimeError(f"in-process request failed: {created.status_code} {read.status_code}")
            if i >= 20:  # warm-up first
                spent[encrypted][0] += middle - start
                spent[encrypted][1] += end - middle
    return {encrypted: (intake / n * 1000, reads / n * 1000) for encrypted, (intake, reads) in spent.items()}


def wait_for(port: int, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument(
        "--rounds", type=int, default=5, help="API and raw take turns this many times (machine drift hits both)"
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--cpu-requests", type=int, default=300, help="in-process requests per app for the CPU cost")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class: sync or gthread (keep-alive)")
    parser.add_argument(
        "--server-url",
        default=os.environ.get("CASEWORK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("CASEWORK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()

    database_url = prepare_database(args.server_url)
    env = {
        **os.environ,
        "CASEWORK_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "CASEWORK_QUEUE_PREFIX": "bench-",
    }
    RECOVERY_CODES.extend(setup_app_data(database_url, args.redis_url))
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT organisation_id, id FROM users WHERE email = 'bench@example.test'")
        org_id, user_id = cur.fetchone()
    cpu = cpu_per_request(database_url, args.redis_url, args.cpu_requests)

    def serve(port: int, encrypted: bool) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "gunicorn", "-w", "2", "--worker-class", args.worker_class]
        command += ["--threads", str(args.threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
        switch = {"CASEWORK_ENCRYPTION_ENABLED": "on" if encrypted else "off"}
        return subprocess.Popen(command, cwd=ROOT, env={**env, **switch})

    ports = {True: args.port, False: args.port + 1}  # encryption on / off
    servers = [serve(port, encrypted) for encrypted, port in ports.items()]
    intake: dict[bool, list[float]] = {True: [], False: []}
    reads: dict[bool, list[float]] = {True: [], False: []}
    try:
        for port in ports.values():
            wait_for(port)
        warmup = max(20, args.cases // 10)
        for offset, port in enumerate(ports.values()):
            warm: list[int] = []
            run_api(port, warmup, args.clients, first=1_000_000 + offset * warmup, created=warm)
            run_reads(port, warm, args.clients)
        run_raw(dsn, warmup, args.clients, org_id, user_id, first=2_000_000)
        per_round = max(1, args.cases // args.rounds)
        rounds = []
        for r in range(args.rounds):
            order = [True, False] if r % 2 == 0 else [False, True]
            created: dict[bool, list[int]] = {True: [], False: []}
            for encrypted in order:
                first = (0 if encrypted else 500_000) + r * per_round
                intake[encrypted].append(run_api(ports[encrypted], per_round, args.clients, first, created[encrypted]))
            raw = run_raw(dsn, per_round, args.clients, org_id, user_id, first=100_000 + r * per_round)
            rounds.append((intake[True][-1], raw))
            for encrypted in order:
                reads[encrypted].append(run_reads(ports[encrypted], created[encrypted], args.clients))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        drop_database(args.server_url)

    codec = codec_cost()

    def overall(rates: list[float]) -> float:  # total cases / total seconds
        return len(rates) * per_round / sum(per_round / rate for rate in rates)

    api_rate = overall([api for api, _ in rounds])
    raw_rate = overall([raw for _, raw in rounds])
    print(
        f"cases: {per_round * args.rounds} each way in {args.rounds} alternating rounds, concurrent clients:"
        f" {args.clients}, gunicorn workers: 2 {args.worker_class} x {args.threads} thread(s) per server"
    )
    print("rounds (API/raw):     " + ", ".join(f"{api / raw:.1%}" for api, raw in rounds))
    print(f"API (HTTP, gunicorn): {api_rate:8.1f} cases/s")
    print(f"raw psycopg2:         {raw_rate:8.1f} cases/s")
    print(f"ratio API/raw:        {api_rate / raw_rate:8.1%}  (target >= 40%)")
    print("encryption at rest (same app, CASEWORK_ENCRYPTION_ENABLED on vs off, alternating):")
    for label, rates, unit in (("intake POST /cases", intake, "cases/s"), ("identity read GET", reads, "reads/s")):
        on, off = overall(rates[True]), overall(rates[False])
        ratios = [a / b for a, b in zip(rates[True], rates[False], strict=True)]
        print(
            f"  {label:<20} on {on:7.1f} {unit}, off {off:7.1f} {unit}: {1 - on / off:+6.1%} slower,"
            f" median round {1 - statistics.median(ratios):+6.1%}  (target < 10%)"
        )
        print(f"  {'':<20} rounds on/off: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"  in-process cost of one case's identity (6 values): encrypt {codec[0]:.1f} us, decrypt {codec[1]:.1f} us")
    for index, label in enumerate(("intake", "identity read")):
        on, off = cpu[True][index], cpu[False][index]
        print(
            f"  CPU per {label + ',':<14} in process ({args.cpu_requests} each, alternating): on {on:.2f} ms,"
            f" off {off:.2f} ms: {on / off - 1:+.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
