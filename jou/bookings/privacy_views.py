"""Pages for a visitor's rights over everything held about their e-mail address (jou.bookings.privacy).

/mes-donnees asks for a link, which is e-mailed to the address: the page always answers the same, so it
tells nobody whether an address booked. The link (valid PRIVACY_LINK_MAX_AGE) opens /mes-donnees/<token>:
download everything, or erase everything after a confirmation (a POST: mail scanners that open links
must not erase anything).
"""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for

from core.errors import AppError
from core.exports import attachment
from core.extensions import csrf
from core.geography.territories import DEPARTMENTS, REGIONS
from core.inputs import load_form, page_errors
from core.models import utcnow
from jou.bookings import interest, notify, privacy
from jou.bookings.api import INTEREST_SENT, LINKS_SENT, InterestSchema, PrivacyRequestSchema, ResendSchema

bp = Blueprint("privacy", __name__)

ACTION_LABELS = {
    privacy.PrivacyAction.EXPORT: "Télécharger toutes mes données",
    privacy.PrivacyAction.ERASE: "Effacer toutes mes données",
}
SENT = (
    "C'est noté : un e-mail part à l'adresse indiquée avec un lien valable 24 heures. Seule la personne "
    "qui lit cette boîte aux lettres peut l'ouvrir."
)


@bp.route("/mes-donnees", methods=["GET", "POST"])
def request_link():
    values = {"action": request.args.get("action", privacy.PrivacyAction.EXPORT.value)}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            data = load_form(PrivacyRequestSchema())
        except AppError as exc:
            errors = page_errors(exc)
        else:
            privacy.request_link(data["email"], privacy.PrivacyAction(data["action"]))
            flash(SENT, "success")
            return redirect(url_for("privacy.request_link"))
    return render_template(
        "jou/bookings/privacy_request.html", values=values, errors=errors, actions=ACTION_LABELS
    ), (422 if errors else 200)


@bp.route("/billet-perdu", methods=["GET", "POST"])
def lost_ticket():
    """Billet perdu: the links of an address's visits to come, e-mailed to it; the same answer whatever
    the address (jou.bookings.notify.queue_links)."""
    values: dict = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            data = load_form(ResendSchema())
        except AppError as exc:
            errors = page_errors(exc)
        else:
            notify.queue_links(data["email"], utcnow())
            flash(LINKS_SENT, "success")
            return redirect(url_for("privacy.lost_ticket"))
    return render_template("jou/bookings/lost_ticket.html", values=values, errors=errors), (
        422 if errors else 200
    )


@bp.route("/prevenez-moi", methods=["GET", "POST"])
def interest_form():
    """Before booking opens: an e-mail when it does, for a region or a department (jou.bookings.interest)."""
    values: dict = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            data = load_form(InterestSchema())
            interest.subscribe(data["email"], region=data["region"], department=data["department"])
        except AppError as exc:
            errors = page_errors(exc)
        else:
            flash(INTEREST_SENT, "success")
            return redirect(url_for("privacy.interest_form"))
    return render_template(
        "jou/bookings/interest.html", values=values, errors=errors, REGIONS=REGIONS, DEPARTMENTS=DEPARTMENTS
    ), (422 if errors else 200)


@bp.route("/prevenez-moi/<token>/confirmer", methods=["GET", "POST"])
def interest_confirm(token: str):
    subscription = interest.from_token(token)
    if request.method == "POST":  # a button: mail scanners that open links confirm nothing
        interest.confirm(subscription)
        flash("C'est confirmé : nous vous écrirons quand les réservations ouvriront.", "success")
        return redirect(url_for("privacy.interest_confirm", token=token))
    return render_template("jou/bookings/interest_link.html", subscription=subscription, token=token,
                           area=interest.area_name(subscription), action="confirm")  # fmt: skip


@bp.route("/prevenez-moi/<token>/desinscription", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the authority; a mail client's one-click POST carries no form token
def interest_unsubscribe(token: str):
    """One click: the page's button, or the POST a mail client sends from List-Unsubscribe (RFC 8058)."""
    subscription = interest.from_token(token)
    if request.method == "POST":
        interest.unsubscribe(subscription)
        if request.form.get("List-Unsubscribe") == "One-Click":
            return "", 204
        flash("C'est fait : vous ne recevrez plus ces messages.", "success")
        return redirect(url_for("privacy.interest_unsubscribe", token=token))
    return render_template("jou/bookings/interest_link.html", subscription=subscription, token=token,
                           area=interest.area_name(subscription), action="unsubscribe")  # fmt: skip


@bp.route("/mes-donnees/<token>", methods=["GET", "POST"])
def address(token: str):
    email, action = privacy.read_privacy_token(token)
    if request.method == "POST":
        if action != privacy.PrivacyAction.ERASE:
            flash("Ce lien permet de télécharger vos données, pas de les effacer.", "error")
            return redirect(url_for("privacy.address", token=token))
        done = privacy.erase_person(email)  # promotes the waiting list: the promoted get their tickets
        return render_template("jou/bookings/erased.html", done=done)
    return render_template(
        "jou/bookings/privacy_address.html",
        token=token,
        email=email,
        action=action,
        plan=privacy.erasure_plan(email),
    )


@bp.route("/mes-donnees/<token>/donnees.json")
def download(token: str):
    email, _action = privacy.read_privacy_token(token)
    body = json.dumps(privacy.personal_data(email), ensure_ascii=False, indent=2).encode()
    return attachment(body, "application/json", "mes-donnees-journees-usines-ouvertes.json")
