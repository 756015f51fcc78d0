"""Volunteers: the PMI profile of an account."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import TimestampMixin


class Volunteer(TimestampMixin, db.Model):
    """The PMI profile of a volunteer's (or an organiser's) account: one per user; the name is the user's."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    promo: Mapped[str] = mapped_column(String(20), default="")
    regional_group_code: Mapped[str | None] = mapped_column(
        ForeignKey("regional_groups.code"), nullable=True, index=True
    )
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)

    user = relationship("User")
    regional_group = relationship("RegionalGroup")

    @property
    def name(self) -> str:
        return self.user.name if self.user else ""
