"""Gap-free yearly numbering shared by every register.

Revision ID: c1a0e5d2b7f1
Revises: a38508819eee
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1a0e5d2b7f1'
down_revision = 'a38508819eee'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('number_sequence',
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('series', 'year')
    )

    with op.batch_alter_table('number_sequence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_number_sequence_created_by_id'), ['created_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('number_sequence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_number_sequence_created_by_id'))

    op.drop_table('number_sequence')
