"""Interventions: the rules (place, plausible counts, dates, who took part), who sees and edits what,
the numbers per volunteer and per GR, and the CSV import of a volunteer's spreadsheet.

Pupils are counted once per intervention, however many volunteers took part: sums are taken over
`interventions`, and the volunteers join only for what is per volunteer or for distinct counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlalchemy import distinct, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from core import audit, locking
from core.auth.models import User
from core.auth.permissions import Permission, can, object_rule
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import count_of, french_date, paris_today
from core.geography import apply_location, locate, region_of_department, regional_group_for
from core.geography.models import RegionalGroup
from core.geography.names import fold
from core.models import HeadcountSums, headcount_sums
from core.schools import School
from core.validation import valid_uai
from pmi.models import (
    INTERVENTION_KIND_LABELS,
    LEVEL_LABELS,
    Intervention,
    InterventionKind,
    Volunteer,
    intervention_volunteers,
    max_pupils,
    pack_levels,
)
from pmi.volunteers import profile_of

DEFAULT_KIND = InterventionKind.CLASS_TALK
DEFAULT_DURATION = 60
NO_GROUP_LABEL = "Sans groupe régional"


# ---------------------------------------------------------------------------------------------- access


def _has_volunteer(condition: Callable[[type[Volunteer]], ColumnElement[bool]]) -> ColumnElement[bool]:
    """EXISTS a linked volunteer for which condition(volunteer) holds. Aliased inside, so the clause
    correlates with `interventions` only, even in a query that joins the volunteers itself."""
    link = intervention_volunteers.alias()
    volunteer = aliased(Volunteer)
    return (
        exists()
        .where(
            link.c.intervention_id == Intervention.id,
            link.c.volunteer_id == volunteer.id,
            condition(volunteer),
        )  # fmt: skip
        .correlate(Intervention)
    )


def _is_linked(user: User) -> ColumnElement[bool]:
    return _has_volunteer(lambda v: v.user_id == user.id)


def visible_clause(user: User | None) -> ColumnElement[bool]:
    """Admins see every intervention; a volunteer those they took part in or logged; an organiser also
    those of their GR (held there, or with one of its volunteers)."""
    if user is None:
        return false()
    if can(user, Permission.ALL_REGIONS):
        return true()
    clauses = [Intervention.created_by_id == user.id, _is_linked(user)]
    if can(user, Permission.LEAD_GROUP):
        profile = profile_of(user)
        if profile is not None and profile.regional_group_code:
            gr = profile.regional_group_code
            clauses.append(Intervention.regional_group == gr)
            clauses.append(_has_volunteer(lambda v: v.regional_group_code == gr))
    return or_(*clauses)


@object_rule(Intervention)
def _intervention_rule(user: User, permission: Permission, intervention: Intervention) -> bool:
    """An intervention is changed by whoever logged it or took part in it, and by staff of all regions
    (an organiser reads their GR's, through `visible_clause`, but does not change them)."""
    if can(user, Permission.ALL_REGIONS) or intervention.created_by_id == user.id:
        return True
    return any(v.user_id == user.id for v in intervention.volunteers)


def load_intervention(user: User | None, intervention_id: int, *, edit: bool = False) -> Intervention:
    """Loaded and authorised: 404 for an intervention the user may not see (its existence stays
    private), and with `edit`, 403 for one they see but may not change (an organiser reading their GR's)."""
    intervention = db.session.scalar(
        select(Intervention).where(Intervention.id == intervention_id, visible_clause(user))
    )
    if intervention is None:
        raise NotFound("Intervention introuvable.")
    if edit and not can(user, Permission.LOG_INTERVENTION, intervention):
        raise Forbidden("Seuls les intervenants de cette intervention peuvent la modifier.")
    return intervention


# ---------------------------------------------------------------------------------------------- rules


# Before this, a date is a typo (1990 for 2019), not a record of the programme.
EARLIEST_DATE = dt.date(2000, 1, 1)


@dataclass
class Prepared:
    """An intervention's input once checked: ready to be written."""

    data: dict
    school: School | None
    volunteers: list[Volunteer]


def prepare_intervention(user: User, data: dict, today: dt.date | None = None) -> Prepared:
    """Check what needs the database or the date; every problem at once, by field."""
    today = today or paris_today()
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if data["date"] > today:
        refuse("date", "La date ne peut pas être dans le futur.")
    elif data["date"] < EARLIEST_DATE:
        refuse(
            "date", f"Date trop ancienne : les interventions enregistrées commencent en {EARLIEST_DATE.year}."
        )
    total = data.get("female", 0) + data.get("male", 0) + data.get("unspecified", 0)
    limit = max_pupils(data["kind"])
    if total <= 0:
        refuse("pupils", "Indiquez au moins un élève (filles, garçons ou non précisé).")
    elif total > limit:
        label = INTERVENTION_KIND_LABELS[InterventionKind(data["kind"])].lower()
        refuse("pupils", f"{total} élèves, c'est trop pour « {label} » : au plus {limit}.")

    school = None
    if data.get("school_uai"):
        try:
            uai = valid_uai(data["school_uai"])
        except ValidationError as exc:
            refuse("school_uai", exc.messages[0])
        else:
            school = db.session.scalar(select(School).where(School.uai == uai))
            if school is None:
                refuse("school_uai", f"Établissement inconnu dans l'annuaire (UAI {uai}).")
    elif not data.get("venue"):
        refuse("school_uai", "Indiquez l'établissement (UAI) ou le lieu de l'intervention.")

    volunteers = _volunteers(user, data.get("volunteer_ids") or [], refuse)
    if errors:
        raise ValidationFailed(fields=errors)
    return Prepared(data, school, volunteers)


def _volunteers(user: User, ids: list[int], refuse) -> list[Volunteer]:  # noqa: ANN001
    """The listed volunteers, and the caller's own profile unless an admin logs for others."""
    wanted = list(dict.fromkeys(ids))
    found = {v.id: v for v in db.session.scalars(select(Volunteer).where(Volunteer.id.in_(wanted)))}
    unknown = [str(i) for i in wanted if i not in found]
    if unknown:
        refuse("volunteer_ids", f"Intervenant inconnu : {', '.join(unknown)}.")
    volunteers = [found[i] for i in wanted if i in found]
    own = profile_of(user)
    if own is not None and not can(user, Permission.ALL_REGIONS) and own not in volunteers:
        volunteers.insert(0, own)
    if not volunteers and not unknown:
        refuse("volunteer_ids", "Au moins un intervenant : complétez votre profil d'intervenant.")
    return volunteers


def _write(intervention: Intervention, prepared: Prepared) -> None:
    data = prepared.data
    intervention.date = data["date"]
    intervention.kind = data["kind"]
    intervention.levels = pack_levels(data.get("levels") or [])
    intervention.female = data.get("female", 0)
    intervention.male = data.get("male", 0)
    intervention.unspecified = data.get("unspecified", 0)
    intervention.duration_minutes = data["duration_minutes"]
    intervention.notes = data.get("notes") or ""
    intervention.volunteers = prepared.volunteers
    school, venue = prepared.school, data.get("venue")
    if school is not None:
        intervention.school = school
        intervention.venue_name = intervention.venue_street = None
        intervention.venue_postcode = intervention.venue_city = None
        intervention.commune_insee = school.commune_insee
        intervention.department = school.department
        intervention.region = school.region or region_of_department(school.department)
        intervention.regional_group = regional_group_for(school.department)
        intervention.lat, intervention.lon = school.lat, school.lon
    else:
        changed = (venue["street"], venue["postcode"], venue["city"]) != (
            intervention.venue_street, intervention.venue_postcode, intervention.venue_city
        )  # fmt: skip
        intervention.school = None
        intervention.venue_name = venue["name"]
        intervention.venue_street = venue.get("street") or ""
        intervention.venue_postcode = venue["postcode"]
        intervention.venue_city = venue["city"]
        if changed or intervention.department is None:
            apply_location(intervention, locate(venue.get("street") or "", venue["postcode"], venue["city"]))


class DuplicateIntervention(Conflict):
    """The same intervention is logged already: its id goes with the refusal."""

    code = "duplicate"

    def __init__(self, existing: Intervention):
        when = french_date(existing.date, with_weekday=False)
        super().__init__(
            f"Cette intervention est déjà enregistrée (n° {existing.id}, le {when}) : même date, même lieu, "
            "mêmes intervenants et mêmes effectifs. S'il s'agit d'une autre séance, confirmez-le.",
            fields={"second_session": ["Déjà enregistrée : cochez « autre séance » si c'en est une."]},
        )
        self.existing_id = existing.id

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["error"]["existing_id"] = self.existing_id
        return body


def same_record_key(prepared: Prepared) -> tuple:
    """What makes two interventions the same record: date, place, volunteers and counts."""
    data = prepared.data
    venue = data.get("venue") or {}
    place = ("school", prepared.school.id) if prepared.school is not None else (
        "venue", (venue.get("name") or "").strip().casefold(), venue.get("postcode") or "")  # fmt: skip
    counts = (data.get("female", 0), data.get("male", 0), data.get("unspecified", 0))
    return (data["date"], place, tuple(sorted(v.id for v in prepared.volunteers)), counts)


def duplicate_of(prepared: Prepared) -> Intervention | None:
    """An intervention already logged with the same key, read under a lock on (date, place): two identical
    requests at once cannot both pass (the second waits, then finds the first)."""
    key = same_record_key(prepared)
    locking.lock_key("intervention", repr(key[:2]))
    data = prepared.data
    query = select(Intervention).where(
        Intervention.date == data["date"],
        Intervention.female == key[3][0],
        Intervention.male == key[3][1],
        Intervention.unspecified == key[3][2],
    )
    if prepared.school is not None:
        query = query.where(Intervention.school_id == prepared.school.id)
    else:
        query = query.where(Intervention.school_id.is_(None), Intervention.venue_postcode == key[1][2])
    for candidate in db.session.scalars(query.order_by(Intervention.id)):
        if prepared.school is None and (candidate.venue_name or "").strip().casefold() != key[1][1]:
            continue
        if tuple(sorted(v.id for v in candidate.volunteers)) == key[2]:
            return candidate
    return None


def create_intervention(
    user: User, data: dict, today: dt.date | None = None, *, second_session: bool = False
) -> Intervention:
    """Log an intervention (data as InterventionInputSchema loads it). One identical to an intervention
    already logged (same_record_key) is refused (DuplicateIntervention) unless `second_session` says it
    is another session on the same day."""
    second_session = bool(data.pop("second_session", False)) or second_session
    prepared = prepare_intervention(user, data, today)
    if not second_session:
        existing = duplicate_of(prepared)
        if existing is not None:
            raise DuplicateIntervention(existing)
    intervention = Intervention(created_by_id=user.id)
    _write(intervention, prepared)
    db.session.add(intervention)
    db.session.flush()
    _record("intervention.create", user, intervention, {})
    return intervention


def _audited_values(intervention: Intervention) -> dict:
    return {name: audit.plain(value) for name, value in intervention_values(intervention).items()}


def _record(action: str, user: User | None, intervention: Intervention, before: dict) -> None:
    # Notes are free text (a teacher's name may be in them): the log says they changed, not what they say.
    after = _audited_values(intervention) if action != "intervention.delete" else {}
    changes = audit.diff(before, after, personal=("notes",))
    if changes:
        audit.record(action, intervention, actor=user, changes=changes)


def intervention_values(intervention: Intervention) -> dict:
    """An intervention as the input it was made from."""
    return {
        "date": intervention.date,
        "kind": intervention.kind,
        "school_uai": intervention.school_uai,
        "venue": None
        if intervention.venue_name is None
        else {
            "name": intervention.venue_name,
            "street": intervention.venue_street or "",
            "postcode": intervention.venue_postcode,
            "city": intervention.venue_city,
        },
        "levels": intervention.level_list,
        "female": intervention.female,
        "male": intervention.male,
        "unspecified": intervention.unspecified,
        "volunteer_ids": [v.id for v in intervention.volunteers],
        "duration_minutes": intervention.duration_minutes,
        "notes": intervention.notes,
    }


def update_intervention(
    user: User, intervention: Intervention, changes: dict, today: dt.date | None = None
) -> Intervention:
    """Apply changes (any subset of the input); a new `school_uai` or `venue` replaces the place. The row
    is locked and read again first, so two edits of different fields both survive and two editors adding
    the same co-volunteer do not collide."""
    _lock(intervention)
    before = _audited_values(intervention)
    data = {**intervention_values(intervention), **changes}
    if changes.get("venue"):
        data["school_uai"] = None
    elif changes.get("school_uai"):
        data["venue"] = None
    _write(intervention, prepare_intervention(user, data, today))
    db.session.flush()
    _record("intervention.update", user, intervention, before)
    return intervention


def _lock(intervention: Intervention) -> None:
    if locking.lock(Intervention, intervention.id) is None:
        raise NotFound("Intervention introuvable.")
    db.session.expire(intervention)  # its co-volunteers too, as committed


def delete_intervention(intervention: Intervention, actor: User | None = None) -> None:
    _lock(intervention)
    _record("intervention.delete", actor, intervention, _audited_values(intervention))
    db.session.delete(intervention)
    db.session.flush()


def last_values(volunteer: Volunteer | None) -> dict:
    """Kind, levels and duration of the volunteer's latest intervention: the next one's defaults."""
    last = None
    if volunteer is not None:
        last = db.session.scalar(
            select(Intervention)
            .join(intervention_volunteers, intervention_volunteers.c.intervention_id == Intervention.id)
            .where(intervention_volunteers.c.volunteer_id == volunteer.id)
            .order_by(Intervention.date.desc(), Intervention.id.desc())
            .limit(1)
        )
    if last is None:
        return {"kind": DEFAULT_KIND.value, "levels": [], "duration_minutes": DEFAULT_DURATION}
    return {"kind": last.kind, "levels": last.level_list, "duration_minutes": last.duration_minutes}


# ---------------------------------------------------------------------------------------------- lists


def _filters(year: int | None = None, volunteer: int | None = None, gr: str | None = None,
             region: str | None = None) -> list[ColumnElement[bool]]:  # fmt: skip
    clauses: list[ColumnElement[bool]] = []
    if year:
        clauses += [Intervention.date >= dt.date(year, 1, 1), Intervention.date < dt.date(year + 1, 1, 1)]
    if volunteer:
        link = intervention_volunteers.alias()
        clauses.append(
            exists()
            .where(link.c.intervention_id == Intervention.id, link.c.volunteer_id == volunteer)
            .correlate(Intervention)
        )
    if gr:
        clauses.append(Intervention.regional_group == gr)
    if region:
        clauses.append(Intervention.region == region)
    return clauses


def list_interventions(
    user: User, *, mine: bool = False, limit: int | None = None, **filters
) -> list[Intervention]:
    """Interventions the user may see, latest first; `mine` keeps those they took part in or logged."""
    where = [visible_clause(user), *_filters(**filters)]
    if mine:
        where.append(or_(Intervention.created_by_id == user.id, _is_linked(user)))
    stmt = select(Intervention).where(*where).order_by(Intervention.date.desc(), Intervention.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------------------------------------- numbers


def _sums() -> list:
    return [
        func.count(distinct(Intervention.id)).label("interventions"),
        *headcount_sums(Intervention),
        func.count(distinct(Intervention.school_id)).label("schools"),
    ]


def _row(key: str | None, label: str, sums, volunteers: int) -> dict:  # noqa: ANN001 - a Row
    pupils = HeadcountSums.of(sums)
    return {
        "key": key,
        "label": label,
        "interventions": int(sums.interventions),
        "female": pupils.female,
        "male": pupils.male,
        "unspecified": pupils.unspecified,
        "total": pupils.total,
        "female_share": pupils.girls_share,
        "schools": int(sums.schools),
        "volunteers": volunteers,
    }


def _distinct_volunteers(where: list, group=None) -> dict:  # noqa: ANN001
    columns = [func.count(distinct(intervention_volunteers.c.volunteer_id))]
    stmt = select(*([group] if group is not None else []), *columns).select_from(Intervention).join(
        intervention_volunteers, intervention_volunteers.c.intervention_id == Intervention.id
    ).where(*where)  # fmt: skip
    if group is None:
        return {None: db.session.scalar(stmt) or 0}
    return dict(db.session.execute(stmt.group_by(group)).all())


def stats(user: User, by: str | None = None, *, mine: bool = False, **filters) -> dict:
    """Numbers over what the user may see: {"rows": [...] per volunteer or GR, "total": {...}}.

    Per volunteer, each volunteer is credited with every intervention they took part in; per GR and
    in the total, an intervention counts once and volunteers are counted distinctly."""
    where = [visible_clause(user), *_filters(**filters)]
    if mine:
        where.append(or_(Intervention.created_by_id == user.id, _is_linked(user)))
    total_sums = db.session.execute(select(*_sums()).where(*where)).one()
    total = _row(None, "Total", total_sums, _distinct_volunteers(where)[None])
    rows: list[dict] = []
    if by == "volunteer":
        stmt = (
            select(Volunteer.id, User.name, *_sums())
            .select_from(Intervention)
            .join(intervention_volunteers, intervention_volunteers.c.intervention_id == Intervention.id)
            .join(Volunteer, Volunteer.id == intervention_volunteers.c.volunteer_id)
            .join(User, User.id == Volunteer.user_id)
            .where(*where)
            .group_by(Volunteer.id, User.name)
            .order_by(User.name, Volunteer.id)
        )
        rows = [_row(str(r.id), r.name, r, 1) for r in db.session.execute(stmt)]
    elif by == "gr":
        names = dict(db.session.execute(select(RegionalGroup.code, RegionalGroup.name)).all())
        volunteers = _distinct_volunteers(where, Intervention.regional_group)
        stmt = (
            select(Intervention.regional_group, *_sums()).where(*where).group_by(Intervention.regional_group)
        )
        rows = [
            _row(
                r.regional_group,
                names.get(r.regional_group, NO_GROUP_LABEL),
                r,
                volunteers.get(r.regional_group, 0),
            )  # fmt: skip
            for r in db.session.execute(stmt)
        ]
        rows.sort(key=lambda row: (row["key"] is None, row["label"]))
    return {"by": by, "year": filters.get("year"), "rows": rows, "total": total}


# ---------------------------------------------------------------------------------------------- CSV


CSV_COLUMNS = ("date", "type", "uai", "niveaux", "filles", "garcons", "non_precise", "duree_minutes", "notes")
REQUIRED_CSV_COLUMNS = ("date", "type", "uai", "filles", "garcons", "non_precise", "duree_minutes")
# Input field → CSV column, to report an error where the volunteer typed the value.
FIELD_COLUMNS = {
    "date": "date", "kind": "type", "school_uai": "uai", "venue": "uai", "levels": "niveaux",
    "female": "filles", "male": "garcons", "unspecified": "non_precise", "pupils": "filles/garcons/non_precise",
    "duration_minutes": "duree_minutes", "notes": "notes", "volunteer_ids": "intervenants",
}  # fmt: skip
LEVEL_ALIASES = {
    "6e": "6e", "6eme": "6e", "5e": "5e", "5eme": "5e", "4e": "4e", "4eme": "4e", "3e": "3e", "3eme": "3e",
    "2nde": "2nde", "2de": "2nde", "seconde": "2nde", "1re": "1re", "1ere": "1re", "premiere": "1re",
    "tle": "tle", "terminale": "tle", "term": "tle", "post_bac": "post_bac", "postbac": "post_bac",
    "post-bac": "post_bac", "superieur": "post_bac", "sup": "post_bac",
}  # fmt: skip
MAX_CSV_ROWS = 2000


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line}, {self.column} : {self.message}"


class CsvRejected(ValidationFailed):
    """The file, or some of its rows, cannot be imported: nothing is."""

    def __init__(self, message: str, rows: list[RowError] | None = None):
        self.rows = rows or []
        details = [str(r) for r in self.rows] or [message]
        super().__init__(message, fields={"file": details})


@dataclass
class CsvImportSummary:
    created: list[Intervention] = field(default_factory=list)
    # Rows already imported: (line, id of the intervention they repeat; None for an earlier row of the file).
    skipped: list[tuple[int, int | None]] = field(default_factory=list)
    encoding: str = "utf-8"

    def __str__(self) -> str:
        return f"{self.message()[:-1]} (fichier {self.encoding})."

    def message(self) -> str:
        text = f"{count_of(len(self.created), 'intervention importée', 'interventions importées')}"
        if self.skipped:
            lines = ", ".join(str(line) for line, _ in self.skipped[:20])
            more = " …" if len(self.skipped) > 20 else ""
            already = count_of(len(self.skipped), "ligne déjà importée", "lignes déjà importées")
            plural = "s" if len(self.skipped) > 1 else ""
            text += f", {already} (ligne{plural} {lines}{more}) : rien d'ajouté pour elles"
        return f"{text}."


def decode_csv(raw: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (with or without BOM) when it decodes, else Windows-1252 (a
    superset of Latin-1, what Excel writes in France)."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "latin-1"


def _column_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", fold(name or "").strip())


def _csv_rows(text: str) -> list[tuple[int, dict]]:
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    if ";" not in header_line:
        found = next((sep for sep in (",", "\t", "|") if sep in header_line), None)
        hint = f" (« {'tabulation' if found == chr(9) else found} » trouvé)" if found else ""
        raise CsvRejected(f"Séparateur inattendu : les colonnes doivent être séparées par « ; »{hint}.")
    reader = csv.reader(io.StringIO(text), delimiter=";")
    header = [_column_name(h) for h in next(reader)]
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
    if missing:
        raise CsvRejected(f"Colonnes manquantes : {', '.join(missing)} (attendu : {';'.join(CSV_COLUMNS)}).")
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        rows.append((reader.line_num, {name: (values[i].strip() if i < len(values) else "")
                                       for i, name in enumerate(header)}))  # fmt: skip
        if len(rows) > MAX_CSV_ROWS:
            raise CsvRejected(f"Au plus {MAX_CSV_ROWS} lignes par fichier.")
    if not rows:
        raise CsvRejected("Le fichier ne contient aucune ligne d'intervention.")
    return rows


def _csv_date(value: str) -> str:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    return f"{match[3]}-{int(match[2]):02d}-{int(match[1]):02d}" if match else value


def _csv_kind(value: str) -> str:
    key = fold(value)
    for kind, label in INTERVENTION_KIND_LABELS.items():
        if key in {kind.value, fold(label), fold(label).replace("« ", "").replace(" »", "")}:
            return kind.value
    return value


def _csv_input(row: dict) -> tuple[dict, list[tuple[str, str]]]:
    """A spreadsheet row as the API's input; unknown levels are reported here."""
    problems = []
    levels = []
    for word in re.split(r"[,+/\s]+", row.get("niveaux", "")):
        if not word:
            continue
        code = LEVEL_ALIASES.get(fold(word)) or (word if word in LEVEL_LABELS else None)
        if code is None:
            problems.append(("niveaux", f"Niveau inconnu : « {word} »."))
        else:
            levels.append(code)
    data = {
        "date": _csv_date(row.get("date", "")),
        "kind": _csv_kind(row.get("type", "")),
        "school_uai": row.get("uai") or None,
        "levels": levels,
        "female": row.get("filles") or "0",
        "male": row.get("garcons") or "0",
        "unspecified": row.get("non_precise") or "0",
        "duration_minutes": row.get("duree_minutes", ""),
        "notes": row.get("notes", ""),
    }
    return {k: v for k, v in data.items() if v != ""}, problems


def import_csv(user: User, raw: bytes, today: dt.date | None = None) -> CsvImportSummary:
    """Import a volunteer's spreadsheet (columns CSV_COLUMNS, `;`), all or nothing: every row is
    checked first, and any error rejects the file with the list of errors by line and column."""
    from pmi.schemas import InterventionInputSchema

    text, encoding = decode_csv(raw)
    if "\x00" in text:  # no spreadsheet writes one; PostgreSQL's text refuses it
        raise CsvRejected("Le fichier contient un caractère nul : enregistrez-le à nouveau en CSV (;).")
    rows = _csv_rows(text)
    if profile_of(user) is None:
        raise CsvRejected("Complétez d'abord votre profil d'intervenant (promo, groupe régional).")
    schema = InterventionInputSchema()
    errors: list[RowError] = []
    prepared: list[Prepared] = []
    lines: list[int] = []
    for line, row in rows:
        data, problems = _csv_input(row)
        errors += [RowError(line, column, message) for column, message in problems]
        try:
            loaded = schema.load(data)
            loaded.pop("second_session", None)
            prepared.append(prepare_intervention(user, {**loaded, "volunteer_ids": []}, today))
            lines.append(line)
        except ValidationFailed as exc:
            errors += _row_errors(line, exc.fields)
        except ValidationError as exc:
            errors += _row_errors(line, exc.messages)
    if errors:
        raise CsvRejected(f"{len(errors)} erreurs : aucune intervention n'a été importée.", errors)
    summary = CsvImportSummary(encoding=encoding)
    seen: dict[tuple, int] = {}
    fresh: list[Prepared] = []
    for line, item in zip(lines, prepared, strict=True):
        # Importing the same file twice (or a row twice) adds nothing: each row is known by its key.
        key = same_record_key(item)
        existing = duplicate_of(item)
        if existing is not None or key in seen:
            summary.skipped.append((line, existing.id if existing is not None else None))
            continue
        seen[key] = line
        fresh.append(item)
    for item in fresh:
        intervention = Intervention(created_by_id=user.id)
        _write(intervention, item)
        db.session.add(intervention)
        summary.created.append(intervention)
    db.session.flush()
    for intervention in summary.created:
        _record("intervention.import", user, intervention, {})
    return summary


def _row_errors(line: int, messages: dict) -> list[RowError]:
    out = []
    for name, value in messages.items():
        texts = value if isinstance(value, list) else [str(value)]
        out += [RowError(line, FIELD_COLUMNS.get(name, name), str(m)) for m in texts]
    return out
