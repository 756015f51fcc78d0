"""The audit log: events for changes of sites, bookings and interventions (who, what, old → new, never a
person's data), and the staff's journal page."""

from __future__ import annotations

import json

from sqlalchemy import select

from core import audit
from core.audit import AuditEvent
from core.auth.models import Role
from core.extensions import db
from jou import services as site_services
from jou.bookings import services as booking_services
from pmi import interventions
from tests.factories import login, make_site, make_user
from tests.plugins.jou import slots_of
from tests.plugins.pmi import TODAY, data, make_school, make_volunteer


def events_of(entity_type: str, entity_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.id)
        )
    )


def slot_values(slot) -> dict:  # noqa: ANN001
    return {name: getattr(slot, name) for name in site_services.SLOT_FIELDS} | {"id": slot.id}


# ---- sites -------------------------------------------------------------------------------------------


def test_a_site_s_life_is_logged_with_old_and_new_values(db_session):
    owner = make_user(Role.FACTORY, email="contact@usine.example")
    admin = make_user(Role.ADMIN, email="staff@soce.example")
    site = make_site(owner=owner)
    slot = site.slots[0]
    site_services.update_site(
        owner,
        site,
        {"name": "Atelier renommé", "contact_email": "nouveau.contact@usine.example",
         "slots": [slot_values(slot) | {"capacity": 45}]},
    )  # fmt: skip
    site_services.submit_site(owner, site)
    site_services.reject_site(admin, site, "Adresse incomplète")

    create, update, submit, reject = events_of("site", site.id)
    assert create.action == "site.create" and create.actor_id == owner.id
    assert create.actor_label == "contact@usine.example"
    assert create.changes["name"] == [None, "Atelier du Louvre"]
    assert create.changes["contact_email"] == audit.REDACTED
    assert len(create.changes["slots"]) == 2

    assert update.action == "site.update"
    assert update.changes["name"] == ["Atelier du Louvre", "Atelier renommé"]
    # The contact is a person: the log says the address changed, never what it was or became.
    assert update.changes["contact_email"] == audit.REDACTED
    assert "nouveau.contact" not in json.dumps(update.changes) and "camille" not in json.dumps(update.changes)
    assert update.changes["slots"][str(slot.id)]["capacity"] == [30, 45]
    # The slot left out of the list was deleted: logged from its values to nothing.
    [deleted] = [k for k in update.changes["slots"] if k != str(slot.id)]
    assert update.changes["slots"][deleted]["capacity"] == [30, None]

    assert submit.changes == {"status": ["draft", "submitted"]}
    assert (reject.action, reject.actor_id, reject.changes["status"]) == (
        "site.reject",
        admin.id,
        ["submitted", "rejected"],
    )
    assert reject.summary == "Motif : Adresse incomplète"


def test_an_update_that_changes_nothing_logs_nothing(db_session):
    site = make_site()
    owner = site.owner
    count = len(events_of("site", site.id))
    site_services.update_site(owner, site, {"name": site.name})
    assert len(events_of("site", site.id)) == count


# ---- bookings ----------------------------------------------------------------------------------------


def test_bookings_are_logged_without_the_visitor(db_session):
    public, _ = slots_of(capacity=4)
    booking = booking_services.book(
        public.id, {"party_size": 2, "female": 1, "name": "Visiteuse Secrète", "email": "secret@example.org",
                    "phone": "+33611223344", "consent": True},
    )  # fmt: skip
    booking_services.change_party(booking, {"party_size": 3})
    booking_services.cancel_booking(booking)

    create, update, cancel = events_of("booking", booking.id)
    assert create.action == "booking.create" and create.actor_id is None
    assert create.changes["party_size"] == [None, 2] and create.changes["slot_id"] == [None, public.id]
    assert update.changes == {"party_size": [2, 3], "unspecified": [1, 2]}
    assert cancel.changes == {"status": ["confirmed", "cancelled"]}
    logged = json.dumps([(e.changes, e.summary, e.actor_label) for e in (create, update, cancel)])
    for secret in ("Secrète", "secret@example.org", "+33611223344"):
        assert secret not in logged


def test_a_promotion_from_the_waiting_list_is_logged(db_session):
    public, _ = slots_of(capacity=2)
    first = booking_services.book(
        public.id, {"party_size": 2, "name": "A", "email": "a@example.org", "consent": True}
    )
    entry = booking_services.join_waitlist(public.id, {"party_size": 1, "name": "B", "email": "b@example.org",
                                                       "consent": True})  # fmt: skip
    booking_services.cancel_booking(first)  # the seat is offered (by the system)…
    booking_services.accept_offer(entry)  # … and accepted (by the visitor)
    promote = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.promote"))
    assert promote.changes["waitlist_entry"] == [None, entry.id]
    assert promote.actor_label == audit.VISITOR
    offer = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "waitlist.offer"))
    assert offer.actor_label == audit.SYSTEM and offer.changes == {"status": ["waiting", "offered"]}
    assert [e.action for e in events_of("waitlist", entry.id)] == ["waitlist.create", "waitlist.offer"]


