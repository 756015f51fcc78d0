"""outgoing mail: composed by the worker, retried with backoff

A message may be queued before it is composed (`compose_args` set, `message` NULL): the booking
confirmation's QR code and .ics are made by the mail worker, not in the booking request.
`next_attempt_at` spaces the retries of a failing message (exponential backoff).

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa

import core.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.alter_column("message", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.add_column(sa.Column("compose_args", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", core.models.UTCDateTime(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_outgoing_mail_composed_or_composable"), "message IS NOT NULL OR compose_args IS NOT NULL"
        )


def downgrade():
    # Compose-later messages cannot be kept without their body: a downgrade drops the unsent ones.
    op.execute("DELETE FROM outgoing_mail WHERE message IS NULL")
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outgoing_mail_composed_or_composable"), type_="check")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("compose_args")
        batch_op.alter_column("message", existing_type=sa.LargeBinary(), nullable=False)
