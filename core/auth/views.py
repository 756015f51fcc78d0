"""Sign-in pages (session cookie + CSRF-protected forms)."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
from marshmallow import ValidationError

from core.auth.models import User
from core.auth.schemas import LoginFormSchema
from core.auth.services import authenticate
from core.errors import Unauthorized
from core.extensions import db, login_manager
from core.validation import form_data

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # The session id carries token_version: a password change signs out every other session.
    user_id, _, version = session_id.partition(".")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or str(user.token_version) != version:
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("jou.home")


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    errors: dict = {}
    values = {"next": request.args.get("next", "")}
    if request.method == "POST":
        schema = LoginFormSchema()
        values = request.form.to_dict()
        try:
            data = schema.load(form_data(request.form, schema))
            user = authenticate(data["email"], data["password"])
        except ValidationError as exc:
            errors = exc.messages
        except Unauthorized as exc:
            errors = {"_form": [exc.message]}
        else:
            login_user(user)
            db.session.commit()
            flash("Vous êtes connecté·e.", "success")
            return redirect(safe_next(data.get("next")))
    status = 422 if errors else 200
    return render_template("auth/login.html", errors=errors, values=values), status


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("Vous êtes déconnecté·e.", "info")
    return redirect(url_for("jou.home"))
