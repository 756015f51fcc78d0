"""Signed tokens for a booking: the ticket (in the QR code, checked at the gate) and the manage link.

Both are itsdangerous signatures, with the app secret, of the compact payload `[booking id]`: a short
token keeps the QR code low-density, so it scans fast on a phone. Different salts keep a ticket from
opening the manage page and the reverse. Altering any character breaks the signature.
"""

from __future__ import annotations

import hmac
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from core.errors import AppError, NotFound, Unauthorized
from core.extensions import db
from jou.bookings.models import Booking, WaitlistEntry

TICKET_SALT = "jou-ticket"
MANAGE_SALT = "jou-manage"
WAITLIST_SALT = "jou-waitlist"


def _serializer(salt: str) -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"], salt)


@lru_cache(maxsize=8)
def _serializer_for(secret: str, salt: str) -> URLSafeSerializer:
    """Built once per secret and salt (stateless; every booking answer signs two tokens)."""
    return URLSafeSerializer(secret, salt=salt)


def _sign(row: object, salt: str) -> str:
    return _serializer(salt).dumps([row.id])  # type: ignore[attr-defined]


def _payload(token: str, salt: str, error: AppError) -> int:
    serializer = _serializer(salt)
    try:
        payload = serializer.loads(token)
    except BadSignature:
        raise error from None
    if not (isinstance(payload, list) and len(payload) == 1 and type(payload[0]) is int):
        raise error
    # Base64's last character carries spare bits: a token differing only there still decodes to the
    # same signature. Only the exact token we issue is accepted.
    if not hmac.compare_digest(serializer.dumps(payload), token):
        raise error
    return payload[0]


def _load(token: str, salt: str, error: Unauthorized) -> Booking:
    booking = db.session.get(Booking, _payload(token, salt, error))
    if booking is None:
        raise NotFound("Cette réservation n'existe plus.")
    return booking


def ticket_token(booking: Booking) -> str:
    return _sign(booking, TICKET_SALT)


def booking_from_ticket(token: str) -> Booking:
    return _load(token, TICKET_SALT, Unauthorized("Ce billet n'est pas valide.", code="invalid_ticket"))


def manage_token(booking: Booking) -> str:
    return _sign(booking, MANAGE_SALT)


def booking_from_manage_token(token: str) -> Booking:
    return _load(
        token,
        MANAGE_SALT,
        Unauthorized(
            "Ce lien de gestion n'est pas valide. Utilisez celui reçu par e-mail.", code="invalid_link"
        ),
    )


def waitlist_token(entry: WaitlistEntry) -> str:
    return _sign(entry, WAITLIST_SALT)


def entry_from_waitlist_token(token: str) -> WaitlistEntry:
    error = Unauthorized("Ce lien de liste d'attente n'est pas valide. Utilisez celui reçu par e-mail.",
                         code="invalid_link")  # fmt: skip
    entry = db.session.get(WaitlistEntry, _payload(token, WAITLIST_SALT, error))
    if entry is None:
        raise NotFound("Cette inscription n'existe plus.")
    return entry


# Pages answer a bad link with a 404 and one clear sentence (the API keeps the 401 codes above).
BAD_TICKET = "Ce billet n'est pas valide : le lien a peut-être été coupé ou modifié."
BAD_LINK = (
    "Ce lien de réservation n'est pas valide : il a peut-être été coupé ou modifié. "
    "Utilisez le lien complet reçu par e-mail."
)


def ticket_booking_or_404(token: str) -> Booking:
    try:
        return booking_from_ticket(token)
    except AppError as exc:
        raise NotFound(BAD_TICKET) from exc


def managed_booking_or_404(token: str) -> Booking:
    try:
        return booking_from_manage_token(token)
    except AppError as exc:
        raise NotFound(BAD_LINK) from exc


def sign(row: object, salt: str) -> str:
    """A signed link to any row (survey, interest list…): its id under `salt`."""
    return _sign(row, salt)


def signed_id(token: str, salt: str, error: AppError) -> int:
    """The id a `sign` token carries; `error` when altered (only the exact token issued is accepted)."""
    return _payload(token, salt, error)
