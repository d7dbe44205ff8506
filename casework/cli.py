"""Flask CLI, grouped by noun: `flask users ...`, `flask orgs ...`, `flask seed ...`, `flask worker`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

import click
import segno
from flask import Flask, current_app
from flask.cli import AppGroup
from rq import Worker
from tqdm import tqdm

from casework import encryption, queue
from casework.config import ConfigError
from casework.errors import DomainError
from casework.extensions import db
from casework.jobs import export_sweep as export_sweep_jobs
from casework.jobs import exports as export_jobs
from casework.jobs import referrals as referral_jobs
from casework.models.exports import ExportKind
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from casework.services import audit, demo, encryption_keys, exports, mfa, organisations, reference, referrals, users
from seed import generator

users_cli = AppGroup("users", help="Manage user accounts.")
orgs_cli = AppGroup("orgs", help="Manage organisations.")
audit_cli = AppGroup("audit", help="Inspect the audit trail.")
seed_cli = AppGroup("seed", help="Load reference and demo data.")
reports_cli = AppGroup("reports", help="Statistics exports.")
referrals_cli = AppGroup("referrals", help="Referral housekeeping.")
keys_cli = AppGroup("keys", help="Encryption keys of victim data at rest.")


_Result = TypeVar("_Result")


def _run(action: Callable[[], _Result]) -> _Result:
    """Run a service call, commit, and turn domain errors into a clean CLI error."""
    try:
        result = action()
        db.session.commit()
        return result
    except DomainError as error:
        db.session.rollback()
        detail = f" {error.errors}" if error.errors else ""
        raise click.ClickException(f"{error.message}{detail}") from error


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "org_code", required=True, help="Organisation code, e.g. D11")
@click.password_option(help="At least 12 characters; prompted for when omitted.")
def create_user(email: str, full_name: str, role: str, org_code: str, password: str) -> None:
    """Create a user account."""
    user = _run(
        lambda: users.create_user(
            actor=None,
            email=email,
            full_name=full_name,
            role=Role(role),
            organisation_id=organisations.get_by_code(org_code).id,
            password=password,
        )
    )
    click.echo(f"created user {user.id} <{user.email}> as {user.role.value}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_user(email: str) -> None:
    """Deactivate an account and end all its sessions."""
    _run(lambda: users.set_active(actor=None, user=users.find_by_email(email), active=False))
    click.echo(f"deactivated {email}")


@users_cli.command("activate")
@click.argument("email")
def activate_user(email: str) -> None:
    """Reactivate an account."""
    _run(lambda: users.set_active(actor=None, user=users.find_by_email(email), active=True))
    click.echo(f"activated {email}")


@users_cli.command("unlock")
@click.argument("email")
def unlock_user(email: str) -> None:
    """Clear a lockout after failed logins."""
    _run(lambda: users.unlock(actor=None, user=users.find_by_email(email)))
    click.echo(f"unlocked {email}")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role(email: str, role: str) -> None:
    """Change a user's role (ends their sessions)."""
    _run(lambda: users.update_user(actor=None, user=users.find_by_email(email), role=Role(role)))
    click.echo(f"{email} is now {role}")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option()
def set_password(email: str, password: str) -> None:
    """Set a user's password (ends their sessions)."""
    _run(lambda: users.set_password(actor=None, user=users.find_by_email(email), password=password))
    click.echo(f"password set for {email}")


@users_cli.command("reset-mfa")
@click.argument("email")
def reset_mfa(email: str) -> None:
    """Remove a user's second factor (lost device; ends their sessions). They enrol again at login."""
    _run(lambda: mfa.reset(actor=None, user=users.find_by_email(email)))
    click.echo(f"second factor reset for {email}")


@users_cli.command("enrol-mfa")
@click.argument("email")
@click.option("--qr/--no-qr", default=True, show_default=True, help="Also draw the QR code in the terminal.")
def enrol_mfa(email: str, qr: bool) -> None:
    """Enrol a user's second factor now and print the secret, otpauth URI and recovery codes
    (for handing over in person; anyone who sees them can pass the second step)."""
    enrolment, codes = _run(lambda: mfa.enrol_by_operator(users.find_by_email(email)))
    if qr:
        segno.make(enrolment.otpauth_uri, error="m").terminal(out=sys.stdout, compact=True)
    click.echo(f"TOTP secret for {email}: {enrolment.secret}")
    click.echo(f"otpauth URI: {enrolment.otpauth_uri}")
    click.echo("recovery codes (single use): " + " ".join(codes))


