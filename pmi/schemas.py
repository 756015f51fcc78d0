"""PMI schemas: what the API shows and accepts."""

from marshmallow import fields, validate

from core.validation import BaseSchema, id_field

# ---- schools -----------------------------------------------------------------------------------------

MAX_SEARCH_RESULTS = 50


class SchoolSchema(BaseSchema):
    """A school's public fields (the Annuaire de l'éducation is open data)."""

    uai = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "college, lycee_gt, lycee_pro, post_bac, other"})
    kind_label = fields.String()
    sector = fields.String(metadata={"description": "public ou private"})
    street = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    city = fields.String()
    commune_insee = fields.String(allow_none=True)
    department = fields.String()
    academie_code = fields.String(allow_none=True)
    academie_name = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    open = fields.Boolean()
    pupils = fields.Integer(allow_none=True)


class SchoolQuerySchema(BaseSchema):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "Début du nom, commune ou UAI ; accents et casse ignorés"},
    )
    department = fields.String(load_default=None, validate=validate.Length(max=3))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_SEARCH_RESULTS))


# --- interventions ---

# Below the marker, pmi's second part; its imports stay here so the two parts can be edited apart.
from marshmallow import ValidationError, validates_schema  # noqa: E402

from core.validation import FrenchPhone, Postcode, text  # noqa: E402
from pmi.models import LEVEL_LABELS, MAX_PUPILS_CROWD, InterventionKind  # noqa: E402


class VenueSchema(BaseSchema):
    """A place that is not a school of the directory (a fair's hall, a town hall…)."""

    name = text(200)
    street = text(200, required=False, load_default="")
    postcode = Postcode(required=True)
    city = text(120)


class InterventionInputSchema(BaseSchema):
    """An intervention: `school_uai` or `venue`, never both. The rules that need the database or the date
    (unknown UAI, future date, plausible counts for the kind) live in pmi.interventions."""

    date = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in InterventionKind]))
    school_uai = fields.String(
        load_default=None, validate=validate.Length(max=8), metadata={"description": "UAI de l'établissement"}
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
        super().__init__(**kwargs)


class VolunteerRefSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()


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


class ProfileSchema(BaseSchema):
    name = text(120)
    promo = text(20, required=False, load_default="")
    regional_group = fields.String(required=True, validate=validate.Length(max=20))
    phone = FrenchPhone(load_default=None)


PLACE_BOTH = "Indiquez un établissement ou un lieu, pas les deux."
PLACE_NEITHER = "Indiquez l'établissement (UAI) ou le lieu de l'intervention."
