"""Regional groups (GR) and the admin-editable department → GR mapping."""

from __future__ import annotations

from sqlalchemy import delete, inspect, select, update

from core.errors import ValidationFailed
from core.extensions import db
from core.geography.bulk import upsert
from core.geography.defaults import DEFAULT_REGIONAL_GROUPS
from core.geography.models import DepartmentGroup, RegionalGroup
from core.geography.territories import DEPARTMENTS


def regional_group_for(department: str | None) -> str | None:
    if not department:
        return None
    return db.session.scalar(
        select(DepartmentGroup.regional_group_code).where(DepartmentGroup.department == department)
    )


def regional_groups() -> list[RegionalGroup]:
    """France first, then abroad; by name."""
    return list(db.session.scalars(select(RegionalGroup).order_by(RegionalGroup.abroad, RegionalGroup.name)))


def department_mapping() -> dict[str, str]:
    """Department → GR code, for the departments that have one."""
    rows = db.session.execute(select(DepartmentGroup.department, DepartmentGroup.regional_group_code))
    return {department: code for department, code in rows}


def set_department_mapping(mapping: dict[str, str | None]) -> int:
    """Replace the GR of the given departments (None or "" removes it); returns how many changed.

    Rows that store a derived `regional_group` beside their `department` (sites…) follow the change,
    so lists and dashboards filtered by GR stay right without a re-geocoding.
    """
    groups = {g.code: g for g in regional_groups()}
    errors: dict[str, list[str]] = {}
    for department, code in mapping.items():
        if department not in DEPARTMENTS:
            errors.setdefault(department, []).append("Département inconnu.")
        elif code and code not in groups:
            errors.setdefault(department, []).append("Groupe régional inconnu.")
        elif code and groups[code].abroad:
            errors.setdefault(department, []).append(
                "Un groupe régional à l'étranger n'a pas de département."
            )
    if errors:
        raise ValidationFailed(fields=errors)

    current = department_mapping()
    changed = {d: (c or None) for d, c in mapping.items() if (c or None) != current.get(d)}
    for department, code in changed.items():
        db.session.execute(delete(DepartmentGroup).where(DepartmentGroup.department == department))
        if code:
            db.session.add(DepartmentGroup(department=department, regional_group_code=code))
        _update_derived_groups(department, code)
    db.session.flush()
    return len(changed)


def _update_derived_groups(department: str, code: str | None) -> None:
    for mapper in db.Model.registry.mappers:
        columns = inspect(mapper.class_).columns
        if "department" in columns and "regional_group" in columns:
            table = mapper.local_table
            db.session.execute(
                update(table).where(table.c.department == department).values(regional_group=code)
            )


def seed_default_groups() -> int:
    """Insert the default GRs and mapping where missing (as migration 0002 does); returns GRs added."""
    before = len(regional_groups())
    upsert(
        RegionalGroup.__table__,
        [{"code": code, "name": name, "abroad": abroad} for code, name, abroad, _ in DEFAULT_REGIONAL_GROUPS],
        keys=["code"],
    )
    upsert(
        DepartmentGroup.__table__,
        [
            {"department": d, "regional_group_code": code}
            for code, _, _, deps in DEFAULT_REGIONAL_GROUPS
            for d in deps
        ],
        keys=["department"],
    )
    db.session.flush()
    return len(regional_groups()) - before
