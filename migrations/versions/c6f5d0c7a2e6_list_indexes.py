"""Indexes for every default order and list filter, foreign keys included.

Revision ID: c6f5d0c7a2e6
Revises: c5e4c9b6f1d5
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = 'c6f5d0c7a2e6'
down_revision = 'c5e4c9b6f1d5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_replaced_by_id', ['replaced_by_id'], unique=False)
        batch_op.create_index('ix_attachment_replaces_id', ['replaces_id'], unique=False)

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_case_file_id', ['case_file_id'], unique=False)
        batch_op.create_index('ix_complaint_complainant_name', ['complainant_name'], unique=False)
        batch_op.create_index('ix_complaint_escalated_to_id', ['escalated_to_id'], unique=False)
        batch_op.create_index('ix_complaint_severity_received', ['severity', 'received_at'], unique=False)
        batch_op.create_index('ix_complaint_subject', ['subject'], unique=False)

    with op.batch_alter_table('complaint_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_contact_staff_id'), ['staff_id'], unique=False)

    with op.batch_alter_table('cus_archive_loan_file', schema=None) as batch_op:
        batch_op.create_index('ix_cus_archive_loan_file_archive_id', ['archive_id'], unique=False)

    with op.batch_alter_table('cus_archive_tracking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_archive_tracking_tracked_on'), ['tracked_on'], unique=False)

    with op.batch_alter_table('cus_customer', schema=None) as batch_op:
        batch_op.create_index('ix_cus_customer_company_name', ['company_name'], unique=False)
        batch_op.create_index('ix_cus_customer_kind', ['kind'], unique=False)
        batch_op.create_index('ix_cus_customer_name', ['name'], unique=False)
        batch_op.create_index('ix_cus_customer_owned_since', ['owned_since'], unique=False)
        batch_op.create_index('ix_cus_customer_phone', ['phone'], unique=False)

    with op.batch_alter_table('cus_ownership_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_ownership_conflict_entry_id'), ['entry_id'], unique=False)

    with op.batch_alter_table('cus_reception_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_reception_visit_named_manager_id'), ['named_manager_id'], unique=False)

    with op.batch_alter_table('cus_registration_entry', schema=None) as batch_op:
        batch_op.create_index('ix_cus_registration_entry_channel', ['channel'], unique=False)
        batch_op.create_index('ix_cus_registration_entry_customer_name', ['customer_name'], unique=False)
        batch_op.create_index('ix_cus_registration_entry_phone', ['phone'], unique=False)
        batch_op.create_index('ix_cus_registration_entry_registered_at', ['registered_at'], unique=False)

    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_deadline_kind', ['kind'], unique=False)

    with op.batch_alter_table('design_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_design_review_reviewed_by_id'), ['reviewed_by_id'], unique=False)

    with op.batch_alter_table('equipment_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_equipment_order_manufacturer_id'), ['manufacturer_id'], unique=False)

    with op.batch_alter_table('mid_inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mid_inspection_inspector_id'), ['inspector_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_created', ['user_id', 'created_at'], unique=False)

    with op.batch_alter_table('power_application', schema=None) as batch_op:
        batch_op.create_index('ix_power_application_kind', ['kind'], unique=False)
        batch_op.create_index('ix_power_application_load_nature', ['load_nature'], unique=False)
        batch_op.create_index('ix_power_application_received_at', ['received_at'], unique=False)
        batch_op.create_index('ix_power_application_received_by_id', ['received_by_id'], unique=False)
        batch_op.create_index('ix_power_application_voltage_level', ['voltage_level'], unique=False)

    with op.batch_alter_table('workflow_transition', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_transition_acting_for_id', ['acting_for_id'], unique=False)

    # ### end Alembic commands ###


def downgrade():
    with op.batch_alter_table('workflow_transition', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_transition_acting_for_id')

    with op.batch_alter_table('power_application', schema=None) as batch_op:
        batch_op.drop_index('ix_power_application_voltage_level')
        batch_op.drop_index('ix_power_application_received_by_id')
        batch_op.drop_index('ix_power_application_received_at')
        batch_op.drop_index('ix_power_application_load_nature')
        batch_op.drop_index('ix_power_application_kind')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_created')

    with op.batch_alter_table('mid_inspection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mid_inspection_inspector_id'))

    with op.batch_alter_table('equipment_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_order_manufacturer_id'))

    with op.batch_alter_table('design_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_design_review_reviewed_by_id'))

    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_deadline_kind')
        batch_op.drop_index('ix_deadline_due_at')

    with op.batch_alter_table('cus_registration_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_cus_registration_entry_registered_at')
        batch_op.drop_index('ix_cus_registration_entry_phone')
        batch_op.drop_index('ix_cus_registration_entry_customer_name')
        batch_op.drop_index('ix_cus_registration_entry_channel')

    with op.batch_alter_table('cus_reception_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_reception_visit_named_manager_id'))

    with op.batch_alter_table('cus_ownership_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_ownership_conflict_entry_id'))

    with op.batch_alter_table('cus_customer', schema=None) as batch_op:
        batch_op.drop_index('ix_cus_customer_phone')
        batch_op.drop_index('ix_cus_customer_owned_since')
        batch_op.drop_index('ix_cus_customer_name')
        batch_op.drop_index('ix_cus_customer_kind')
        batch_op.drop_index('ix_cus_customer_company_name')

    with op.batch_alter_table('cus_archive_tracking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_archive_tracking_tracked_on'))

    with op.batch_alter_table('cus_archive_loan_file', schema=None) as batch_op:
        batch_op.drop_index('ix_cus_archive_loan_file_archive_id')

    with op.batch_alter_table('complaint_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_contact_staff_id'))

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_subject')
        batch_op.drop_index('ix_complaint_severity_received')
        batch_op.drop_index('ix_complaint_escalated_to_id')
        batch_op.drop_index('ix_complaint_complainant_name')
        batch_op.drop_index('ix_complaint_case_file_id')

    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_replaces_id')
        batch_op.drop_index('ix_attachment_replaced_by_id')
