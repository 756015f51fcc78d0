"""What the booking API and pages accept and show.

Input schemas check shapes and formats; the rules that need the slot or the edition (party limit,
acknowledgements, window, per-email limits, seats) live in jou.bookings.services.
"""

from marshmallow import fields, validate

from core.validation import BaseSchema, FrenchPhone, LowerEmail, Uai, text
from jou.bookings.models import SCHOOL_LEVELS
from jou.schemas import UTCDateTime

MAX_PARTY = 100  # the edition's own limit (max_party_size) is checked by the service
MAX_CLASS = 200
CONSENT_MESSAGE = "Votre accord est nécessaire pour enregistrer la réservation."
PRIVACY_NOTICE = (
    "Vos nom, e-mail et téléphone servent uniquement à gérer cette visite (billet, changements, "
    "annulation) ; l'usine voit la liste des réservations de son créneau. Ils sont effacés après "
    "l'édition, et sur simple demande."
)


def _count(**kwargs) -> fields.Integer:
    return fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_CLASS), **kwargs)


def _consent() -> fields.Boolean:
    return fields.Boolean(
        required=True,
        validate=validate.Equal(True, error=CONSENT_MESSAGE),
        error_messages={"required": CONSENT_MESSAGE},
        metadata={"description": PRIVACY_NOTICE},
    )


class ContactSchema(BaseSchema):
    name = text(120)
    email = LowerEmail(required=True)
    phone = FrenchPhone(load_default=None, allow_none=True)
    consent = _consent()


class PublicBookingInputSchema(ContactSchema):
    """A party of the general public (public slots, Saturday)."""

    party_size = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_PARTY),
        metadata={"description": "Nombre de personnes (limite par réservation fixée par l'édition)"},
    )
    female = _count(metadata={"description": "Femmes et filles (facultatif)"})
    male = _count(metadata={"description": "Hommes et garçons (facultatif) ; le reste est « non précisé »"})
    ack_min_age = fields.Boolean(
        load_default=False, metadata={"description": "Obligatoire si le créneau a un âge minimum"}
    )
    ack_equipment = fields.Boolean(
        load_default=False, metadata={"description": "Obligatoire si le créneau impose des équipements"}
    )


class WaitlistInputSchema(PublicBookingInputSchema):
    """The same party as a public booking, waiting for seats."""


class SchoolBookingInputSchema(ContactSchema):
    """A class and its accompanying adults (schools slots, Friday). Pupils are counts, never names."""

    uai = Uai(
        required=True,
        error_messages={"required": "Choisissez l'établissement dans la liste (nom, commune ou UAI)."},
        metadata={"description": "Code UAI d'un établissement de l'annuaire (GET /api/v1/schools?q=…)"},
    )
    level = fields.String(required=True, validate=validate.OneOf(list(SCHOOL_LEVELS)))
    female = _count(metadata={"description": "Filles"})
    male = _count(metadata={"description": "Garçons"})
    unspecified = _count(metadata={"description": "Élèves sans genre précisé"})
    adults = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_CLASS, error="Au moins un adulte accompagne la classe."),
    )
    # School slots have a minimum age and equipment notices too; the teacher acknowledges them.
    ack_min_age = fields.Boolean(load_default=False)
    ack_equipment = fields.Boolean(load_default=False)


class ChangePartySchema(BaseSchema):
    """Public booking: party_size (and optionally female/male). School booking: the four counts."""

    party_size = fields.Integer(validate=validate.Range(min=1, max=MAX_PARTY))
    female = fields.Integer(validate=validate.Range(min=0, max=MAX_CLASS))
    male = fields.Integer(validate=validate.Range(min=0, max=MAX_CLASS))
    unspecified = fields.Integer(validate=validate.Range(min=0, max=MAX_CLASS))
    adults = fields.Integer(validate=validate.Range(min=1, max=MAX_CLASS))


# ---- output ------------------------------------------------------------------------------------------


class BookedSlotSchema(BaseSchema):
    id = fields.Integer()
    day = fields.Date()
    start = fields.Time(format="%H:%M")
    end = fields.Time(format="%H:%M")
    audience = fields.String()
    site_id = fields.Integer()
    site_name = fields.String(attribute="site.name")
    company_name = fields.String(attribute="site.company_name")
    city = fields.String(attribute="site.city")


class BookingSchema(BaseSchema):
    id = fields.Integer()
    slot_id = fields.Integer()
    kind = fields.String(metadata={"description": "public ou school"})
    status = fields.String(metadata={"description": "confirmed ou cancelled"})
    party_size = fields.Integer(
        metadata={"description": "Places occupées (élèves + adultes pour une classe)"}
    )
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer()
    adults = fields.Integer()
    uai = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)
    created_at = UTCDateTime()
    cancelled_at = UTCDateTime(allow_none=True)
    slot = fields.Nested(BookedSlotSchema)
    ticket_token = fields.String(metadata={"description": "Jeton signé du billet (contenu du QR code)"})
    qr_png_url = fields.String()
    qr_svg_url = fields.String()
    pdf_url = fields.String(
        metadata={"description": "Billet à imprimer (PDF : QR, site, adresse, créneau, équipements)"}
    )
    ics_url = fields.String()
    manage_url = fields.String(metadata={"description": "Lien signé pour voir, modifier ou annuler"})
    survey_url = fields.String(metadata={"description": "L'enquête après la visite, une fois ouverte"})


class WaitlistEntrySchema(BaseSchema):
    id = fields.Integer()
    slot_id = fields.Integer()
    party_size = fields.Integer()
    status = fields.String(
        metadata={"description": "waiting, offered (places tenues jusqu'à offer_expires_at), promoted, "
                  "cancelled ou expired"}
    )  # fmt: skip
    position = fields.Integer(
        allow_none=True,
        metadata={"description": "Rang dans la liste d'attente (1 = le prochain) ; null sinon"},
    )
    female = fields.Integer()
    male = fields.Integer()
    unspecified = fields.Integer()
    created_at = UTCDateTime()
    offer_expires_at = UTCDateTime(
        allow_none=True, metadata={"description": "Fin de l'offre (status offered)"}
    )
    booking_id = fields.Integer(allow_none=True, metadata={"description": "La réservation née de l'offre"})
    token = fields.String(metadata={"description": "Jeton signé de l'inscription"})
    manage_url = fields.String(metadata={"description": "Page de l'inscription : rang, confirmer, quitter"})


class SlotMessageSchema(BaseSchema):
    """A factory's message to the bookers of one slot."""

    subject = text(150)
    body = text(5000)
    with_waitlist = fields.Boolean(load_default=False, metadata={"description": "Aussi la liste d'attente"})
