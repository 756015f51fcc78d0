"""the survey after the visit: one answer per booking

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'survey_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('satisfaction', sa.Integer(), nullable=False),
        sa.Column('changed_view', sa.Integer(), nullable=True),
        sa.Column('could_work_before', sa.Integer(), nullable=True),
        sa.Column('could_work_now', sa.Integer(), nullable=True),
        sa.Column('respondent_gender', sa.String(length=10), nullable=True),
        sa.Column('age_band', sa.String(length=10), nullable=True),
        sa.Column('comment', sa.String(length=2000), nullable=False),
        sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_survey_answers_satisfaction_scale')),
        sa.CheckConstraint('changed_view IS NULL OR changed_view BETWEEN 1 AND 5', name=op.f('ck_survey_answers_changed_view_scale')),
        sa.CheckConstraint('could_work_before IS NULL OR could_work_before BETWEEN 1 AND 5', name=op.f('ck_survey_answers_before_scale')),
        sa.CheckConstraint('could_work_now IS NULL OR could_work_now BETWEEN 1 AND 5', name=op.f('ck_survey_answers_now_scale')),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_survey_answers_booking_id_bookings')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
        sa.UniqueConstraint('booking_id', name=op.f('uq_survey_answers_booking_id')),
    )


def downgrade():
    op.drop_table('survey_answers')
