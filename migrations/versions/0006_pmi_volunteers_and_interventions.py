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
    op.create_table('volunteers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('promo', sa.String(length=20), nullable=False),
    sa.Column('regional_group_code', sa.String(length=20), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['regional_group_code'], ['regional_groups.code'], name=op.f('fk_volunteers_regional_group_code_regional_groups')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_volunteers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers')),
    sa.UniqueConstraint('user_id', name=op.f('uq_volunteers_user_id'))
    )
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteers_regional_group_code'), ['regional_group_code'], unique=False)

    op.create_table('interventions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('venue_name', sa.String(length=200), nullable=True),
    sa.Column('venue_street', sa.String(length=200), nullable=True),
    sa.Column('venue_postcode', sa.String(length=5), nullable=True),
    sa.Column('venue_city', sa.String(length=120), nullable=True),
    sa.Column('commune_insee', sa.String(length=5), nullable=True),
    sa.Column('department', sa.String(length=3), nullable=True),
    sa.Column('region', sa.String(length=3), nullable=True),
    sa.Column('regional_group', sa.String(length=20), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('levels', sa.String(length=60), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('female', sa.Integer(), nullable=False),
    sa.Column('male', sa.Integer(), nullable=False),
    sa.Column('unspecified', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('female >= 0 AND male >= 0 AND unspecified >= 0', name=op.f('ck_interventions_headcount_nonneg')),
    sa.CheckConstraint('female + male + unspecified > 0', name=op.f('ck_interventions_pupils_positive')),
    sa.CheckConstraint('female + male + unspecified <= 2000', name=op.f('ck_interventions_pupils_plausible')),
    sa.CheckConstraint('duration_minutes >= 1 AND duration_minutes <= 600', name=op.f('ck_interventions_duration_range')),
    sa.CheckConstraint('(school_id IS NULL) <> (venue_name IS NULL)', name=op.f('ck_interventions_school_or_venue')),
    sa.CheckConstraint("kind IN ('class_talk', 'forum', 'orientation_fair', 'tnf_exhibition', 'energy_game', 'other')", name=op.f('ck_interventions_kind_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_interventions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_interventions_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interventions'))
    )
    with op.batch_alter_table('interventions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interventions_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_interventions_date', ['date'], unique=False)
        batch_op.create_index('ix_interventions_region', ['region'], unique=False)
        batch_op.create_index('ix_interventions_regional_group', ['regional_group'], unique=False)
        batch_op.create_index(batch_op.f('ix_interventions_school_id'), ['school_id'], unique=False)

    op.create_table('intervention_volunteers',
    sa.Column('intervention_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['intervention_id'], ['interventions.id'], name=op.f('fk_intervention_volunteers_intervention_id_interventions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_intervention_volunteers_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('intervention_id', 'volunteer_id', name=op.f('pk_intervention_volunteers'))
    )
    with op.batch_alter_table('intervention_volunteers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intervention_volunteers_volunteer_id'), ['volunteer_id'], unique=False)


def downgrade():
    op.drop_table('intervention_volunteers')
    op.drop_table('interventions')
    op.drop_table('volunteers')
