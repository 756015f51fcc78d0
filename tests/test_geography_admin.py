"""The admin page for the department → regional group mapping: who may see it, what saving does."""

import pytest

from core import create_app
from core.auth.models import Role
from core.geography import regional_group_for
from core.geography.groups import department_mapping
from tests.factories import PASSWORD, make_edition, make_user
from tests.plugins.geo import bare_site

URL = "/admin/groupes-regionaux"


def logged_in(client, role: Role):
    user = make_user(role)
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def full_form(**changes) -> dict:
    form = {f"dep-{department}": code for department, code in department_mapping().items()}
    form.update({f"dep-{department}": code for department, code in changes.items()})
    return form


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.location.startswith("/connexion?next=")
    assert client.post(URL, data=full_form(**{"75": "idf-est"})).status_code == 302
    assert regional_group_for("75") == "paris"


@pytest.mark.parametrize("role", [Role.FACTORY, Role.VOLUNTEER, Role.ORGANISER])
def test_other_roles_are_refused(client, role):
    logged_in(client, role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=full_form(**{"75": "idf-est"})).status_code == 403
    assert regional_group_for("75") == "paris"


def test_admin_sees_every_department_and_the_french_groups(client):
    logged_in(client, Role.ADMIN)
    response = client.get(URL)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("<select ") == 101
    assert "2A · Corse-du-Sud" in page and "976 · Mayotte" in page
    assert '<option value="paris" selected>Paris</option>' in page
    assert "Europe (hors France)" in page and 'value="europe"' not in page  # abroad: listed, not selectable
    assert 'name="csrf_token"' in page


def test_admin_saves_the_mapping_and_sites_follow(client, db_session):
    site = bare_site(make_edition(), make_user(), street="1 rue de Rivoli", postcode="75001", city="Paris")
    site.department, site.regional_group = "75", "paris"
    other = bare_site(make_edition(2026), make_user(), department="69", regional_group="lyonnais")
    db_session.flush()
    logged_in(client, Role.ADMIN)
    response = client.post(URL, data=full_form(**{"75": "idf-est", "2A": ""}))
    assert response.status_code == 302 and response.location == URL
    assert "2 départements modifiés" in client.get(URL).get_data(as_text=True)
    assert regional_group_for("75") == "idf-est"
    assert regional_group_for("2A") is None
    assert regional_group_for("2B") == "corse"
    # The GR stored on sites is derived from the mapping: it follows.
    db_session.expire_all()
    assert (site.regional_group, other.regional_group) == ("idf-est", "lyonnais")


def test_admin_gets_french_errors_for_impossible_choices(client):
    logged_in(client, Role.ADMIN)
    response = client.post(URL, data=full_form(**{"75": "europe", "69": "nope"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Un groupe régional à l&#39;étranger n&#39;a pas de département." in page
    assert "Groupe régional inconnu." in page
    assert regional_group_for("75") == "paris" and regional_group_for("69") == "lyonnais"


def test_the_form_is_csrf_protected(app):
    protected = create_app({**app.config, "WTF_CSRF_ENABLED": True, "TESTING": True})
    response = protected.test_client().post(URL, data={"dep-75": "idf-est"})
    assert response.status_code == 400
