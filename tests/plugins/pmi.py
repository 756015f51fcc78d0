"""Test helpers: PMI (schools, volunteers, interventions, transports), shared by the test modules.

- `make_school`, `new_uai`: a school with a fresh, valid UAI; `make_volunteer`: an account and its profile.
- `data(school)`: valid intervention input; `log(user, school)` records it on `TODAY`.
- `organiser`, `make_transport`: an organiser of a GR and a transport of theirs on `SOON`; `transport_data`
  and `stop_data(school)` are valid transport and stop input.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

from core.auth.models import Role
from core.extensions import db
from core.geography.names import fold
from core.identifiers import UAI_LETTERS
from core.schools import School
from pmi import interventions as intervention_services
from pmi.interventions import paris_today
from pmi.models import Intervention
from pmi.transports import services as transport_services
from pmi.transports.models import Transport
from pmi.volunteers import save_profile
from tests.factories import make_user

# ---- schools and volunteers ---------------------------------------------------------------------------

_uai_seq = count(1)


def new_uai() -> str:
    digits = f"{9_100_000 + next(_uai_seq):07d}"
    return digits + UAI_LETTERS[int(digits) % 23]


def make_school(department: str = "75", region: str = "11", name: str | None = None, **kw) -> School:
    name = name or f"Collège Test {next(_uai_seq)}"
    city = kw.pop("city", "Paris")
    uai = kw.pop("uai", None) or new_uai()
    school = School(
        uai=uai, name=name, kind=kw.pop("kind", "college"), sector="public", city=city, department=department,
        region=region, lat=48.85, lon=2.35, name_key=fold(name),
        search_key=f"{fold(name)} {fold(city)} {uai.lower()}", **kw,
    )  # fmt: skip
    db.session.add(school)
    db.session.flush()
    return school


def make_volunteer(gr: str = "paris", role: Role = Role.VOLUNTEER, name: str = "Camille Intervenante"):
    user = make_user(role, name=name)
    return user, save_profile(user, name=name, promo="Ch. 180", regional_group=gr)


# ---- interventions ------------------------------------------------------------------------------------

TODAY = dt.date(2026, 3, 10)


def data(school: School | None = None, **overrides) -> dict:
    base = {
        "date": dt.date(2026, 2, 3),
        "kind": "class_talk",
        "school_uai": school.uai if school else None,
        "venue": None,
        "levels": ["4e", "3e"],
        "female": 12,
        "male": 14,
        "unspecified": 0,
        "volunteer_ids": [],
        "duration_minutes": 90,
        "notes": "",
    }
    base.update(overrides)
    return base


def log(user, school=None, **overrides) -> Intervention:  # noqa: ANN001
    return intervention_services.create_intervention(user, data(school, **overrides), today=TODAY)


# ---- transports ---------------------------------------------------------------------------------------

SOON = paris_today() + dt.timedelta(days=30)


def transport_data(**overrides) -> dict:
    data = {
        "campus": "paris",
        "date": SOON,
        "departure_time": dt.time(7, 30),
        "return_time": dt.time(18, 0),
        "operator": "Cars Dupont",
        "seats": 50,
        "cost": Decimal("850.00"),
        "notes": "",
    }
    data.update(overrides)
    return data


def stop_data(school, **overrides) -> dict:  # noqa: ANN001
    data = {"school_uai": school.uai, "pickup_time": dt.time(7, 45), "female": 10, "male": 12,
            "unspecified": 0, "teachers": 2}  # fmt: skip
    data.update(overrides)
    return data


def organiser(gr: str = "paris", name: str = "Olivia Organisatrice"):
    user, _ = make_volunteer(gr, Role.ORGANISER, name=name)
    return user


def make_transport(user=None, **overrides) -> Transport:  # noqa: ANN001
    return transport_services.create_transport(user or organiser(), transport_data(**overrides))
