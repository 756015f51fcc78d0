"""Account rules: password hashing (argon2) and strength (zxcvbn), sign-up, authentication, page sessions,
signed links and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from zxcvbn import zxcvbn

from core import locking
from core.auth.lockout import lockout
from core.auth.models import ROLE_LABELS, Role, User, UserSession
from core.errors import Conflict, TooManyRequests, Unauthorized, ValidationFailed
from core.extensions import db
from core.mail import compose, external_url, mail_composer, queue_mail, queue_mail_later
from core.models import utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
CONFIRM_MAX_AGE = 3 * 24 * 3600  # e-mail confirmation link: 3 days
RESET_MAX_AGE = 3600  # password reset link: 1 hour
# A constant hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-at-all")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# --- Password strength -------------------------------------------------------------------------
# zxcvbn (Dropbox's estimator) knows the common passwords of the leaks, dictionary words, names, keyboard
# walks, repeats, sequences and dates, and how people dress them up (digits appended, l33t). Its score 3
# is "safely unguessable" (10^8 guesses or more); below that a password falls to a list-driven attack.

MIN_PASSWORD_SCORE = 3
# zxcvbn refuses longer input, and its cost grows with the length: it judges the first 72 characters.
_JUDGED_LENGTH = 72
# What anyone would try first against this site's accounts, besides each user's own name and address.
_SITE_WORDS = ("soce", "usine", "usines", "usines ouvertes", "journées usines ouvertes", "ingénieur")
WEAK_PASSWORD = (
    "Ce mot de passe est trop courant ou trop facile à deviner. Choisissez-en un plus long, par exemple "
    "quelques mots sans lien entre eux, sans votre nom ni votre adresse e-mail."
)


def check_password_strength(password: str, *personal: str) -> None:
    """ValidationFailed on `password` unless it is long enough and not guessable; personal: the user's
    e-mail address and name, which the password must not merely repeat."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", f"Au moins {MIN_PASSWORD_LENGTH} caractères.")
    words = [*_SITE_WORDS, *_personal_words(personal)]
    if zxcvbn(password[:_JUDGED_LENGTH], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
        raise ValidationFailed.on("password", WEAK_PASSWORD)


def _personal_words(values: Iterable[str]) -> list[str]:
    """Each value whole, an address's local part, the words of each, and those words run together or
    joined by the usual separators: `alice.martin@usine.example`, `alice.martin`, alice, martin, usine,
    alicemartin, alice-martin…"""
    words = []
    for value in values:
        value = value.strip().lower()
        local, _, domain = value.partition("@")
        parts = [word for word in re.split(r"\W+", local) if len(word) >= 3]
        words += [value, local, *parts, *(word for word in re.split(r"\W+", domain) if len(word) >= 3)]
        if len(parts) > 1:
            words += [separator.join(parts) for separator in ("", ".", "-", "_", " ")]
    return [word for word in dict.fromkeys(words) if word]


# --- Accounts ----------------------------------------------------------------------------------


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str, password: str, role: Role | str, name: str = "", *, confirmed: bool = True
) -> User:
    if str(role) not in {r.value for r in Role}:
        raise ValidationFailed.on("role", "Rôle inconnu.")
    email = email.strip().lower()
    check_password_strength(password, email, name)
    if find_user_by_email(email):
        raise _address_taken()
    return _add_user(email, hash_password(password), role, name, confirmed=confirmed)


def _add_user(email: str, password_hash: str, role: Role | str, name: str, *, confirmed: bool) -> User:
    user = User(
        email=email,
        password_hash=password_hash,
        role=str(role),
        name=name.strip(),
        email_confirmed_at=utcnow() if confirmed else None,
    )
    # Two requests for one address can both pass a look-up; the unique index decides, inside a
    # savepoint so the caller's transaction survives the loser's failed INSERT.
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as exc:
        raise _address_taken() from exc
    return user


def _address_taken() -> Conflict:
    return Conflict("Un compte existe déjà avec cette adresse.", fields={"email": ["Adresse déjà utilisée."]})


