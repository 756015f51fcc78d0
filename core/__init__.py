"""Shared core of the platform: the application factory and what jou and pmi both use."""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.config import PROJECT_ROOT, load_config


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    from core.routing import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added

    from core import validation  # French marshmallow messages before any schema loads
    from core.api import api
    from core.errors import register_error_handlers
    from core.extensions import csrf, db, login_manager, migrate

    _register_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    api.init_app(app)
    register_error_handlers(app)
    # First of the request hooks: no NUL, lone surrogate or runaway JSON reaches a view (core.validation).
    app.before_request(validation.guard_request)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)

    _register_blueprints(app, api)
    from core import admission, retry, security, uow

    uow.init_app(app)  # one commit per request, after the view; mail delivered after it
    retry.init_app(app)  # deadlocks run the view again, once; before security, so a limit counts it once
    admission.init_app(app)  # bookings in flight per process bounded; the turn covers retry and commit
    security.init_app(app)  # after the blueprints: rate limits wrap their views
    _register_cli(app)
    _register_template_helpers(app)
    return app


# Every module that declares tables, in one place: the metadata Alembic and the migrations test compare
# holds them all, whichever pages a process imports (no model module imports another to register it).
MODEL_MODULES = (
    "core.audit",
    "core.auth.models",
    "core.geography.models",
    "core.mail",
    "core.schools.models",
    "jou.models",
    "jou.bookings.models",
    "jou.checkin.models",
    "pmi.models",
    "pmi.transports.models",
)


def _register_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)


def _register_blueprints(app: Flask, api) -> None:  # noqa: ANN001
    from core import audit_views, views
    from core.auth import api as auth_api
    from core.auth import views as auth_views
    from core.extensions import csrf
    from core.geography import views as geo_views
    from core.schools import api as schools_api
    from jou import api as jou_api
    from jou import views as jou_views
    from jou.bookings import privacy_views
    from jou.bookings import views as booking_views
    from jou.bookings import views_files as booking_files_views
    from jou.checkin import api as checkin_api
    from jou.checkin import views as checkin_views
    from maps import api as maps_api
    from maps import views as maps_views
    from pmi import api as pmi_api
    from pmi import views as pmi_views
    from pmi.transports import api as transports_api
    from pmi.transports import views as transports_views
    from stats import api as stats_api
    from stats import views as stats_views

    pages = (
        views.bp, auth_views.bp, jou_views.bp, booking_views.bp, booking_files_views.bp, privacy_views.bp,
        checkin_views.bp,
        geo_views.bp, pmi_views.bp, transports_views.bp, maps_views.bp, audit_views.bp, stats_views.bp,
    )  # fmt: skip
    for bp in pages:
        app.register_blueprint(bp)
    apis = (
        auth_api.blp, schools_api.schools_blp, *jou_api.blueprints, *checkin_api.blueprints, *pmi_api.blueprints,
        *transports_api.blueprints, *maps_api.blueprints, *stats_api.blueprints,
    )  # fmt: skip
    for blp in apis:
        api.register_blueprint(blp)
        # The JSON API authenticates with bearer tokens, never with the session cookie, so CSRF
        # (a cookie-borne attack) does not apply to it.
        csrf.exempt(blp)


def _register_cli(app: Flask) -> None:
    from core.cli import backup_command, mail_cli, messages_cli, users_cli
    from core.geography.cli import geo_cli
    from fixtures.cli import fixtures_cli
    from jou.bookings.cli import privacy_cli
    from jou.cli import doctor_command
    from jou.cli import refresh_command as refresh_sites_command
    from pmi.cli import pmi_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(doctor_command)
    app.cli.add_command(mail_cli)
    app.cli.add_command(messages_cli)
    app.cli.add_command(fixtures_cli)
    geo_cli.add_command(refresh_sites_command)  # `flask geo refresh`: jou's sites, in core's group
    app.cli.add_command(geo_cli)
    app.cli.add_command(pmi_cli)
    app.cli.add_command(privacy_cli)


def _register_template_helpers(app: Flask) -> None:
    from core import formatting
    from core.auth.permissions import can

    formatting.register(app)
    # Templates decide what to show with the same rule the routes enforce: can(current_user, "…", obj).
    app.jinja_env.globals["can"] = can


def _configure_sqlite(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, issue BEGIN, so SAVEPOINTs and transactions behave
    (SQLAlchemy's SQLite dialect docs); enforce foreign keys; wait for locks instead of failing."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN")

    from core.locking import track_sqlite_writes

    track_sqlite_writes(engine)