@users_cli.command("list")
def list_users() -> None:
    """List accounts (no secrets)."""
    for user in users.list_users(actor=None):
        state = "active" if user.is_active else "inactive"
        click.echo(f"{user.id:>5}  {user.email:<40} {user.role.value:<14} {user.organisation.code:<8} {state}")


@orgs_cli.command("create")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice([k.value for k in OrganisationKind]), required=True)
@click.option("--code", required=True)
@click.option("--agency", "agency_acronym", default=None, help="Seeded agency acronym, e.g. MCMC")
def create_org(name: str, kind: str, code: str, agency_acronym: str | None) -> None:
    """Create an organisation."""
    org = _run(
        lambda: organisations.create_organisation(
            actor=None, name=name, kind=OrganisationKind(kind), code=code, agency_acronym=agency_acronym
        )
    )
    click.echo(f"created organisation {org.id} {org.code}")


@orgs_cli.command("list")
def list_orgs() -> None:
    for org in organisations.list_organisations():
        click.echo(f"{org.id:>5}  {org.code:<8} {org.kind.value:<12} {org.name}")


@audit_cli.command("verify")
def verify_audit() -> None:
    """Check the audit hash chain; exits non-zero at the first broken link."""
    broken = audit.verify_chain()
    if broken is not None:
        raise click.ClickException(f"audit chain broken at event {broken}")
    click.echo("audit chain intact")


@seed_cli.command("reference")
def seed_reference() -> None:
    """Offence codes, states, platforms, abuse types and agencies from seed/data (idempotent)."""
    counts = _run(reference.load_reference_data)
    click.echo(f"reference data loaded: {counts}")


@seed_cli.command("demo")
def seed_demo() -> None:
    """Reference data, demo organisations and one user per role (new passwords printed once)."""
    demo.seed_everything(echo=click.echo)


