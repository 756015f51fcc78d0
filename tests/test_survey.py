"""The survey after the visit: invited the morning after (once), answered by the signed link (one answer
per booking, updated when answered again, refused before it opens and after it closes), and turned into
figures that never show fewer than 5 respondents."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from core import schedule
from core.mail import commit_and_deliver
from jou.bookings import survey, tokens
from jou.bookings.models import SurveyAnswer
from jou.bookings.survey import INVITE
from stats.surveys import survey_stats
from tests.factories import make_edition, make_site
from tests.plugins.jou import make_booking, public_slot_of
from tests.plugins.mail import link_path, text_body


def visited(year: int = 2031, n: int = 1, **site_fields):  # noqa: ANN003, ANN201
    edition = make_edition(year)
    slot = public_slot_of(make_site(edition=edition, status="approved", **site_fields))
    bookings = [make_booking(slot, email=f"v{i}@example.org", name=f"Visiteur {i}") for i in range(n)]
    morning_after = datetime.combine(slot.day + timedelta(days=1), time(9), tzinfo=UTC)  # 10:00 in Paris
    return slot, bookings, morning_after


def test_invited_once_the_morning_after_and_the_answer_updates(client, db_session, smtp_server):
    slot, [booking], morning = visited()
    assert schedule.send_due(morning - timedelta(days=1))[INVITE] == 0  # the day of the visit
    assert schedule.send_due(morning)[INVITE] == 1
    assert schedule.send_due(morning + timedelta(days=2))[INVITE] == 0
    commit_and_deliver()
    [invite] = smtp_server.to("v0@example.org")
    path = link_path(invite, "/enquete/")
    assert slot.site.name in text_body(invite)

    token = path.rsplit("/", 1)[1]
    api = f"/api/v1/surveys/{token}"
    early = client.post(api, json={"satisfaction": 5})
    # The test clock is today's: the visit (2031) has not happened, the survey is not open.
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "survey_closed"
    assert survey.save(booking, {"satisfaction": 4, "changed_view": 5}, now=morning).satisfaction == 4
    survey.save(booking, {"satisfaction": 2, "comment": " Trop court. "}, now=morning + timedelta(days=3))
    answer = db_session.scalar(select(SurveyAnswer))
    assert (answer.satisfaction, answer.changed_view, answer.comment) == (2, None, "Trop court.")
    assert db_session.scalar(select(func.count(SurveyAnswer.id))) == 1  # answered twice: one answer
    closed = morning + timedelta(days=survey.SURVEY_DAYS)
    assert not survey.is_open(booking, closed)
    bad = client.post(api, json={"satisfaction": 6, "age_band": "centenaire"})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"satisfaction", "age_band"}
    assert client.get("/api/v1/surveys/altered").status_code == 404


def test_figures_never_show_fewer_than_five_respondents(db_session):
    slot, bookings, morning = visited(n=7)
    for i, booking in enumerate(bookings):
        survey.save(booking, {"satisfaction": 3 + i % 3, "changed_view": 5 if i < 4 else 2,
                              "respondent_gender": "female" if i < 5 else "male"}, now=morning)  # fmt: skip
    figures = survey_stats(2031, by="respondent_gender")
    assert figures["totals"]["responses"] == 7
    assert figures["totals"]["satisfaction_mean"] == round((3 + 4 + 5 + 3 + 4 + 5 + 3) / 7, 2)
    assert figures["totals"]["changed_view_agree"] == round(4 / 7, 4)
    rows = {r["respondent_gender"]: r for r in figures["rows"]}
    assert rows["female"]["responses"] == 5 and not rows["female"]["suppressed"]
    assert rows["male"] == {"respondent_gender": "male", "label": "Homme", "responses": None, "suppressed": True,
                            "satisfaction_mean": None, "changed_view_agree": None, "could_work_before_agree": None,
                            "could_work_now_agree": None}  # fmt: skip
    assert survey_stats(2032)["totals"]["suppressed"] is True


def test_the_page_takes_an_answer_and_shows_it_again(client, db_session):
    from jou.services import paris_today

    friday = paris_today() - timedelta(days=5)  # visited last weekend
    edition = make_edition(friday.year, friday=friday, registration_opens=friday - timedelta(days=90),
                           registration_closes=friday - timedelta(days=40), booking_opens=friday - timedelta(days=30),
                           booking_closes=friday)  # fmt: skip
    slot = public_slot_of(make_site(edition=edition, status="approved"))
    booking = make_booking(slot)
    assert survey.is_open(booking)
    token = survey.token(booking)
    assert "Êtes-vous satisfait·e de cette visite" in client.get(f"/enquete/{token}").get_data(as_text=True)
    missing = client.post(f"/enquete/{token}", data={"comment": "Bien"})
    assert missing.status_code == 422 and "Ce champ est obligatoire." in missing.get_data(as_text=True)
    client.post(f"/enquete/{token}", data={"satisfaction": "5", "changed_view": "4", "comment": "Bien"})
    again = client.get(f"/enquete/{token}").get_data(as_text=True)
    assert "Vous avez déjà répondu" in again and "Bien</textarea>" in again
    assert db_session.scalar(select(SurveyAnswer.satisfaction)) == 5
    assert client.get(f"/api/v1/bookings/{tokens.manage_token(booking)}"
                      ).get_json()["survey_url"].endswith(token)  # fmt: skip


def test_the_factory_sees_its_results_from_five_answers(client, db_session):
    from tests.factories import login

    slot, bookings, morning = visited(n=5)
    login(client, slot.site.owner)
    page = f"/mes-sites/{slot.site_id}/enquete"
    for n, booking in enumerate(bookings):
        assert 'data-testid="survey-hidden"' in client.get(page).get_data(as_text=True)  # fewer than 5
        survey.save(booking, {"satisfaction": 4, "comment": f"Merci {n}" if n % 2 else ""}, now=morning)
    shown = client.get(page).get_data(as_text=True)
    assert "5 réponses" in shown and "4,0 / 5" in shown and "Merci 1" in shown and "Merci 3" in shown


def test_the_dashboard_shows_what_visitors_said_beside_who_came(client, db_session):
    from core.auth.models import Role
    from tests.factories import login, make_user

    slot, bookings, morning = visited(n=6)
    login(client, make_user(Role.ADMIN))
    url = "/admin/statistiques?programme=jou&edition=2031"
    assert "Moins de 5 réponses" in client.get(url).get_data(as_text=True)
    for booking in bookings:
        survey.save(booking, {"satisfaction": 5, "changed_view": 4}, now=morning)
    page = client.get(url).get_data(as_text=True)
    assert "6 réponses à l'enquête après la visite" in page and "5,0 / 5" in page
    assert "100\u202f% disent que la visite a changé leur regard" in page
