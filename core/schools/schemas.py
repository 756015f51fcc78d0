"""Schools of the directory: what the API shows and the search it accepts."""

from marshmallow import fields, validate

from core.validation import BaseSchema

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
