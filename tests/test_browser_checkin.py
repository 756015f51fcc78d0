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

from core.auth.models import Role
from core.extensions import db
from jou.bookings import services as booking_services
from jou.bookings import tickets
from jou.checkin.models import CheckIn
from tests.factories import PASSWORD, make_edition, make_site, make_user, slot_data
from tests.plugins.browser import CHROMIUM, CHROMIUM_ARGS, PHONE

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 640, 480


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
    return {"owner": owner, "site_id": site.id, "slot_id": slot.id, "booking_id": booking.id, "png": png}


def test_fake_camera_scan_shows_the_green_answer(playwright, live_server, ticket, tmp_path):
    video = y4m_of(ticket["png"], tmp_path / "ticket.y4m")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = browser.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris")
        context.grant_permissions(["camera"], origin=live_server.url)
        page = context.new_page()
        page.goto(live_server("/connexion"))
        page.get_by_label("Adresse e-mail").fill("gate@example.org")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_label("Mot de passe").press("Enter")
        page.wait_for_load_state()
        page.goto(live_server(f"/mes-sites/{ticket['site_id']}/creneaux/{ticket['slot_id']}/controle"))
        page.get_by_role("button", name="Scanner avec la caméra").click()
        answer = page.locator("[data-answer]")
        expect(answer).to_have_attribute("data-status", "valid", timeout=20_000)
        expect(answer).to_contain_text("Valide : 3 pers.")
        expect(answer).to_contain_text("Famille Durand")
        assert answer.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(21, 128, 61)"
        # The camera keeps seeing the code: still one check-in.
        page.wait_for_timeout(1500)
        db.session.rollback()
        assert db.session.query(CheckIn).filter_by(booking_id=ticket["booking_id"]).count() == 1
    finally:
        browser.close()
