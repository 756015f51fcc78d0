"""pmi schools directory

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
