"""Test fixtures: browser (see conftest).

The app under test runs in a thread (werkzeug's `make_server` on 127.0.0.1, port 0) and Playwright drives
Debian's Chromium against it. The server's requests open their own app contexts and sessions on the real
engine, so they see only committed data: browser tests build their data with `committed_db` (real commits,
tables emptied afterwards), never with the rolled-back `db_session`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page
from werkzeug.serving import make_server

from core.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# axe-core, fetched from the npm registry by `make test` (Makefile rule var/axe.min.js), never vendored.
AXE_JS = Path(__file__).resolve().parents[2] / "var" / "axe.min.js"
# What "WCAG 2.1 AA as far as a machine can tell" means here: axe's rules tagged for levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_FAILING_IMPACTS = ("serious", "critical")


def axe_violations(page: Page, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now.

    `exclude` lists CSS selectors axe leaves out: only for third-party widgets, each with its reason
    written beside the call. The script is added as a <script> element, which a strict
    Content-Security-Policy blocks: the pages' tests open their context with `bypass_csp=True`."""
    if not AXE_JS.is_file():
        pytest.fail(
            f"{AXE_JS} est absent : lancez `make test` (ou `make axe`), qui le tire du registre npm.",
            pytrace=False,
        )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    context = {"include": [["html"]], "exclude": [[selector] for selector in exclude]}
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    script = "([context, options]) => axe.run(context, options).then((result) => result.violations)"
    return page.evaluate(script, [context, options])


def assert_accessible(page: Page, exclude: tuple[str, ...] = ()) -> None:
    """Fails on any serious or critical axe violation, naming the rule, its help and the elements."""
    serious = [v for v in axe_violations(page, exclude) if v["impact"] in AXE_FAILING_IMPACTS]
    if serious:
        lines = [f"{page.url}: {len(serious)} violation(s) d'accessibilité graves (axe-core)"]
        for violation in serious:
            lines.append(
                f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
            )
            for node in violation["nodes"][:10]:
                target = " ".join(str(part) for part in node["target"])
                summary = " ".join(node.get("failureSummary", "").split())
                lines.append(f"    {target} — {summary}")
        pytest.fail("\n".join(lines), pytrace=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright launches Debian's Chromium: `playwright install` cannot download one here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(playwright, device: str | None) -> dict:  # noqa: ANN001
    """Replaces pytest-playwright's, which asks for a `base_url` fixture whose fallback definition
    raises a pytest 9 deprecation warning (an error here). Tests take URLs from `live_server`."""
    args: dict = {"locale": "fr-FR", "timezone_id": "Europe/Paris"}
    if device:
        args.update(playwright.devices[device])
    return args


@dataclass
class LiveServer:
    url: str

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def live_server(app, committed_db) -> Iterator[LiveServer]:
    """The test app served over HTTP from a thread, for as long as the test runs.

    Depends on `committed_db`, so whatever the test commits is visible to the server and every table
    is emptied when the test ends (after the server has stopped). Build the test's data after asking
    for this fixture."""
    # The server's sessions (and the test's committed data) use SQLAlchemy's default way of joining
    # transactions, whatever a previous test's rolled-back fixture left configured on the factory.
    db.session.remove()
    db.session.configure(join_transaction_mode="conditional_savepoint")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
