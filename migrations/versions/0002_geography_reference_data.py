"""geography reference data

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
