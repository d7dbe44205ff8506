"""cases: one covering list index replaces the received index and two column GIN indexes

Revision ID: fe7ef24f932e
Revises: a6fb74b33d09
Create Date: 2026-11-21 11:13:19.695625

ix_cases_org_received_covering orders an organisation's cases newest first (received, then id, as
the list sorts) and carries every column a list filters or scopes on, so the filtered list's probe
of the newest cases and its walk for a page are index-only scans: the table is read only for the
rows a page shows. It replaces the plain (organisation, received) index. The GIN indexes on the
abuse-type/offence and moved-to-platform arrays matched every organisation's cases (case_facets
does that job per organisation) and led the planner into bitmap plans that sorted hundreds of rows.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "fe7ef24f932e"
down_revision = "a6fb74b33d09"
branch_labels = None
depends_on = None

INCLUDED = [
    "status",
    "state_code",
    "assignee_id",
    "created_by_id",
    "abuse_types",
    "offence_code_ids",
    "contact_platform",
    "moved_to_platforms",
]


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_org_received_covering",
            ["organisation_id", sa.literal_column("received_on DESC"), sa.literal_column("id DESC")],
            unique=False,
            postgresql_include=INCLUDED,
        )
        batch_op.drop_index("ix_cases_org_received")
        batch_op.drop_index("ix_cases_abuse_types_offences", postgresql_using="gin")
        batch_op.drop_index("ix_cases_moved_to_platforms", postgresql_using="gin")


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_moved_to_platforms", ["moved_to_platforms"], postgresql_using="gin")
        batch_op.create_index(
            "ix_cases_abuse_types_offences", ["abuse_types", "offence_code_ids"], postgresql_using="gin"
        )
        batch_op.create_index("ix_cases_org_received", ["organisation_id", "received_on"], unique=False)
        batch_op.drop_index("ix_cases_org_received_covering")
