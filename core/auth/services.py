"""Account rules: password hashing (argon2), sign-up, authentication, signed links and API tokens."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.auth.lockout import lockout
from core.auth.models import ROLE_LABELS, Role, User
from core.errors import Conflict, TooManyRequests, Unauthorized, ValidationFailed
from core.extensions import db
from core.mail import external_url, queue_mail
from core.models import utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
CONFIRM_MAX_AGE = 3 * 24 * 3600  # e-mail confirmation link: 3 days
RESET_MAX_AGE = 3600  # password reset link: 1 hour
# A constant hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-at-all")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", f"Au moins {MIN_PASSWORD_LENGTH} caractères.")


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str, password: str, role: Role | str, name: str = "", *, confirmed: bool = True
) -> User:
    if str(role) not in {r.value for r in Role}:
        raise ValidationFailed.on("role", "Rôle inconnu.")
    check_password_strength(password)
    email = email.strip().lower()
    if find_user_by_email(email):
        raise _address_taken()
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=str(role),
        name=name.strip(),
        email_confirmed_at=utcnow() if confirmed else None,
    )
    # Two requests for one address can both pass the check above; the unique index decides, inside a
    # savepoint so the caller's transaction survives the loser's failed INSERT.
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as exc:
        raise _address_taken() from exc
    return user


def _address_taken() -> Conflict:
    return Conflict("Un compte existe déjà avec cette adresse.", fields={"email": ["Adresse déjà utilisée."]})


def authenticate(email: str, password: str) -> User:
    """The user, or Unauthorized with one message whatever went wrong (no account enumeration).

    After LOGIN_LOCKOUT_ATTEMPTS failures the address is locked for a while (core/auth/lockout.py),
    the right password included; unknown addresses lock alike, and the hash is checked first either way,
    so neither the answer nor its timing tells whether an account exists."""
    user = find_user_by_email(email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    guard = lockout()
    wait = guard.locked_for(email)
    if wait:
        minutes = -(-wait // 60)
        raise TooManyRequests(
            f"Trop de tentatives de connexion avec cette adresse. Réessayez dans {minutes} minute"
            f"{'s' if minutes > 1 else ''}, ou réinitialisez votre mot de passe.",
            retry_after=wait,
            code="login_locked",
        )
    if user is None or not user.is_active:
        guard.failed(email)
        raise Unauthorized("Adresse e-mail ou mot de passe incorrect.", code="invalid_credentials")
    guard.succeeded(email)
    if user.email_confirmed_at is None:
        raise Unauthorized(
            "Confirmez d'abord votre adresse e-mail (lien reçu par e-mail).", code="email_unconfirmed"
        )
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.token_version += 1  # old reset links, sessions and API tokens stop working
    db.session.flush()


# --- Signed tokens -----------------------------------------------------------------------------
# Each purpose has its own salt, so a token made for one purpose is refused for another, and each
# carries the user's token_version, so it dies when the password changes.


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"soce-{purpose}")


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"uid": user.id, "v": user.token_version})


def read_token(token: str, purpose: str, max_age: int) -> User:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise Unauthorized("Ce lien a expiré.", code="token_expired") from exc
    except BadSignature as exc:
        raise Unauthorized("Lien ou jeton invalide.", code="invalid_token") from exc
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or user.token_version != data.get("v") or not user.is_active:
        raise Unauthorized("Lien ou jeton invalide.", code="invalid_token")
    return user


def issue_api_token(user: User) -> str:
    return make_token(user, "api")


def user_from_api_token(token: str) -> User:
    return read_token(token, "api", current_app.config["API_TOKEN_MAX_AGE"])


# --- Self-service: sign-up, confirmation, reset, change ------------------------------------------
# Each function queues its e-mail in the caller's transaction; the view commits and delivers.


def sign_up(name: str, email: str, password: str) -> User | None:
    """A factory contact's own account, unconfirmed until the e-mailed link is followed.

    An address already in use gets the same page as a new one (no account enumeration): its owner is
    e-mailed instead, and None is returned."""
    check_password_strength(password)
    existing = find_user_by_email(email)
    if existing is not None:
        hash_password(password)  # the same work as a real sign-up, so timing reveals nothing either
        if existing.email_confirmed_at is None:
            _queue_confirmation(existing)
        else:
            queue_mail(
                existing.email,
                "Tentative d'inscription avec votre adresse",
                "auth/signup_existing",
                name=existing.name,
                login_url=external_url("auth.login"),
                reset_url=external_url("auth.forgot_password"),
            )
        return None
    try:
        user = create_user(email, password, Role.FACTORY, name, confirmed=False)
    except Conflict:
        # Lost a race with a sign-up for the same address (a double click): the winner's confirmation
        # e-mail is on its way, and this request answers like any other taken address.
        return None
    _queue_confirmation(user)
    return user


def resend_confirmation(email: str) -> None:
    """Send a fresh confirmation link if the address has an unconfirmed account; silent otherwise."""
    user = find_user_by_email(email)
    if user is not None and user.is_active and user.email_confirmed_at is None:
        _queue_confirmation(user)


def _queue_confirmation(user: User) -> None:
    queue_mail(
        user.email,
        "Confirmez votre adresse e-mail",
        "auth/confirm_email",
        name=user.name,
        link=external_url("auth.confirm_email", token=make_token(user, "confirm")),
        valid_days=CONFIRM_MAX_AGE // 86400,
    )


def confirm_email(token: str) -> User:
    """Confirm the address the signed link was sent to; following it twice is harmless."""
    user = read_token(token, "confirm", CONFIRM_MAX_AGE)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.flush()
    return user


def request_password_reset(email: str) -> None:
    """E-mail a single-use reset link if an active account has this address; silent otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    queue_mail(
        user.email,
        "Réinitialisation de votre mot de passe",
        "auth/reset_password",
        name=user.name,
        link=external_url("auth.reset_password", token=make_token(user, "reset")),
        valid_minutes=RESET_MAX_AGE // 60,
    )


def user_for_reset(token: str) -> User:
    """The reset link's user (Unauthorized if expired, tampered or already used)."""
    return read_token(token, "reset", RESET_MAX_AGE)


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link. The token_version bump makes the link single-use."""
    user = user_for_reset(token)
    set_password(user, password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the link reached the mailbox: the address is proven
    _queue_password_changed(user)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """From the account page: the current password is asked again. Other sessions are signed out."""
    try:
        _hasher.verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError) as exc:
        raise ValidationFailed.on("current_password", "Mot de passe actuel incorrect.") from exc
    set_password(user, new_password)
    _queue_password_changed(user)


def _queue_password_changed(user: User) -> None:
    # Tells the owner when someone else changed it, with the way back in.
    queue_mail(
        user.email,
        "Votre mot de passe a été modifié",
        "auth/password_changed",
        name=user.name,
        reset_url=external_url("auth.forgot_password"),
    )


def role_label(user: User) -> str:
    return ROLE_LABELS.get(Role(user.role), user.role)
