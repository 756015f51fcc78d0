"""the interest list: "tell me when booking opens" for a region or a department

Double opt-in (`confirmed_at` set by the e-mailed link), one-click unsubscription (`unsubscribed_at`).

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'interest_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('region', sa.String(length=3), nullable=True),
        sa.Column('department', sa.String(length=3), nullable=True),
        sa.Column('consent_at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('unsubscribed_at', core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(region IS NULL) != (department IS NULL)', name=op.f('ck_interest_subscriptions_one_area')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_subscriptions')),
    )
    with op.batch_alter_table('interest_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_interest_subscriptions_email', ['email'], unique=False)


def downgrade():
    op.drop_table('interest_subscriptions')
