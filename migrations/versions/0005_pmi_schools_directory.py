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
    op.create_table('schools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uai', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('sector', sa.String(length=10), nullable=False),
    sa.Column('street', sa.String(length=300), nullable=True),
    sa.Column('postcode', sa.String(length=5), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=True),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('academie_code', sa.String(length=3), nullable=True),
    sa.Column('academie_name', sa.String(length=60), nullable=True),
    sa.Column('region', sa.String(length=3), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('pupils', sa.Integer(), nullable=True),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('search_key', sa.String(length=320), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('college', 'lycee_gt', 'lycee_pro', 'post_bac', 'other')", name=op.f('ck_schools_kind_known')),
    sa.CheckConstraint("sector IN ('public', 'private')", name=op.f('ck_schools_sector_known')),
    sa.CheckConstraint('pupils IS NULL OR pupils >= 0', name=op.f('ck_schools_pupils_nonneg')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools')),
    sa.UniqueConstraint('uai', name=op.f('uq_schools_uai'))
    )
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schools_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_schools_name_key'), ['name_key'], unique=False)


def downgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schools_name_key'))
        batch_op.drop_index(batch_op.f('ix_schools_department'))

    op.drop_table('schools')
