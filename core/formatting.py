"""Jinja filters: dates and times the French way, phone numbers, labels."""

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
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


def french_number(value: int | float | None, decimals: int | None = None) -> str:
    """14\u202f236, 38,5: thousands split by a narrow no-break space (U+202F), a decimal comma."""
    if value is None:
        return ""
    text = f"{value:,}" if decimals is None else f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def french_money(value: float | Decimal | None) -> str:
    """1250.5 → « 1 250,50 € » (narrow no-break space between thousands, no-break space before €)."""
    if value is None:
        return "—"
    return f"{french_number(float(value), 2)}\u00a0€"


def count_of(n: int, singular: str, plural: str) -> str:
    """« 0 écart », « 1 écart », « 2 écarts », « 1 204 créneaux » (French: 0 and 1 take the singular)."""
    return f"{french_number(n)} {singular if n < 2 else plural}"


def french_percent(share: float | None, decimals: int = 0) -> str:
    """A share (0.385) as "38,5 %" (narrow no-break space before %); "—" when it has no denominator.
    Halves round up, as people expect (38.5 % → 39 %), not to even."""
    if share is None:
        return "—"
    quantum = Decimal(1).scaleb(-decimals)
    percent = (Decimal(str(share)) * 100).quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{french_number(float(percent), decimals) if decimals else french_number(int(percent))}\u202f%"


def register(app: Flask) -> None:
    from core.validation import display_phone

    app.jinja_env.filters.update(
        fdate=french_date,
        ftime=french_time,
        fdatetime=french_datetime,
        fnumber=french_number,
        fpercent=french_percent,
        fmoney=french_money,
        phone=display_phone,
    )
    app.jinja_env.globals["count_of"] = count_of
