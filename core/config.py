"""Configuration from the environment (twelve-factor): every setting has an environment variable."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{PROJECT_ROOT / 'instance' / 'soce.db'}"
    # Heroku-style URLs name the old driver; we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# Long on purpose: every setting in one table read top to bottom; split by topic, a key is harder to find.
def load_config() -> dict:
    """Read the settings once, when the app is built (so tests can change the environment)."""
    env = os.environ.get("APP_ENV", "production")
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if env not in {"development", "testing"}:
            raise RuntimeError("SECRET_KEY must be set outside development (APP_ENV=development).")
        secret = "dev-only-insecure-secret"
    return {
        "APP_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Public base URL of every absolute link (e-mails, API answers): never the request's Host header.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # How long a link e-mailed to a visitor to download or erase all their data stays valid (seconds).
        "PRIVACY_LINK_MAX_AGE": int(os.environ.get("PRIVACY_LINK_MAX_AGE", "86400")),
        # The reminder of a visit (its ticket again, what to bring, a link to free one's seats): days before.
        "BOOKING_REMINDER_DAYS": int(os.environ.get("BOOKING_REMINDER_DAYS", "2")),
        # How long seats offered to a waiting party stay held for it (hours; less as the visit nears).
        "WAITLIST_OFFER_HOURS": float(os.environ.get("WAITLIST_OFFER_HOURS", "48")),
        # Mail: a real SMTP server when MAIL_SERVER is set, else files in MAIL_OUTBOX_DIR.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Soce <no-reply@soce.fr>"),
        "MAIL_OUTBOX_DIR": os.environ.get("MAIL_OUTBOX_DIR", str(PROJECT_ROOT / "instance" / "outbox")),
        # Who sends the queue: "worker" (`flask mail worker`; requests only queue) or "inline" (the request,
        # after its commit). Inline by default where no worker runs: the dev server and the tests.
        "MAIL_DELIVERY": os.environ.get(
            "MAIL_DELIVERY", "inline" if env in {"development", "testing"} else "worker"
        ),
        # Geocoding: "offline" (gazetteer only), "ban" (national address base) or "nominatim".
        "GEOCODER": os.environ.get("GEOCODER", "offline"),
        "GEOCODER_BAN_DOMAIN": os.environ.get("GEOCODER_BAN_DOMAIN", "data.geopf.fr/geocodage"),
        "GEOCODER_NOMINATIM_DOMAIN": os.environ.get(
            "GEOCODER_NOMINATIM_DOMAIN", "nominatim.openstreetmap.org"
        ),
        "GEOCODER_SCHEME": os.environ.get("GEOCODER_SCHEME", "https"),
        "GEOCODER_TIMEOUT": float(os.environ.get("GEOCODER_TIMEOUT", "5")),
        "GEOCODER_USER_AGENT": os.environ.get("GEOCODER_USER_AGENT", "soce-platform/0.1 (contact@soce.fr)"),
        # The gazetteer built by the set-up from registry packages (see scripts/build_gazetteer.py).
        "GAZETTEER_FILE": os.environ.get("GAZETTEER_FILE", str(PROJECT_ROOT / "var" / "gazetteer.csv")),
        # Base-map tiles: the one external resource of the maps; a deployment may run its own tile server.
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "MAP_TILE_ATTRIBUTION": os.environ.get(
            "MAP_TILE_ATTRIBUTION",
            '&copy; <a href="https://www.openstreetmap.org/copyright">les contributeurs d\'OpenStreetMap</a>',
        ),
        "API_TOKEN_MAX_AGE": int(os.environ.get("API_TOKEN_MAX_AGE", str(24 * 3600))),
        # Cookies: never readable by scripts, not sent on cross-site posts, HTTPS-only outside a laptop.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env not in {"development", "testing"}),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env not in {"development", "testing"}),
        # Behind N reverse proxies, trust their X-Forwarded-For/-Proto/-Host (werkzeug's ProxyFix).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "HSTS_MAX_AGE": int(os.environ.get("HSTS_MAX_AGE", str(365 * 24 * 3600))),
        # Rate limits (Flask-Limiter, per client address). Off in the test suite, whose thousands of
        # sign-ins come from 127.0.0.1; tests of the limits switch them on. Several app servers must
        # share one storage: RATELIMIT_STORAGE_URI=redis://host:6379/0.
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", env != "testing"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "soce"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis gone: each process keeps counting in memory rather than refusing every sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_LOGIN": os.environ.get("RATELIMIT_LOGIN", "10 per minute;60 per hour"),
        "RATELIMIT_SIGNUP": os.environ.get("RATELIMIT_SIGNUP", "5 per minute;30 per hour"),
        "RATELIMIT_PASSWORD_RESET": os.environ.get("RATELIMIT_PASSWORD_RESET", "5 per minute;30 per hour"),
        "RATELIMIT_BOOKING": os.environ.get("RATELIMIT_BOOKING", "20 per minute;200 per hour"),
        # Sign-in lockout per e-mail address (same storage as the rate limits); 0 attempts disables it.
        "LOGIN_LOCKOUT_ATTEMPTS": int(os.environ.get("LOGIN_LOCKOUT_ATTEMPTS", "5")),
        "LOGIN_LOCKOUT_MINUTES": int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")),
        # Admission control of bookings, per process (core/admission.py): this many at once, this many more
        # waiting at most BOOKING_WAIT_SECONDS for a turn, the rest answered 503 `busy` with Retry-After.
        # 0 in flight switches it off. Sizing with gunicorn's threads: README.md, "Production".
        "BOOKINGS_IN_FLIGHT": int(os.environ.get("BOOKINGS_IN_FLIGHT", "4")),
        "BOOKINGS_WAITING": int(os.environ.get("BOOKINGS_WAITING", "8")),
        "BOOKING_WAIT_SECONDS": float(os.environ.get("BOOKING_WAIT_SECONDS", "2")),
        "BOOKING_RETRY_AFTER": int(os.environ.get("BOOKING_RETRY_AFTER", "1")),
        # Seconds a client is asked to wait (Retry-After) when the database is unreachable.
        "DATABASE_RETRY_AFTER": int(os.environ.get("DATABASE_RETRY_AFTER", "30")),
        "WTF_CSRF_TIME_LIMIT": None,
        # Largest request body (413 beyond): an intervention CSV of 2,000 long rows fits; JSON is far smaller.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(4 * 1024 * 1024))),
        # flask-smorest: the OpenAPI document is generated from the marshmallow schemas.
        "API_TITLE": "Soce — JOU & PMI",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
    }