@seed_cli.command("synthetic")
@click.option("--cases", "n_cases", type=click.IntRange(min=1), required=True, help="How many cases to generate.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option("--org", "org_codes", multiple=True, help="Owning organisation code (repeatable); default: all.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def seed_synthetic(n_cases: int, seed: int, org_codes: tuple[str, ...], progress: bool) -> None:
    """Synthetic cases (fake people) for demos and benchmarks, written with COPY.

    Creates the synthetic police units and NGOs (SYNPOL1.., SYNNGO1..) if missing; the cases go to
    every active police unit and NGO, or to the --org ones. About a minute per 250,000 cases.
    """
    _run(demo.ensure_synthetic_organisations)
    owners = _run(lambda: [organisations.get_by_code(code).id for code in org_codes]) or None
    connection = db.session.connection().connection.driver_connection  # COPY needs the DB-API connection
    counts = generator.generate(
        connection,
        n_cases,
        identity_key=current_app.config["IDENTITY_HASH_KEY"].encode(),
        key_ring=encryption.ring(),
        seed=seed,
        organisations=owners,
        progress=progress,
    )
    db.session.commit()
    click.echo("synthetic data written: " + ", ".join(f"{table} {count}" for table, count in counts.items()))


@referrals_cli.command("mark-overdue")
def mark_overdue() -> None:
    """Mark overdue referrals and notify (for cron; the worker also runs it on a schedule)."""
    counts = _run(referrals.mark_overdue)
    click.echo(f"overdue referrals marked: {counts}")


@reports_cli.command("export")
@click.option("--kind", type=click.Choice([k.value for k in ExportKind]), default="statistics", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True, help="The .xlsx to write")
@click.option("--org", "org_code", default=None, help="Count one organisation's cases (default: all)")
@click.option(
    "--filter",
    "filter_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A statistics filter, e.g. date_from=2026-01-01 or group_by=state (repeatable)",
)
@click.option("--progress/--no-progress", default=True, show_default=True)
def export_report(kind: str, out: str, org_code: str | None, filter_pairs: tuple[str, ...], progress: bool) -> None:
    """Write a statistics workbook or line list to a file, for scheduled use (runs here, not queued)."""
    filters: dict[str, str | list[str]] = {}
    for pair in filter_pairs:
        name, _, value = pair.partition("=")
        if not value:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--filter")
        previous = filters.get(name)
        filters[name] = value if previous is None else [*([previous] if isinstance(previous, str) else previous), value]
    organisation_id = organisations.get_by_code(org_code).id if org_code else None
    bar = tqdm(total=100, unit="%", disable=not progress, file=sys.stderr)

    def advance(fraction: float) -> None:
        bar.update(max(0, int(fraction * 100) - bar.n))

    try:
        with open(out, "wb") as handle:
            rows = _run(
                lambda: exports.export_to_file(
                    kind=ExportKind(kind),
                    filters=filters,
                    organisation_id=organisation_id,
                    output=handle,
                    progress=advance,
                )
            )
    finally:
        bar.close()
    size = os.path.getsize(out)
    click.echo(f"wrote {out} ({size:,} bytes{f', {rows:,} rows' if rows is not None else ''})")


@keys_cli.command("generate")
def generate_key() -> None:
    """Print a new random AES-256 key (base64) for CASEWORK_ENCRYPTION_KEYS."""
    click.echo(encryption.generate_key())
    click.echo("Add it as a new id (e.g. k2:<key>) to CASEWORK_ENCRYPTION_KEYS on every process, make it", err=True)
    click.echo("CASEWORK_ENCRYPTION_KEY_ID, restart them all, then run `flask keys rotate`.", err=True)


def _check_ring() -> None:
    """check_ring(), committed; a wrong or missing key is a clean CLI error."""
    try:
        _run(encryption_keys.check_ring)
    except ConfigError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error


@keys_cli.command("status")
def key_status() -> None:
    """Check the ring against the data and count stored values per key id."""
    _check_ring()
    ring = encryption.ring()
    click.echo(f"current key: {ring.current_id}; keys in the ring: {', '.join(sorted(ring.keys))}")
    for key_id, count in sorted(encryption_keys.values_per_key().items()):
        click.echo(f"  {key_id:<32} {count:>10} values")


@keys_cli.command("rotate")
@click.option("--batch-size", type=click.IntRange(min=1), default=encryption_keys.BATCH_SIZE, show_default=True)
@click.option("--progress/--no-progress", default=True, show_default=True)
def rotate_keys(batch_size: int, progress: bool) -> None:
    """Re-encrypt every value not under the current key, in batches, while the service runs; resumable."""
    _check_ring()
    bar = tqdm(total=encryption_keys.pending(), unit="row", disable=not progress, file=sys.stderr, desc="rotate")
    try:
        result = encryption_keys.rotate(batch_size=batch_size, progress=bar.update)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    finally:
        bar.close()
    rows = ", ".join(f"{table} {count}" for table, count in result.rows.items()) or "nothing to do"
    click.echo(f"re-encrypted under {encryption.ring().current_id}: {rows} ({result.passes} pass(es))")
    if result.retired:
        click.echo(f"retired (no value uses them; they may leave the ring): {', '.join(result.retired)}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--with-scheduler/--no-scheduler", default=True)
def worker(burst: bool, with_scheduler: bool) -> None:
    """Run an RQ worker on every queue, inside the app context."""
    # A wrong encryption key, or one missing from the ring, stops the worker here.
    encryption_keys.check_at_start(current_app._get_current_object())  # type: ignore[attr-defined]
    queues = [queue.get_queue(name) for name in queue.QUEUE_NAMES]
    if with_scheduler:  # each periodic job then keeps itself scheduled
        referral_jobs.schedule_next_scan()
        export_jobs.schedule_next_purge()
        export_sweep_jobs.schedule_next_sweep()
    Worker(queues, connection=queue.connection()).work(burst=burst, with_scheduler=with_scheduler)


def init_app(app: Flask) -> None:
    for group in (users_cli, orgs_cli, audit_cli, seed_cli, referrals_cli, reports_cli, keys_cli, worker):
        app.cli.add_command(group)
