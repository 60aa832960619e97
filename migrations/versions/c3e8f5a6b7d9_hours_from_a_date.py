"""opening hours from a date

An opening range may hold the hours a unit's staff set from a later local date on
(`valid_from`); NULL is the hours in force. The job runner makes them the hours in force
on that date.

Revision ID: c3e8f5a6b7d9
Revises: b7d1e4f0a2c3
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e8f5a6b7d9'
down_revision = 'b7d1e4f0a2c3'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: a batch would rebuild the table on SQLite under its triggers.
    op.add_column('opening_ranges', sa.Column('valid_from', sa.Date(), nullable=True))


def downgrade():
    op.execute("DELETE FROM opening_ranges WHERE valid_from IS NOT NULL")
    op.drop_column('opening_ranges', 'valid_from')
