"""checkin and attendance

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('admitted', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=True),
    sa.CheckConstraint('admitted > 0', name=op.f('ck_checkins_admitted_positive')),
    sa.CheckConstraint("source IN ('scan', 'offline', 'link')", name=op.f('ck_checkins_source_known')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_checkins_booking_id_bookings')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_checkins_by_id_users')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_checkins_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_checkins_booking_id'))
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_slot_id'), ['slot_id'], unique=False)

    op.create_table('gate_tallies',
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('walk_in_seats', sa.Integer(), nullable=False),
    sa.CheckConstraint('walk_in_seats >= 0', name=op.f('ck_gate_tallies_walk_in_seats_nonneg')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_gate_tallies_slot_id_slots')),
    sa.PrimaryKeyConstraint('slot_id', name=op.f('pk_gate_tallies'))
    )

    op.create_table('walk_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('adults', sa.Integer(), nullable=False),
    sa.Column('over_capacity', sa.Boolean(), nullable=False),
    sa.Column('admitted_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=True),
    sa.Column('female', sa.Integer(), nullable=False),
    sa.Column('male', sa.Integer(), nullable=False),
    sa.Column('unspecified', sa.Integer(), nullable=False),
    sa.CheckConstraint('female >= 0 AND male >= 0 AND unspecified >= 0', name=op.f('ck_walk_ins_headcount_nonneg')),
    sa.CheckConstraint('adults >= 0', name=op.f('ck_walk_ins_adults_nonneg')),
    sa.CheckConstraint('female + male + unspecified + adults > 0', name=op.f('ck_walk_ins_someone')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_walk_ins_by_id_users')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_walk_ins_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_ins')),
    sa.UniqueConstraint('client_key', name=op.f('uq_walk_ins_client_key'))
    )
    with op.batch_alter_table('walk_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_ins_slot_id'), ['slot_id'], unique=False)

    op.create_table('attendance_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('confirmed_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
    sa.Column('female', sa.Integer(), nullable=False),
    sa.Column('male', sa.Integer(), nullable=False),
    sa.Column('unspecified', sa.Integer(), nullable=False),
    sa.CheckConstraint('female >= 0 AND male >= 0 AND unspecified >= 0', name=op.f('ck_attendance_reports_headcount_nonneg')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_attendance_reports_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_attendance_reports_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_reports')),
    sa.UniqueConstraint('slot_id', name=op.f('uq_attendance_reports_slot_id'))
    )


def downgrade():
    op.drop_table('attendance_reports')
    with op.batch_alter_table('walk_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_ins_slot_id'))

    op.drop_table('walk_ins')
    op.drop_table('gate_tallies')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkins_slot_id'))

    op.drop_table('checkins')
