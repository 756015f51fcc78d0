"""Account pages: sign-in, sign-up with e-mail confirmation, password reset, the account page.

Session cookie + CSRF-protected forms. A sign-in is also a row on the server (core.auth.services,
"Page sessions"): the cookie names it, sign-out deletes it, so a copied cookie stops working then. Pages
that answer "check your e-mail" answer the same, with the same work, whether or not an account exists, so
nobody can probe which addresses are registered. The request's unit of work commits once and then
delivers the mail queued (core.uow).
"""

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from core.auth import services
from core.auth.models import User
from core.auth.schemas import (
    ChangePasswordFormSchema,
    EmailFormSchema,
    LoginFormSchema,
    ResetPasswordFormSchema,
    SignupFormSchema,
)
from core.auth.services import authenticate
from core.errors import AppError, TooManyRequests, Unauthorized
from core.extensions import login_manager
from core.inputs import load_form, page_errors
from core.uow import attempt

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."


# Where the page session keeps the key of its user_sessions row.
SESSION_KEY = "_soce_session"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The signed cookie alone is not enough: its sign-in must still exist on the server.
    return services.user_for_session(user_id, session.get(SESSION_KEY))


def sign_in(user: User) -> None:
    # Ends the sign-in of whoever was signed in on this browser before.
    session[SESSION_KEY] = services.start_session(user, replacing=session.get(SESSION_KEY))
    login_user(user)


def sign_out() -> None:
    services.end_session(session.pop(SESSION_KEY, None))
    logout_user()


@bp.before_app_request
def forget_cached_caller() -> None:
    # g lives as long as the app context, which can span several requests when one was pushed by
    # hand (tests, scripts); who is calling must be worked out again for every request.
    g.pop("_login_user", None)
    g.pop("api_user", None)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirect. Browsers read "/\\host" as "//host", and
    control characters can hide a scheme, so both are refused outright."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
        and not urlsplit(target).netloc
        and not urlsplit(target).scheme
    ):
        return target
    return url_for("jou.home")


def form_page(template: str, errors: dict, values: dict | None = None, **context):  # noqa: ANN201
    """The form again, with its errors beside the fields (422) or blank (200).
    Passwords are never sent back into the page."""
    values = {k: v for k, v in (values or {}).items() if "password" not in k}
    return render_template(template, errors=errors, values=values, **context), 422 if errors else 200


# --- Sign-in -----------------------------------------------------------------------------------


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    errors: dict = {}
    values = {"next": request.args.get("next", "")}
    unconfirmed = False
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with attempt():
                data = load_form(LoginFormSchema())
                sign_in(authenticate(data["email"], data["password"]))  # and maybe a password rehash
        except (Unauthorized, TooManyRequests) as exc:
            errors = {"_form": [exc.message]}
            unconfirmed = exc.code == "email_unconfirmed"
        except AppError as exc:
            errors = page_errors(exc)
        else:
            flash("Vous êtes connecté·e.", "success")
            return redirect(safe_next(data.get("next")))
    return form_page("auth/login.html", errors, values, unconfirmed=unconfirmed)


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():
    sign_out()
    flash("Vous êtes déconnecté·e.", "info")
    return redirect(url_for("jou.home"))


# --- Sign-up and confirmation ------------------------------------------------------------------


@bp.route("/inscription", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    errors: dict = {}
    if request.method == "POST":
        try:
            with attempt():
                data = load_form(SignupFormSchema())
                services.sign_up(data["name"], data["email"], data["password"])
        except AppError as exc:
            errors = page_errors(exc)
        else:
            return redirect(url_for("auth.check_email", motif="inscription"))
    return form_page("auth/signup.html", errors, request.form.to_dict())


@bp.route("/inscription/renvoyer", methods=["GET", "POST"])
def resend_confirmation():
    errors: dict = {}
    values = {"email": request.args.get("email", "")}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            data = load_form(EmailFormSchema())
        except AppError as exc:
            errors = page_errors(exc)
        else:
            services.resend_confirmation(data["email"])
            return redirect(url_for("auth.check_email", motif="confirmation"))
    return form_page("auth/resend_confirmation.html", errors, values)


@bp.route("/inscription/confirmer/<token>")
def confirm_email(token: str):
    # A GET, because the link is followed from a mail client; confirming twice changes nothing.
    try:
        services.confirm_email(token)
    except Unauthorized as exc:
        return link_invalid(
            exc.message, "auth.resend_confirmation", "Recevoir un nouveau lien de confirmation"
        )
    flash("Votre adresse e-mail est confirmée : vous pouvez vous connecter.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/verifiez-vos-emails")
def check_email():
    return render_template("auth/check_email.html", motif=request.args.get("motif", ""))


# --- Forgotten password ------------------------------------------------------------------------


@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
def forgot_password():
    errors: dict = {}
    values: dict = {}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            data = load_form(EmailFormSchema())
        except AppError as exc:
            errors = page_errors(exc)
        else:
            services.request_password_reset(data["email"])
            return redirect(url_for("auth.check_email", motif="mot-de-passe"))
    return form_page("auth/forgot_password.html", errors, values)


@bp.route("/mot-de-passe/nouveau/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.user_for_reset(token)
    except Unauthorized as exc:
        return _reset_link_invalid(exc)
    errors: dict = {}
    if request.method == "POST":
        try:
            with attempt():
                services.reset_password(token, load_form(ResetPasswordFormSchema())["password"])
        except Unauthorized as exc:
            return _reset_link_invalid(exc)
        except AppError as exc:
            errors = page_errors(exc)
        else:
            if current_user.is_authenticated:
                sign_out()  # whoever it was: the reset account's sessions have all ended
            flash("Votre mot de passe est modifié : connectez-vous avec le nouveau.", "success")
            return redirect(url_for("auth.login"))
    return form_page("auth/reset_password.html", errors)


def _reset_link_invalid(exc: Unauthorized):  # noqa: ANN202
    message = f"{exc.message} Un lien de réinitialisation ne sert qu'une fois et vaut une heure."
    return link_invalid(message, "auth.forgot_password", "Demander un nouveau lien")


def link_invalid(message: str, retry_endpoint: str, retry_label: str):  # noqa: ANN201
    """An e-mailed link that no longer works (tampered, expired, used): say why and offer a new one."""
    return render_template(
        "auth/link_invalid.html", message=message, retry_url=url_for(retry_endpoint), retry_label=retry_label
    ), 400


# --- The account page --------------------------------------------------------------------------


@bp.route("/compte")
@login_required
def account():
    return _account_page({})


@bp.route("/compte/mot-de-passe", methods=["POST"])
@login_required
def change_password():
    user = current_user._get_current_object()
    try:
        with attempt():
            data = load_form(ChangePasswordFormSchema())
            services.change_password(
                user, data["current_password"], data["password"], keep_session=session.get(SESSION_KEY)
            )
    except AppError as exc:
        return _account_page(page_errors(exc))
    flash("Votre mot de passe est modifié. Vos autres sessions sont fermées.", "success")
    return redirect(url_for("auth.account"))


def _account_page(errors: dict):  # noqa: ANN202
    return render_template(
        "auth/account.html", user=current_user, role_label=services.role_label(current_user), errors=errors
    ), 422 if errors else 200
