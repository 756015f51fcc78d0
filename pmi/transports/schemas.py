"""Transport schemas: what the API and the forms accept, and what the API shows."""

from decimal import Decimal

from marshmallow import fields, validate

from core.validation import BaseSchema, FrenchDecimal, FrenchPhone, Uai, line, text
from pmi.transports.campuses import CAMPUS_CODES
from pmi.transports.models import TransportStatus

MAX_SEATS = 200
MAX_COUNT = 200
MAX_COST = Decimal("99999999.99")  # what the Numeric(10, 2) column holds


def clock(**kwargs) -> fields.Time:
    """A time of day as HH:MM; the document says so (apispec knows no format for it)."""
    documented = {"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "07:45"}
    return fields.Time(format="%H:%M", metadata=documented, **kwargs)


class TransportInputSchema(BaseSchema):
    """A transport. Rules that need the database or the date (past date, GR) live in the services."""

    regional_group = fields.String(
        load_default=None,
        validate=validate.Length(max=20),
        metadata={"description": "GR organisateur (l'équipe Soce seulement ; sinon le vôtre)"},
    )
    campus = fields.String(
        required=True,
        validate=validate.OneOf(CAMPUS_CODES, error="Campus inconnu."),
        metadata={"description": ", ".join(CAMPUS_CODES)},
    )
    date = fields.Date(required=True)
    departure_time = clock(required=True)
    return_time = clock(required=True)
    operator = line(200, required=False, load_default="")
    seats = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_SEATS, error="Le nombre de places doit être entre 1 et 200."),
    )
    cost = FrenchDecimal(
        load_default=None, allow_none=True, places=2, as_string=False,
        validate=validate.Range(min=0, max=MAX_COST, error="Le coût doit être entre 0 et 99 999 999,99 €."),
        error_messages={"invalid": "Montant en euros attendu (ex. 1 250,50)."},
        # apispec would write the Decimal bounds as strings, which is not a valid OpenAPI document
        metadata={"minimum": 0, "maximum": float(MAX_COST)},
    )  # fmt: skip
    # Left out, a new transport is planned; never null (the column is NOT NULL, CHECK of the known values).
    status = fields.String(validate=validate.OneOf([s.value for s in TransportStatus]))
    notes = text(2000, required=False, load_default="")


class TransportUpdateSchema(TransportInputSchema):
    """PATCH: every field optional."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)


class StopInputSchema(BaseSchema):
    school_uai = Uai(required=True, validate=validate.Length(max=20))
    pickup_time = clock(required=True)
    female = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_COUNT))
    male = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_COUNT))
    unspecified = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_COUNT))
    teachers = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_COUNT))
    contact_name = line(120, required=False, load_default="")
    contact_phone = FrenchPhone(load_default=None, allow_none=True)


class StopUpdateSchema(StopInputSchema):
    """PATCH: planned counts, time, contact, or the actual counts after the trip (`actual_*`)."""

    position = fields.Integer(validate=validate.Range(min=1, max=100))
    actual_female = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_COUNT))
    actual_male = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_COUNT))
    actual_unspecified = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_COUNT))
    actual_teachers = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_COUNT))
    over_capacity_reason = line(
        300,
        required=False,
        metadata={"description": "Motif, si le car a transporté plus de personnes que de places"},
    )

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)

    def load(self, data, **kwargs):  # noqa: ANN001, ANN201
        # Loaded with partial=True, the defaults of the input schema must not fill what was not sent.
        result = super().load(data, **kwargs)
        return {key: value for key, value in result.items() if key in (data or {})}


class StopSchema(BaseSchema):
    id = fields.Integer()
    position = fields.Integer()
    school_uai = fields.String()
    school_name = fields.Function(lambda s: s.school.name)
    school_city = fields.Function(lambda s: s.school.city)
    region = fields.Function(lambda s: s.school.region)
    pickup_time = fields.Time(format="%H:%M")
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer()
    pupils = fields.Integer()
    teachers = fields.Integer()
    contact_name = fields.String()
    contact_phone = fields.String(allow_none=True)
    actual_female = fields.Integer(allow_none=True)
    actual_male = fields.Integer(allow_none=True)
    actual_unspecified = fields.Integer(allow_none=True)
    actual_teachers = fields.Integer(allow_none=True)
    actual_pupils = fields.Integer(allow_none=True)


class TransportSchema(BaseSchema):
    id = fields.Integer()
    regional_group = fields.String(attribute="regional_group_code")
    campus = fields.String()
    campus_label = fields.String()
    date = fields.Date()
    departure_time = fields.Time(format="%H:%M")
    return_time = fields.Time(format="%H:%M")
    operator = fields.String()
    seats = fields.Integer()
    seats_taken = fields.Integer()
    seats_left = fields.Integer()
    # a string, to keep the cents exact; apispec would document a number
    cost = fields.Decimal(
        places=2, as_string=True, allow_none=True, metadata={"type": "string", "example": "850.00"}
    )
    status = fields.String()
    status_label = fields.String()
    notes = fields.String()
    stops = fields.List(fields.Nested(StopSchema))


class TransportQuerySchema(BaseSchema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    gr = fields.String(load_default=None, validate=validate.Length(max=20))
    campus = fields.String(load_default=None, validate=validate.OneOf(CAMPUS_CODES))
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in TransportStatus]))


class TransportStatsQuerySchema(BaseSchema):
    by = fields.String(load_default=None, validate=validate.OneOf(["gr", "campus", "region"]))
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    gr = fields.String(load_default=None, validate=validate.Length(max=20))
    campus = fields.String(load_default=None, validate=validate.OneOf(CAMPUS_CODES))
