"""Named permissions: the roles table, `can` with and without an object, and the navigation drawn from it.

Which routes each role reaches is walked route by route in tests/test_access_matrix.py."""

import pytest
from flask_login import AnonymousUserMixin

from core.auth.models import Role
from core.auth.permissions import GRANTS, Permission, can
from jou.models import Site
from tests.factories import PASSWORD, make_site, make_user


def test_every_role_is_in_the_table_and_staff_hold_every_permission():
    assert set(GRANTS) == set(Role)
    assert GRANTS[Role.ADMIN] == set(Permission)
    assert GRANTS[Role.FACTORY] == {Permission.MANAGE_SITE, Permission.SEE_VISITORS, Permission.CHECK_IN}


@pytest.mark.parametrize("role", list(Role))
def test_can_answers_from_the_table(app, db_session, role):
    user = make_user(role)
    for permission in Permission:
        assert can(user, permission) is (permission in GRANTS[role]), (role, permission)
        assert can(user, permission.value) is (permission in GRANTS[role])  # as templates name them


def test_nobody_signed_in_may_do_nothing(app, db_session):
    for nobody in (None, AnonymousUserMixin()):
        assert not any(can(nobody, permission) for permission in Permission)


def test_a_misspelt_permission_fails_loudly(app, db_session):
    with pytest.raises(ValueError):
        can(make_user(Role.ADMIN), "manage_sites")


def test_an_object_without_a_rule_fails_loudly(app, db_session):
    with pytest.raises(LookupError):
        can(make_user(Role.ADMIN), Permission.MANAGE_SITE, object())


def test_a_site_is_its_owners_and_the_moderators(app, db_session):
    owner, other, admin = make_user(Role.FACTORY), make_user(Role.FACTORY), make_user(Role.ADMIN)
    site = make_site(owner=owner)
    assert isinstance(site, Site)
    for permission in (Permission.MANAGE_SITE, Permission.SEE_VISITORS, Permission.CHECK_IN):
        assert can(owner, permission, site) and can(admin, permission, site)
        assert not can(other, permission, site)
    # A volunteer who somehow owned a site still lacks the permission itself.
    volunteer = make_user(Role.VOLUNTEER)
    site.owner_id = volunteer.id
    assert not can(volunteer, Permission.MANAGE_SITE, site)


NAV = {
    "Mes sites": Permission.MANAGE_SITE,
    "Mes interventions": Permission.LOG_INTERVENTION,
    "Interventions du groupe": Permission.LEAD_GROUP,
    "Transports": Permission.ORGANISE_TRANSPORT,
    "Modération": Permission.MODERATE,
    "Groupes régionaux": Permission.ADMINISTER,
    "Établissements visités": Permission.SEE_STATISTICS,
    "Statistiques": Permission.SEE_STATISTICS,
    "Journal": Permission.ADMINISTER,
}


@pytest.mark.parametrize("role", list(Role))
def test_the_navigation_shows_what_the_role_may_open(client, db_session, role):
    user = make_user(role)
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index("<nav>") : page.index("</nav>")]
    for label, permission in NAV.items():
        assert (f">{label}</a>" in nav) is (permission in GRANTS[role]), (role, label)


def test_the_navigation_of_an_anonymous_visitor_has_no_account_link(client, db_session):
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index("<nav>") : page.index("</nav>")]
    assert not any(f">{label}</a>" in nav for label in NAV)
