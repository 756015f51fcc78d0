"""geography reference data

Communes gazetteer and postcodes (filled by `flask geo import-gazetteer`), geocoding cache, regional
groups (GR) and the department → GR mapping, seeded with a default that admins edit.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import core.models
from core.geography.defaults import DEFAULT_REGIONAL_GROUPS

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    communes = op.create_table('geo_communes',
    sa.Column('insee', sa.String(length=5), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=100), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('insee', name=op.f('pk_geo_communes'))
    )
    with op.batch_alter_table('geo_communes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_geo_communes_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_geo_communes_name_key'), ['name_key'], unique=False)

    op.create_table('geo_commune_postcodes',
    sa.Column('postcode', sa.String(length=5), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['commune_insee'], ['geo_communes.insee'], name=op.f('fk_geo_commune_postcodes_commune_insee_geo_communes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('postcode', 'commune_insee', name=op.f('pk_geo_commune_postcodes'))
    )
    with op.batch_alter_table('geo_commune_postcodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_geo_commune_postcodes_commune_insee'), ['commune_insee'], unique=False)

    op.create_table('geo_geocode_cache',
    sa.Column('address_key', sa.String(length=300), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('precision', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('address_key', name=op.f('pk_geo_geocode_cache'))
    )
    groups = op.create_table('regional_groups',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('abroad', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regional_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_regional_groups_name'))
    )
    mapping = op.create_table('geo_department_groups',
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('regional_group_code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['regional_group_code'], ['regional_groups.code'], name=op.f('fk_geo_department_groups_regional_group_code_regional_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department', name=op.f('pk_geo_department_groups'))
    )
    with op.batch_alter_table('geo_department_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_geo_department_groups_regional_group_code'), ['regional_group_code'], unique=False)

    # A default, not the association's official list (not available): one GR per former region, two
    # overseas, three abroad. Admins edit it on the "Groupes régionaux" page.
    op.bulk_insert(groups, [
        {'code': code, 'name': name, 'abroad': abroad} for code, name, abroad, _ in DEFAULT_REGIONAL_GROUPS
    ])
    op.bulk_insert(mapping, [
        {'department': department, 'regional_group_code': code}
        for code, _, _, departments in DEFAULT_REGIONAL_GROUPS
        for department in departments
    ])


def downgrade():
    with op.batch_alter_table('geo_department_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_geo_department_groups_regional_group_code'))

    op.drop_table('geo_department_groups')
    op.drop_table('regional_groups')
    op.drop_table('geo_geocode_cache')
    with op.batch_alter_table('geo_commune_postcodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_geo_commune_postcodes_commune_insee'))

    op.drop_table('geo_commune_postcodes')
    with op.batch_alter_table('geo_communes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_geo_communes_name_key'))
        batch_op.drop_index(batch_op.f('ix_geo_communes_department'))

    op.drop_table('geo_communes')
