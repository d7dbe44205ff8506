"""encrypt victim identity, consent and referral notes and referral snapshots at rest

Revision ID: d7f20887bbd7
Revises: d41c7e9a2b15
Create Date: 2026-12-02 05:20:00

Victims' identity and contact columns, consent notes, referral covering notes, referral event
notes (which repeat the covering note) and referral snapshots become `bytea` holding AES-256-GCM ciphertext (casework.encryption). Existing rows are
encrypted here, in the migration's transaction, under the current key of the configured ring
(CASEWORK_ENCRYPTION_KEYS / CASEWORK_ENCRYPTION_KEY_ID, read by the app that runs `flask db
upgrade`): no plaintext is left behind and the app never has to read legacy clear values. Each
value is first converted in SQL to the "in clear" form (0x00 + UTF-8 text), then re-encrypted in
Python in batches. The key id and its fingerprint are recorded in the new `encryption_keys` table.

Downgrade decrypts every value (the ring must still hold its keys) and restores the old types.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from casework import encryption


# revision identifiers, used by Alembic.
revision = "d7f20887bbd7"
down_revision = "d41c7e9a2b15"
branch_labels = None
depends_on = None

BATCH = 2000

# table -> [(column, label, SQL type before, how its text form is written in SQL)]
COLUMNS = {
    "victims": [
        ("full_name", "victims.full_name", "varchar(200)", "{c}"),
        ("national_id", "victims.national_id", "varchar(32)", "{c}"),
        ("date_of_birth", "victims.date_of_birth", "date", "to_char({c}, 'YYYY-MM-DD')"),
        ("phone", "victims.phone", "varchar(32)", "{c}"),
        ("email", "victims.email", "varchar(254)", "{c}"),
        ("safe_contact_instructions", "victims.safe_contact_instructions", "text", "{c}"),
    ],
    "consents": [
        ("note", "consents.note", "text", "{c}"),
        ("withdrawal_note", "consents.withdrawal_note", "text", "{c}"),
    ],
    "referrals": [
        ("note", "referrals.note", "text", "{c}"),
        ("shared", "referrals.shared", "jsonb", "{c}::text"),
    ],
    "referral_events": [
        ("note", "referral_events.note", "text", "{c}"),
    ],
}


def upgrade():
    op.create_table(
        "encryption_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_encryption_keys")),
    )
    ring = encryption.ring()
    for table, columns in COLUMNS.items():
        for column, _, _, as_text in columns:
            clear = f"'\\x00'::bytea || convert_to({as_text.format(c=column)}, 'UTF8')"
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING {clear}")
        _rewrite(table, columns, lambda value, label: ring.reencrypt(value, label))
    if ring.enabled:
        op.get_bind().execute(
            sa.text("INSERT INTO encryption_keys (key_id, fingerprint) VALUES (:k, :f)"),
            {"k": ring.current_id, "f": encryption.fingerprint(ring.keys[ring.current_id])},
        )


def downgrade():
    ring = encryption.ring()
    for table, columns in COLUMNS.items():
        _rewrite(table, columns, lambda value, label: ring.decrypt(value, label, allow_clear=True))
        for column, _, before, _ in columns:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {before} USING convert_from({column}, 'UTF8')::{before}")
    op.drop_table("encryption_keys")


def _rewrite(table, columns, transform):
    """Apply transform(stored bytes, label) to every non-null value of the columns, in id batches."""
    bind = op.get_bind()
    names = [c for c, _, _, _ in columns]
    labels = {c: label for c, label, _, _ in columns}
    update = sa.text(f"UPDATE {table} SET " + ", ".join(f"{c} = :{c}" for c in names) + " WHERE id = :id")
    last = 0
    while True:
        rows = bind.execute(
            sa.text(f"SELECT id, {', '.join(names)} FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}"),
            {"last": last},
        ).all()
        if not rows:
            return
        params = [
            {"id": row[0], **{c: None if v is None else transform(bytes(v), labels[c]) for c, v in zip(names, row[1:])}}
            for row in rows
        ]
        bind.execute(update.bindparams(*(sa.bindparam(c, type_=postgresql.BYTEA) for c in names)), params)
        last = rows[-1][0]
