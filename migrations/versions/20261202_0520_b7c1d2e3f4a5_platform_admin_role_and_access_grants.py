"""platform admin role and access grants

Revision ID: b7c1d2e3f4a5
Revises: 5a15e8d7ee62
Create Date: 2026-12-02 05:20:00

Administration gets a scope: an organisation's admin manages its own organisation's accounts;
the new role `platform_admin` (no case access) manages organisations and sees every account.
A platform admin creates no account directly: `access_grants` holds the requested account
(its password only as a hash, only while pending) until a second platform admin approves.

Downgrade: `user_role` loses `platform_admin`; such accounts become deactivated admins.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "b7c1d2e3f4a5"
down_revision = "5a15e8d7ee62"
branch_labels = None
depends_on = None

OLD_ROLES = ("admin", "supervisor", "investigator", "caseworker", "liaison", "analyst")


def upgrade():
    # Usable once this transaction commits; nothing below stores the new value.
    op.execute("ALTER TYPE user_role ADD VALUE IF NOT EXISTS 'platform_admin' BEFORE 'admin'")
    op.create_table(
        "access_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", postgresql.ENUM(name="user_role", create_type=False), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum("pending", "approved", "rejected", name="access_grant_status"),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_access_grants_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_access_grants_requested_by_id_users")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_access_grants_decided_by_id_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_access_grants_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    op.create_index(op.f("ix_access_grants_organisation_id"), "access_grants", ["organisation_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_access_grants_organisation_id"), table_name="access_grants")
    op.drop_table("access_grants")
    sa.Enum(name="access_grant_status").drop(op.get_bind(), checkfirst=True)
    op.execute("UPDATE users SET role = 'admin', is_active = false WHERE role::text = 'platform_admin'")
    op.execute("ALTER TYPE user_role RENAME TO user_role_old")
    op.execute("CREATE TYPE user_role AS ENUM (" + ", ".join(f"'{r}'" for r in OLD_ROLES) + ")")
    op.execute("ALTER TABLE users ALTER COLUMN role TYPE user_role USING role::text::user_role")
    op.execute("DROP TYPE user_role_old")
