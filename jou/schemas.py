"""JOU schemas: what the API and the pages accept (input) and what they show (output).

Input schemas check shapes, lengths and formats; the rules that need the database or the edition (days,
audience per day, duplicate SIRET, postcode/city) live in jou.services.
"""

from datetime import UTC, datetime

from marshmallow import fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from core.validation import (
    MAX_INT,
    BaseSchema,
    FrenchPhone,
    LowerEmail,
    Postcode,
    Siret,
    id_field,
    line,
    text,
)
from jou.models import AUDIENCE_LABELS, Audience, SiteStatus
from jou.sectors import SECTORS, sector_label


class UTCDateTime(fields.DateTime):
    """ISO 8601 with its offset. SQLite hands back naive datetimes, which are UTC by construction."""

    def _serialize(self, value, attr, obj, **kwargs):  # noqa: ANN001
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


MAX_CAPACITY = 10_000  # the largest plants take a few thousand visitors a day; more is a typo
MAX_SLOTS = 60
END_BEFORE_START = "L'heure de fin doit suivre l'heure de début."
AUDIENCES = [a.value for a in Audience]
STATUSES = [s.value for s in SiteStatus]


class EditionSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    year = fields.Integer()
    friday = fields.Date()
    saturday = fields.Date()
    registration_opens = fields.Date()
    registration_closes = fields.Date()
    booking_opens = fields.Date()
    booking_closes = fields.Date()


# ---- input -------------------------------------------------------------------------------------------


class SlotInputSchema(BaseSchema):
    """One visit slot. In a PATCH, a slot with `id` updates that slot, one without creates a slot, and
    the site's slots left out are deleted (refused when seats are taken). A slot is always sent whole."""

    id = id_field(load_only=True, metadata={"description": "Créneau existant à modifier (PATCH)"})
    day = fields.Date(required=True, metadata={"description": "Vendredi ou samedi de l'édition"})
    start = fields.Time(required=True)
    end = fields.Time(required=True)
    audience = fields.String(
        required=True,
        validate=validate.OneOf(AUDIENCES),
        metadata={"description": "schools (vendredi) ou public (samedi)"},
    )
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_CAPACITY))
    min_age = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=99))
    protective_equipment = text(500, required=False, load_default="")
    wheelchair_accessible = fields.Boolean(load_default=False)

    # Runs even when another field failed: "times out of order" is reported with the rest.
    @validates_schema(skip_on_field_errors=False)
    def end_after_start(self, data: dict, **_kw) -> None:
        if "start" in data and "end" in data and data["end"] <= data["start"]:
            raise ValidationError(END_BEFORE_START, field_name="end")


class SiteFieldsSchema(BaseSchema):
    # Names go into mail subjects and headers: one line each.
    company_name = line(200)
    siret = Siret(required=True, metadata={"description": "14 chiffres, clé de Luhn (exception La Poste)"})
    name = line(200, metadata={"description": "Nom du site"})
    street = line(200)
    postcode = Postcode(required=True)
    city = line(120)
    sector = fields.String(required=True, validate=validate.OneOf(list(SECTORS)))
    description = text(5000, required=False, load_default="")
    contact_name = line(120)
    contact_email = LowerEmail(required=True, validate=validate.Length(max=254))
    contact_phone = FrenchPhone(required=True)
    slots = fields.List(
        fields.Nested(SlotInputSchema), load_default=list, validate=validate.Length(max=MAX_SLOTS)
    )


class SiteInputSchema(SiteFieldsSchema):
    """A new site (POST). `edition` (year) defaults to the edition open for registration."""

    edition = fields.Integer(
        load_default=None,
        validate=validate.Range(min=2000, max=2100),
        metadata={"description": "Année de l'édition"},
    )


class SiteUpdateSchema(SiteFieldsSchema):
    """PATCH: every site field optional; slots, when given, are the site's full list (see SlotInputSchema)."""

    def __init__(self, **kwargs) -> None:
        # partial=True would reach into the nested slots too; a slot is always sent whole.
        kwargs.setdefault("partial", tuple(name for name in SiteFieldsSchema._declared_fields))
        super().__init__(**kwargs)


class RejectSchema(BaseSchema):
    reason = text(2000, metadata={"description": "Motif du refus, envoyé au contact"})


