"""Settings, read from environment variables in one place.

Nothing here touches the network or the clock at import time: `Config.from_env()` is called
by the app factory, the CLI and the workers when they start.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SOURCE_ROOT = Path(__file__).resolve().parent.parent
# Where migrations/ and instance/ (the embedded database, a generated secret key) live: the
# checkout when running from source, the working directory when the package is installed (the
# image's /app: site-packages holds neither and is not ours to write).
PROJECT_ROOT = _SOURCE_ROOT if (_SOURCE_ROOT / "pyproject.toml").exists() else Path.cwd()
INSTANCE_DIR = PROJECT_ROOT / "instance"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str) -> int:
    return int(value.strip())


def default_database_url() -> str:
    """The embedded database used when DATABASE_URL is not set."""
    return f"sqlite:///{INSTANCE_DIR / 'agency.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` spellings and use psycopg 3 for both."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _local_secret_key(instance_dir: Path | None = None) -> str:
    """Without SECRET_KEY, a random key kept in instance/secret_key (mode 0600), so sessions work
    across the web workers of one machine and survive a restart. Production sets SECRET_KEY."""
    instance_dir = instance_dir or INSTANCE_DIR
    path = instance_dir / "secret_key"
    if not path.exists():
        try:
            instance_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; read theirs below
        except PermissionError:
            raise RuntimeError(
                f"SECRET_KEY is not set and {instance_dir} is not writable to keep a generated "
                "one: set SECRET_KEY (see .env.example)."
            ) from None
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    for _ in range(50):  # a concurrent creator may not have written the key yet
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it or set SECRET_KEY")


@dataclass
class Config:
    """Every setting the web app, CLI and workers read. Environment names are the field names
    in upper case (see `.env.example`)."""

    database_url: str = field(default_factory=default_database_url)
    redis_url: str = ""
    secret_key: str = ""
    base_currency: str = "EUR"
    # The agency's time zone (IANA name): its books are kept by its calendar, so invoices,
    # credit notes, payments and adjustments made without a date are dated its "today".
    agency_timezone: str = "UTC"
    # Public address of the UI, used in email links.
    public_url: str = "http://127.0.0.1:5000"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_use_tls: bool = False
    smtp_use_ssl: bool = False
    smtp_from: str = "Agency alerts <alerts@agency.local>"
    token_ttl_hours: int = 24 * 30
    login_rate_limit: str = "10 per minute"
    max_upload_mb: int = 20
    log_level: str = "INFO"
    log_json: bool = True
    session_cookie_secure: bool = False
    # A UI sign-in ends after this many hours, or with "remember me" this many days after sign-in
    # (each time the remember-me cookie restores it, the days start again).
    session_hours: int = 12
    remember_days: int = 30
    # Prometheus metrics at /metrics; scrapers send METRICS_TOKEN as a bearer token. Without a
    # token /metrics answers 401, unless METRICS_OPEN=true opens it (a private network only).
    metrics_enabled: bool = True
    metrics_token: str = ""
    metrics_open: bool = False
    # Errors are reported to Sentry when set and the sentry-sdk package is installed.
    sentry_dsn: str = ""
    # Eligibility: creators at or above this fraction of a threshold are "near" it.
    near_threshold_margin: str = "0.90"
    # A latest metric value older than this many days is stale: it is shown with its date and passes nothing.
    stale_metric_days: int = 7
    # Recomputes work through the roster in chunks of this many creators (one job per chunk with Redis).
    recompute_chunk_size: int = 5000
    # Seconds before each retry of a failed background job; after the last one it is parked as failed.
    job_retry_delays: str = "10,60,300"
    diversification_window_days: int = 90
    # Risk levels of the revenue mix: HHI over sources, and the top platform's share.
    risk_hhi_high: str = "0.50"
    risk_hhi_medium: str = "0.25"
    risk_platform_high: str = "0.70"
    risk_platform_medium: str = "0.50"
    # Agency commission on revenue not tied to a deal (deals carry their own percentage).
    default_commission_percent: str = "20.00"
    # Password hashing parameters: "default" (argon2-cffi's RFC 9106 profile); the tests use "cheapest".
    password_hash_profile: str = "default"
    testing: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Config:
        environ = dict(os.environ if environ is None else environ)
        values: dict = {}
        for f in fields(cls):
            raw = environ.get(f.name.upper())
            if raw is None or raw == "":
                continue
            if f.type in ("bool", bool):
                values[f.name] = _bool(raw)
            elif f.type in ("int", int):
                values[f.name] = _int(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        config = cls(**values)
        config.database_url = normalise_database_url(config.database_url)
        if not config.secret_key:
            config.secret_key = _local_secret_key()
        config.base_currency = config.base_currency.upper()
        try:
            ZoneInfo(config.agency_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"AGENCY_TIMEZONE={config.agency_timezone!r} is not a time zone name (e.g. Europe/Paris, UTC)"
            ) from None
        return config

    def today(self, now: datetime | None = None) -> date:
        """The agency's current day, in its time zone."""
        return (now or datetime.now(UTC)).astimezone(ZoneInfo(self.agency_timezone)).date()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def flask_settings(self) -> dict:
        return {
            "SECRET_KEY": self.secret_key,
            "TESTING": self.testing,
            "MAX_CONTENT_LENGTH": self.max_upload_mb * 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.session_cookie_secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": self.session_cookie_secure,
            "REMEMBER_COOKIE_DURATION": timedelta(days=self.remember_days),
            "API_TITLE": "Agency API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "/docs",
            "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_HEADERS_ENABLED": True,
            # A dead Redis must not take the API down: limits fall back to per-process memory.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
            "WTF_CSRF_TIME_LIMIT": None,
        }
