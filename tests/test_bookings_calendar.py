"""Calendar files read back with icalendar: the booking's .ics and the slot feeds per site and region."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from icalendar import Calendar

from core.extensions import db
from jou.bookings.calendar import booking_ics, manage_url, slots_feed
from jou.bookings.tokens import manage_token
from jou.models import Slot
from tests.factories import make_edition, make_site, slot_data
from tests.plugins.jou import make_booking, public_slot_of

PARIS = ZoneInfo("Europe/Paris")


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def the_event(cal: Calendar):  # noqa: ANN201 - an icalendar Event
    [event] = cal.walk("VEVENT")
    return event


def located_site(**fields):  # noqa: ANN201 - a Site
    site = make_site(status="approved", **fields)
    site.lat, site.lon = 48.8606, 2.3376
    db.session.flush()
    return site


def test_booking_ics_fields(app, db_session):
    slot = public_slot_of(located_site())
    slot.start, slot.end = time(14, 30), time(16, 0)
    booking = make_booking(slot, party_size=3)

    cal = parse(booking_ics(booking))
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert cal["PRODID"]
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]

    event = the_event(cal)
    host = app.config["PUBLIC_BASE_URL"].split("//")[1].split(":")[0].split("/")[0]
    assert str(event["UID"]) == f"booking-{booking.id}@{host}"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime(slot.day.year, slot.day.month, slot.day.day, 14, 30, tzinfo=PARIS)
    assert (start.tzinfo.key, start.hour, start.minute) == ("Europe/Paris", 14, 30)
    assert (end.hour, end.minute) == (16, 0)
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert str(event["SUMMARY"]) == f"Visite : {slot.site.name}"
    assert "1 rue de Rivoli" in str(event["LOCATION"]) and "75001 Paris" in str(event["LOCATION"])
    geo = event["GEO"]
    assert (geo.latitude, geo.longitude) == (48.8606, 2.3376)
    assert str(event["URL"]) == manage_url(booking)
    assert manage_token(booking) in str(event["URL"])
    description = str(event["DESCRIPTION"])
    assert "3 personnes" in description and manage_url(booking) in description
    assert str(event["STATUS"]) == "CONFIRMED"


def test_uid_is_stable_and_a_cancellation_outranks_the_first_file(db_session):
    booking = make_booking()
    first, again = the_event(parse(booking_ics(booking))), the_event(parse(booking_ics(booking)))
    assert first["UID"] == again["UID"]

    from jou.bookings import services

    services.cancel_booking(booking)  # the cancellation raises the booking's revision
    cancelled = the_event(parse(booking_ics(booking)))
    assert cancelled["UID"] == first["UID"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled.decoded("SEQUENCE") > first.decoded("SEQUENCE")


def test_unlocated_site_has_no_geo(db_session):
    booking = make_booking()
    booking.slot.site.lat = booking.slot.site.lon = None
    assert "GEO" not in the_event(parse(booking_ics(booking)))


def test_overseas_site_gets_its_own_zone(db_session):
    site = make_site(status="approved", street="1 rue Frébault", postcode="97110", city="Pointe-à-Pitre")
    assert site.department == "971"
    slot = public_slot_of(site)
    booking = make_booking(slot)

    cal = parse(booking_ics(booking))
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Guadeloupe"]
    start = the_event(cal).decoded("DTSTART")
    assert start.tzinfo.key == "America/Guadeloupe"
    assert (start.hour, start.minute) == (slot.start.hour, slot.start.minute)
    # 9h in Guadeloupe is 15h in Paris in March (UTC-4 against UTC+1).
    assert start.astimezone(PARIS).hour == slot.start.hour + 5
    assert "heure locale" in str(the_event(cal)["DESCRIPTION"])


def test_booking_ics_route(client, db_session):
    booking = make_booking()
    response = client.get(f"/reservations/{manage_token(booking)}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="visite-usine-{booking.id}.ics"'
    assert response.headers["Cache-Control"] == "no-store"
    assert the_event(parse(response.data))["UID"] == the_event(parse(booking_ics(booking)))["UID"]

    token = manage_token(booking)
    tampered = token[:2] + ("A" if token[2] != "A" else "B") + token[3:]
    assert client.get(f"/reservations/{tampered}.ics").status_code == 404


def test_feed_has_one_event_per_slot_with_seats_left(app, db_session):
    site = located_site()
    slots = list(site.slots)
    slots[0].seats_taken = slots[0].capacity
    cal = parse(slots_feed(slots, "Usines Ouvertes – test"))
    assert str(cal["X-WR-CALNAME"]) == "Usines Ouvertes – test"
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    host = app.config["PUBLIC_BASE_URL"].split("//")[1].split(":")[0].split("/")[0]
    assert set(events) == {f"slot-{s.id}@{host}" for s in slots}
    assert "Complet" in str(events[f"slot-{slots[0].id}@{host}"]["DESCRIPTION"])
    assert f"Places restantes : {slots[1].capacity} sur {slots[1].capacity}" in str(
        events[f"slot-{slots[1].id}@{host}"]["DESCRIPTION"]
    )
    assert cal.walk("VTIMEZONE")


def uids(data: bytes) -> set[str]:
    return {str(e["UID"]).split("@")[0] for e in parse(data).walk("VEVENT")}


def test_site_feed_route_lists_published_slots_only(client, db_session):
    site = make_site(status="approved")
    draft = make_site(status="submitted")

    response = client.get(f"/usines/{site.id}/creneaux.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert uids(response.data) == {f"slot-{s.id}" for s in site.slots}
    assert site.name in str(parse(response.data)["X-WR-CALNAME"])

    assert client.get(f"/usines/{draft.id}/creneaux.ics").status_code == 404
    assert client.get("/usines/999999/creneaux.ics").status_code == 404


def test_region_feed_route(client, db_session):
    edition = make_edition(2031)
    paris = make_site(status="approved", edition=edition)
    second = make_site(
        status="approved", edition=edition, slots=[slot_data(day=edition.saturday, audience="public")]
    )
    hidden = make_site(status="draft", edition=edition)
    lyon = make_site(
        status="approved", edition=edition, street="1 place Bellecour", postcode="69002", city="Lyon"
    )
    other_edition = make_site(status="approved", edition=make_edition(2025))  # past: not current
    assert paris.region == hidden.region == other_edition.region == "11" and lyon.region == "84"

    response = client.get("/regions/11/creneaux.ics")
    assert response.status_code == 200
    published = [*paris.slots, *second.slots]
    assert uids(response.data) == {f"slot-{s.id}" for s in published}
    assert "Île-de-France" in str(parse(response.data)["X-WR-CALNAME"])

    assert uids(client.get("/regions/84/creneaux.ics").data) == {f"slot-{s.id}" for s in lyon.slots}
    assert client.get("/regions/99/creneaux.ics").status_code == 404
    # The list of a region's factories links its feed; the list of all of them has no region to offer.
    listed = client.get("/usines?region=84").get_data(as_text=True)
    assert 'href="/regions/84/creneaux.ics"' in listed and "région Auvergne-Rhône-Alpes" in listed
    assert 'data-testid="region-feed"' not in client.get("/usines").get_data(as_text=True)


def test_feed_of_a_site_with_no_slot_is_an_empty_calendar(client, db_session):
    site = make_site(status="approved")
    for slot in list(site.slots):
        db.session.delete(slot)
    db.session.flush()
    db.session.expire(site, ["slots"])
    response = client.get(f"/usines/{site.id}/creneaux.ics")
    assert response.status_code == 200
    assert parse(response.data).walk("VEVENT") == []
    assert db.session.query(Slot).filter_by(site_id=site.id).count() == 0
