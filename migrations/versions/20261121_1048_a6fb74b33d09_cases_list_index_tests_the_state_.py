"""cases: list index tests the state; organisation-qualified facets for filtered totals

Revision ID: a6fb74b33d09
Revises: fe325bad942c
Create Date: 2026-11-21 10:48:10.709859

The status list index gains a trailing state_code, tested inside the index (a status + state list
and its total no longer visit other cases). case_facets() lists each case's organisation-qualified
offence, abuse-type and platform keys under one GIN index, so the capped total of a list filtered by
them reads only that organisation's matches (a plain GIN index on the arrays matched every
organisation's cases and then filtered them in the table). The single-column indexes on status and
has_minor_victim served no query.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a6fb74b33d09"
down_revision = "fe325bad942c"
branch_labels = None
depends_on = None

# IMMUTABLE: the keys depend on the row's values only, as an index expression must.
CASE_FACETS = """
CREATE FUNCTION case_facets(
    organisation_id integer,
    abuse_types varchar[],
    offence_code_ids integer[],
    contact_platform varchar,
    moved_to_platforms varchar[]
) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT organisation_id || key), '{}') FROM (
        SELECT ':a:' || a AS key FROM unnest(abuse_types) AS a
        UNION ALL SELECT ':o:' || o FROM unnest(offence_code_ids) AS o
        UNION ALL SELECT ':p:' || p FROM unnest(array_prepend(contact_platform, moved_to_platforms)) AS p
                  WHERE p IS NOT NULL
    ) AS keys
$$
"""


def upgrade():
    op.execute(CASE_FACETS)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_has_minor_victim"))
        batch_op.drop_index(batch_op.f("ix_cases_org_status_received"))
        batch_op.drop_index(batch_op.f("ix_cases_status"))
        batch_op.create_index(
            "ix_cases_facets",
            [
                sa.literal_column(
                    "case_facets(organisation_id, abuse_types, offence_code_ids, contact_platform, moved_to_platforms)"
                )
            ],
            unique=False,
            postgresql_using="gin",
        )
        batch_op.create_index(
            "ix_cases_org_status_received_state",
            [
                "organisation_id",
                "status",
                sa.literal_column("received_on DESC"),
                sa.literal_column("id DESC"),
                "state_code",
            ],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_org_status_received_state")
        batch_op.drop_index("ix_cases_facets", postgresql_using="gin")
        batch_op.create_index(batch_op.f("ix_cases_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cases_org_status_received"),
            ["organisation_id", "status", sa.literal_column("received_on DESC"), sa.literal_column("id DESC")],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_cases_has_minor_victim"), ["has_minor_victim"], unique=False)
    op.execute("DROP FUNCTION case_facets(integer, varchar[], integer[], varchar, varchar[])")
