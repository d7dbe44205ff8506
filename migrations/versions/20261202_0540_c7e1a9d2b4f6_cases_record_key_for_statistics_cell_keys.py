"""cases: record_key, a fixed random key per case for statistics' cell-key perturbation;
exports: is_protected

Revision ID: c7e1a9d2b4f6
Revises: d7f20887bbd7
Create Date: 2026-12-02 05:20:00

Each case gets a random 60-bit key, drawn by the database when the row is written (the column's
default; the generator's COPY and the intake's INSERT leave it out). Adding the column with a
volatile default makes PostgreSQL evaluate it for every existing row: that is the backfill, and
the default stays for new rows. reports.cellkey sums the keys of the cases in a table cell to pick
the cell's adjustment from the perturbation table.

exports.is_protected: the file was encrypted with a password given with the request (the password
itself is never stored).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c7e1a9d2b4f6"
down_revision = "d7f20887bbd7"
branch_labels = None
depends_on = None

RECORD_KEY_DEFAULT = "((floor(random() * 1073741824))::bigint << 30) | (floor(random() * 1073741824))::bigint"


def upgrade():
    op.add_column(
        "cases",
        sa.Column("record_key", sa.BigInteger(), server_default=sa.text(RECORD_KEY_DEFAULT), nullable=False),
    )
    op.add_column("exports", sa.Column("is_protected", sa.Boolean(), server_default="false", nullable=False))


def downgrade():
    op.drop_column("exports", "is_protected")
    op.drop_column("cases", "record_key")
