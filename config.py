"""Settings from the environment, with development defaults that work with no set-up.

Every setting is listed in the README's configuration table. In production
(``CC_ENV=production``) the secrets must be given: the app refuses to start without them.
"""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CC_INSTANCE_DIR", BASE_DIR / "instance"))


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def _bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name, default):
    value = os.environ.get(name)
    try:
        return int(value) if value not in (None, "") else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


def _dev_secret(filename):
    """A random secret kept in the instance folder so that dev restarts keep sessions."""
    path = INSTANCE_DIR / filename
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def load(overrides=None):
    """Return the settings dict for both apps; ``overrides`` (tests) win over the environment."""
    env = os.environ.get("CC_ENV", "development")
    production = env == "production"
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set when CC_ENV=production")
        secret = _dev_secret("secret_key")
    settings = {
        "ENV": env,
        "SECRET_KEY": secret,
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'cards.db'}"),
        # Public base URLs, used in emailed links and printed by `cards serve`.
        "PORTAL_URL": os.environ.get("PORTAL_URL", "http://127.0.0.1:5000"),
        "STAFF_URL": os.environ.get("STAFF_URL", "http://127.0.0.1:5000/staff"),
        "BUSINESS_NAME": os.environ.get("BUSINESS_NAME", "Customer Cards"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "zh"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "CURRENCY": os.environ.get("CURRENCY", "CNY"),
        # Mail: "outbox" keeps mail in the database for /staff/outbox; smtp://host:port sends.
        "MAIL_URL": os.environ.get("MAIL_URL", "outbox"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_STARTTLS": _bool("MAIL_STARTTLS", False),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "cards@example.com"),
        "MAIL_FROM_NAME": os.environ.get("MAIL_FROM_NAME", "Customer Cards"),
        # Jobs: sqlite:///path (embedded), redis://..., or postgres://... (huey SqlHuey).
        "HUEY_URL": os.environ.get("HUEY_URL", f"sqlite:///{INSTANCE_DIR / 'jobs.db'}"),
        "HUEY_IMMEDIATE": _bool("HUEY_IMMEDIATE", False),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 12),
        "SESSION_COOKIE_SECURE": _bool("COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 20) * 1024 * 1024,
        "DEMO_DATA": _bool("DEMO_DATA", not production),
        # Customers may open a card themselves at /register (it arrives as a prospect).
        "SELF_REGISTRATION": _bool("SELF_REGISTRATION", False),
        # Per-field policy of "My details", e.g. "name=auto,company=locked" (see README).
        "PORTAL_FIELD_POLICY": os.environ.get("PORTAL_FIELD_POLICY", ""),
        # Sensitive fields (ID numbers, custom fields marked sensitive) are encrypted at rest:
        # comma-separated Fernet keys, the first encrypts, all decrypt (add a new key first,
        # run `cards rotate-keys`, then drop the old one). FIELD_HMAC_KEY keys the lookup hash.
        # Unset in development: both are derived from SECRET_KEY; production requires them.
        "FIELD_ENCRYPTION_KEYS": os.environ.get("FIELD_ENCRYPTION_KEYS", ""),
        "FIELD_HMAC_KEY": os.environ.get("FIELD_HMAC_KEY", ""),
        # Admins must use two-factor sign-in (TOTP): an admin without it is sent to enrolment
        # right after the password step and can do nothing else until enrolled.
        "REQUIRE_ADMIN_2FA": _bool("REQUIRE_ADMIN_2FA", True),
        "WTF_CSRF_TIME_LIMIT": None,
        "TESTING": False,
    }
    settings.update(overrides or {})
    return settings
