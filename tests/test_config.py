"""Configuration refuses unsafe production settings and normalises database URLs."""

from __future__ import annotations

import pytest

from casework import create_app
from casework.config import ConfigError, from_environment, normalise_database_url


def test_production_without_secret_key_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("CASEWORK_ENV", "production")
    monkeypatch.delenv("CASEWORK_SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/casework")
    with pytest.raises(ConfigError, match="CASEWORK_SECRET_KEY is not set"):
        create_app()


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("CASEWORK_ENV", "production")
    monkeypatch.delenv("CASEWORK_SECURE_COOKIES", raising=False)
    assert from_environment()["SESSION_COOKIE_SECURE"] is True


def test_development_secret_refused_in_production(monkeypatch):
    monkeypatch.setenv("CASEWORK_ENV", "production")
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "dev-only-not-secret")
    monkeypatch.setenv("CASEWORK_IDENTITY_HASH_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/casework")
    with pytest.raises(ConfigError, match="development secret"):
        create_app()


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgresql://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ],
)
def test_database_urls_use_psycopg2(given, expected):
    assert normalise_database_url(given) == expected
