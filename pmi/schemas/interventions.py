"""Interventions: what the API shows and accepts, and the statistics it returns."""

from marshmallow import ValidationError, fields, validate, validates_schema

from core.validation import BaseSchema, Postcode, Uai, id_field, line, text
from pmi.models import LEVEL_LABELS, MAX_PUPILS_CROWD, InterventionKind
from pmi.schemas.volunteers import VolunteerRefSchema


class VenueSchema(BaseSchema):
    """A place that is not a school of the directory (a fair's hall, a town hall…)."""

    name = line(200)
    street = line(200, required=False, load_default="")
    postcode = Postcode(required=True)
    city = line(120)


class InterventionInputSchema(BaseSchema):
    """An intervention: `school_uai` or `venue`, never both. The rules that need the database or the date
    (unknown UAI, future date, plausible counts for the kind) live in pmi.interventions."""

    date = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in InterventionKind]))
    # Its check letter is checked by pmi.interventions with the place's other problems (unknown school).
    school_uai = Uai(
        check=False,
        load_default=None,
        validate=validate.Length(max=8),
        metadata={"description": "UAI de l'établissement"},
    )
    venue = fields.Nested(VenueSchema, load_default=None, allow_none=True)
    levels = fields.List(
        fields.String(validate=validate.OneOf(list(LEVEL_LABELS))),
        load_default=list,
        metadata={"description": "6e, 5e, 4e, 3e, 2nde, 1re, tle, post_bac"},
    )
    female = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_PUPILS_CROWD))
    male = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_PUPILS_CROWD))
    unspecified = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_PUPILS_CROWD))
    volunteer_ids = fields.List(
        id_field(),
        load_default=list,
        validate=validate.Length(max=30),
        metadata={"description": "Intervenants (identifiants de profil) ; vous-même par défaut"},
    )
    duration_minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=600))
    notes = text(2000, required=False, load_default="")
    second_session = fields.Boolean(
        load_default=False,
        metadata={"description": "Une autre séance identique le même jour (sinon 409 `duplicate`)"},
    )

    @validates_schema(skip_on_field_errors=False)
    def school_or_venue(self, data: dict, **_kw) -> None:
        school, venue = data.get("school_uai"), data.get("venue")
        if school and venue:
            raise ValidationError(PLACE_BOTH, field_name="school_uai")
        if not school and not venue and not self.partial:
            raise ValidationError(PLACE_NEITHER, field_name="school_uai")


class InterventionUpdateSchema(InterventionInputSchema):
    """PATCH: every field optional; `school_uai` or `venue` replaces the place."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("partial", tuple(InterventionInputSchema._declared_fields))
        kwargs.setdefault("exclude", ("second_session",))  # a change is no new session
        super().__init__(**kwargs)


class InterventionSchema(BaseSchema):
    id = fields.Integer()
    date = fields.Date()
    kind = fields.String()
    kind_label = fields.String()
    school_uai = fields.String(allow_none=True)
    school_name = fields.Function(lambda i: i.school.name if i.school else None)
    venue = fields.Function(
        lambda i: (
            None
            if i.venue_name is None
            else {
                "name": i.venue_name,
                "street": i.venue_street or "",
                "postcode": i.venue_postcode,
                "city": i.venue_city,
            }
        )  # fmt: skip
    )
    department = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    regional_group = fields.String(allow_none=True)
    levels = fields.List(fields.String(), attribute="level_list")
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer()
    total = fields.Integer()
    volunteer_ids = fields.Function(lambda i: [v.id for v in i.volunteers])
    volunteers = fields.List(fields.Nested(VolunteerRefSchema))
    duration_minutes = fields.Integer()
    notes = fields.String()
    created_by_id = fields.Integer(allow_none=True)


class InterventionQuerySchema(BaseSchema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    volunteer = id_field(metadata={"description": "Identifiant de profil d'intervenant"})
    gr = fields.String(validate=validate.Length(max=20), metadata={"description": "Code du groupe régional"})
    region = fields.String(validate=validate.Length(max=3), metadata={"description": "Code INSEE de région"})


class StatsQuerySchema(BaseSchema):
    by = fields.String(required=True, validate=validate.OneOf(["volunteer", "gr"]))
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class StatsRowSchema(BaseSchema):
    key = fields.String(allow_none=True, metadata={"description": "Profil d'intervenant ou code de GR"})
    label = fields.String()
    interventions = fields.Integer()
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer()
    total = fields.Integer()
    female_share = fields.Float(
        allow_none=True,
        metadata={"description": "Part des filles parmi les élèves dont le genre est précisé"},
    )
    schools = fields.Integer()
    volunteers = fields.Integer()


class StatsSchema(BaseSchema):
    by = fields.String()
    year = fields.Integer(allow_none=True)
    rows = fields.List(fields.Nested(StatsRowSchema))
    total = fields.Nested(StatsRowSchema)


PLACE_BOTH = "Indiquez un établissement ou un lieu, pas les deux."
PLACE_NEITHER = "Indiquez l'établissement (UAI) ou le lieu de l'intervention."
