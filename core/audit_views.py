"""Admin page: the audit log (who changed what on sites, bookings and interventions)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from core import audit
from core.auth.access import require
from core.auth.models import Role
from core.validation import MAX_INT

bp = Blueprint("audit", __name__)


def _int(value: str | None) -> int | None:
    """A page number or an id from the query string; anything else (or beyond the database's integers)
    is no filter."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is None or 0 < number <= MAX_INT else None


@bp.route("/admin/journal")
def journal():
    require(Role.ADMIN)
    filters = {
        "entity_type": request.args.get("entity_type") or None,
        "entity_id": _int(request.args.get("entity_id")),
        "actor": (request.args.get("actor") or "").strip() or None,
    }
    page = audit.events(**filters, page=_int(request.args.get("page")) or 1)
    shown = {k: v for k, v in filters.items() if v is not None}

    def page_url(number: int) -> str:
        return url_for("audit.journal", **shown, page=number)

    return render_template(
        "admin/journal.html",
        page=page,
        filters=shown,
        page_url=page_url,
        entity_labels=audit.ENTITY_LABELS,
        action_labels=audit.ACTION_LABELS,
        describe=audit.describe,
    )
