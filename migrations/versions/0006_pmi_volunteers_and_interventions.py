"""pmi volunteers and interventions

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
