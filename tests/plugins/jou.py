"""Test helpers: JOU (editions, sites, slots, bookings), shared by the test modules.

- `open_edition`, `slots_of`, `public_slot`: an edition whose booking window is open today and an
  approved site's slots on it; `party` and `school_class` are valid booking input (`enrolled` puts a
  UAI in the schools directory), `seats_taken` the
  slot's counter as the database holds it.
- `public_slot_of(site)`: a site's public slot; `make_booking` a confirmed booking row without the
  seat-taking rules.
- `site_data(edition)`: the registration of a Lyon site as the pages' form loads it (tests.factories'
  `site_data` is a Paris one); `payload()`: the JSON body of `POST /api/v1/sites`.
- `string_values`, `holds`: every value held in some tables, and those that contain personal data.
"""

from __future__ import annotations

import itertools
import json
from datetime import time, timedelta

from sqlalchemy import select

from core.extensions import db
from core.identifiers import luhn_is_valid
from core.models import utcnow
from core.schools import School
from jou.bookings.models import Booking, BookingKind
from jou.models import Edition, Slot
from jou.services import paris_today
from tests.factories import make_edition, make_site, siret, slot_data
from tests.plugins.pmi import make_school

# ---- editions, slots and booking input ----------------------------------------------------------------

# Edition years stay within what the API accepts (2000–2100); each test rolls its editions back.
_years = itertools.cycle(range(2040, 2100))

UAI = "0750001U"  # 7 digits and the check letter: 750001 % 23 → U


def open_edition(year: int | None = None, **kw) -> Edition:
    """An edition whose booking window is open today, its days a month ahead."""
    today = paris_today()
    friday = today + timedelta(days=30)
    return make_edition(
        year or next(_years),
        friday=friday,
        registration_opens=today - timedelta(days=60),
        registration_closes=today,
        booking_opens=kw.pop("booking_opens", today - timedelta(days=1)),
        booking_closes=kw.pop("booking_closes", friday),
        **kw,
    )


def slots_of(edition: Edition | None = None, status: str = "approved", **slot_kw) -> tuple[Slot, Slot]:
    """A site with one schools slot (Friday) and one public slot (Saturday); returns (public, schools)."""
    edition = edition or open_edition()
    public = slot_data(day=edition.saturday, audience="public", **slot_kw)
    school = slot_data(day=edition.friday, audience="schools", **slot_kw)
    site = make_site(edition=edition, status=status, slots=[school, public])
    by_audience = {s.audience: s for s in site.slots}
    return by_audience["public"], by_audience["schools"]


def public_slot(capacity: int = 5, **kw) -> Slot:
    return slots_of(capacity=capacity, **kw)[0]


def party(n: int = 2, email: str = "alice@example.org", **kw) -> dict:
    return {"party_size": n, "name": "Alice Martin", "email": email, "consent": True, **kw}


def enrolled(uai: str = UAI, kind: str = "college") -> str:
    """`uai` as a school of the directory (a class books only for one of them); returns the UAI."""
    if db.session.scalar(select(School.id).where(School.uai == uai)) is None:
        make_school(uai=uai, kind=kind, name=f"Établissement {uai}")
    return uai


def school_class(**kw) -> dict:
    """A class of 4e of the collège UAI, which is put in the directory."""
    enrolled()
    data = {
        "uai": UAI,
        "level": "4e",
        "female": 12,
        "male": 11,
        "unspecified": 1,
        "adults": 2,
        "name": "M. Prof",
        "email": "prof@example.org",
        "consent": True,
    }
    data.update(kw)
    return data


def seats_taken(slot: Slot) -> int:
    return db.session.scalar(select(Slot.seats_taken).where(Slot.id == slot.id))


# ---- booking rows -------------------------------------------------------------------------------------


def public_slot_of(site) -> Slot:  # noqa: ANN001
    return next(s for s in site.slots if s.audience == "public")


def make_booking(slot: Slot | None = None, *, party_size: int = 2, **fields) -> Booking:
    """A confirmed booking row (the seat-taking rules are tested with the services, not here)."""
    slot = slot or public_slot_of(make_site(status="approved"))
    values = {
        "kind": BookingKind.PUBLIC,
        "party_size": party_size,
        "unspecified": party_size,
        "name": "Éloïse Dupré",
        "email": "eloise@example.org",
        "consent_at": utcnow(),
    }
    values.update(fields)
    booking = Booking(slot=slot, **values)
    slot.seats_taken += booking.party_size
    db.session.add(booking)
    db.session.flush()
    return booking


# ---- site registration input --------------------------------------------------------------------------

_siret_seq = itertools.count(1)


def valid_siret() -> str:
    """A fresh 14-digit SIRET with a correct Luhn key."""
    base = f"4{next(_siret_seq):012d}"
    return next(base + str(d) for d in range(10) if luhn_is_valid(base + str(d)))


def site_data(edition, **overrides) -> dict:  # noqa: ANN001
    data = {
        "company_name": "Forges de Bourgogne",
        "siret": valid_siret(),
        "name": "Usine de Lyon Gerland",
        "street": "12 rue de Gerland",
        "postcode": "69007",
        "city": "Lyon",
        "sector": "metallurgy",
        "description": "Visite de la fonderie et de l'atelier d'usinage.",
        "contact_name": "Claire Martin",
        "contact_email": "claire.martin@example.org",
        "contact_phone": "+33472000000",
        "slots": [
            {
                "day": edition.friday,
                "start": time(9, 0),
                "end": time(11, 0),
                "audience": "schools",
                "capacity": 30,
            },
            {
                "day": edition.saturday,
                "start": time(14, 0),
                "end": time(16, 0),
                "audience": "public",
                "capacity": 25,
            },
        ],
    }
    data.update(overrides)
    return data


def payload(**overrides) -> dict:
    data = {
        "company_name": "Forges de Paris",
        "siret": siret(),
        "name": "Atelier du Louvre",
        "street": "1 rue de Rivoli",
        "postcode": "75001",
        "city": "Paris",
        "sector": "metallurgy",
        "description": "Forge et usinage.",
        "contact_name": "Camille Martin",
        "contact_email": "Camille.Martin@Example.org",
        "contact_phone": "01 42 00 00 00",
        "slots": [
            {"day": "2027-03-19", "start": "09:00", "end": "11:00", "audience": "schools", "capacity": 25},
            {
                "day": "2027-03-20",
                "start": "14:00",
                "end": "16:00",
                "audience": "public",
                "capacity": 40,
                "min_age": 8,
                "protective_equipment": "Chaussures fermées",
                "wheelchair_accessible": True,
            },
        ],
    }
    data.update(overrides)
    return data


# ---- personal data left in the tables -----------------------------------------------------------------


def string_values(*models) -> list[str]:  # noqa: ANN002
    """Every value of every row of these models' tables (or tables), as text (bytes decoded, JSON dumped)."""
    values = []
    for model in models:
        for row in db.session.execute(select(getattr(model, "__table__", model))).all():
            for value in row:
                if isinstance(value, bytes):
                    values.append(value.decode("latin-1"))
                elif isinstance(value, dict | list):
                    values.append(json.dumps(value, ensure_ascii=False))
                elif value is not None:
                    values.append(str(value))
    return values


def holds(values: list[str], *needles: str) -> list[str]:
    return [v for v in values for n in needles if n.lower() in v.lower()]
