"""encrypt users.mfa_secret (the TOTP secret) at rest

Revision ID: 3f8b6d2e1a70
Revises: c7e1a9d2b4f6
Create Date: 2026-12-02 07:00:00

users.mfa_secret becomes `bytea` holding AES-256-GCM ciphertext (casework.encryption), as the
victim columns did in d7f20887bbd7: whoever holds a dump or a backup must not be able to mint a
user's codes. Existing secrets are encrypted here, in the migration's transaction, under the
current key of the configured ring: first converted in SQL to the "in clear" form (0x00 + UTF-8),
then re-encrypted in Python in batches. The key is recorded in `encryption_keys` if it is not yet.

Downgrade decrypts every secret (the ring must still hold its keys) and restores varchar(64).
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from casework import encryption


# revision identifiers, used by Alembic.
revision = "3f8b6d2e1a70"
down_revision = "c7e1a9d2b4f6"
branch_labels = None
depends_on = None

BATCH = 2000
LABEL = "users.mfa_secret"


def upgrade():
    ring = encryption.ring()
    op.execute(
        "ALTER TABLE users ALTER COLUMN mfa_secret TYPE bytea USING '\\x00'::bytea || convert_to(mfa_secret, 'UTF8')"
    )
    _rewrite(lambda value: ring.reencrypt(value, LABEL))
    if ring.enabled:
        op.get_bind().execute(
            sa.text(
                "INSERT INTO encryption_keys (key_id, fingerprint) VALUES (:k, :f) ON CONFLICT (key_id) DO NOTHING"
            ),
            {"k": ring.current_id, "f": encryption.fingerprint(ring.keys[ring.current_id])},
        )


def downgrade():
    ring = encryption.ring()
    _rewrite(lambda value: ring.decrypt(value, LABEL, allow_clear=True))
    op.execute("ALTER TABLE users ALTER COLUMN mfa_secret TYPE varchar(64) USING convert_from(mfa_secret, 'UTF8')")


def _rewrite(transform):
    """Apply transform(stored bytes) to every non-null users.mfa_secret, in id batches."""
    bind = op.get_bind()
    update = sa.text("UPDATE users SET mfa_secret = :value WHERE id = :id").bindparams(
        sa.bindparam("value", type_=postgresql.BYTEA)
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, mfa_secret FROM users WHERE id > :last AND mfa_secret IS NOT NULL ORDER BY id LIMIT {BATCH}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        bind.execute(update, [{"id": row[0], "value": transform(bytes(row[1]))} for row in rows])
        last = rows[-1][0]