def deactivate_user(user: User) -> None:
    """The account can no longer sign in: its sessions end now, and its links and API tokens die
    (they would not come back if it were reactivated)."""
    user.is_active_account = False
    user.token_version += 1
    revoke_sessions(user)
    db.session.flush()


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
    guard.clear(email)
    if user.email_confirmed_at is None:
        raise Unauthorized(
            "Confirmez d'abord votre adresse e-mail (lien reçu par e-mail).", code="email_unconfirmed"
        )
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(user: User, password: str, *, keep_session: str | None = None) -> None:
    """A new password ends every session of the account but keep_session (the one that changed it),
    and every link and API token issued before."""
    check_password_strength(password, user.email, user.name)
    locking.begin_write()  # it reads the account's sessions, then deletes them (SQLite: the writer first)
    user.password_hash = hash_password(password)
    user.token_version += 1
    revoke_sessions(user, keep=keep_session)
    db.session.flush()


# --- Page sessions -----------------------------------------------------------------------------
# A sign-in on the pages is a `user_sessions` row, named by a random key that the page session (a signed
# cookie) carries; core.auth.views asks for the row on every request. Signing out deletes it, so a copy of
# the cookie is worth nothing afterwards; a password change deletes the account's other rows, a reset or
# a deactivation all of them. A sign-in lasts at most PERMANENT_SESSION_LIFETIME (Flask's setting, 31
# days by default). The API does not use these: its bearer tokens are signed, die with token_version (a
# password change or reset, a deactivation) and after API_TOKEN_MAX_AGE, and are not revoked one by one.


def _key_hash(key: str) -> str:
    # Only the hash is stored: the table alone lets nobody sign in.
    return hashlib.sha256(key.encode()).hexdigest()


def _oldest_valid_session() -> datetime:
    return utcnow() - current_app.permanent_session_lifetime


def start_session(user: User, *, replacing: str | None = None) -> str:
    """A new sign-in of user; answers its key, for the page session. The sign-in it replaces (whoever was
    signed in on this browser before) and the account's expired rows go."""
    # The request has read (the account, the caller's session): on SQLite, a transaction that read and then
    # writes fails at once if another sign-in committed in between, so this one becomes the writer first.
    locking.begin_write()
    end_session(replacing)
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.created_at < _oldest_valid_session()
        )
    )
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=_key_hash(key)))
    db.session.flush()
    return key


def user_for_session(user_id: str, key: str | None) -> User | None:
    """The user of a page session, or None if it was signed out, revoked, or has expired."""
    if not key or not user_id.isdigit():
        return None
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == int(user_id),
            UserSession.key_hash == _key_hash(key),
            UserSession.created_at >= _oldest_valid_session(),
        )
    )
    return user if user is not None and user.is_active else None


def end_session(key: str | None) -> None:
    if key:
        locking.begin_write()  # as start_session: a sign-out too has read before it deletes
        db.session.execute(delete(UserSession).where(UserSession.key_hash == _key_hash(key)))


def revoke_sessions(user: User, *, keep: str | None = None) -> None:
    """End every session of the account, but keep's."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        query = query.where(UserSession.key_hash != _key_hash(keep))
    db.session.execute(query)


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
# Each function queues its e-mail in the caller's transaction; the request commits, then delivers (core.uow).
# The forms that take an address (sign-up, confirmation resend, forgotten password) must not tell, by
# their answer or its timing, whether it has an account: each does the same work for any address. A
# sign-up hashes, INSERTs (nothing, for a taken address) and composes one message either way. The
# forgotten password and the resend look nothing up: they queue one message for any address
# (`queue_mail_later`) and the deliverer, after the answer, decides what it says — a reset link, or a note
# that no account uses the address. With MAIL_DELIVERY=inline the deliverer runs in the request, after its
# commit, and a link or the note cost the same; only a resend with nothing to confirm sends nothing then.

CONFIRM_TEMPLATE, CONFIRM_SUBJECT = "auth/confirm_email", "Confirmez votre adresse e-mail"
SIGNUP_EXISTING_TEMPLATE, SIGNUP_EXISTING_SUBJECT = (
    "auth/signup_existing",
    "Tentative d'inscription avec votre adresse",
)
RESET_TEMPLATE, RESET_SUBJECT = "auth/reset_password", "Réinitialisation de votre mot de passe"
RESET_NO_ACCOUNT_TEMPLATE = "auth/reset_no_account"


def sign_up(name: str, email: str, password: str) -> None:
    """A factory contact's own account, unconfirmed until the e-mailed link is followed.

    An address already in use gets the same page, after the same work, as a new one (no account
    enumeration): the password is hashed and the INSERT made all the same (the unique index leaves the
    account as it is), and one message composed and queued — to a taken address, a warning to its owner,
    or a new confirmation link while the account is unconfirmed."""
    email = email.strip().lower()
    check_password_strength(password, email, name)
    password_hash = hash_password(password)
    # The INSERT first: on SQLite a transaction that read before writing fails at once if another writer
    # committed meanwhile, where one that starts by writing waits for the lock (simultaneous sign-ups).
    _insert_unless_taken(email=email, password_hash=password_hash, role=Role.FACTORY.value, name=name.strip())
    user = find_user_by_email(email)
    if user is None:
        return
    if user.email_confirmed_at is None:
        queue_mail(email, CONFIRM_SUBJECT, CONFIRM_TEMPLATE, **_confirmation_context(user))
    else:
        queue_mail(email, SIGNUP_EXISTING_SUBJECT, SIGNUP_EXISTING_TEMPLATE, **_signup_existing_context(user))


def _insert_unless_taken(**values: object) -> None:
    """INSERT … ON CONFLICT (email) DO NOTHING: the unique index, not a look-up, says who has the address,
    which also settles two sign-ups at once (a double click)."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(
        insert(User.__table__).values(**values).on_conflict_do_nothing(index_elements=["email"])
    )


