"""Complaint indexes for sorted lists ((column, id) for columns of few values) and the overdue list (open cases only).

Revision ID: c8b7f2e9c4a8
Revises: c7a6e1d8b3f7
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8b7f2e9c4a8'
down_revision = 'c7a6e1d8b3f7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_channel'))
        batch_op.drop_index(batch_op.f('ix_complaint_kind'))
        batch_op.drop_index(batch_op.f('ix_complaint_severity'))
        batch_op.drop_index(batch_op.f('ix_complaint_status'))
        batch_op.create_index('ix_complaint_channel_id', ['channel', 'id'], unique=False)
        batch_op.create_index('ix_complaint_kind_id', ['kind', 'id'], unique=False)
        batch_op.create_index('ix_complaint_open_promised_reply_date', ['promised_reply_date'], unique=False, postgresql_where=sa.text("status IN ('registered', 'opinion_written', 'meeting_held', 'decided', 'implemented', 'follow_up')"), sqlite_where=sa.text("status IN ('registered', 'opinion_written', 'meeting_held', 'decided', 'implemented', 'follow_up')"))
        batch_op.create_index('ix_complaint_severity_id', ['severity', 'id'], unique=False)
        batch_op.create_index('ix_complaint_status_id', ['status', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_status_id')
        batch_op.drop_index('ix_complaint_severity_id')
        batch_op.drop_index('ix_complaint_open_promised_reply_date', postgresql_where=sa.text("status IN ('registered', 'opinion_written', 'meeting_held', 'decided', 'implemented', 'follow_up')"), sqlite_where=sa.text("status IN ('registered', 'opinion_written', 'meeting_held', 'decided', 'implemented', 'follow_up')"))
        batch_op.drop_index('ix_complaint_kind_id')
        batch_op.drop_index('ix_complaint_channel_id')
        batch_op.create_index(batch_op.f('ix_complaint_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_channel'), ['channel'], unique=False)

