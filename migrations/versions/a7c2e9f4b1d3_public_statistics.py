"""public statistics: weekly figures, the daily delay to the first free slot, their state

What the statistics page and `/statistiques.csv` show (SPEC §14), computed by the job runner
only: one figure per ISO week (Paris time), indicator and dimension; the delay to the first
free slot measured every morning per département and reason; when both were last computed.
Counts, rates and days only: no personal data.

Revision ID: a7c2e9f4b1d3
Revises: f1b2c3d4e5a6
Create Date: 2026-12-07

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c2e9f4b1d3'
down_revision = 'f1b2c3d4e5a6'
branch_labels = None
depends_on = None


# New tables only, named by no trigger: plain CREATE and DROP on both engines.
def upgrade():
    op.create_table(
        'weekly_figures',
        sa.Column('week', sa.String(length=8), nullable=False),
        sa.Column('indicator', sa.String(length=40), nullable=False),
        sa.Column('dimension', sa.String(length=80), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('masked', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint('week', 'indicator', 'dimension'),
    )
    op.create_index(
        'ix_weekly_figures_indicator', 'weekly_figures', ['indicator', 'week', 'dimension']
    )
    op.create_table(
        'slot_delays',
        sa.Column('measured_on', sa.Date(), nullable=False),
        sa.Column('department', sa.String(length=3), nullable=False),
        sa.Column('reason_code', sa.String(length=40), nullable=False),
        sa.Column('units', sa.Integer(), nullable=False),
        sa.Column('units_without', sa.Integer(), nullable=False),
        sa.Column('median_days', sa.Float(), nullable=True),
        sa.Column('p90_days', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('measured_on', 'department', 'reason_code'),
    )
    op.create_table(
        'statistics_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delays_measured_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('statistics_state')
    op.drop_table('slot_delays')
    op.drop_index('ix_weekly_figures_indicator', table_name='weekly_figures')
    op.drop_table('weekly_figures')
