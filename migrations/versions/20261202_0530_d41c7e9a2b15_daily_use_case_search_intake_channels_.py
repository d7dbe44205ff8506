"""daily use: case search indexes, intake without a victim report, offence age-rule reasons

Revision ID: d41c7e9a2b15
Revises: b7e3c1a9d420
Create Date: 2026-12-02 05:10:00

- Cases are found by reference (whole or a prefix) and police report number: a pattern-ops index
  on reference (LIKE 'D11-2026-00%' uses it whatever the database's collation) and an index on
  the upper-cased report number.
- Intake channels for cases opened without a victim report: police initiative, a platform's tip
  and an agency's tip (MCMC, a foreign hotline), with who tipped; for a group or channel, its size
  and the number of victims believed affected but not yet identified (never victim rows).
- Senders hear back: notifications of what a recipient did (acknowledged, started, completed,
  declined, a takedown address removed, refused, re-uploaded), one per user and referral event
  (an address removed twice is told twice); the other kinds stay one per user, kind and referral.
- An offence that applies only to children, linked to a victim who was an adult at the incident,
  is stored only with a recorded reason (case_offences.age_rule_reason).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d41c7e9a2b15"
down_revision = "b7e3c1a9d420"
branch_labels = None
depends_on = None

OLD_CHANNELS = ("police_report", "ngo_intake", "hotline", "referral")
NEW_CHANNELS = ("police_initiative", "platform_tip", "agency_tip")
OLD_KINDS = (
    "referral_received",
    "referral_acknowledgement_overdue",
    "referral_completion_overdue",
    "consent_withdrawn",
)
NEW_KINDS = (
    "referral_acknowledged",
    "referral_started",
    "referral_completed",
    "referral_declined",
    "takedown_item_removed",
    "takedown_item_refused",
    "takedown_item_reuploaded",
)


def upgrade():
    op.create_index(
        "ix_cases_reference_prefix", "cases", ["reference"], postgresql_ops={"reference": "varchar_pattern_ops"}
    )
    op.create_index("ix_cases_police_report_number", "cases", [sa.literal_column("upper(police_report_number)")])
    for value in NEW_CHANNELS:
        op.execute(f"ALTER TYPE intake_channel ADD VALUE IF NOT EXISTS '{value}'")
    op.add_column("cases", sa.Column("tip_source", sa.String(length=120), nullable=True))
    op.add_column("cases", sa.Column("group_member_count", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("unidentified_victim_count", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_cases_counts_not_negative"),
        "cases",
        "coalesce(group_member_count, 0) >= 0 AND coalesce(unidentified_victim_count, 0) >= 0",
    )
    op.add_column("case_offences", sa.Column("age_rule_reason", sa.Text(), nullable=True))
    for value in NEW_KINDS:
        op.execute(f"ALTER TYPE notification_kind ADD VALUE IF NOT EXISTS '{value}'")
    op.add_column("notifications", sa.Column("referral_event_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_notifications_referral_event_id_referral_events"),
        "notifications",
        "referral_events",
        ["referral_event_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_constraint(op.f("uq_notifications_user_id_kind_referral_id"), "notifications", type_="unique")
    op.create_index(
        "uq_notifications_user_kind_referral",
        "notifications",
        ["user_id", "kind", "referral_id"],
        unique=True,
        postgresql_where=sa.text("referral_event_id IS NULL"),
    )
    op.create_index(
        "uq_notifications_user_event",
        "notifications",
        ["user_id", "referral_event_id"],
        unique=True,
        postgresql_where=sa.text("referral_event_id IS NOT NULL"),
    )


def downgrade():
    op.execute("DELETE FROM notifications WHERE referral_event_id IS NOT NULL")
    op.drop_index("uq_notifications_user_event", table_name="notifications")
    op.drop_index("uq_notifications_user_kind_referral", table_name="notifications")
    op.create_unique_constraint(
        op.f("uq_notifications_user_id_kind_referral_id"), "notifications", ["user_id", "kind", "referral_id"]
    )
    op.drop_constraint(op.f("fk_notifications_referral_event_id_referral_events"), "notifications", type_="foreignkey")
    op.drop_column("notifications", "referral_event_id")
    op.execute("ALTER TYPE notification_kind RENAME TO notification_kind_old")
    op.execute(f"CREATE TYPE notification_kind AS ENUM {OLD_KINDS!r}")
    op.execute("ALTER TABLE notifications ALTER COLUMN kind TYPE notification_kind USING kind::text::notification_kind")
    op.execute("DROP TYPE notification_kind_old")
    op.drop_column("case_offences", "age_rule_reason")
    op.drop_constraint(op.f("ck_cases_counts_not_negative"), "cases", type_="check")
    op.drop_column("cases", "unidentified_victim_count")
    op.drop_column("cases", "group_member_count")
    op.drop_column("cases", "tip_source")
    # PostgreSQL cannot drop an enum value: cases opened by the new channels become referrals,
    # then the type is rebuilt with the old values.
    op.execute(f"UPDATE cases SET intake_channel = 'referral' WHERE intake_channel::text IN {NEW_CHANNELS!r}")
    op.execute("ALTER TYPE intake_channel RENAME TO intake_channel_old")
    op.execute(f"CREATE TYPE intake_channel AS ENUM {OLD_CHANNELS!r}")
    op.execute(
        "ALTER TABLE cases ALTER COLUMN intake_channel TYPE intake_channel USING intake_channel::text::intake_channel"
    )
    op.execute("DROP TYPE intake_channel_old")
    op.drop_index("ix_cases_police_report_number", table_name="cases")
    op.drop_index("ix_cases_reference_prefix", table_name="cases")
