"""Rules of campus transports: who manages which bus, the dates, and the seats.

Organisers manage the transports of their own GR (from their volunteer profile, as in pmi; staff assign
an organiser's GR); the Soce team manages all; nobody else sees these pages. The public transports map
(maps/transports.py) shows only schools, campus, date and pupil counts — never contacts, operator or cost.

Seats: a stop takes `pupils + teachers` seats through one conditional UPDATE of `transports.seats_taken`
(`WHERE seats_taken + :n <= seats`) with a row-count check — never read-then-write — so two organisers
adding stops at once cannot overfill the bus; the CHECK `seats_taken <= seats` is the safety net.
On SQLite a transaction that read and then writes fails at once when another writer committed in
between, so every change of stops *begins* by making its transaction the writer (`core.locking.lock`, like
`BEGIN IMMEDIATE`; a transaction that has only read so far, the authorisation's, is ended first). On
PostgreSQL the change begins with `SELECT … FOR UPDATE` of the transport: an edit of a stop computes its
difference in seats from the stop as committed, never from a copy read before another editor's commit
(the conditional UPDATE alone would not protect that read).

Every change of a transport or of its stops — add, edit, delete a stop, record the actual counts, edit
or delete the transport — takes that lock first (`locked_transport`), and reads the transport and its
stops only then, afresh. One lock order, the transport then its stops, so two changes never deadlock:
a deletion that removed the stops first and then waited for the transport, while an edit held the
transport and waited for a stop, did (PostgreSQL aborted one of them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import Select, distinct, false, func, select, true, update
from sqlalchemy.sql.elements import ColumnElement

from core import audit, locking
from core.auth.models import User
from core.auth.permissions import Permission, can
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import count_of, french_date
from core.geography import region_name
from core.geography.models import RegionalGroup
from core.models import HeadcountSums, headcount_sums
from core.schools import School
from core.validation import valid_uai
from pmi.interventions import paris_today
from pmi.transports.campuses import BY_CODE, campus_label
from pmi.transports.models import Transport, TransportStatus, TransportStop
from pmi.volunteers import profile_of

TRANSPORT_FIELDS = (
    "campus", "date", "departure_time", "return_time", "operator", "seats", "cost", "status", "notes",
)  # fmt: skip
STOP_FIELDS = ("female", "male", "unspecified", "teachers")
ACTUAL_FIELDS = ("actual_female", "actual_male", "actual_unspecified", "actual_teachers")


# ---------------------------------------------------------------------------------------------- access


def organiser_group(user: User) -> str | None:
    """The GR an organiser manages: the one of their volunteer profile (None for the Soce team)."""
    if can(user, Permission.ALL_REGIONS):
        return None
    profile = profile_of(user)
    return profile.regional_group_code if profile else None


def visible_clause(user: User | None) -> ColumnElement[bool]:
    if user is None:
        return false()
    if can(user, Permission.ALL_REGIONS):
        return true()
    if not can(user, Permission.ORGANISE_TRANSPORT):
        return false()
    gr = organiser_group(user)
    return Transport.regional_group_code == gr if gr else false()


def managed_transport(user: User, transport_id: int, *, fresh: bool = False) -> Transport:
    """404 for a transport of another GR (its existence stays private). `fresh`: read again even if the
    session holds a copy (one loaded before a lock was taken)."""
    stmt = select(Transport).where(Transport.id == transport_id, visible_clause(user))
    transport = db.session.scalar(stmt.execution_options(populate_existing=fresh))
    if transport is None:
        raise NotFound("Transport introuvable.")
    return transport


def locked_transport(user: User, transport_id: int) -> Transport:
    """The transport under its lock, read after the lock was taken: where every change starts (one change
    of a bus at a time, see module doc)."""
    locking.lock(Transport, transport_id)
    return managed_transport(user, transport_id, fresh=True)


# ---------------------------------------------------------------------------------------------- transports


def _group_for(user: User, requested: str | None, errors: dict) -> str | None:
    if can(user, Permission.ALL_REGIONS):
        if not requested:
            errors.setdefault("regional_group", []).append("Indiquez le groupe régional organisateur.")
        elif db.session.get(RegionalGroup, requested) is None:
            errors.setdefault("regional_group", []).append("Groupe régional inconnu.")
        return requested
    own = organiser_group(user)
    if own is None:
        raise Forbidden("Indiquez votre groupe régional dans votre profil pour organiser un transport.")
    if requested and requested != own:
        raise Forbidden("Vous n'organisez que les transports de votre groupe régional.")
    return own


def _check_transport(data: dict, errors: dict, *, today: dt.date | None, new: bool) -> None:
    if data.get("campus") not in BY_CODE:
        errors.setdefault("campus", []).append("Campus inconnu.")
    if new and today is not None and data["date"] < today:
        errors.setdefault("date", []).append("La date du transport ne peut pas être passée.")
    if data["return_time"] <= data["departure_time"]:
        errors.setdefault("return_time", []).append("Le retour doit être après le départ.")
    if data["seats"] <= 0:
        errors.setdefault("seats", []).append("Le nombre de places doit être positif.")
    if data.get("cost") is not None and data["cost"] < 0:
        errors.setdefault("cost", []).append("Le coût ne peut pas être négatif.")


def create_transport(user: User, data: dict, today: dt.date | None = None) -> Transport:
    """A new transport of the organiser's GR (an admin names the GR in `regional_group`)."""
    errors: dict[str, list[str]] = {}
    gr = _group_for(user, data.get("regional_group"), errors)
    _check_transport(data, errors, today=today or paris_today(), new=True)
    if errors:
        raise ValidationFailed(fields=errors)
    transport = Transport(regional_group_code=gr, created_by_id=user.id, seats_taken=0)
    for name in TRANSPORT_FIELDS:
        if name in data:
            setattr(transport, name, data[name])
    transport.operator = transport.operator or ""
    transport.notes = transport.notes or ""
    transport.status = transport.status or TransportStatus.PLANNED.value
    db.session.add(transport)
    db.session.flush()
    return transport


