"""Customer information and archives (CUS-01 to CUS-11).

Revision ID: c4d3b8a5e0c4
Revises: c3c2a7f4d9b3
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d3b8a5e0c4'
down_revision = 'c3c2a7f4d9b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cus_archive_loan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('expected_return', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('register_no', sa.String(length=32), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('returned_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('register_no')
    )

    with op.batch_alter_table('cus_archive_loan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_archive_loan_borrower_id'), ['borrower_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_loan_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_loan_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_loan_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_loan_status'), ['status'], unique=False)

    op.create_table('cus_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('id_number', sa.String(length=40), nullable=True),
    sa.Column('phone_key', sa.String(length=40), nullable=True),
    sa.Column('id_key', sa.String(length=40), nullable=True),
    sa.Column('company_key', sa.String(length=200), nullable=True),
    sa.Column('intention', sa.String(length=16), nullable=False),
    sa.Column('intended', sa.Boolean(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('owned_since', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('purged', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('cus_customer', schema=None) as batch_op:
        batch_op.create_index('ix_cus_customer_company_key', ['company_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_customer_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_cus_customer_id_key', ['id_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_customer_intended'), ['intended'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_customer_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_cus_customer_phone_key', ['phone_key'], unique=False)

    op.create_table('cus_daily_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('form_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['manager_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('manager_id', 'form_date', name='uq_cus_registration_day')
    )

    with op.batch_alter_table('cus_daily_registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_daily_registration_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_daily_registration_form_date'), ['form_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_daily_registration_late'), ['late'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_daily_registration_manager_id'), ['manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_daily_registration_status'), ['status'], unique=False)

    op.create_table('cus_reception_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(), nullable=False),
    sa.Column('visitor_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('is_referral', sa.Boolean(), nullable=False),
    sa.Column('referrer', sa.String(length=100), nullable=True),
    sa.Column('named_manager_id', sa.Integer(), nullable=True),
    sa.Column('routed_to_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['named_manager_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['routed_to_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('cus_reception_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_reception_visit_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_reception_visit_routed_to_id'), ['routed_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_reception_visit_visited_at'), ['visited_at'], unique=False)

    op.create_table('cus_archive_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_no', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('contact_person', sa.String(length=100), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('requirement', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('last_filed_at', sa.DateTime(), nullable=True),
    sa.Column('destroyed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['cus_customer.id'], ),
    sa.ForeignKeyConstraint(['manager_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('archive_no'),
    sa.UniqueConstraint('customer_id')
    )

    with op.batch_alter_table('cus_archive_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_archive_file_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_file_closed_on'), ['closed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_file_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_file_manager_id'), ['manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_file_opened_on'), ['opened_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_file_status'), ['status'], unique=False)

    op.create_table('cus_registration_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('customer_name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('id_number', sa.String(length=40), nullable=True),
    sa.Column('intention', sa.String(length=16), nullable=False),
    sa.Column('intended', sa.Boolean(), nullable=False),
    sa.Column('has_intermediary', sa.Boolean(), nullable=False),
    sa.Column('intermediary', sa.String(length=200), nullable=True),
    sa.Column('referrer', sa.String(length=100), nullable=True),
    sa.Column('requirement', sa.Text(), nullable=True),
    sa.Column('registered_at', sa.DateTime(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['cus_customer.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['cus_daily_registration.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('cus_registration_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_registration_entry_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_registration_entry_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_registration_entry_intended'), ['intended'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_registration_entry_registration_id'), ['registration_id'], unique=False)

    op.create_table('cus_access_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grantee_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.DateTime(), nullable=False),
    sa.Column('valid_until', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['cus_archive_file.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['grantee_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['cus_daily_registration.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('cus_access_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_access_grant_archive_id'), ['archive_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_access_grant_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_access_grant_grantee_id'), ['grantee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_access_grant_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_access_grant_valid_until'), ['valid_until'], unique=False)

    op.create_table('cus_archive_destruction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('retention_ends', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=100), nullable=True),
    sa.Column('executor', sa.String(length=100), nullable=True),
    sa.Column('witness', sa.String(length=100), nullable=True),
    sa.Column('destroyed_on', sa.Date(), nullable=True),
    sa.Column('purge_summary', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['cus_archive_file.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('cus_archive_destruction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_archive_destruction_archive_id'), ['archive_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_destruction_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_destruction_status'), ['status'], unique=False)

    op.create_table('cus_archive_filing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['archive_id'], ['cus_archive_file.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['manager_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('archive_id', 'period', name='uq_cus_filing_period')
    )

    with op.batch_alter_table('cus_archive_filing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_archive_filing_archive_id'), ['archive_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_filing_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_filing_late'), ['late'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_filing_manager_id'), ['manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_filing_period'), ['period'], unique=False)

    op.create_table('cus_archive_loan_file',
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['cus_archive_file.id'], ),
    sa.ForeignKeyConstraint(['loan_id'], ['cus_archive_loan.id'], ),
    sa.PrimaryKeyConstraint('loan_id', 'archive_id')
    )

    op.create_table('cus_archive_tracking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('tracked_on', sa.Date(), nullable=False),
    sa.Column('manner', sa.String(length=50), nullable=True),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('next_step', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['cus_archive_file.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('cus_archive_tracking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_archive_tracking_archive_id'), ['archive_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_archive_tracking_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('cus_ownership_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('matched_on', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('claimant_id', sa.Integer(), nullable=False),
    sa.Column('owner_registered_at', sa.DateTime(), nullable=False),
    sa.Column('claimant_registered_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('detected_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['claimant_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['cus_customer.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['cus_registration_entry.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )

    with op.batch_alter_table('cus_ownership_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cus_ownership_conflict_claimant_id'), ['claimant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_ownership_conflict_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_ownership_conflict_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_ownership_conflict_detected_at'), ['detected_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cus_ownership_conflict_owner_id'), ['owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cus_ownership_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_ownership_conflict_owner_id'))
        batch_op.drop_index(batch_op.f('ix_cus_ownership_conflict_detected_at'))
        batch_op.drop_index(batch_op.f('ix_cus_ownership_conflict_customer_id'))
        batch_op.drop_index(batch_op.f('ix_cus_ownership_conflict_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_cus_ownership_conflict_claimant_id'))

    op.drop_table('cus_ownership_conflict')

    with op.batch_alter_table('cus_archive_tracking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_archive_tracking_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_tracking_archive_id'))

    op.drop_table('cus_archive_tracking')

    op.drop_table('cus_archive_loan_file')

    with op.batch_alter_table('cus_archive_filing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_archive_filing_period'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_filing_manager_id'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_filing_late'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_filing_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_filing_archive_id'))

    op.drop_table('cus_archive_filing')

    with op.batch_alter_table('cus_archive_destruction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_archive_destruction_status'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_destruction_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_destruction_archive_id'))

    op.drop_table('cus_archive_destruction')

    with op.batch_alter_table('cus_access_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_access_grant_valid_until'))
        batch_op.drop_index(batch_op.f('ix_cus_access_grant_registration_id'))
        batch_op.drop_index(batch_op.f('ix_cus_access_grant_grantee_id'))
        batch_op.drop_index(batch_op.f('ix_cus_access_grant_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_cus_access_grant_archive_id'))

    op.drop_table('cus_access_grant')

    with op.batch_alter_table('cus_registration_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_registration_entry_registration_id'))
        batch_op.drop_index(batch_op.f('ix_cus_registration_entry_intended'))
        batch_op.drop_index(batch_op.f('ix_cus_registration_entry_customer_id'))
        batch_op.drop_index(batch_op.f('ix_cus_registration_entry_created_by_id'))

    op.drop_table('cus_registration_entry')

    with op.batch_alter_table('cus_archive_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_archive_file_status'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_file_opened_on'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_file_manager_id'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_file_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_file_closed_on'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_file_category'))

    op.drop_table('cus_archive_file')

    with op.batch_alter_table('cus_reception_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_reception_visit_visited_at'))
        batch_op.drop_index(batch_op.f('ix_cus_reception_visit_routed_to_id'))
        batch_op.drop_index(batch_op.f('ix_cus_reception_visit_created_by_id'))

    op.drop_table('cus_reception_visit')

    with op.batch_alter_table('cus_daily_registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_daily_registration_status'))
        batch_op.drop_index(batch_op.f('ix_cus_daily_registration_manager_id'))
        batch_op.drop_index(batch_op.f('ix_cus_daily_registration_late'))
        batch_op.drop_index(batch_op.f('ix_cus_daily_registration_form_date'))
        batch_op.drop_index(batch_op.f('ix_cus_daily_registration_created_by_id'))

    op.drop_table('cus_daily_registration')

    with op.batch_alter_table('cus_customer', schema=None) as batch_op:
        batch_op.drop_index('ix_cus_customer_phone_key')
        batch_op.drop_index(batch_op.f('ix_cus_customer_owner_id'))
        batch_op.drop_index(batch_op.f('ix_cus_customer_intended'))
        batch_op.drop_index('ix_cus_customer_id_key')
        batch_op.drop_index(batch_op.f('ix_cus_customer_created_by_id'))
        batch_op.drop_index('ix_cus_customer_company_key')

    op.drop_table('cus_customer')

    with op.batch_alter_table('cus_archive_loan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cus_archive_loan_status'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_loan_issued_at'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_loan_due_on'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_loan_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_cus_archive_loan_borrower_id'))

    op.drop_table('cus_archive_loan')
