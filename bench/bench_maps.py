"""Factory map at scale: our approach (empty folium map + compact JSON + client-side clustering) against
naive folium (one Marker with its popup per site inside a MarkerCluster), in one run.

    .venv/bin/python bench/bench_maps.py --sites 10000 [--no-browser] [--output bench/results.json]

Builds a throw-away SQLite database with N published sites (two slots each), then measures the server
time and the bytes of each approach and, in headless Chromium, the time until the markers are drawn.
tests/test_maps_bench.py runs it on a few sites for correctness; the figures live in bench/README.md."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import date
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_ENV", "testing")

CHROMIUM = "/usr/bin/chromium"
TILE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def build_app(database_url: str):  # noqa: ANN201
    from flask import Response
    from flask_migrate import upgrade

    from core import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "GEOCODER": "offline",
            # Tiles from the app itself: the browser timing measures our work, not a tile server.
            "MAP_TILE_URL": "/bench/tiles/{z}/{x}/{y}.png",
        }
    )

    @app.route("/bench/tiles/<int:z>/<int:x>/<int:y>.png")
    def bench_tile(z: int, x: int, y: int):  # noqa: ARG001
        return Response(TILE_PNG, mimetype="image/png")

    @app.route("/bench/naive")
    def bench_naive():
        response = Response(naive_html(), mimetype="text/html")
        response.headers["Content-Security-Policy"] = naive_policy()
        return response

    with app.app_context():
        upgrade()
    return app


def seed(app, n_sites: int, seed_value: int = 8) -> None:  # noqa: ANN001
    """N published sites around the department seats, two slots each, in a few bulk INSERTs."""
    from sqlalchemy import insert

    from core.auth.models import User
    from core.extensions import db
    from core.geography import SEATS
    from core.geography.territories import DEPARTMENT_REGION
    from jou.models import Edition, Site, Slot
    from jou.sectors import SECTORS

    rng = random.Random(seed_value)
    departments = sorted(SEATS)
    sectors = sorted(SECTORS)
    with app.app_context():
        owner = User(email="bench@example.org", password_hash="x", role="factory", name="Bench")
        db.session.add(owner)
        edition = Edition(
            year=2099, friday=date(2099, 3, 20), saturday=date(2099, 3, 21),
            registration_opens=date(2098, 9, 1), registration_closes=date(2099, 2, 28),
            booking_opens=date(2099, 1, 15), booking_closes=date(2099, 3, 20),
        )  # fmt: skip
        db.session.add(edition)
        db.session.flush()
        sites = []
        for i in range(n_sites):
            dep = departments[i % len(departments)]
            seat = SEATS[dep]
            sites.append(
                {
                    "edition_id": edition.id, "owner_id": owner.id, "status": "approved", "rejection_reason": "",
                    "company_name": f"Entreprise {i}", "siret": f"{i:014d}", "name": f"Usine n° {i}",
                    "sector": sectors[i % len(sectors)], "description": "", "street": f"{i} rue de l'Usine",
                    "postcode": "75001", "city": seat.name, "department": dep, "region": DEPARTMENT_REGION[dep],
                    "lat": seat.lat + rng.uniform(-0.3, 0.3), "lon": seat.lon + rng.uniform(-0.3, 0.3),
                    "contact_name": "Contact", "contact_email": "contact@example.org",
                    "contact_phone": "+33100000000", "search_text": f"usine {i}",
                }
            )  # fmt: skip
        db.session.execute(insert(Site), sites)
        ids = db.session.scalars(db.select(Site.id).order_by(Site.id)).all()
        slots = []
        for site_id in ids:
            for day, audience in ((edition.friday, "schools"), (edition.saturday, "public")):
                slots.append(
                    {
                        "site_id": site_id, "day": day, "start": dtime(9), "end": dtime(11),
                        "audience": audience, "capacity": 30, "seats_taken": rng.randint(0, 30),
                        "protective_equipment": "", "wheelchair_accessible": rng.random() < 0.3,
                    }
                )  # fmt: skip
        db.session.execute(insert(Slot), slots)
        db.session.commit()
        db.session.remove()


def naive_html() -> str:
    """The naive folium map: one Marker with its Popup per site in a MarkerCluster, rendered whole."""
    import folium

    from core.maps.assets import offline_cluster, offline_map, standalone_html, vendor_url
    from jou import services

    fmap = offline_map()
    # folium's popups call jQuery: the naive page needs it (our maps do not).
    fmap.default_js = [*fmap.default_js, ("jquery", vendor_url("jquery/dist/jquery.min.js"))]
    cluster = offline_cluster().add_to(fmap)
    for site in services.map_sites(services.SiteFilters()):
        popup = (
            f"<strong>{site.name}</strong><br>{site.sector} · {site.city}<br>"
            f"{', '.join(d.isoformat() for d in site.days)} · {site.seats_left} places restantes"
        )
        folium.Marker((site.lat, site.lon), popup=folium.Popup(popup, max_width=300)).add_to(cluster)
    return standalone_html(fmap)


def naive_policy() -> str:
    """The Content-Security-Policy of the bench's naive page. A whole folium document runs inline scripts,
    which the app's policy refuses (it allows the request's nonce only, and no page of the app is a whole
    folium document any more): this bench-only route gets the app's policy with inline scripts allowed.
    Every page of the app keeps its own policy."""
    from core.security import content_security_policy

    policy = content_security_policy(None, None)
    return policy.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'", 1)


def asset_bytes(paths: list[str]) -> int:
    return sum((ROOT / path.lstrip("/")).stat().st_size for path in paths)


REPEATS = 3


def _best(request):  # noqa: ANN001, ANN202
    best, result = float("inf"), None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = request()
        best = min(best, time.perf_counter() - start)
    return best, result


def server_measures(app, n_sites: int) -> dict:  # noqa: ANN001
    import re

    from maps import cache

    client = app.test_client()
    # Each approach is timed REPEATS times from a cold cache, and the best run kept: the first request
    # of a process also pays for compiling templates, which is not what is compared here.
    naive_time, naive = _best(lambda: client.get("/bench/naive"))
    assert naive.status_code == 200
    naive_body = naive.get_data()
    naive_markers = naive_body.count(b"L.marker(")

    page = client.get("/carte")
    data_url = re.search(r'data-url="([^"]+)"', page.get_data(as_text=True)).group(1).replace("&amp;", "&")

    def ours_cold():  # noqa: ANN202 - the page (empty map) and its data, from an empty cache
        cache.clear()
        return client.get("/carte"), client.get(data_url)

    ours_time, (page, data) = _best(ours_cold)
    # Warm: the same requests once the data is cached (the fingerprint query still runs).
    warm_time, _ = _best(lambda: (client.get("/carte"), client.get(data_url)))
    rows = json.loads(data.get_data())["sites"]
    assert page.status_code == data.status_code == 200

    page_html = page.get_data(as_text=True)
    ours_assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', page_html)
    naive_assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', naive_body.decode())
    ours_bytes = len(page.get_data()) + len(data.get_data())
    return {
        "sites": n_sites,
        "naive": {
            "server_s": round(naive_time, 3),
            "html_bytes": len(naive_body),
            "total_bytes_with_assets": len(naive_body) + asset_bytes(naive_assets),
            "markers": naive_markers,
        },
        "ours": {
            "server_s_cold": round(ours_time, 3),
            "server_s_cached": round(warm_time, 3),
            "page_and_data_bytes": ours_bytes,
            "total_bytes_with_assets": ours_bytes + asset_bytes(ours_assets),
            "markers": len(rows),
        },
    }


def browser_measures(app) -> dict:  # noqa: ANN001
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import WSGIRequestHandler, make_server

    from maps import cache

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # one line per tile would drown the figures
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    results = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for name, path in (("ours", "/carte"), ("naive", "/bench/naive")):
                page = browser.new_page()
                transferred = []
                page.on("requestfinished", lambda r, t=transferred: t.append(r.sizes()["responseBodySize"]))
                refused = csp_refusals(page)
                cache.clear()  # the conservative case: nothing cached yet
                page.goto(base + path, wait_until="commit", timeout=300_000)
                wait_for_markers(page, refused, path)
                drawn = page.evaluate("performance.now()")
                results[name] = {"markers_drawn_ms": round(drawn), "downloaded_bytes": sum(transferred)}
                page.close()
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    return results


def csp_refusals(page) -> list[str]:  # noqa: ANN001
    """The scripts Chromium refuses under the Content-Security-Policy (its console says so), as they come."""
    refused: list[str] = []

    def on_console(message) -> None:  # noqa: ANN001
        if "Content Security Policy" in message.text and "script" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    return refused


def wait_for_markers(page, refused: list[str], path: str, timeout_s: float = 300) -> None:  # noqa: ANN001
    """Until the first marker or cluster icon is in the DOM; a script refused by the Content-Security-Policy
    stops the wait at once (it would never draw anything) instead of after the whole timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.perf_counter() + timeout_s
    while True:
        try:
            page.wait_for_selector(".marker-cluster, .leaflet-marker-icon", timeout=1_000)
            return
        except PlaywrightTimeout:
            if refused:
                raise RuntimeError(f"{path}: refused by the Content-Security-Policy: {refused[0]}") from None
            if time.perf_counter() > deadline:
                raise


