"""staff sign-in: sessions kept by the server, a second factor, ProConnect identities

SPEC §15. Every signed-in device is a row (`staff_sessions`: the hash of its secret, how it
signed in, when it was last seen, when and why it ended), so that an agent sees and ends
them and an account that is deactivated or deleted loses them at once. A password account
has a TOTP secret (sealed) and ten single-use recovery codes (hashed); a ProConnect
identity is linked to its account by `sub` at its first sign-in.

Revision ID: b8d4f2a6c1e7
Revises: a7c2e9f4b1d3
Create Date: 2026-12-07

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b8d4f2a6c1e7'
down_revision = 'a7c2e9f4b1d3'
branch_labels = None
depends_on = None


# New tables, and plain ALTER TABLE on `staff_users` (no trigger names it): both engines.
def upgrade():
    op.add_column('staff_users', sa.Column('totp_secret', sa.Text(), nullable=True))
    op.add_column(
        'staff_users', sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        'staff_users',
        sa.Column('totp_last_step', sa.Integer(), server_default='0', nullable=False),
    )
    op.add_column(
        'staff_users', sa.Column('proconnect_sub', sa.String(length=255), nullable=True)
    )
    op.create_index(
        'ix_staff_users_proconnect_sub', 'staff_users', ['proconnect_sub'], unique=True
    )
    op.create_table(
        'staff_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('acr', sa.String(length=60), nullable=False),
        sa.Column('amr', sa.String(length=120), nullable=False),
        sa.Column('id_token', sa.Text(), nullable=False),
        sa.Column('device', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('secret_hash'),
    )
    op.create_index('ix_staff_sessions_user_id', 'staff_sessions', ['user_id'])
    op.create_table(
        'staff_recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_staff_recovery_codes_user_id', 'staff_recovery_codes', ['user_id'])


def downgrade():
    op.drop_table('staff_recovery_codes')
    op.drop_table('staff_sessions')
    op.drop_index('ix_staff_users_proconnect_sub', 'staff_users')
    for column in ('proconnect_sub', 'totp_last_step', 'totp_enabled_at', 'totp_secret'):
        op.drop_column('staff_users', column)
