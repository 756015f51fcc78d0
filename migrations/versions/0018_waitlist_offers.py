"""waiting-list offers: seats held for a party until it confirms, or they pass on

When seats free up, the first waiting party that fits is offered them (status `offered`, the seats held on
the slot row) until `offer_expires_at`; it confirms (`promoted`, a booking), declines or lets the offer run
out (`expired`), and the seats go to the next party.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offered_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('offer_expires_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_waitlist_entries_status_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_waitlist_entries_status_known'),
            "status IN ('waiting', 'offered', 'promoted', 'cancelled', 'expired')",
        )
        batch_op.create_check_constraint(
            op.f('ck_waitlist_entries_offer_has_deadline'), "status != 'offered' OR offer_expires_at IS NOT NULL"
        )


def downgrade():
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_waitlist_entries_offer_has_deadline'), type_='check')
        batch_op.drop_constraint(op.f('ck_waitlist_entries_status_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_waitlist_entries_status_known'), "status IN ('waiting', 'promoted', 'cancelled')"
        )
        batch_op.drop_column('offer_expires_at')
        batch_op.drop_column('offered_at')