class LocationInputSchema(BaseSchema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class SiteMapQuerySchema(BaseSchema):
    """Filters of the GeoJSON (published sites only, all at once)."""

    edition = fields.Integer(
        validate=validate.Range(min=2000, max=2100),
        metadata={"description": "Année ; par défaut l'édition en cours"},
    )
    region = fields.String(validate=validate.Length(max=3), metadata={"description": "Code INSEE de région"})
    department = fields.String(validate=validate.Length(max=3))
    sector = fields.String(validate=validate.OneOf(list(SECTORS)))
    audience = fields.String(validate=validate.OneOf(AUDIENCES))
    day = fields.Date()
    q = fields.String(
        validate=validate.Length(max=100), metadata={"description": "Entreprise, site ou ville"}
    )


class SiteQuerySchema(SiteMapQuerySchema):
    """Filters and paging of the site list."""

    status = fields.String(
        validate=validate.OneOf(STATUSES), metadata={"description": "Équipe Soce ou mine=true seulement"}
    )
    mine = fields.Boolean(load_default=False, metadata={"description": "Mes sites (contact usine)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_INT))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


# ---- output ------------------------------------------------------------------------------------------


class SlotSchema(BaseSchema):
    id = fields.Integer()
    day = fields.Date()
    start = fields.Time()
    end = fields.Time()
    audience = fields.String()
    audience_label = fields.Function(lambda slot: AUDIENCE_LABELS.get(slot.audience, slot.audience))
    capacity = fields.Integer()
    seats_left = fields.Integer()
    min_age = fields.Integer(allow_none=True)
    protective_equipment = fields.String()
    wheelchair_accessible = fields.Boolean()


class SiteSchema(BaseSchema):
    """A site as anyone may see it (published sites only): never the contact's personal data."""

    id = fields.Integer()
    edition = fields.Function(lambda site: site.edition.year, metadata={"description": "Année"})
    status = fields.String()
    rejection_reason = fields.String()
    company_name = fields.String()
    name = fields.String()
    sector = fields.String()
    sector_label = fields.Function(lambda site: sector_label(site.sector))
    description = fields.String()
    street = fields.String()
    postcode = fields.String()
    city = fields.String()
    department = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    regional_group = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    geo_precision = fields.String(allow_none=True)
    slots = fields.List(fields.Nested(SlotSchema))


class SitePrivateSchema(SiteSchema):
    """A site as its owner and the Soce staff see it: with SIRET, contact and review dates."""

    # After a manual pin far from the site's commune: what to check (absent otherwise).
    location_warning = fields.String(dump_only=True, allow_none=True)

    siret = fields.String()
    contact_name = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()
    geo_source = fields.String(allow_none=True)
    submitted_at = UTCDateTime(allow_none=True)
    reviewed_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class SitePageSchema(BaseSchema):
    """One page of the site list. Items carry contact fields only for their owner and the Soce staff
    (SitePrivateSchema); for everyone else they are SiteSchema."""

    items = fields.List(fields.Nested(SitePrivateSchema))
    total = fields.Integer(metadata={"description": "Nombre de sites correspondant aux filtres"})
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class GeometrySchema(BaseSchema):
    type = fields.String(metadata={"description": "Point"})
    coordinates = fields.List(fields.Float(), metadata={"description": "[lon, lat]"})


class SiteFeaturePropertiesSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    company_name = fields.String()
    city = fields.String()
    department = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    sector = fields.String()
    sector_label = fields.String()
    days = fields.List(fields.Date())
    audiences = fields.List(fields.String())
    seats_left = fields.Integer(metadata={"description": "Places restantes, tous créneaux confondus"})
    wheelchair_accessible = fields.Boolean()
    url = fields.String()


class SiteFeatureSchema(BaseSchema):
    type = fields.String()
    id = fields.Integer()
    geometry = fields.Nested(GeometrySchema)
    properties = fields.Nested(SiteFeaturePropertiesSchema)


class FeatureCollectionSchema(BaseSchema):
    """GeoJSON (RFC 7946) of the published, located sites matching the filters; public fields only."""

    type = fields.String()
    features = fields.List(fields.Nested(SiteFeatureSchema))
