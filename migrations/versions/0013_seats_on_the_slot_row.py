"""walk-ins take their seats on the slot row; idempotency keys bound to their request

`slots.walk_in_seats` replaces `gate_tallies`: a walk-in and an online booking now take seats of the same
row, so one conditional UPDATE holds bookings plus walk-ins within capacity (a steward's override may
pass it, recorded on the walk-in). `bookings.idempotency_fingerprint`: a digest of the request a key was
first used with; the same key with another request is refused.

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk_in_seats', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(op.f('ck_slots_walk_in_seats_nonneg'), 'walk_in_seats >= 0')
    op.execute(
        "UPDATE slots SET walk_in_seats = COALESCE("
        "(SELECT walk_in_seats FROM gate_tallies WHERE gate_tallies.slot_id = slots.id), 0)"
    )
    op.drop_table('gate_tallies')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_fingerprint', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('idempotency_fingerprint')
    op.create_table('gate_tallies',
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('walk_in_seats', sa.Integer(), nullable=False),
    sa.CheckConstraint('walk_in_seats >= 0', name=op.f('ck_gate_tallies_walk_in_seats_nonneg')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_gate_tallies_slot_id_slots')),
    sa.PrimaryKeyConstraint('slot_id', name=op.f('pk_gate_tallies'))
    )
    op.execute(
        "INSERT INTO gate_tallies (slot_id, walk_in_seats) SELECT id, walk_in_seats FROM slots "
        "WHERE walk_in_seats > 0"
    )
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_slots_walk_in_seats_nonneg'), type_='check')
        batch_op.drop_column('walk_in_seats')
