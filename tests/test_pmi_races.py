"""PMI records under races, real commits, both databases: two edits of one intervention both survive, two
editors adding the same co-volunteer do not collide, a double first save of a profile makes one."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from pmi.models import Intervention, Volunteer
from tests.factories import api_token, make_user
from tests.plugins.pmi import log, make_school, make_volunteer
from tests.plugins.races import race


def test_parallel_edits_of_different_fields_both_survive(app, committed_db):
    user, _ = make_volunteer()
    _, co = make_volunteer(name="Bruno")
    school = make_school()
    intervention = log(user, school, female=10, male=10)
    email, intervention_id, co_id = user.email, intervention.id, co.id
    committed_db.commit()
    auth = api_token(app.test_client(), email)
    bodies = [
        {"notes": "Classe de 3e B"},
        {"female": 14},
        {"volunteer_ids": [co_id]},
        {"volunteer_ids": [co_id]},
    ]
    answers = race(
        len(bodies),
        lambda i: app.test_client().patch(
            f"/api/v1/interventions/{intervention_id}", json=bodies[i], headers=auth
        ),
    )
    assert [r.status_code for r in answers] == [200] * len(bodies), [r.get_json() for r in answers]
    db.session.remove()
    saved = db.session.get(Intervention, intervention_id)
    assert (saved.notes, saved.female, saved.male) == ("Classe de 3e B", 14, 10)
    assert co_id in {v.id for v in saved.volunteers}


def test_a_double_first_save_of_a_profile_makes_one(app, committed_db):
    user = make_user("volunteer", name="Lou")
    email, user_id = user.email, user.id
    committed_db.commit()
    auth = api_token(app.test_client(), email)
    del auth  # the profile is a page: sign in with the session instead

    def one(i: int):
        client = app.test_client()
        client.post("/connexion", data={"email": email, "password": "correct-horse-battery"})
        return client.post("/pmi/profil", data={"name": "Lou", "promo": "Ch. 180", "regional_group": "paris"})

    answers = race(4, one)
    assert all(r.status_code == 302 and "/pmi" in r.location for r in answers), [
        r.status_code for r in answers
    ]
    db.session.remove()
    assert db.session.scalar(select(func.count(Volunteer.id)).where(Volunteer.user_id == user_id)) == 1
