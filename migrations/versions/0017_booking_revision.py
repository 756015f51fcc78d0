"""a booking's revision: its calendar event's SEQUENCE

Each change of the party and the cancellation raise `bookings.revision`; the .ics sent with each e-mail
carries it as SEQUENCE (same UID), so calendars replace the event they hold instead of keeping the old size.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('revision')
