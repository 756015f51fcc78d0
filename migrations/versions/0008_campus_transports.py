"""campus transports

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
