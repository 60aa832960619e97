"""waiting-list emails recorded as notices, deleted with their entry

The outbox's waiting-list emails name their entry (`waitlist_entry_id`, ON DELETE CASCADE):
they are recorded as notices without any link's secret and rendered when sent, and go when
their entry is deleted. Messages recorded whole before this revision (holding a link's
secret) are dropped: their entries are asked to confirm again by joining anew.

Revision ID: d4f9a6b7c8e0
Revises: c3e8f5a6b7d9
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f9a6b7c8e0'
down_revision = 'c3e8f5a6b7d9'
branch_labels = None
depends_on = None


def upgrade():
    # A batch: on SQLite the outbox table is rebuilt with the new constraint (no trigger
    # names this table); on PostgreSQL, a plain ADD COLUMN.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlist_entry_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_outbox_waitlist_entry_id', 'waitlist_entries', ['waitlist_entry_id'], ['id'],
            ondelete='CASCADE',
        )
    op.create_index(op.f('ix_outbox_waitlist_entry_id'), 'outbox', ['waitlist_entry_id'], unique=False)
    op.execute(
        "DELETE FROM outbox WHERE kind IN ('waitlist_confirm', 'waitlist_full')"
        " AND notice = ''"
    )


def downgrade():
    op.drop_index(op.f('ix_outbox_waitlist_entry_id'), table_name='outbox')
    op.execute("DELETE FROM outbox WHERE waitlist_entry_id IS NOT NULL OR kind LIKE 'waitlist_%'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_waitlist_entry_id', type_='foreignkey')
        batch_op.drop_column('waitlist_entry_id')
