"""Complaints and feedback (CMP-01 to CMP-18).

Revision ID: c2b1f6e3c8a2
Revises: c1a0e5d2b7f1
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2b1f6e3c8a2'
down_revision = 'c1a0e5d2b7f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint_case_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('file_number', sa.String(length=32), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('last_item', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_number'),
    sa.UniqueConstraint('year')
    )

    with op.batch_alter_table('complaint_case_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_case_file_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=24), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('register_number', sa.String(length=40), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('complainant_name', sa.String(length=100), nullable=True),
    sa.Column('complainant_phone', sa.String(length=40), nullable=True),
    sa.Column('complainant_address', sa.String(length=200), nullable=True),
    sa.Column('respondent_user_id', sa.Integer(), nullable=True),
    sa.Column('respondent_department_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('principle_issue', sa.Boolean(), nullable=False),
    sa.Column('reply_letter_only', sa.Boolean(), nullable=False),
    sa.Column('paper_location', sa.String(length=200), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('implementation', sa.Text(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('escalated_to_id', sa.Integer(), nullable=True),
    sa.Column('escalation_reason', sa.Text(), nullable=True),
    sa.Column('promised_reply_date', sa.Date(), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('case_file_id', sa.Integer(), nullable=True),
    sa.Column('case_file_number', sa.String(length=40), nullable=True),
    sa.Column('master_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_file_id'], ['complaint_case_file.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['escalated_to_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['master_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['partner_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['respondent_department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['respondent_user_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('year', 'sequence', name='uq_complaint_year_sequence')
    )

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_complainant_phone'), ['complainant_phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_master_id'), ['master_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_promised_reply_date'), ['promised_reply_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_respondent_department_id'), ['respondent_department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_respondent_user_id'), ['respondent_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_status'), ['status'], unique=False)
        batch_op.create_index('ix_complaint_status_received', ['status', 'received_at'], unique=False)

    op.create_table('complaint_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('complaint_id', 'user_id', name='uq_complaint_conflict')
    )

    with op.batch_alter_table('complaint_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_conflict_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_conflict_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_conflict_user_id'), ['user_id'], unique=False)

    op.create_table('complaint_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('contacted_at', sa.DateTime(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('is_commitment', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('complaint_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_contact_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_contact_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('complaint_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('materials', sa.Text(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('complaint_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_finding_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_finding_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('complaint_meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=False),
    sa.Column('attendees', sa.Text(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('notify_regulator', sa.Boolean(), nullable=False),
    sa.Column('regulator_name', sa.String(length=200), nullable=True),
    sa.Column('regulator_notified_at', sa.DateTime(), nullable=True),
    sa.Column('regulator_notification', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('complaint_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_meeting_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_meeting_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('complaint_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('replied_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('complaint_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_reply_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_reply_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('complaint_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=16), nullable=False),
    sa.Column('satisfaction', sa.String(length=24), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('surveyed_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('complaint_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_survey_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_survey_created_by_id'), ['created_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('complaint_survey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_survey_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_survey_complaint_id'))

    op.drop_table('complaint_survey')

    with op.batch_alter_table('complaint_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_reply_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_reply_complaint_id'))

    op.drop_table('complaint_reply')

    with op.batch_alter_table('complaint_meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_meeting_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_meeting_complaint_id'))

    op.drop_table('complaint_meeting')

    with op.batch_alter_table('complaint_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_finding_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_finding_complaint_id'))

    op.drop_table('complaint_finding')

    with op.batch_alter_table('complaint_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_contact_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_contact_complaint_id'))

    op.drop_table('complaint_contact')

    with op.batch_alter_table('complaint_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_conflict_user_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_conflict_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_conflict_complaint_id'))

    op.drop_table('complaint_conflict')

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_status_received')
        batch_op.drop_index(batch_op.f('ix_complaint_status'))
        batch_op.drop_index(batch_op.f('ix_complaint_severity'))
        batch_op.drop_index(batch_op.f('ix_complaint_respondent_user_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_respondent_department_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_received_at'))
        batch_op.drop_index(batch_op.f('ix_complaint_promised_reply_date'))
        batch_op.drop_index(batch_op.f('ix_complaint_partner_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_outcome'))
        batch_op.drop_index(batch_op.f('ix_complaint_officer_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_master_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_kind'))
        batch_op.drop_index(batch_op.f('ix_complaint_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_complainant_phone'))
        batch_op.drop_index(batch_op.f('ix_complaint_closed_at'))
        batch_op.drop_index(batch_op.f('ix_complaint_channel'))

    op.drop_table('complaint')

    with op.batch_alter_table('complaint_case_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_case_file_created_by_id'))

    op.drop_table('complaint_case_file')
