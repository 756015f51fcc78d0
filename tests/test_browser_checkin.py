"""The gate on a phone in Chromium with a FAKE CAMERA: the camera's video shows a real ticket's QR code,
the page reads it (BarcodeDetector, or the vendored jsQR where Chromium has none, as on Linux) and shows
the big green answer; the check-in is recorded once.

The slot's day is a month ahead: a check-in on another day is allowed with a warning (see
jou.checkin.services), so this test does not depend on today's date."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.auth.models import Role
from core.extensions import db
from jou.bookings import services as booking_services
from jou.bookings import tickets, tokens
from jou.checkin import services
from jou.checkin.models import CheckIn
from tests.factories import PASSWORD, make_edition, make_site, make_user, slot_data
from tests.plugins.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, assert_accessible

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 640, 480


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args: dict) -> dict:
    """axe is added to the page as a <script> element, which the app's Content-Security-Policy would
    block: the `page` of these tests lets Playwright bypass it."""
    return {**browser_context_args, "bypass_csp": True}


def y4m_of(png: bytes, path: Path, frames: int = 10) -> Path:
    """A still image as a 4:2:0 Y4M video (what Chromium's fake capture device plays in a loop): the QR
    centred on white, luma from the grey levels, neutral chroma."""
    qr = Image.open(io.BytesIO(png)).convert("L")
    qr.thumbnail((HEIGHT - 40, HEIGHT - 40))
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(qr, ((WIDTH - qr.width) // 2, (HEIGHT - qr.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


@pytest.fixture
def ticket(live_server, committed_db):
    today = date.today()
    edition = make_edition(today.year + 1, booking_opens=today - timedelta(days=1))
    owner = make_user(Role.FACTORY, email="gate@example.org")
    site = make_site(
        owner,
        edition,
        status="approved",
        slots=[
            slot_data(day=edition.friday, audience="schools"),
            slot_data(day=edition.saturday, audience="public"),
        ],
    )
    slot = next(s for s in site.slots if s.audience == "public")
    booking = booking_services.book(
        slot.id, {"party_size": 3, "name": "Famille Durand", "email": "durand@example.org", "consent": True}
    )
    png = tickets.qr_png(booking)
    db.session.commit()
    return {"owner": owner, "site_id": site.id, "slot_id": slot.id, "booking_id": booking.id, "png": png,
            "token": tokens.ticket_token(booking)}  # fmt: skip


def camera_browser(playwright, video: Path):  # noqa: ANN001, ANN201
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )


def sign_in(page, live_server, email: str = "gate@example.org") -> None:  # noqa: ANN001
    page.goto(live_server("/connexion"))
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.wait_for_load_state()


def entered(booking_id: int) -> tuple[int, int]:
    db.session.remove()
    return services.tallies(booking_id)


def test_one_green_verdict_for_a_ticket_held_in_view_for_ten_seconds(
    playwright, live_server, ticket, tmp_path
):
    """On a 390×844 phone: the verdict and the camera at the top without scrolling; the code stays in
    view 10 s: one request, one green verdict that stays, the party admitted once."""
    browser = camera_browser(playwright, y4m_of(ticket["png"], tmp_path / "ticket.y4m"))
    try:
        context = browser.new_context(
            viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris", has_touch=True
        )
        context.grant_permissions(["camera"], origin=live_server.url)
        page = context.new_page()
        sign_in(page, live_server)
        scans: list[str] = []
        page.on("request", lambda r: scans.append(r.url) if r.url.endswith("/controle/billet") else None)
        page.goto(live_server(f"/mes-sites/{ticket['site_id']}/creneaux/{ticket['slot_id']}/controle"))
        page.get_by_role("button", name="Scanner avec la caméra").click()
        answer = page.locator("[data-answer]")
        expect(answer).to_have_attribute("data-status", "valid", timeout=20_000)
        expect(answer).to_contain_text("Valide : 3 pers.")
        expect(answer).to_contain_text("Famille Durand")
        assert answer.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(21, 128, 61)"
        for box in (answer.bounding_box(), page.locator("[data-camera]").bounding_box()):
            assert box["y"] >= 0 and box["y"] + min(box["height"], 120) <= PHONE["height"], box
        page.wait_for_timeout(10_000)
        expect(answer).to_have_attribute("data-status", "valid")
        expect(page.locator("[data-count='arrived']")).to_have_text("3")
        assert len(scans) == 1, scans
        assert entered(ticket["booking_id"]) == (3, 0)
        # The page is readable on the phone: no horizontal scroll.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        browser.close()


def test_a_group_in_two_parts_undo_and_walk_in_taps(page, live_server, ticket):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    page.goto(live_server(f"/mes-sites/{ticket['site_id']}/creneaux/{ticket['slot_id']}/controle"))
    answer = page.locator("[data-answer]")
    page.get_by_label("Personnes qui passent").fill("2")
    page.get_by_label("Code du billet").fill(ticket["token"])
    page.get_by_role("button", name="Vérifier").click()
    expect(answer).to_contain_text("Valide : 2 / 3 pers.")
    expect(answer).to_contain_text("Encore attendu·e·s : 1 personne")
    page.get_by_label("Code du billet").fill(ticket["token"])
    page.get_by_role("button", name="Vérifier").click()
    expect(answer).to_contain_text("Valide : 1 / 3 pers.")
    expect(page.locator("[data-count='arrived']")).to_have_text("3")
    # A mistaken scan is undone from the verdict; the counter follows.
    answer.get_by_role("button", name="Annuler ce contrôle").click()
    expect(answer).to_contain_text("Contrôle annulé")
    expect(page.locator("[data-count='arrived']")).to_have_text("2")
    assert entered(ticket["booking_id"]) == (2, 0)
    # The breakdown of this public booking is unknown: a woman tapped on the verdict of the last person.
    page.get_by_label("Code du billet").fill(ticket["token"])
    page.get_by_role("button", name="Vérifier").click()
    expect(answer).to_contain_text("Répartition inconnue")
    answer.get_by_role("button", name="Femmes : plus un").click()
    expect(answer).to_contain_text("Enregistré.")
    db.session.remove()
    last = db.session.scalars(select(CheckIn).order_by(CheckIn.id.desc())).first()
    assert (last.admitted, last.female, last.male) == (1, 1, 0)
    # Walk-ins: one touch per person, and an exit without a ticket.
    page.get_by_role("button", name="+1 Femme").click()
    expect(page.locator("[data-walk-in-status]")).to_contain_text("Entrée enregistrée : Femme")
    expect(page.locator("[data-count='arrived']")).to_have_text("4")
    page.get_by_role("button", name="Sortie sans billet").click()
    expect(page.locator("[data-count='on_site']")).to_have_text("3")
    # Exits by ticket: the whole party out.
    page.get_by_role("radio", name="Sortie").check()
    page.get_by_label("Code du billet").fill(ticket["token"])
    page.get_by_role("button", name="Vérifier").click()
    expect(answer).to_contain_text("Sortie : 3 pers.")
    expect(page.locator("[data-count='on_site']")).to_have_text("0")
    assert_accessible(page)
    # A code that is no ticket: refused, and listed for review on the attendance page.
    page.get_by_label("Code du billet").fill("pas-un-billet")
    page.get_by_role("button", name="Vérifier").click()
    expect(answer).to_have_attribute("data-status", "refused")
    page.get_by_role("link", name="Fréquentation et billets refusés").click()
    expect(page.locator("[data-refused]")).to_contain_text("Billet non reconnu")
    expect(page.get_by_text("absents : 0")).to_be_visible()
    assert_accessible(page)


def test_offline_two_phones_scan_the_same_ticket_and_it_counts_once(browser, live_server, ticket):
    """Both phones download the signed list, lose the network, let the same party in, come back: the
    server counts the party once; a refused scan is kept for review."""
    phones = []
    for _ in range(2):
        context = browser.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris")
        page = context.new_page()
        sign_in(page, live_server)
        page.goto(live_server(f"/mes-sites/{ticket['site_id']}/creneaux/{ticket['slot_id']}/controle"))
        page.get_by_role("button", name="Télécharger la liste des billets").click()
        expect(page.locator("[data-offline-status]")).to_contain_text("Liste hors connexion enregistrée")
        phones.append((context, page))
    try:
        for context, page in phones:
            context.set_offline(True)
            page.get_by_label("Code du billet").fill(f"{live_server.url}/controle/{ticket['token']}")
            page.get_by_role("button", name="Vérifier").click()
            answer = page.locator("[data-answer]")
            expect(answer).to_contain_text("Valide : 3 pers. (hors connexion)")
            expect(page.locator("[data-offline-status]")).to_have_attribute("data-pending", "1")
            # The same phone scanning it again offline: already in.
            page.get_by_label("Code du billet").fill(ticket["token"])
            page.get_by_role("button", name="Vérifier").click()
            expect(answer).to_have_attribute("data-status", "already_checked_in")
            page.get_by_label("Code du billet").fill("pas-un-billet")
            page.get_by_role("button", name="Vérifier").click()
            expect(answer).to_have_attribute("data-status", "refused")
        assert entered(ticket["booking_id"]) == (0, 0)
        for context, page in phones:
            context.set_offline(False)
            expect(page.locator("[data-offline-status]")).to_have_attribute(
                "data-pending", "0", timeout=10_000
            )
        assert entered(ticket["booking_id"]) == (3, 0)
        assert db.session.scalar(select(func.count(CheckIn.id))) == 1
        # Sent again (a phone that lost the answer): nothing added.
        page = phones[0][1]
        page.evaluate(
            """([key, token]) => localStorage.setItem(key, JSON.stringify([{token: token, admitted: null,
                direction: "entry", client_key: "replayed", checked_in_at: new Date().toISOString()}]))""",
            [f"jou-checkin-queue-{ticket['slot_id']}", ticket["token"]],
        )
        page.get_by_role("button", name="Envoyer les contrôles en attente").click()
        expect(page.locator("[data-offline-status]")).to_have_attribute("data-pending", "0")
        assert entered(ticket["booking_id"]) == (3, 0)
    finally:
        for context, _ in phones:
            context.close()