def run(n_sites: int = 10_000, browser: bool = True, database_url: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(database_url or f"sqlite:///{tmp}/bench.db")
        start = time.perf_counter()
        seed(app, n_sites)
        seeded = time.perf_counter() - start
        with app.app_context():
            results = server_measures(app, n_sites)
            if browser:
                results["browser"] = browser_measures(app)
            from core.extensions import db

            db.session.remove()
            db.engine.dispose()
    naive, ours = results["naive"], results["ours"]
    results["seed_s"] = round(seeded, 2)
    results["ratios"] = {
        "server_time_naive_over_ours_cold": round(naive["server_s"] / max(ours["server_s_cold"], 1e-6), 1),
        "server_time_naive_over_ours_cached": round(
            naive["server_s"] / max(ours["server_s_cached"], 1e-6), 1
        ),
        "bytes_naive_over_ours": round(naive["total_bytes_with_assets"] / ours["total_bytes_with_assets"], 1),
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    print(f"seeding {args.sites} sites and measuring…", file=sys.stderr)
    results = run(args.sites, browser=not args.no_browser)
    text = json.dumps(results, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)
    r = results["ratios"]
    print(f"done: {r['server_time_naive_over_ours_cold']}x less server time (cold), "
          f"{r['bytes_naive_over_ours']}x fewer bytes", file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
