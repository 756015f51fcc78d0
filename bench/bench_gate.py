"""The gate, timed: the server's answer to a check-in, and a phone's time from QR in view to verdict.

    .venv/bin/python bench/bench_gate.py                      # PostgreSQL then SQLite; bench/results-gate.json
    .venv/bin/python bench/bench_gate.py --database sqlite --checkins 200 --camera-runs 3

1. Server: a fresh database (PostgreSQL `h_gate`, dropped and created again; SQLite: a temporary file),
   migrated, one published site whose slot holds --checkins bookings; then POST /api/v1/checkins through
   the app in process (Flask's test client with the factory's bearer token: the app and the database,
   without HTTP), one request at a time, for each kind of answer: valid (whole party), valid in part
   (2 of 3, then the last one), already_checked_in, refused (forged), exit. Median, p95, p99, max in ms.
2. Browser (SQLite): Chromium with a fake camera whose video shows 2 s of a blank page then 3 s of a
   ticket's QR, looped; the scanner page is served by the app (a thread) on a 390×844 viewport. The page
   itself watches the video (each animation frame drawn to a small canvas: the first frame with the QR's
   dark modules after a blank one) and the verdict (a MutationObserver on data-status): the time between
   the two, per run, with a new ticket each run. This is the steward's wait; the decoder (jsQR here:
   Chromium on Linux has no BarcodeDetector) reads every 150 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import time as clock
from pathlib import Path

import bench_rush  # beside this file

ROOT = bench_rush.ROOT
sys.path.insert(0, str(ROOT))
PASSWORD = "gate-password-2026"
WIDTH, HEIGHT = 640, 480


def summary(durations: list[float]) -> dict:
    ms = sorted(d * 1000 for d in durations)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 2)

    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "max_ms": round(ms[-1], 2)}  # fmt: skip


def make_app(url: str, workdir: Path):  # noqa: ANN201
    env = bench_rush.app_env(url, workdir)
    bench_rush.migrate(env)
    os.environ.update({k: env[k] for k in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "MAIL_DELIVERY")})
    os.environ["RATELIMIT_ENABLED"] = "0"
    from core import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": True})


def seed(app, bookings: int) -> dict:  # noqa: ANN001
    """An edition open for booking, a published site with one big Saturday slot of public parties of 3."""
    from core.extensions import db
    from jou.bookings import services as booking_services
    from jou.bookings import tokens
    from jou.models import Slot

    with app.app_context():
        edition, site = bench_rush.open_site(
            "usine@gate.example.org",
            PASSWORD,
            "Usine Portail",
            "Portail SA",
            "Usine du portail",
            "Camille Portail",
        )
        slot = Slot(site=site, day=edition.saturday, start=clock(9), end=clock(12), audience="public",
                    capacity=bookings * 3 + 100, seats_taken=0)  # fmt: skip
        db.session.add_all([edition, site, slot])
        db.session.commit()
        made = []
        for i in range(bookings):
            made.append(
                booking_services.book(
                    slot.id,
                    {
                        "party_size": 3,
                        "name": f"Famille {i}",
                        "email": f"f{i}@gate.example.org",
                        "consent": True,
                    },
                )
            )
            if i % 200 == 199:
                db.session.commit()
        db.session.commit()
        data = {"site_id": site.id, "slot_id": slot.id, "tokens": [tokens.ticket_token(b) for b in made]}
        db.engine.dispose()
    return data


def server(kind: str, checkins: int, workdir: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    url = bench_rush.fresh_database(kind, "h_gate", workdir)
    app = make_app(url, workdir)
    data = seed(app, checkins)
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"email": "usine@gate.example.org", "password": PASSWORD})
    auth = {"Authorization": f"Bearer {token.get_json()['token']}"}
    slot_id, tickets = data["slot_id"], data["tokens"]
    half = len(tickets) // 2

    def timed(body: dict, expected: str) -> float:
        start = time.perf_counter()
        response = client.post("/api/v1/checkins", json={"slot_id": slot_id, **body}, headers=auth)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200 and response.get_json()["status"] == expected, response.get_json()
        return elapsed

    for t in tickets[:20]:  # warm-up (then undone by leaving them: they are not measured again)
        timed({"token": t, "admitted": 1}, "valid")
    result = {
        "valid": summary([timed({"token": t}, "valid") for t in tickets[20:half]]),
        "valid_in_part": summary(
            [timed({"token": t, "admitted": 2}, "valid") for t in tickets[half:]]
            + [timed({"token": t}, "valid") for t in tickets[half:]]
        ),
        "already_checked_in": summary([timed({"token": t}, "already_checked_in") for t in tickets[20:half]]),
        "refused_forged": summary([timed({"token": t[:-4] + "AAAA"}, "refused") for t in tickets[20:half]]),
        "exit": summary([timed({"token": t, "direction": "exit"}, "valid") for t in tickets[20:half]]),
    }
    with app.app_context():
        from core.extensions import db

        db.engine.dispose()
    return result


# ---- the phone -------------------------------------------------------------------------------------

WATCH = """
([videoSelector]) => new Promise((resolve) => {
  const video = document.querySelector(videoSelector);
  const answer = document.querySelector("[data-answer]");
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 48;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let sawBlank = false, visibleAt = null;
  function dark() {
    ctx.drawImage(video, 0, 0, 64, 48);
    const px = ctx.getImageData(16, 8, 32, 32).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 100) n++;
    return n;
  }
  function frame() {
    if (video.readyState >= 2 && visibleAt === null) {
      const n = dark();
      if (n === 0) sawBlank = true;
      else if (sawBlank && n > 40) visibleAt = performance.now();
    }
    if (visibleAt === null) requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  new MutationObserver(() => {
    if (answer.dataset.status === "valid" && visibleAt !== null) resolve(performance.now() - visibleAt);
  }).observe(answer, { attributes: true, attributeFilter: ["data-status"] });
})
"""


def looped_video(png: bytes, path: Path) -> Path:
    """2 s of white then 3 s of the QR, at 10 frames/s (Chromium's fake camera loops it)."""
    from PIL import Image

    qr = Image.open(io.BytesIO(png)).convert("L")
    qr.thumbnail((HEIGHT - 40, HEIGHT - 40))
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    blank = frame.tobytes()
    frame.paste(qr, ((WIDTH - qr.width) // 2, (HEIGHT - qr.height) // 2))
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for luma in [blank] * 20 + [frame.tobytes()] * 30:
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def camera(runs: int, workdir: Path) -> dict:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from jou.bookings import tickets
    from tests.plugins.browser import CHROMIUM, CHROMIUM_ARGS

    (workdir / "camera").mkdir(parents=True, exist_ok=True)
    app = make_app(f"sqlite:///{workdir / 'camera' / 'gate.db'}", workdir)
    app.config["SESSION_COOKIE_SECURE"] = False
    data = seed(app, runs)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    waits = []
    try:
        with sync_playwright() as pw:
            for i in range(runs):
                with app.app_context():
                    from core.extensions import db
                    from jou.bookings.models import Booking

                    booking = db.session.get(Booking, i + 1)
                    video = looped_video(tickets.qr_png(booking), workdir / f"ticket{i}.y4m")
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                    *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={video}"])  # fmt: skip
                context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
                context.grant_permissions(["camera"], origin=base)
                page = context.new_page()
                page.goto(base + "/connexion")
                page.get_by_label("Adresse e-mail").fill("usine@gate.example.org")
                page.get_by_label("Mot de passe").fill(PASSWORD)
                page.get_by_label("Mot de passe").press("Enter")
                page.wait_for_load_state()
                page.goto(f"{base}/mes-sites/{data['site_id']}/creneaux/{data['slot_id']}/controle")
                page.get_by_role("button", name="Scanner avec la caméra").click()
                waits.append(page.evaluate(WATCH, ["[data-camera]"]) / 1000)
                browser.close()
    finally:
        srv.shutdown()
    return summary(waits)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--checkins", type=int, default=1000)
    parser.add_argument("--camera-runs", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-gate.json"))
    args = parser.parse_args()
    kinds = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    report: dict = {"machine": bench_rush.machine(), "server": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            report["server"][kind] = server(kind, args.checkins, Path(tmp) / kind)
            print(kind, json.dumps(report["server"][kind], indent=1), flush=True)
        if args.camera_runs:
            report["camera_to_verdict"] = camera(args.camera_runs, Path(tmp))
            print("camera", report["camera_to_verdict"], flush=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
