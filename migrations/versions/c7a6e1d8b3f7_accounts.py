"""Accounts: server-side login sessions and the failed-login lockout.

Revision ID: c7a6e1d8b3f7
Revises: c6f5d0c7a2e6
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a6e1d8b3f7'
down_revision = 'c6f5d0c7a2e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_lockout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_key', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(), nullable=True),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_key')
    )
    with op.batch_alter_table('login_lockout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_lockout_user_id'), ['user_id'], unique=False)

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=40), nullable=True),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index('ix_user_session_user_id_revoked_at', ['user_id', 'revoked_at'], unique=False)



def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index('ix_user_session_user_id_revoked_at')

    op.drop_table('user_session')
    with op.batch_alter_table('login_lockout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_lockout_user_id'))

    op.drop_table('login_lockout')
