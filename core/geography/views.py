"""Admin page: the department → regional group (GR) mapping."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from core.auth.access import require
from core.auth.permissions import Permission
from core.errors import ValidationFailed
from core.formatting import count_of
from core.geography.groups import department_mapping, regional_groups, set_department_mapping
from core.geography.territories import DEPARTMENT_REGION, DEPARTMENTS, region_name
from core.uow import attempt

bp = Blueprint("geo", __name__)

FIELD_PREFIX = "dep-"


@bp.route("/admin/groupes-regionaux", methods=["GET", "POST"])
def regional_group_mapping():
    require(Permission.ADMINISTER)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        submitted = {
            key.removeprefix(FIELD_PREFIX): value.strip()
            for key, value in request.form.items()
            if key.startswith(FIELD_PREFIX)
        }
        try:
            with attempt():
                changed = set_department_mapping(submitted)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            flash(
                f"Correspondance enregistrée ({count_of(changed, 'département modifié', 'départements modifiés')}).",
                "success",
            )
            return redirect(url_for("geo.regional_group_mapping"))
    mapping = department_mapping()
    if errors:
        mapping = {**mapping, **{k.removeprefix(FIELD_PREFIX): v for k, v in request.form.items()}}
    rows = [
        {
            "code": code,
            "name": name,
            "region": region_name(DEPARTMENT_REGION[code]),
            "group": mapping.get(code, ""),
        }
        for code, name in DEPARTMENTS.items()
    ]
    groups = regional_groups()
    return render_template(
        "geography/regional_groups.html",
        rows=rows,
        groups=[g for g in groups if not g.abroad],
        abroad=[g for g in groups if g.abroad],
        errors=errors,
        prefix=FIELD_PREFIX,
    ), (422 if errors else 200)
