"""discreet bookings; offers made at night

Bookings say whether they are discreet (SPEC §17: neutral emails and invitation, an email
address optional); waiting-list offers say whether they were made at night (held until the
morning, and not counted towards ending an entry when let expire).

Revision ID: b7d1e4f0a2c3
Revises: a41c2e7d9b10
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d1e4f0a2c3'
down_revision = 'a41c2e7d9b10'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both engines: a batch would rebuild `bookings` on SQLite, under
    # the triggers that name it.
    op.add_column('bookings', sa.Column('discreet', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('waitlist_offers', sa.Column('night', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Bookings of a discreet reason were already written neutrally: they are discreet.
    op.execute(
        "UPDATE bookings SET discreet = true WHERE reason_code IN"
        " (SELECT code FROM reasons WHERE discreet = true)"
    )


def downgrade():
    # DROP COLUMN in place (SQLite 3.35 and later), for the same reason.
    op.drop_column('waitlist_offers', 'night')
    op.drop_column('bookings', 'discreet')
