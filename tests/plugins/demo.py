"""Test fixtures: demo (see conftest).

`demo` (module scope) loads the demo data (`flask --app wsgi fixtures load`) once for the test module that
asks for it, inside a transaction rolled back after the module's tests (like `db_session`, but module-wide:
loading takes a few seconds); the tests read it.
"""

from __future__ import annotations

import pytest

from core import geography
from core.extensions import db
from fixtures.loader import load_demo
from tests.plugins.geo import SHARED_COMMUNES


@pytest.fixture(scope="module")
def demo(app):
    """The demo loaded once, rolled back after the module's tests."""
    with app.app_context(), pytest.MonkeyPatch.context() as monkeypatch:
        connection = db.engine.connect()
        outer = connection.begin()
        monkeypatch.setitem(db.engines, None, connection)
        db.session.remove()
        mode = db.session.session_factory.kw.get("join_transaction_mode", "conditional_savepoint")
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            if SHARED_COMMUNES.is_file() and not geography.gazetteer_loaded():
                geography.import_gazetteer(geography.read_gazetteer(SHARED_COMMUNES))
            # Otherwise the loader imports the project's own gazetteer (var/gazetteer.csv).
            yield load_demo()
        finally:
            db.session.remove()
            db.session.configure(join_transaction_mode=mode)
            outer.rollback()
            connection.close()
