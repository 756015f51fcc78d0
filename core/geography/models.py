"""Reference tables: the commune gazetteer, the geocoding cache and the regional groups (GR)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class Commune(db.Model):
    """A current commune ("commune actuelle") of the official geographic code."""

    __tablename__ = "geo_communes"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # core.geography.names.name_key(name): what a typed city name is compared with.
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    department: Mapped[str] = mapped_column(String(3), index=True)
    region: Mapped[str] = mapped_column(String(3))
    # Empty when no source gave a point: locate() then uses the department seat.
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CommunePostcode(db.Model):
    """Postcode ↔ commune: a postcode serves several communes and a city (Paris) has many postcodes."""

    __tablename__ = "geo_commune_postcodes"

    postcode: Mapped[str] = mapped_column(String(5), primary_key=True)
    commune_insee: Mapped[str] = mapped_column(
        ForeignKey("geo_communes.insee", ondelete="CASCADE"), primary_key=True, index=True
    )


class GeocodeCache(db.Model):
    """Good online answers, so an address is asked once (BAN and Nominatim have rate limits)."""

    __tablename__ = "geo_geocode_cache"

    # core.geography.names.address_key(street, postcode, city)
    address_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    precision: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    commune_insee: Mapped[str | None] = mapped_column(String(5), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegionalGroup(db.Model):
    """A GR of the association; GRs abroad have no department."""

    __tablename__ = "regional_groups"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    abroad: Mapped[bool] = mapped_column(Boolean, default=False)


class DepartmentGroup(db.Model):
    """Department → GR, edited by admins; a department without a row has no GR."""

    __tablename__ = "geo_department_groups"

    department: Mapped[str] = mapped_column(String(3), primary_key=True)
    regional_group_code: Mapped[str] = mapped_column(
        ForeignKey("regional_groups.code", ondelete="CASCADE"), index=True
    )
