"""the gate keeps events: groups let in in parts, exits, undone scans and walk-ins, refused scans

`checkins` was one row per booking (UNIQUE booking_id); it becomes one row per event: persons let in or
out (`direction`), the women/men a steward tapped, an offline phone's `client_key`, and who undid it when.
A booking's persons in are the sum of its events not undone, read under the booking's row lock. An exit
without a booking is persons without a ticket (walk-ins) going out. `refused_scans` keeps the gate's
refusals for review. Existing rows are entries.

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('refused_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('reason_code', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('fingerprint', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_refused_scans_booking_id_bookings')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_refused_scans_by_id_users')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_refused_scans_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refused_scans'))
    )
    with op.batch_alter_table('refused_scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refused_scans_slot_id'), ['slot_id'], unique=False)

    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('direction', sa.String(length=5), nullable=False, server_default='entry'))
        batch_op.add_column(sa.Column('female', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('male', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('client_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('undone_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('undone_by_id', sa.Integer(), nullable=True))
        batch_op.alter_column('booking_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.drop_constraint(batch_op.f('uq_checkins_booking_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_checkins_booking_id'), ['booking_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_checkins_client_key'), ['client_key'])
        batch_op.create_foreign_key(batch_op.f('fk_checkins_undone_by_id_users'), 'users', ['undone_by_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_checkins_direction_known'), "direction IN ('entry', 'exit')")
        batch_op.create_check_constraint(
            op.f('ck_checkins_entry_has_ticket'), "booking_id IS NOT NULL OR direction = 'exit'"
        )
        batch_op.create_check_constraint(
            op.f('ck_checkins_breakdown_within_admitted'),
            "(female IS NULL AND male IS NULL) OR (female >= 0 AND male >= 0 AND female + male <= admitted)",
        )

    with op.batch_alter_table('walk_ins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('undone_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('undone_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_walk_ins_undone_by_id_users'), 'users', ['undone_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('walk_ins', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_walk_ins_undone_by_id_users'), type_='foreignkey')
        batch_op.drop_column('undone_by_id')
        batch_op.drop_column('undone_at')

    # Exits, undone events and all but the first entry of a booking cannot be kept under the old UNIQUE.
    op.execute("DELETE FROM checkins WHERE direction = 'exit' OR undone_at IS NOT NULL")
    op.execute(
        "DELETE FROM checkins WHERE id NOT IN (SELECT MIN(id) FROM checkins GROUP BY booking_id)"
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_checkins_breakdown_within_admitted'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_checkins_entry_has_ticket'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_checkins_direction_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_checkins_undone_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_checkins_client_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_checkins_booking_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_checkins_booking_id'), ['booking_id'])
        batch_op.alter_column('booking_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('undone_by_id')
        batch_op.drop_column('undone_at')
        batch_op.drop_column('client_key')
        batch_op.drop_column('male')
        batch_op.drop_column('female')
        batch_op.drop_column('direction')

    with op.batch_alter_table('refused_scans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refused_scans_slot_id'))

    op.drop_table('refused_scans')
