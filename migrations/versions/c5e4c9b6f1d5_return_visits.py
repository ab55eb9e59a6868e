"""Return visits (VIS-01 to VIS-13).

Revision ID: c5e4c9b6f1d5
Revises: c4d3b8a5e0c4
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = 'c5e4c9b6f1d5'
down_revision = 'c4d3b8a5e0c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('community_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=False),
    sa.Column('clerk_id', sa.Integer(), nullable=True),
    sa.Column('participants_count', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clerk_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('community_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_event_clerk_id'), ['clerk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_community_event_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_community_event_ended_at'), ['ended_at'], unique=False)

    op.create_table('maintenance_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('assistant_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('customer_name', sa.String(length=100), nullable=True),
    sa.Column('customer_phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assistant_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('maintenance_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_job_area'), ['area'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_job_assistant_id'), ['assistant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_job_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_job_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('open_letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['issued_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('open_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_letter_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_open_letter_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_open_letter_issued_by_id'), ['issued_by_id'], unique=False)

    op.create_table('open_letter_complaint',
    sa.Column('open_letter_id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['open_letter_id'], ['open_letter.id'], ),
    sa.PrimaryKeyConstraint('open_letter_id', 'complaint_id')
    )
    with op.batch_alter_table('open_letter_complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_letter_complaint_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('return_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('maintenance_job_id', sa.Integer(), nullable=True),
    sa.Column('community_event_id', sa.Integer(), nullable=True),
    sa.Column('customer_name', sa.String(length=100), nullable=True),
    sa.Column('customer_phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('previous_visit_id', sa.Integer(), nullable=True),
    sa.Column('visitor_id', sa.Integer(), nullable=True),
    sa.Column('planned_by_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('plan_note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=True),
    sa.Column('visited_at', sa.DateTime(), nullable=True),
    sa.Column('satisfaction', sa.String(length=24), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('needs_another_visit', sa.Boolean(), nullable=False),
    sa.Column('next_visit_at', sa.DateTime(), nullable=True),
    sa.Column('signer_name', sa.String(length=100), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('review_opinion', sa.Text(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_event_id'], ['community_event.id'], ),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['maintenance_job_id'], ['maintenance_job.id'], ),
    sa.ForeignKeyConstraint(['planned_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['previous_visit_id'], ['return_visit.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['visitor_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('previous_visit_id', name='uq_return_visit_previous')
    )
    with op.batch_alter_table('return_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_visit_community_event_id'), ['community_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_maintenance_job_id'), ['maintenance_job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_mode'), ['mode'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_planned_by_id'), ['planned_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_reviewed_by_id'), ['reviewed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_satisfaction'), ['satisfaction'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_sequence'), ['sequence'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_status'), ['status'], unique=False)
        batch_op.create_index('ix_return_visit_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_trigger'), ['trigger'], unique=False)
        batch_op.create_index('ix_return_visit_trigger_visited', ['trigger', 'visited_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_visited_at'), ['visited_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_visit_visitor_id'), ['visitor_id'], unique=False)

    op.create_table('visit_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('answered_on_spot', sa.Boolean(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('agreed_reply_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('outcome_at', sa.DateTime(), nullable=True),
    sa.Column('outcome_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['outcome_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['visit_id'], ['return_visit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visit_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_issue_agreed_reply_at'), ['agreed_reply_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_issue_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_issue_outcome_at'), ['outcome_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_issue_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_rectification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['visit_id'], ['return_visit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visit_rectification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_rectification_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_rectification_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_rectification_done_at'), ['done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_rectification_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_rectification_visit_id'), ['visit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('visit_rectification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_rectification_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_rectification_due_at'))
        batch_op.drop_index(batch_op.f('ix_visit_rectification_done_at'))
        batch_op.drop_index(batch_op.f('ix_visit_rectification_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_visit_rectification_assignee_id'))

    op.drop_table('visit_rectification')
    with op.batch_alter_table('visit_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_issue_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_issue_outcome_at'))
        batch_op.drop_index(batch_op.f('ix_visit_issue_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_visit_issue_agreed_reply_at'))

    op.drop_table('visit_issue')
    with op.batch_alter_table('return_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_visit_visitor_id'))
        batch_op.drop_index(batch_op.f('ix_return_visit_visited_at'))
        batch_op.drop_index('ix_return_visit_trigger_visited')
        batch_op.drop_index(batch_op.f('ix_return_visit_trigger'))
        batch_op.drop_index('ix_return_visit_status_due')
        batch_op.drop_index(batch_op.f('ix_return_visit_status'))
        batch_op.drop_index(batch_op.f('ix_return_visit_sequence'))
        batch_op.drop_index(batch_op.f('ix_return_visit_satisfaction'))
        batch_op.drop_index(batch_op.f('ix_return_visit_reviewed_by_id'))
        batch_op.drop_index(batch_op.f('ix_return_visit_planned_by_id'))
        batch_op.drop_index(batch_op.f('ix_return_visit_mode'))
        batch_op.drop_index(batch_op.f('ix_return_visit_maintenance_job_id'))
        batch_op.drop_index(batch_op.f('ix_return_visit_due_at'))
        batch_op.drop_index(batch_op.f('ix_return_visit_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_return_visit_complaint_id'))
        batch_op.drop_index(batch_op.f('ix_return_visit_community_event_id'))

    op.drop_table('return_visit')
    with op.batch_alter_table('open_letter_complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_letter_complaint_complaint_id'))

    op.drop_table('open_letter_complaint')
    with op.batch_alter_table('open_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_letter_issued_by_id'))
        batch_op.drop_index(batch_op.f('ix_open_letter_issued_at'))
        batch_op.drop_index(batch_op.f('ix_open_letter_created_by_id'))

    op.drop_table('open_letter')
    with op.batch_alter_table('maintenance_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_job_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_job_completed_at'))
        batch_op.drop_index(batch_op.f('ix_maintenance_job_assistant_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_job_area'))

    op.drop_table('maintenance_job')
    with op.batch_alter_table('community_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_event_ended_at'))
        batch_op.drop_index(batch_op.f('ix_community_event_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_community_event_clerk_id'))

    op.drop_table('community_event')
    # ### end Alembic commands ###
