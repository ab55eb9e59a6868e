"""Customer electrical projects (ENG-01 to ENG-17).

Revision ID: c3c2a7f4d9b3
Revises: c2b1f6e3c8a2
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3c2a7f4d9b3'
down_revision = 'c2b1f6e3c8a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('approved_manufacturer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('products', sa.String(length=200), nullable=False),
    sa.Column('certificate_no', sa.String(length=60), nullable=True),
    sa.Column('approved_until', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )

    with op.batch_alter_table('approved_manufacturer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approved_manufacturer_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('power_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('customer_name', sa.String(length=120), nullable=False),
    sa.Column('contact_person', sa.String(length=64), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('voltage_level', sa.String(length=10), nullable=False),
    sa.Column('requested_capacity', sa.Float(), nullable=False),
    sa.Column('capacity_unit', sa.String(length=4), nullable=False),
    sa.Column('existing_capacity', sa.Float(), nullable=True),
    sa.Column('load_class', sa.String(length=2), nullable=False),
    sa.Column('load_nature', sa.String(length=16), nullable=False),
    sa.Column('backup_power', sa.Boolean(), nullable=False),
    sa.Column('residential_lighting', sa.Boolean(), nullable=False),
    sa.Column('built_by_company', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('review_route', sa.String(length=10), nullable=True),
    sa.Column('capacity_band', sa.String(length=10), nullable=True),
    sa.Column('responsible_unit', sa.String(length=16), nullable=True),
    sa.Column('works_completed_on', sa.Date(), nullable=True),
    sa.Column('completion_reported_at', sa.DateTime(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('contract_no', sa.String(length=40), nullable=True),
    sa.Column('contract_signed_on', sa.Date(), nullable=True),
    sa.Column('meter_notice_at', sa.DateTime(), nullable=True),
    sa.Column('power_on_at', sa.DateTime(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('check_findings', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['received_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )

    with op.batch_alter_table('power_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_power_application_capacity_band'), ['capacity_band'], unique=False)
        batch_op.create_index(batch_op.f('ix_power_application_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_power_application_customer_name'), ['customer_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_power_application_responsible_unit'), ['responsible_unit'], unique=False)
        batch_op.create_index(batch_op.f('ix_power_application_review_route'), ['review_route'], unique=False)
        batch_op.create_index(batch_op.f('ix_power_application_stage'), ['stage'], unique=False)
        batch_op.create_index('ix_power_application_stage_unit', ['stage', 'responsible_unit'], unique=False)

    op.create_table('construction_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=12), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('approval_no', sa.String(length=30), nullable=True),
    sa.Column('carried_out_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['power_application.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('construction_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_construction_change_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_construction_change_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_construction_change_status'), ['status'], unique=False)

    op.create_table('construction_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('designer', sa.String(length=120), nullable=True),
    sa.Column('builder', sa.String(length=120), nullable=True),
    sa.Column('supplier', sa.String(length=120), nullable=True),
    sa.Column('customer_chose_firms', sa.Boolean(), nullable=False),
    sa.Column('qualified_list_shown', sa.Boolean(), nullable=False),
    sa.Column('qualification_cert_no', sa.String(length=60), nullable=True),
    sa.Column('qualification_valid_until', sa.Date(), nullable=True),
    sa.Column('business_licence_no', sa.String(length=60), nullable=True),
    sa.Column('licence_valid_until', sa.Date(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('expected_completion', sa.Date(), nullable=True),
    sa.Column('schedule', sa.Text(), nullable=True),
    sa.Column('start_reported_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['power_application.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )

    with op.batch_alter_table('construction_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_construction_record_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('design_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('route', sa.String(length=10), nullable=False),
    sa.Column('designer', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('opinion_no', sa.String(length=30), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['power_application.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )

    with op.batch_alter_table('design_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_design_review_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_design_review_route'), ['route'], unique=False)
        batch_op.create_index(batch_op.f('ix_design_review_status'), ['status'], unique=False)

    op.create_table('equipment_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('manufacturer_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('model_spec', sa.String(length=120), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('ordered_on', sa.Date(), nullable=True),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.Column('delivery_details', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['power_application.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['manufacturer_id'], ['approved_manufacturer.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('equipment_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_equipment_order_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_equipment_order_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_equipment_order_status'), ['status'], unique=False)

    op.create_table('mid_inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('round_no', sa.Integer(), nullable=False),
    sa.Column('installed_percent', sa.Integer(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('inspector_id', sa.Integer(), nullable=True),
    sa.Column('check_equipment', sa.String(length=8), nullable=True),
    sa.Column('check_transformer', sa.String(length=8), nullable=True),
    sa.Column('check_relay', sa.String(length=8), nullable=True),
    sa.Column('check_lightning', sa.String(length=8), nullable=True),
    sa.Column('check_earthing', sa.String(length=8), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('rectification_items', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('inspected_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['power_application.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['inspector_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'round_no')
    )

    with op.batch_alter_table('mid_inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mid_inspection_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mid_inspection_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mid_inspection_status'), ['status'], unique=False)

    op.create_table('supply_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('approved_capacity_kva', sa.Float(), nullable=False),
    sa.Column('supply_voltage', sa.String(length=10), nullable=False),
    sa.Column('supply_mode', sa.String(length=16), nullable=False),
    sa.Column('dual_supply', sa.Boolean(), nullable=False),
    sa.Column('backup_scheme', sa.String(length=16), nullable=False),
    sa.Column('metering_method', sa.String(length=16), nullable=False),
    sa.Column('economics', sa.Text(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('reply_unit', sa.String(length=10), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reply_no', sa.String(length=30), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['power_application.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )

    with op.batch_alter_table('supply_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_plan_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_plan_status'), ['status'], unique=False)

    op.create_table('supply_plan_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('new_capacity_kva', sa.Float(), nullable=True),
    sa.Column('new_supply_mode', sa.String(length=16), nullable=True),
    sa.Column('new_dual_supply', sa.Boolean(), nullable=True),
    sa.Column('new_metering_method', sa.String(length=16), nullable=True),
    sa.Column('approving_unit', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['power_application.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('supply_plan_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_plan_change_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_plan_change_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_plan_change_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('supply_plan_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_plan_change_status'))
        batch_op.drop_index(batch_op.f('ix_supply_plan_change_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_supply_plan_change_application_id'))

    op.drop_table('supply_plan_change')

    with op.batch_alter_table('supply_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_plan_status'))
        batch_op.drop_index(batch_op.f('ix_supply_plan_created_by_id'))

    op.drop_table('supply_plan')

    with op.batch_alter_table('mid_inspection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mid_inspection_status'))
        batch_op.drop_index(batch_op.f('ix_mid_inspection_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_mid_inspection_application_id'))

    op.drop_table('mid_inspection')

    with op.batch_alter_table('equipment_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_order_status'))
        batch_op.drop_index(batch_op.f('ix_equipment_order_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_equipment_order_application_id'))

    op.drop_table('equipment_order')

    with op.batch_alter_table('design_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_design_review_status'))
        batch_op.drop_index(batch_op.f('ix_design_review_route'))
        batch_op.drop_index(batch_op.f('ix_design_review_created_by_id'))

    op.drop_table('design_review')

    with op.batch_alter_table('construction_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_construction_record_created_by_id'))

    op.drop_table('construction_record')

    with op.batch_alter_table('construction_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_construction_change_status'))
        batch_op.drop_index(batch_op.f('ix_construction_change_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_construction_change_application_id'))

    op.drop_table('construction_change')

    with op.batch_alter_table('power_application', schema=None) as batch_op:
        batch_op.drop_index('ix_power_application_stage_unit')
        batch_op.drop_index(batch_op.f('ix_power_application_stage'))
        batch_op.drop_index(batch_op.f('ix_power_application_review_route'))
        batch_op.drop_index(batch_op.f('ix_power_application_responsible_unit'))
        batch_op.drop_index(batch_op.f('ix_power_application_customer_name'))
        batch_op.drop_index(batch_op.f('ix_power_application_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_power_application_capacity_band'))

    op.drop_table('power_application')

    with op.batch_alter_table('approved_manufacturer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approved_manufacturer_created_by_id'))

    op.drop_table('approved_manufacturer')