def update_transport(user: User, transport: Transport, changes: dict) -> Transport:
    """Change any field; fewer seats than already taken is refused (by a conditional UPDATE). The
    transport comes from `locked_transport`."""
    errors: dict[str, list[str]] = {}
    if "regional_group" in changes:
        every_group = can(user, Permission.ALL_REGIONS)
        if not every_group and changes["regional_group"] != transport.regional_group_code:
            raise Forbidden("Seule l'équipe Soce peut changer le groupe régional organisateur.")
        if every_group:
            transport.regional_group_code = _group_for(user, changes["regional_group"], errors)
    data = {name: getattr(transport, name) for name in TRANSPORT_FIELDS} | changes
    # A new date must not be past; keeping the date of a past trip (to mark it done) is fine.
    date_changed = "date" in changes and changes["date"] != transport.date
    _check_transport(data, errors, today=paris_today() if date_changed else None, new=date_changed)
    if errors:
        raise ValidationFailed(fields=errors)
    if "seats" in changes and changes["seats"] != transport.seats:
        result = db.session.execute(
            update(Transport)
            .where(Transport.id == transport.id, Transport.seats_taken <= changes["seats"])
            .values(seats=changes["seats"])
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.refresh(transport, attribute_names=["seats_taken"])
            raise ValidationFailed.on(
                "seats", f"Déjà {transport.seats_taken} places occupées : le car ne peut pas en avoir moins."
            )
        db.session.refresh(transport, attribute_names=["seats", "seats_taken"])
    for name in TRANSPORT_FIELDS:
        if name in changes and name != "seats":
            setattr(transport, name, changes[name] if changes[name] is not None or name == "cost" else "")
    db.session.flush()
    return transport


def delete_transport(user: User, transport_id: int) -> None:
    """The transport and its stops; the transport's lock first, like every change of its stops."""
    db.session.delete(locked_transport(user, transport_id))
    db.session.flush()


# ---------------------------------------------------------------------------------------------- stops


def _school(uai: str | None) -> School:
    try:
        code = valid_uai(uai)
    except ValidationError as exc:
        raise ValidationFailed(fields={"school_uai": exc.messages}) from exc
    school = db.session.scalar(select(School).where(School.uai == code))
    if school is None:
        raise ValidationFailed.on("school_uai", f"Établissement inconnu dans l'annuaire (UAI {code}).")
    return school


def _take(transport: Transport, delta: int, field: str = "pupils") -> None:
    """Take (or give back, when negative) seats in one conditional UPDATE; refuse what would overfill."""
    if delta == 0:
        return
    result = db.session.execute(
        update(Transport)
        .where(Transport.id == transport.id, Transport.seats_taken + delta <= Transport.seats)
        .where(Transport.seats_taken + delta >= 0)
        .values(seats_taken=Transport.seats_taken + delta)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(transport, attribute_names=["seats", "seats_taken"])
    if result.rowcount != 1:
        left = transport.seats - transport.seats_taken
        raise Conflict(
            f"Le car serait trop plein : il reste {count_of(left, 'place', 'places')} sur {transport.seats}.",
            code="bus_full",
            fields={
                field: [
                    f"Il reste {count_of(left, 'place', 'places')} dans le car (élèves et enseignants compris)."
                ]
            },
        )


def _check_counts(data: dict) -> None:
    if sum(data.get(name, 0) for name in ("female", "male", "unspecified")) <= 0:
        raise ValidationFailed.on("pupils", "Indiquez au moins un élève (filles, garçons ou non précisé).")


def _check_stop(transport: Transport, school: School, pickup: dt.time, stop_id: int | None = None) -> None:
    """A pickup within the trip (from the departure to the return) and a school once per bus; read under
    the transport's lock, so two stops added at once cannot both take the same school."""
    errors: dict[str, list[str]] = {}
    if pickup < transport.departure_time:
        errors["pickup_time"] = [
            f"Le ramassage ({pickup:%H:%M}) ne peut pas précéder le départ du car ({transport.departure_time:%H:%M})."
        ]
    elif pickup >= transport.return_time:
        errors["pickup_time"] = [
            f"Le ramassage ({pickup:%H:%M}) doit avoir lieu avant le retour du car ({transport.return_time:%H:%M})."
        ]
    twin = db.session.scalar(
        select(TransportStop.position).where(
            TransportStop.transport_id == transport.id,
            TransportStop.school_id == school.id,
            TransportStop.id != (stop_id or 0),
        )
    )
    if twin is not None:
        errors["school_uai"] = [
            f"Cet établissement a déjà l'arrêt n° {twin} de ce car : changez plutôt ses effectifs."
        ]
    if errors:
        raise ValidationFailed(fields=errors)


def add_stop(user: User, transport_id: int, data: dict) -> TransportStop:
    """Append a pickup stop; the seats are taken atomically. Starts with the transport's lock."""
    transport = locked_transport(user, transport_id)
    school = _school(data.get("school_uai"))
    _check_stop(transport, school, data["pickup_time"])
    _check_counts(data)
    _take(transport, sum(data.get(name, 0) for name in STOP_FIELDS))
    position = db.session.scalar(
        select(func.coalesce(func.max(TransportStop.position), 0)).where(
            TransportStop.transport_id == transport.id
        )
    )
    stop = TransportStop(
        transport_id=transport.id,
        position=position + 1,
        school_id=school.id,
        pickup_time=data["pickup_time"],
        contact_name=data.get("contact_name") or "",
        contact_phone=data.get("contact_phone") or None,
        **{name: data.get(name, 0) for name in STOP_FIELDS},
    )
    db.session.add(stop)
    db.session.flush()
    db.session.refresh(transport, attribute_names=["stops"])
    return stop


def _stop_of(transport: Transport, stop_id: int) -> TransportStop:
    """The stop as committed (read under the transport's lock): its seats are what the difference is
    computed from."""
    stop = db.session.scalar(
        select(TransportStop)
        .where(TransportStop.id == stop_id, TransportStop.transport_id == transport.id)
        .execution_options(populate_existing=True)
    )
    if stop is None:
        raise NotFound("Arrêt introuvable.")
    return stop


def _check_happened(transport: Transport, today: dt.date | None = None) -> None:
    """Actual counts are for a trip that happened: refused before its day."""
    if transport.date > (today or paris_today()):
        raise ValidationFailed.on(
            "actual_female",
            "Le transport n'a pas encore eu lieu : les effectifs réels se saisissent à partir du "
            f"{french_date(transport.date)}.",
        )


def update_stop(
    user: User, transport_id: int, stop_id: int, changes: dict, today: dt.date | None = None
) -> TransportStop:
    """Change a stop (school, time, planned or actual counts); the difference in seats is taken or given
    back atomically. Actual counts mark the transport done (from its day on only)."""
    transport = locked_transport(user, transport_id)
    actuals = any(changes.get(name) is not None for name in ACTUAL_FIELDS)
    if actuals:
        _check_happened(transport, today)
    stop = _stop_of(transport, stop_id)
    if "school_uai" in changes or "pickup_time" in changes:
        school = _school(changes["school_uai"]) if "school_uai" in changes else stop.school
        _check_stop(transport, school, changes.get("pickup_time") or stop.pickup_time, stop.id)
        stop.school_id = school.id
    planned = {name: changes.get(name, getattr(stop, name)) for name in STOP_FIELDS}
    _check_counts(planned)
    _take(transport, sum(planned.values()) - stop.seats_used)
    for name, value in planned.items():
        setattr(stop, name, value)
    for name in ("pickup_time", "contact_name", "contact_phone", "position", *ACTUAL_FIELDS):
        if name in changes:
            setattr(stop, name, changes[name])
    if any(name in changes for name in ACTUAL_FIELDS):
        # Actual counts go together: a missing one is zero, not "unknown".
        for name in ACTUAL_FIELDS:
            if getattr(stop, name) is None:
                setattr(stop, name, 0)
    if actuals and transport.status != TransportStatus.CANCELLED:
        transport.status = TransportStatus.DONE.value
    db.session.flush()
    if actuals:
        _check_actuals_fit(transport, user, changes.get("over_capacity_reason"))
    return stop


def delete_stop(user: User, transport_id: int, stop_id: int) -> None:
    transport = locked_transport(user, transport_id)
    stop = _stop_of(transport, stop_id)
    _take(transport, -stop.seats_used)
    db.session.delete(stop)
    db.session.flush()
    for position, other in enumerate(
        db.session.scalars(
            select(TransportStop)
            .where(TransportStop.transport_id == transport.id)
            .order_by(TransportStop.position)
        ),
        start=1,
    ):
        other.position = position
    db.session.flush()
    db.session.expire(transport, ["stops"])


def _check_actuals_fit(transport: Transport, user: User, over_capacity_reason: str | None) -> None:
    """More people on board than seats is a typo, or a fact to explain: refused unless a reason is given,
    which the audit log keeps with who gave it."""
    on_board = db.session.scalar(
        select(func.coalesce(func.sum(
            func.coalesce(TransportStop.actual_female, 0) + func.coalesce(TransportStop.actual_male, 0)
            + func.coalesce(TransportStop.actual_unspecified, 0) + func.coalesce(TransportStop.actual_teachers, 0)
        ), 0)).where(TransportStop.transport_id == transport.id)
    )  # fmt: skip
    if on_board <= transport.seats:
        return
    reason = (over_capacity_reason or "").strip()
    if not reason:
        message = (
            f"{on_board} personnes relevées pour {transport.seats} places : vérifiez les effectifs, ou "
            "indiquez le motif du dépassement."
        )
        raise ValidationFailed(fields={"actual_female": [message], "over_capacity_reason": [message]})
    audit.record(
        "transport.over_capacity",
        transport,
        actor=user,
        changes={"on_board": [None, int(on_board)], "seats": [None, transport.seats]},
        summary=f"{on_board} personnes pour {transport.seats} places : {reason}",
    )


def record_actuals(
    user: User,
    transport_id: int,
    counts: dict[int, dict],
    today: dt.date | None = None,
    over_capacity_reason: str | None = None,
) -> Transport:
    """After the trip: the actual counts of each stop ({stop_id: {actual_female, …}}); the planned counts
    stay as they were. The transport is marked done."""
    transport = locked_transport(user, transport_id)
    _check_happened(transport, today)
    db.session.expire(transport, ["stops"])  # the stops as committed, read under the lock
    stops = {stop.id: stop for stop in transport.stops}
    for stop_id, values in counts.items():
        stop = stops.get(stop_id)
        if stop is None:
            raise NotFound("Arrêt introuvable.")
        for name in ACTUAL_FIELDS:
            setattr(stop, name, int(values.get(name) or 0))
    if transport.status != TransportStatus.CANCELLED:
        transport.status = TransportStatus.DONE.value
    db.session.flush()
    _check_actuals_fit(transport, user, over_capacity_reason)
    return transport


# ---------------------------------------------------------------------------------------------- lists


def list_transports(user: User, *, year: int | None = None, gr: str | None = None,
                    campus: str | None = None, status: str | None = None) -> list[Transport]:  # fmt: skip
    where = [visible_clause(user), *_filters(year, gr, campus, status)]
    return list(
        db.session.scalars(
            select(Transport).where(*where).order_by(Transport.date.desc(), Transport.id.desc())
        )
    )


def _filters(year, gr, campus, status=None) -> list:  # noqa: ANN001
    clauses = []
    if year:
        clauses += [Transport.date >= dt.date(year, 1, 1), Transport.date < dt.date(year + 1, 1, 1)]
    if gr:
        clauses.append(Transport.regional_group_code == gr)
    if campus:
        clauses.append(Transport.campus == campus)
    if status:
        clauses.append(Transport.status == status)
    return clauses


# ---------------------------------------------------------------------------------------------- numbers


def _counted(planned, actual):  # noqa: ANN001, ANN202
    """The actual count once recorded, else the planned one."""
    return func.coalesce(actual, planned)


def _stop_sums():  # noqa: ANN202
    return [
        *headcount_sums(TransportStop.counted()),
        func.coalesce(func.sum(_counted(TransportStop.teachers, TransportStop.actual_teachers)), 0).label(
            "teachers"
        ),
        func.count(distinct(TransportStop.school_id)).label("schools"),
    ]


def _row(key, label, transports, counts: HeadcountSums, teachers, schools, seats=None, cost=None) -> dict:  # noqa: ANN001, E501
    pupils = counts.total
    cost = Decimal(cost) if cost is not None else None
    return {
        "key": key,
        "label": label,
        "transports": int(transports),
        "female": counts.female,
        "male": counts.male,
        "unspecified": counts.unspecified,
        "pupils": pupils,
        "teachers": int(teachers),
        "schools": int(schools),
        "seats": int(seats) if seats is not None else None,
        "fill_rate": round((pupils + int(teachers)) / int(seats), 4) if seats else None,
        "cost": float(cost) if cost is not None else None,
        "cost_per_pupil": round(float(cost) / pupils, 2) if cost is not None and pupils else None,
    }


GROUPINGS = ("gr", "campus", "region")


def stats(user: User, by: str | None = None, *, year: int | None = None, gr: str | None = None,
          campus: str | None = None) -> dict:  # fmt: skip
    """Numbers over the visible transports that are not cancelled, computed by GROUP BY in the database:
    transports, pupils by gender (actual counts when recorded, planned otherwise), teachers, schools,
    seats and fill rate, cost and cost per pupil; per GR, per campus or per region of the schools."""
    where = [visible_clause(user), Transport.status != TransportStatus.CANCELLED.value,
             *_filters(year, gr, campus)]  # fmt: skip
    t = db.session.execute(_transport_sums(where)).one()
    # Distinct schools over all transports (a school on two buses counts once in the total).
    schools = db.session.scalar(
        select(func.count(distinct(TransportStop.school_id))).join(Transport).where(*where)
    )
    total = _row(None, "Total", t.transports, HeadcountSums.of(t), t.teachers, schools or 0, t.seats, t.cost)
    if by == "gr":
        names = dict(db.session.execute(select(RegionalGroup.code, RegionalGroup.name)).all())
        rows = _group_rows(where, Transport.regional_group_code, lambda code: names.get(code, code))
    elif by == "campus":
        rows = _group_rows(where, Transport.campus, campus_label)
    elif by == "region":
        rows = _region_rows(where)
    else:
        rows = []
    rows.sort(key=lambda row: row["label"])
    return {"by": by, "year": year, "rows": rows, "total": total}


def _transport_sums(where: list, group: ColumnElement | None = None) -> Select:
    """The numbers of the transports, in one row or one per value of `group`: each transport's stops are
    summed first, so that its seats and cost count once."""
    per_transport = (
        select(TransportStop.transport_id, *_stop_sums()).group_by(TransportStop.transport_id).subquery()
    )
    columns = [
        func.count(Transport.id).label("transports"),
        *headcount_sums(per_transport.c),
        func.coalesce(func.sum(per_transport.c.teachers), 0).label("teachers"),
        func.coalesce(func.sum(per_transport.c.schools), 0).label("schools"),
        func.coalesce(func.sum(Transport.seats), 0).label("seats"),
        func.sum(Transport.cost).label("cost"),
    ]
    stmt = select(*([group] if group is not None else []), *columns).select_from(Transport).outerjoin(
        per_transport, per_transport.c.transport_id == Transport.id
    ).where(*where)  # fmt: skip
    return stmt.group_by(group) if group is not None else stmt


def _group_rows(where: list, group: ColumnElement, label: Callable[[str], str]) -> list[dict]:
    """One row per GR or per campus. A school on two buses of the same group counts once there, as in
    the total."""
    schools_stmt = (
        select(group, func.count(distinct(TransportStop.school_id)))
        .select_from(TransportStop)
        .join(Transport, Transport.id == TransportStop.transport_id)
        .where(*where)
        .group_by(group)
    )
    schools_of = dict(db.session.execute(schools_stmt).all())
    return [
        _row(
            r[0],
            label(r[0]),
            r.transports,
            HeadcountSums.of(r),
            r.teachers,
            schools_of.get(r[0], 0),
            r.seats,
            r.cost,
        )
        for r in db.session.execute(_transport_sums(where, group))
    ]


def _region_rows(where: list) -> list[dict]:
    """Per region of the schools: a bus that picks up in two regions counts in both; seats and cost
    belong to the bus, not to a region, so they are left out."""
    stmt = (
        select(
            School.region,
            func.count(distinct(Transport.id)).label("transports"),
            *_stop_sums(),
        )
        .select_from(TransportStop)
        .join(Transport, Transport.id == TransportStop.transport_id)
        .join(School, School.id == TransportStop.school_id)
        .where(*where)
        .group_by(School.region)
    )
    return [
        _row(
            r[0],
            region_name(r[0]) if r[0] else "Région inconnue",
            r.transports,
            HeadcountSums.of(r),
            r.teachers,
            r.schools,
        )
        for r in db.session.execute(stmt)
    ]
