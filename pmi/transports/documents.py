"""A transport's documents: the manifest as CSV (French Excel), the .ics of the trip, the route diagram.

The route is drawn on the server as an SVG diagram (stops in order, then the campus), with no tile
server and nothing loaded from a CDN: it prints with the manifest and works offline.
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape

from icalendar import Event

from core.exports import excel_csv
from core.formatting import PARIS, count_of, french_date
from core.ics import event_uid, finish_calendar, new_calendar
from core.models import utcnow
from core.validation import display_phone
from pmi.transports.campuses import BY_CODE
from pmi.transports.models import Transport

CSV_HEADER = [
    "Ordre", "Heure de ramassage", "UAI", "Établissement", "Adresse", "Commune", "Filles", "Garçons",
    "Non précisé", "Élèves", "Enseignants", "Contact", "Téléphone", "Élèves (réel)", "Enseignants (réel)",
]  # fmt: skip


def manifest_csv(transport: Transport) -> str:
    """The stops in order, then the campus with the totals (typed names and contacts cannot run as
    formulas: core.exports guards every cell)."""
    rows: list[list[object]] = []
    for stop in transport.stops:
        school = stop.school
        rows.append(
            [
                stop.position,
                stop.pickup_time.strftime("%H:%M"),
                school.uai,
                school.name,
                school.street or "",
                f"{school.postcode or ''} {school.city}".strip(),
                stop.female,
                stop.male,
                stop.unspecified,
                stop.pupils,
                stop.teachers,
                stop.contact_name,
                display_phone(stop.contact_phone),  # "01 42…": a leading + would read as a formula
                "" if stop.actual_pupils is None else stop.actual_pupils,
                "" if stop.actual_teachers is None else stop.actual_teachers,
            ]  # fmt: skip
        )
    campus = BY_CODE[transport.campus]
    rows.append(
        [
            "",
            transport.return_time.strftime("%H:%M"),
            "",
            campus.label,
            campus.street,
            f"{campus.postcode} {campus.city}",
            "",
            "",
            "",
            sum(s.pupils for s in transport.stops),
            sum(s.teachers for s in transport.stops),
            "",
            "",
            "",
            "",
        ]  # fmt: skip
    )
    return excel_csv(CSV_HEADER, rows)


def transport_ics(transport: Transport) -> bytes:
    campus = BY_CODE[transport.campus]
    start = datetime.combine(transport.date, transport.departure_time, tzinfo=PARIS)
    end = datetime.combine(transport.date, transport.return_time, tzinfo=PARIS)
    event = Event()
    event.add("uid", event_uid("transport", transport.id))
    event.add("dtstamp", utcnow())
    event.add("sequence", 1 if transport.status == "cancelled" else 0)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"Transport vers le {campus.label}")
    event.add("location", f"{campus.label}, {campus.address}")
    event.add("geo", (campus.lat, campus.lon))
    lines = [f"{french_date(transport.date)} : départ {transport.departure_time:%H:%M}, "
             f"retour {transport.return_time:%H:%M}."]  # fmt: skip
    if transport.operator:
        lines.append(f"Transporteur : {transport.operator}.")
    for stop in transport.stops:
        lines.append(
            f"{stop.pickup_time:%H:%M} – {stop.school.name} ({stop.school.city}) : "
            f"{count_of(stop.pupils, 'élève', 'élèves')}, {count_of(stop.teachers, 'enseignant', 'enseignants')}."
        )
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if transport.status == "cancelled" else "CONFIRMED")
    cal = new_calendar(x_wr_calname="Transports PMI")
    return finish_calendar(cal, [event], [(PARIS.key, transport.date.year)])


def route_points(transport: Transport) -> list[dict]:
    """The stops that have coordinates, in order, then the campus."""
    points = [
        {
            "label": f"{stop.position}. {stop.school.name}",
            "time": stop.pickup_time.strftime("%H:%M"),
            "lat": stop.school.lat,
            "lon": stop.school.lon,
            "campus": False,
        }  # fmt: skip
        for stop in transport.stops
        if stop.school.lat is not None and stop.school.lon is not None
    ]
    campus = BY_CODE[transport.campus]
    points.append({"label": campus.label, "time": "", "lat": campus.lat, "lon": campus.lon, "campus": True})
    return points


def route_svg(transport: Transport, width: int = 640, height: int = 420) -> str:
    """An SVG diagram of the route (equirectangular projection, north up), to scale but without a map."""
    points = route_points(transport)
    pad = 60
    lats = [p["lat"] for p in points]
    lons = [p["lon"] for p in points]
    scale_x = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * scale_x, 0.05)
    span_y = max(max(lats) - min(lats), 0.05)
    k = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    cx, cy = (max(lons) + min(lons)) / 2, (max(lats) + min(lats)) / 2

    def xy(p: dict) -> tuple[float, float]:
        return (width / 2 + (p["lon"] - cx) * scale_x * k, height / 2 - (p["lat"] - cy) * k)

    coords = [xy(p) for p in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="route-map" '
        f'role="img" aria-labelledby="route-title"><title id="route-title">Itinéraire : '
        f"{count_of(len(points) - 1, 'arrêt', 'arrêts')} puis {escape(points[-1]['label'])}</title>",
        f'<rect width="{width}" height="{height}" fill="#f7f7f4" stroke="#ccc"/>',
        f'<polyline points="{path}" fill="none" stroke="#8a1538" stroke-width="3" stroke-dasharray="6 4"/>',
    ]
    for (x, y), p in zip(coords, points, strict=True):
        colour = "#8a1538" if p["campus"] else "#1d4f91"
        radius = 9 if p["campus"] else 6
        label = escape(f"{p['time']} {p['label']}".strip())
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}"/>')
        anchor = "end" if x > width * 0.6 else "start"
        dx = -12 if anchor == "end" else 12
        parts.append(
            f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" font-size="13" text-anchor="{anchor}" '
            f'font-family="sans-serif">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
