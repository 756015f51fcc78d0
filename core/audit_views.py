"""Admin page: the audit log (who changed what on sites, bookings and interventions)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from core import audit
from core.auth.access import require
from core.auth.permissions import Permission
from core.validation import MAX_INT, query_int

bp = Blueprint("audit", __name__)


@bp.route("/admin/journal")
def journal():
    require(Permission.ADMINISTER)
    filters = {
        "entity_type": request.args.get("entity_type") or None,
        # Anything but an id (or one beyond the database's integers) is no filter.
        "entity_id": query_int("entity_id", min=1, max=MAX_INT),
        "actor": (request.args.get("actor") or "").strip() or None,
    }
    page = audit.events(**filters, page=query_int("page", 1, min=1, max=MAX_INT))
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
