"""indexes for the statistics GROUP BYs

The statistics (stats/queries.py) filter interventions by department and by the académie of their
school; the other filters and group keys (dates, region, GR, school, campus, slots of a site, bookings,
check-ins and walk-ins of a slot, links of an intervention) are served by indexes of 0001–0008.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('interventions', schema=None) as batch_op:
        batch_op.create_index('ix_interventions_department', ['department'], unique=False)
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.create_index('ix_schools_academie_code', ['academie_code'], unique=False)


def downgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_index('ix_schools_academie_code')
    with op.batch_alter_table('interventions', schema=None) as batch_op:
        batch_op.drop_index('ix_interventions_department')
