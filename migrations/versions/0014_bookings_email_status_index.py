"""the per-address check finds an address's bookings by (email, status) without statistics

`jou.bookings.services._check_email` reads the confirmed bookings of one address in an edition
(`email = ? AND status = 'confirmed'`, joined to the slot and the site). On tables never analysed (a fresh
database, autovacuum off) PostgreSQL's default estimates made it go from the edition's slots through
`ix_bookings_slot_status` and read every confirmed booking of each slot (6.5 ms at 47,000 bookings and
growing, 0.02 ms after ANALYZE). An index whose columns are exactly the query's two equalities on
bookings is the cheapest path even with default estimates. It replaces `ix_bookings_email`, which it
serves as well (same leading column): a booking writes no more index entries than before.

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_email_status', ['email', 'status'], unique=False)
        batch_op.drop_index('ix_bookings_email')


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_email', ['email'], unique=False)
        batch_op.drop_index('ix_bookings_email_status')
