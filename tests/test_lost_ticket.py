"""« Billet perdu » : the links of an address's visits to come go to that address only, whoever asks;
the answer never says whether the address booked; one message an hour at most per address."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.mail import OutgoingMail, commit_and_deliver
from core.models import utcnow
from jou.bookings import notify, services
from jou.bookings.calendar import manage_url
from tests.plugins.jou import party, slots_of
from tests.plugins.mail import text_body


def test_the_api_answers_the_same_and_mails_only_the_owner(client, db_session, smtp_server):
    public, _ = slots_of(capacity=20)
    kept = services.book(public.id, party(2, email="Alice@Example.org"))
    other, _ = slots_of(capacity=20)  # another edition's site: no overlap with the first visit
    cancelled = services.book(other.id, party(1, email="alice@example.org", name="Alice bis"))
    services.cancel_booking(cancelled)
    commit_and_deliver()
    smtp_server.clear()

    known = client.post("/api/v1/bookings/resend", json={"email": "ALICE@example.org"})
    unknown = client.post("/api/v1/bookings/resend", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    [message] = smtp_server.messages
    assert smtp_server.envelopes[0].rcpt_tos == ["alice@example.org"]
    assert message["Subject"] == "Vos réservations aux Journées Usines Ouvertes"
    text = text_body(message)
    assert manage_url(kept) in text and manage_url(cancelled) not in text
    assert "2 places" in text and public.site.name in text

    # Asked again within the hour: the same answer, no second message.
    again = client.post("/api/v1/bookings/resend", json={"email": "alice@example.org"})
    assert again.status_code == 202 and len(smtp_server.messages) == 1


def test_one_message_an_hour_and_nothing_for_the_past(db_session, smtp_server):
    public, _ = slots_of(capacity=20)
    services.book(public.id, party(2, email="bob@example.org"))
    now = utcnow()
    assert notify.queue_links("bob@example.org", now) is not None
    assert notify.queue_links("bob@example.org", now + timedelta(minutes=1)) is None
    assert notify.queue_links("bob@example.org", now + timedelta(hours=1)) is not None
    after_the_visit = public.day + timedelta(days=1)
    assert notify.queue_links("bob@example.org", now.replace(year=after_the_visit.year + 1)) is None
    assert db_session.scalar(select(func.count()).where(OutgoingMail.to_address == "bob@example.org")) == 2


def test_the_page_says_the_same_whatever_the_address(client, db_session, smtp_server):
    page = client.get("/billet-perdu")
    assert page.status_code == 200 and 'name="email"' in page.get_data(as_text=True)
    sent = client.post("/billet-perdu", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert sent.status_code == 200 and "Si cette adresse a des visites à venir" in sent.get_data(as_text=True)
    bad = client.post("/billet-perdu", data={"email": "pas-une-adresse"})
    assert bad.status_code == 422 and "Adresse e-mail invalide." in bad.get_data(as_text=True)
    assert smtp_server.messages == []
