from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import TimestampMixin, UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"  # Soce staff
    FACTORY = "factory"  # a factory's contact
    VOLUNTEER = "volunteer"  # PMI volunteer
    ORGANISER = "organiser"  # regional group (GR) organiser


ROLE_LABELS = {
    Role.ADMIN: "Équipe Soce",
    Role.FACTORY: "Contact usine",
    Role.VOLUNTEER: "Intervenant·e PMI",
    Role.ORGANISER: "Organisateur·rice GR",
}


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Bumped on password change: old reset and confirmation links and API tokens stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class UserSession(db.Model):
    """One sign-in on one browser. The page session (a signed cookie) carries the random key; only its
    hash is kept here, and signing out deletes the row, so a copy of the cookie dies with it
    (core.auth.services.start_session)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
