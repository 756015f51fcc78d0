"""a scheduled message is queued once: outgoing_mail.dedup_key

`flask messages send-due` (and the mail worker, every minute) queue what is due at that moment — a visit's
reminder, for instance — with a key naming the message ("booking_reminder:123"); the UNIQUE constraint makes
a second run, or two workers at once, queue nothing twice. Messages sent by an action have no key (NULL,
which UNIQUE allows any number of).

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedup_key', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_outgoing_mail_dedup_key'), ['dedup_key'])


def downgrade():
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outgoing_mail_dedup_key'), type_='unique')
        batch_op.drop_column('dedup_key')