def resend_confirmation(email: str) -> None:
    """A fresh confirmation link if the address has an unconfirmed account; dropped by the deliverer
    otherwise (the request queues it for any address)."""
    _queue_confirmation(email.strip().lower())


def _queue_confirmation(email: str) -> None:
    queue_mail_later(email, CONFIRM_SUBJECT, CONFIRM_TEMPLATE, email=email)


@mail_composer(CONFIRM_TEMPLATE)
def _compose_confirmation(email: str, *, template: str) -> EmailMessage | None:
    user = find_user_by_email(email)
    if user is None or not user.is_active or user.email_confirmed_at is not None:
        return None  # nothing to confirm (any more)
    return compose(user.email, CONFIRM_SUBJECT, template, **_confirmation_context(user))


def _confirmation_context(user: User) -> dict:
    return {
        "name": user.name,
        "link": external_url("auth.confirm_email", token=make_token(user, "confirm")),
        "valid_days": CONFIRM_MAX_AGE // 86400,
    }


def _signup_existing_context(user: User) -> dict:
    return {
        "name": user.name,
        "login_url": external_url("auth.login"),
        "reset_url": external_url("auth.forgot_password"),
    }


def confirm_email(token: str) -> User:
    """Confirm the address the signed link was sent to; following it twice is harmless."""
    user = read_token(token, "confirm", CONFIRM_MAX_AGE)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.flush()
    return user


def request_password_reset(email: str) -> None:
    """One message to the address whatever it is: a single-use reset link if an active account has it,
    else a note saying that none has (composed by the deliverer)."""
    email = email.strip().lower()
    queue_mail_later(email, RESET_SUBJECT, RESET_TEMPLATE, email=email)


@mail_composer(RESET_TEMPLATE)
def _compose_reset(email: str, *, template: str) -> EmailMessage:
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return compose(
            email, RESET_SUBJECT, RESET_NO_ACCOUNT_TEMPLATE, signup_url=external_url("auth.signup")
        )
    return compose(
        user.email,
        RESET_SUBJECT,
        template,
        name=user.name,
        link=external_url("auth.reset_password", token=make_token(user, "reset")),
        valid_minutes=RESET_MAX_AGE // 60,
    )


def user_for_reset(token: str) -> User:
    """The reset link's user (Unauthorized if expired, tampered or already used)."""
    return read_token(token, "reset", RESET_MAX_AGE)


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link. The token_version bump makes the link single-use; every
    session of the account ends, and the sign-in lockout of the address is lifted: whoever failed to
    sign in with it, the owner has just proved the mailbox."""
    user = user_for_reset(token)
    set_password(user, password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the link reached the mailbox: the address is proven
    lockout().clear(user.email)
    _queue_password_changed(user)
    return user


def change_password(
    user: User, current_password: str, new_password: str, *, keep_session: str | None = None
) -> None:
    """From the account page: the current password is asked again. The account's other sessions end
    (keep_session: the key of the one making the change)."""
    try:
        _hasher.verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError) as exc:
        raise ValidationFailed.on("current_password", "Mot de passe actuel incorrect.") from exc
    set_password(user, new_password, keep_session=keep_session)
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