# ---- interventions -----------------------------------------------------------------------------------


def test_interventions_are_logged_notes_redacted(db_session):
    user, _ = make_volunteer()
    school = make_school()
    intervention = interventions.create_intervention(
        user, data(school, notes="Mme Dupont, 4e B"), today=TODAY
    )
    interventions.update_intervention(user, intervention, {"female": 15, "notes": "Mme Durand"}, today=TODAY)
    intervention_id = intervention.id
    interventions.delete_intervention(intervention, actor=user)

    create, update, delete = events_of("intervention", intervention_id)
    assert (create.action, create.actor_id) == ("intervention.create", user.id)
    assert create.changes["female"] == [None, 12] and create.changes["school_uai"] == [None, school.uai]
    assert update.changes == {"female": [12, 15], "notes": audit.REDACTED}
    assert delete.action == "intervention.delete" and delete.changes["female"] == [15, None]
    assert "Dupont" not in json.dumps(create.changes) and "Durand" not in json.dumps(update.changes)


def test_an_import_logs_each_intervention(db_session):
    user, _ = make_volunteer()
    school = make_school()
    csv = (
        "date;type;uai;niveaux;filles;garcons;non_precise;duree_minutes;notes\n"
        f"2026-01-12;Intervention en classe;{school.uai};4e;10;12;0;60;\n"
        f"2026-01-19;forum;{school.uai};3e;8;9;1;60;\n"
    )
    summary = interventions.import_csv(user, csv.encode(), today=TODAY)
    logged = db.session.scalars(
        select(AuditEvent.entity_id).where(AuditEvent.action == "intervention.import")
    ).all()
    assert sorted(logged) == sorted(i.id for i in summary.created)


# ---- the journal page --------------------------------------------------------------------------------


def test_the_journal_is_for_staff_only(client, db_session):
    site = make_site()
    assert client.get("/admin/journal").status_code == 302  # anonymous: to the sign-in page
    factory = site.owner
    login(client, factory)
    assert client.get("/admin/journal").status_code == 403


def test_the_journal_lists_newest_first_and_filters(client, db_session):
    admin = make_user(Role.ADMIN)
    site = make_site()
    other = make_site()
    site_services.update_site(site.owner, site, {"name": "Nouveau nom du site"})
    login(client, admin)

    page = client.get("/admin/journal").get_data(as_text=True)
    assert page.index("Nouveau nom du site") < page.index("site.create")  # newest first
    assert "Site modifié" in page and "Site créé" in page  # actions in words
    filtered = client.get(f"/admin/journal?entity_type=site&entity_id={other.id}").get_data(as_text=True)
    assert "site.create" in filtered and "site.update" not in filtered
    # An id beyond the database's integers, or not a number, is no filter (never a server error).
    for bad in ("99999999999999999999999", "abc"):
        assert client.get(f"/admin/journal?entity_id={bad}").status_code == 200
    by_actor = client.get(f"/admin/journal?actor={site.owner.email.upper()}").get_data(as_text=True)
    assert "site.update" in by_actor and f"n° {site.id}<" in by_actor and f"n° {other.id}<" not in by_actor
    assert "modifié (donnée personnelle, non journalisée)" in page  # the contact of a new site
    assert "camille.martin@example.org" not in page


def test_the_journal_is_paginated(client, db_session):
    admin = make_user(Role.ADMIN)
    for n in range(audit.PER_PAGE + 5):
        audit.record("site.update", entity_id=10_000 + n, actor=admin, summary=f"événement {n}")
    login(client, admin)
    first = client.get("/admin/journal?entity_type=site").get_data(as_text=True)
    assert "événement 54" in first and "événement 4<" not in first and "Page 1 sur 2" in first
    second = client.get("/admin/journal?entity_type=site&page=2").get_data(as_text=True)
    assert "événement 4<" in second and "événement 54" not in second


def test_the_journal_speaks_in_words():
    from core import audit

    lines = audit.describe({
        "capacity": [20, 30], "contact_email": audit.REDACTED, "wheelchair_accessible": [False, True],
        "slots": {"12": {"capacity": [20, 25], "start": ["09:00", "09:30"]}},
    })  # fmt: skip
    assert lines == [
        "places : 20 → 30",
        "e-mail du contact : modifié (donnée personnelle, non journalisée)",
        "accessible en fauteuil roulant : non → oui",
        "créneau n° 12 · places : 20 → 25",
        "créneau n° 12 · début : 09:00 → 09:30",
    ]
