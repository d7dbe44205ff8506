"""Configuration refuses unsafe production settings and normalises database URLs."""

from __future__ import annotations

import pytest

from casework import create_app
from casework.config import DEV_ENCRYPTION_KEYS, ConfigError, from_environment, normalise_database_url


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


def _production(monkeypatch, **env: str) -> None:
    monkeypatch.setenv("CASEWORK_ENV", "production")
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("CASEWORK_IDENTITY_HASH_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/casework")
    for name in ("CASEWORK_ENCRYPTION_KEYS", "CASEWORK_ENCRYPTION_KEY_ID", "CASEWORK_ENCRYPTION_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "CASEWORK_ENCRYPTION_KEYS is not set"),
        ({"CASEWORK_ENCRYPTION_KEYS": "k1:abcd"}, "key 'k1' must be 32 bytes"),
        ({"CASEWORK_ENCRYPTION_KEYS": f"k1:{KEY}", "CASEWORK_ENCRYPTION_KEY_ID": "k2"}, "'k2' is not one of the keys"),
        ({"CASEWORK_ENCRYPTION_KEYS": DEV_ENCRYPTION_KEYS}, "development encryption key"),
        ({"CASEWORK_ENCRYPTION_KEYS": f"k1:{KEY}", "CASEWORK_ENCRYPTION_ENABLED": "off"}, "benchmarks and tests only"),
    ],
)
def test_production_refuses_to_start_without_a_sound_encryption_key_ring(monkeypatch, env, message):
    _production(monkeypatch, **env)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_production_starts_with_a_key_ring(monkeypatch):
    _production(monkeypatch, CASEWORK_ENCRYPTION_KEYS=f"k0:{KEY}")
    assert create_app().extensions["casework.encryption"].current_id == "k0"
