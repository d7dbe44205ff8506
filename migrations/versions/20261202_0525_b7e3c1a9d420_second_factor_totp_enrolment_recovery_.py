"""second factor: TOTP enrolment, replay guard, half-open sessions, recovery codes

Revision ID: b7e3c1a9d420
Revises: b7c1d2e3f4a5
Create Date: 2026-12-02 05:10:00

users.mfa_secret (there since the first revision) now holds the TOTP secret; mfa_enrolled_at
says the enrolment was confirmed with a first code, and mfa_last_step is the last accepted TOTP
time step, so a code is refused the second time. user_sessions.pending_step marks a session
opened by the password alone, which holds no rights until the second factor passes.
mfa_recovery_codes keeps each single-use recovery code as a SHA-256 digest.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b7e3c1a9d420"
down_revision = "b7c1d2e3f4a5"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("mfa_enrolled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("mfa_last_step", sa.BigInteger(), nullable=True))
    op.add_column("user_sessions", sa.Column("pending_step", sa.String(length=32), nullable=True))
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
        sa.UniqueConstraint("user_id", "code_hash", name=op.f("uq_mfa_recovery_codes_user_id_code_hash")),
    )


def downgrade():
    op.drop_table("mfa_recovery_codes")
    op.drop_column("user_sessions", "pending_step")
    op.drop_column("users", "mfa_last_step")
    op.drop_column("users", "mfa_enrolled_at")
