"""campus transports

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CAMPUS_IN = "'aix', 'angers', 'bordeaux', 'chalons', 'cluny', 'lille', 'metz', 'paris', 'bastia', 'chambery', 'laval'"


def upgrade():
    op.create_table('transports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('regional_group_code', sa.String(length=20), nullable=False),
    sa.Column('campus', sa.String(length=20), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('departure_time', sa.Time(), nullable=False),
    sa.Column('return_time', sa.Time(), nullable=False),
    sa.Column('operator', sa.String(length=200), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('seats > 0', name=op.f('ck_transports_seats_positive')),
    sa.CheckConstraint('seats_taken >= 0 AND seats_taken <= seats', name=op.f('ck_transports_seats_within')),
    sa.CheckConstraint('return_time > departure_time', name=op.f('ck_transports_return_after_departure')),
    sa.CheckConstraint('cost IS NULL OR cost >= 0', name=op.f('ck_transports_cost_nonneg')),
    sa.CheckConstraint("status IN ('planned', 'confirmed', 'done', 'cancelled')", name=op.f('ck_transports_status_known')),
    sa.CheckConstraint(f'campus IN ({CAMPUS_IN})', name=op.f('ck_transports_campus_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_transports_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['regional_group_code'], ['regional_groups.code'], name=op.f('fk_transports_regional_group_code_regional_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transports'))
    )
    with op.batch_alter_table('transports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transports_campus'), ['campus'], unique=False)
        batch_op.create_index(batch_op.f('ix_transports_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transports_date'), ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_transports_regional_group_code'), ['regional_group_code'], unique=False)

    op.create_table('transport_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transport_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pickup_time', sa.Time(), nullable=False),
    sa.Column('teachers', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('actual_female', sa.Integer(), nullable=True),
    sa.Column('actual_male', sa.Integer(), nullable=True),
    sa.Column('actual_unspecified', sa.Integer(), nullable=True),
    sa.Column('actual_teachers', sa.Integer(), nullable=True),
    sa.Column('female', sa.Integer(), nullable=False),
    sa.Column('male', sa.Integer(), nullable=False),
    sa.Column('unspecified', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('female >= 0 AND male >= 0 AND unspecified >= 0', name=op.f('ck_transport_stops_headcount_nonneg')),
    sa.CheckConstraint('teachers >= 0', name=op.f('ck_transport_stops_teachers_nonneg')),
    sa.CheckConstraint('(actual_female IS NULL OR actual_female >= 0) AND (actual_male IS NULL OR actual_male >= 0) AND (actual_unspecified IS NULL OR actual_unspecified >= 0) AND (actual_teachers IS NULL OR actual_teachers >= 0)', name=op.f('ck_transport_stops_actual_nonneg')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_transport_stops_school_id_schools')),
    sa.ForeignKeyConstraint(['transport_id'], ['transports.id'], name=op.f('fk_transport_stops_transport_id_transports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transport_stops'))
    )
    with op.batch_alter_table('transport_stops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transport_stops_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transport_stops_transport_id'), ['transport_id'], unique=False)


def downgrade():
    with op.batch_alter_table('transport_stops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transport_stops_transport_id'))
        batch_op.drop_index(batch_op.f('ix_transport_stops_school_id'))
    op.drop_table('transport_stops')
    with op.batch_alter_table('transports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transports_regional_group_code'))
        batch_op.drop_index(batch_op.f('ix_transports_date'))
        batch_op.drop_index(batch_op.f('ix_transports_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_transports_campus'))
    op.drop_table('transports')
