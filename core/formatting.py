"""Jinja filters: dates and times the French way, phone numbers, labels."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import Flask

PARIS = ZoneInfo("Europe/Paris")
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def paris_today() -> date:
    """Today in France, whatever the server's zone: editions, windows and logged dates are French days."""
    return datetime.now(PARIS).date()


def french_date(value: date | datetime | None, with_weekday: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{day} {MONTHS[value.month - 1]} {value.year}"
    return f"{DAYS[value.weekday()]} {text}" if with_weekday else text


def french_time(value: time | None) -> str:
    return value.strftime("%Hh%M") if value else ""


def french_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return f"{french_date(local, with_weekday=False)} à {local.strftime('%Hh%M')}"


def french_number(value: int | float | None) -> str:
    if value is None:
        return ""
    return f"{value:,}".replace(",", "\u202f")


def register(app: Flask) -> None:
    from core.validation import display_phone

    app.jinja_env.filters.update(
        fdate=french_date,
        ftime=french_time,
        fdatetime=french_datetime,
        fnumber=french_number,
        phone=display_phone,
    )
