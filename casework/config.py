"""Configuration: defaults, then CASEWORK_* / DATABASE_URL / REDIS_URL from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

DEV_SECRET = "dev-only-not-secret"  # noqa: S105 - refused outside development, see validate()
# The development and test encryption key ring (casework.encryption): public, so refused outside them.
DEV_ENCRYPTION_KEYS = "dev:fB0mZJ5DjEPQcDtM0l3czjGvULd0U6m/N/KVfIyMUjE="


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration is unsafe or incomplete."""


def normalise_database_url(url: str) -> str:
    """Make a libpq-style URL use psycopg2 (SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict[str, Any]:
    """Read the settings from the environment; nothing is read at import time."""
    env = os.environ.get("CASEWORK_ENV", "production")
    development = env in {"development", "test"}
    cfg: dict[str, Any] = {
        "CASEWORK_ENV": env,
        "SECRET_KEY": os.environ.get("CASEWORK_SECRET_KEY") or (DEV_SECRET if development else None),
        # Keyed hash for recognising the same victim across organisations (HMAC-SHA256).
        "IDENTITY_HASH_KEY": os.environ.get("CASEWORK_IDENTITY_HASH_KEY") or (DEV_SECRET if development else None),
        # Victim data at rest (casework.encryption): 'id:base64key,...' and the id that encrypts new values.
        "ENCRYPTION_KEYS": os.environ.get("CASEWORK_ENCRYPTION_KEYS") or (DEV_ENCRYPTION_KEYS if development else None),
        "ENCRYPTION_KEY_ID": os.environ.get("CASEWORK_ENCRYPTION_KEY_ID") or None,
        # Off only for benchmarks and tests comparing with and without it (refused in production).
        "ENCRYPTION_ENABLED": _env_bool("CASEWORK_ENCRYPTION_ENABLED", True),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(os.environ.get("DATABASE_URL", "")),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "QUEUE_PREFIX": os.environ.get("CASEWORK_QUEUE_PREFIX", ""),
        "SESSION_COOKIE_SECURE": _env_bool("CASEWORK_SECURE_COOKIES", not development),
        "TRUSTED_PROXIES": int(os.environ.get("CASEWORK_TRUSTED_PROXIES", "0")),
        "ARGON2_TIME_COST": int(os.environ.get("CASEWORK_ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(os.environ.get("CASEWORK_ARGON2_MEMORY_COST", str(64 * 1024))),
        "SUPPRESSION_THRESHOLD": int(os.environ.get("CASEWORK_SUPPRESSION_THRESHOLD", "5")),
        "IDLE_TIMEOUT": timedelta(minutes=int(os.environ.get("CASEWORK_IDLE_TIMEOUT_MINUTES", "30"))),
        "MAX_CONTENT_LENGTH": int(os.environ.get("CASEWORK_MAX_BODY_BYTES", str(2 * 1024 * 1024))),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("CASEWORK_LOGIN_LIMIT_PER_ADDRESS", "10 per minute;50 per hour"),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("CASEWORK_LOGIN_LIMIT_PER_ACCOUNT", "3 per minute"),
        # Line list exports must come with a password (the file is then encrypted).
        "LINE_LIST_REQUIRES_PASSWORD": os.environ.get("CASEWORK_LINE_LIST_REQUIRES_PASSWORD", "") in {"1", "true"},
    }
    return cfg


DEFAULTS: dict[str, Any] = {
    # No ping per checkout: it cost ~2.5 ms of a ~14 ms case intake. A connection broken by a
    # database restart is detected on use instead (the pool is then refreshed and the request
    # answers 503 "retry"), and connections are recycled before idle timeouts can cut them.
    # hide_parameters: a database error's text never holds the values written (victim identity).
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False, "pool_recycle": 1800, "hide_parameters": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "casework_session",
    # The cookie only carries the session id; expiry is enforced on the server row, so there is
    # no need to re-sign and re-send the cookie on every response.
    "SESSION_REFRESH_EACH_REQUEST": False,
    # Our own server-side session rows enforce both limits; the cookie just carries the id.
    "IDLE_TIMEOUT": timedelta(minutes=30),
    "ABSOLUTE_TIMEOUT": timedelta(hours=12),
    "LOCKOUT_ATTEMPTS": 5,
    "LOCKOUT_WINDOW": timedelta(minutes=15),
    "LOCKOUT_DURATION": timedelta(minutes=30),
    # Second factor (TOTP, RFC 6238: 30-second steps, 6 digits). A code of the step before or after
    # the current one is accepted too (clock drift); each step is accepted once per user.
    "MFA_VALID_WINDOW": 1,
    "MFA_ISSUER": "casework",  # the account's label in authenticator apps
    "MFA_RECOVERY_CODES": 10,
    # A session opened by the password alone (second factor still due) holds no rights, and ends
    # this soon if the second step does not follow.
    "MFA_PENDING_TIMEOUT": timedelta(minutes=5),
    "PASSWORD_MIN_LENGTH": 12,
    "MAX_PER_PAGE": 100,
    "JSON_SORT_KEYS": False,
    # flask-smorest / OpenAPI
    "API_TITLE": "casework",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Served from the flask-swagger-ui package by casework.api.docs, so no CDN is needed.
    "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
}


def apply_development_defaults(config: dict[str, Any]) -> None:
    """In development and tests (however the mode was set), the fixed secrets stand in."""
    if config.get("CASEWORK_ENV") in {"development", "test"}:
        for name in ("SECRET_KEY", "IDENTITY_HASH_KEY"):
            config[name] = config.get(name) or DEV_SECRET
        if not config.get("ENCRYPTION_KEYS"):
            config["ENCRYPTION_KEYS"], config["ENCRYPTION_KEY_ID"] = DEV_ENCRYPTION_KEYS, None


def validate(config: dict[str, Any]) -> None:
    """Refuse to start with a missing secret or database outside development."""
    if not config.get("SECRET_KEY"):
        raise ConfigError(
            "CASEWORK_SECRET_KEY is not set. Outside development a secret key is required: "
            "generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    if not config.get("IDENTITY_HASH_KEY"):
        raise ConfigError("CASEWORK_IDENTITY_HASH_KEY is not set (needed to match victims privately).")
    if config.get("CASEWORK_ENV") not in {"development", "test"} and config.get("SECRET_KEY") == DEV_SECRET:
        raise ConfigError("The development secret key cannot be used outside development.")
    if config.get("CASEWORK_ENV") not in {"development", "test"}:
        if config.get("ENCRYPTION_KEYS") == DEV_ENCRYPTION_KEYS:
            raise ConfigError("The development encryption key cannot be used outside development.")
        if not config.get("ENCRYPTION_ENABLED", True):
            raise ConfigError("CASEWORK_ENCRYPTION_ENABLED=off is for benchmarks and tests only.")
    threshold = config.get("SUPPRESSION_THRESHOLD", 5)
    if not isinstance(threshold, int) or threshold < 1:
        raise ConfigError("CASEWORK_SUPPRESSION_THRESHOLD must be a whole number, at least 1 (default 5).")
    if threshold == 1 and config.get("CASEWORK_ENV") not in {"development", "test"}:
        raise ConfigError(
            "CASEWORK_SUPPRESSION_THRESHOLD=1 means exact statistics for everyone, allowed only in development "
            "and tests. In production use 5 or more."
        )
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        raise ConfigError("DATABASE_URL is not set (use `make run` for an embedded database).")
