"""Account rules: password hashing (argon2), sign-up, authentication, signed links and API tokens."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from core.auth.models import Role, User
from core.errors import Conflict, Unauthorized, ValidationFailed
from core.extensions import db
from core.models import utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
# A constant hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-at-all")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", f"Au moins {MIN_PASSWORD_LENGTH} caractères.")


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, password: str, role: Role | str, name: str = "", *, confirmed: bool = True) -> User:
    if str(role) not in {r.value for r in Role}:
        raise ValidationFailed.on("role", "Rôle inconnu.")
    check_password_strength(password)
    email = email.strip().lower()
    if find_user_by_email(email):
        raise Conflict("Un compte existe déjà avec cette adresse.", fields={"email": ["Adresse déjà utilisée."]})
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=str(role),
        name=name.strip(),
        email_confirmed_at=utcnow() if confirmed else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User:
    """The user, or Unauthorized with one message whatever went wrong (no account enumeration)."""
    user = find_user_by_email(email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.is_active:
        raise Unauthorized("Adresse e-mail ou mot de passe incorrect.", code="invalid_credentials")
    if user.email_confirmed_at is None:
        raise Unauthorized("Confirmez d'abord votre adresse e-mail (lien reçu par e-mail).", code="email_unconfirmed")
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
