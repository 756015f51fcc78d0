"""The interest list: subscribe for an area (the same answer whatever the address), confirm by the
e-mailed link (double opt-in), one e-mail with the sites of the area when booking opens (once per
edition, only if the area has sites), unsubscribe in one click (the link, or the mail client's
List-Unsubscribe POST); the address's data include it and erasing removes it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from core import schedule
from core.mail import commit_and_deliver
from jou.bookings import interest, privacy
from jou.bookings.interest import OPENING
from jou.bookings.models import InterestSubscription
from tests.factories import make_edition, make_site
from tests.plugins.mail import link_path, text_body


def test_subscribe_confirm_receive_the_opening_and_unsubscribe(client, db_session, smtp_server):
    edition = make_edition(2031)
    make_site(edition=edition, status="approved", name="Forge de Lutèce")  # Paris: region 11
    make_site(edition=edition, status="approved", name="Atelier lyonnais", street="1 place Bellecour",
              postcode="69002", city="Lyon")  # fmt: skip
    answer = client.post(
        "/api/v1/interest", json={"email": "ana@example.org", "region": "11", "consent": True}
    )
    again = client.post(
        "/api/v1/interest", json={"email": "ANA@example.org", "region": "11", "consent": True}
    )
    assert answer.status_code == again.status_code == 202 and answer.get_json() == again.get_json()
    commit_and_deliver()
    [confirm] = smtp_server.to("ana@example.org")  # one an hour
    assert "Île-de-France" in text_body(confirm)
    opens = datetime.combine(edition.booking_opens, time(9), tzinfo=UTC)
    assert schedule.send_due(opens)[OPENING] == 0  # not confirmed: nothing

    path = link_path(confirm, "/prevenez-moi/")
    assert client.get(path).status_code == 200  # a GET (a mail scanner) confirms nothing
    assert db_session.scalar(select(InterestSubscription.confirmed_at)) is None
    client.post(path)
    assert db_session.scalar(select(InterestSubscription.confirmed_at)) is not None

    assert schedule.send_due(opens - timedelta(days=1))[OPENING] == 0  # booking not open yet
    assert schedule.send_due(opens)[OPENING] == 1
    assert schedule.send_due(opens + timedelta(days=1))[OPENING] == 0  # once per edition
    commit_and_deliver()
    opening = smtp_server.to("ana@example.org")[-1]
    text = text_body(opening)
    assert "1 usine ouvre ses portes près de chez vous (Île-de-France)" in text
    assert "Forge de Lutèce" in text and "Atelier lyonnais" not in text
    unsubscribe = opening["List-Unsubscribe"].strip("<>")
    assert opening["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = client.post("/" + unsubscribe.split("://", 1)[1].split("/", 1)[1],
                            data={"List-Unsubscribe": "One-Click"})  # fmt: skip
    assert one_click.status_code == 204
    assert db_session.scalar(select(InterestSubscription.unsubscribed_at)) is not None


def test_bad_input_is_refused_by_field(client, db_session):
    for body, field in (
        ({"email": "ana@example.org", "consent": True}, "region"),
        ({"email": "ana@example.org", "region": "11", "department": "75", "consent": True}, "region"),
        ({"email": "ana@example.org", "department": "99", "consent": True}, "department"),
        ({"email": "ana@example.org", "region": "11", "consent": False}, "consent"),
        ({"email": "pas-une-adresse", "region": "11", "consent": True}, "email"),
    ):
        response = client.post("/api/v1/interest", json=body)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], body
    assert client.get("/prevenez-moi/altered/confirmer").status_code == 404
    page = client.post("/prevenez-moi", data={"email": "ana@example.org", "consent": "on"})
    assert page.status_code == 422 and "Choisissez une région ou un département" in page.get_data(
        as_text=True
    )


def test_the_address_data_hold_it_and_erasure_removes_it(db_session):
    interest.subscribe("ana@example.org", department="69")
    data = privacy.personal_data("ana@example.org")
    assert [s["department"] for s in data["interest_subscriptions"]] == ["69"]
    privacy.erase_person("ana@example.org")
    assert db_session.scalar(select(InterestSubscription)) is None
