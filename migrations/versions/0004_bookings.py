"""bookings and waiting lists

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('editions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_party_size', sa.Integer(), server_default='6', nullable=False))
        batch_op.add_column(sa.Column('max_bookings_per_email', sa.Integer(), server_default='3', nullable=False))

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('party_size', sa.Integer(), nullable=False),
    sa.Column('adults', sa.Integer(), nullable=False),
    sa.Column('uai', sa.String(length=8), nullable=True),
    sa.Column('level', sa.String(length=10), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('consent_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', core.models.UTCDateTime(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('female', sa.Integer(), nullable=False),
    sa.Column('male', sa.Integer(), nullable=False),
    sa.Column('unspecified', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('female >= 0 AND male >= 0 AND unspecified >= 0', name=op.f('ck_bookings_headcount_nonneg')),
    sa.CheckConstraint('party_size > 0', name=op.f('ck_bookings_party_size_positive')),
    sa.CheckConstraint('adults >= 0', name=op.f('ck_bookings_adults_nonneg')),
    sa.CheckConstraint('female + male + unspecified + adults = party_size', name=op.f('ck_bookings_party_matches_headcount')),
    sa.CheckConstraint("kind IN ('public', 'school')", name=op.f('ck_bookings_kind_known')),
    sa.CheckConstraint("status IN ('confirmed', 'cancelled')", name=op.f('ck_bookings_status_known')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_bookings_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_bookings_idempotency_key'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_email'), ['email'], unique=False)
        batch_op.create_index('ix_bookings_slot_status', ['slot_id', 'status'], unique=False)

    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('party_size', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('consent_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('female', sa.Integer(), nullable=False),
    sa.Column('male', sa.Integer(), nullable=False),
    sa.Column('unspecified', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('female >= 0 AND male >= 0 AND unspecified >= 0', name=op.f('ck_waitlist_entries_headcount_nonneg')),
    sa.CheckConstraint('party_size > 0', name=op.f('ck_waitlist_entries_party_size_positive')),
    sa.CheckConstraint('female + male + unspecified = party_size', name=op.f('ck_waitlist_entries_party_matches_headcount')),
    sa.CheckConstraint("status IN ('waiting', 'promoted', 'cancelled')", name=op.f('ck_waitlist_entries_status_known')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_waitlist_entries_booking_id_bookings')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_waitlist_entries_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entries_email'), ['email'], unique=False)
        batch_op.create_index('ix_waitlist_entries_slot_status', ['slot_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_entries_slot_status')
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_email'))

    op.drop_table('waitlist_entries')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_slot_status')
        batch_op.drop_index(batch_op.f('ix_bookings_email'))

    op.drop_table('bookings')
    with op.batch_alter_table('editions', schema=None) as batch_op:
        batch_op.drop_column('max_bookings_per_email')
        batch_op.drop_column('max_party_size')
