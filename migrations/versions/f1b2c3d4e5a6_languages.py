"""languages: a booking and a waiting-list entry keep the language they were made in

Every email about them is written in it (SPEC §13): French (`fr`, the default, and what
rows made before this revision were) or English (`en`).

Revision ID: f1b2c3d4e5a6
Revises: e5a7c9d1f3b2
Create Date: 2026-12-07

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1b2c3d4e5a6'
down_revision = 'e5a7c9d1f3b2'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both engines (SQLite adds and drops a plain column in place): a
# batch rebuild of `bookings` would trip over the triggers that name it.
def upgrade():
    for table in ('bookings', 'waitlist_entries'):
        op.add_column(
            table, sa.Column('language', sa.String(length=2), nullable=False, server_default='fr')
        )


def downgrade():
    for table in ('bookings', 'waitlist_entries'):
        op.drop_column(table, 'language')
