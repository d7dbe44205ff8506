"""Encryption of victim data at rest: AES-256-GCM under a key ring whose keys have ids, so keys rotate.

Why: a database dump, a replica or a backup must not be a list of victims. Identity and contact
fields, free text naming people and referral snapshots are stored as ciphertext
(`casework.models.encrypted` makes the columns do it transparently); matching the same person
keeps working through the keyed hashes (`national_id_hash`, `phone_hash`), never by value.

A stored value is bytes (PostgreSQL `bytea`):

    version (1 byte: 0x01) | key id length (1 byte) | key id (ASCII) | nonce (12 bytes) | ciphertext + tag

The associated data is a label naming the column ("victims.full_name"): a ciphertext copied into
another column does not decrypt. The key id says which key of the ring decrypts it; new values are
written under the current key, and `flask keys rotate` re-encrypts the others. A value under a key
no longer in the ring, or one that fails authentication, raises DecryptionError: never garbage.

Version 0x00 marks a value stored in clear. Only a ring built with `enabled=False` writes it
(benchmarks and tests compare with and without encryption; production refuses the switch), and a
ring with encryption enabled refuses to read it (`flask keys rotate` encrypts such values).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app

from casework.config import ConfigError

VERSION_CLEAR = 0x00
VERSION_AES_GCM = 0x01
NONCE_BYTES = 12
KEY_BYTES = 32  # AES-256
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
EXTENSION = "casework.encryption"


class DecryptionError(RuntimeError):
    """A stored value cannot be read: its key is not in the ring, or it was altered. The message
    names the key id and the column label only, never the value."""


def generate_key() -> str:
    """A new random AES-256 key, base64, for CASEWORK_ENCRYPTION_KEYS."""
    return base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode()


def fingerprint(key: bytes) -> str:
    """A public check value of a key (HMAC-SHA256 under the key of a fixed text), hex."""
    return hmac.new(key, b"casework encryption key fingerprint", hashlib.sha256).hexdigest()


def parse_keys(text: str) -> dict[str, bytes]:
    """'kid1:base64key,kid2:base64key' -> {kid: key}; ConfigError naming what is wrong (never a key)."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        key_id = key_id.strip()
        if not sep or not KEY_ID.match(key_id):
            raise ConfigError(
                "CASEWORK_ENCRYPTION_KEYS must be 'id:base64key,...' with ids of letters, digits, '.', '_' or '-' "
                "(at most 32); generate a key with `flask keys generate`."
            )
        if key_id in keys:
            raise ConfigError(f"CASEWORK_ENCRYPTION_KEYS names key id {key_id!r} twice.")
        try:
            key = base64.b64decode(encoded.strip().replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"CASEWORK_ENCRYPTION_KEYS: key {key_id!r} is not valid base64.") from None
        if len(key) != KEY_BYTES:
            raise ConfigError(f"CASEWORK_ENCRYPTION_KEYS: key {key_id!r} must be {KEY_BYTES} bytes (AES-256).")
        keys[key_id] = key
    return keys


class KeyRing:
    """The keys that decrypt, and the current one that encrypts new values."""

    def __init__(self, keys: Mapping[str, bytes], current_id: str, *, enabled: bool = True) -> None:
        if current_id not in keys:
            raise ConfigError(
                f"CASEWORK_ENCRYPTION_KEY_ID {current_id!r} is not one of the keys in CASEWORK_ENCRYPTION_KEYS "
                f"({', '.join(sorted(keys)) or 'none'})."
            )
        self.keys = dict(keys)
        self.current_id = current_id
        self.enabled = enabled
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = self._ciphers[current_id]
        self.current_header = header(current_id)

    def encrypt(self, plaintext: bytes, label: str) -> bytes:
        """The stored form of plaintext for the column `label`, under the current key."""
        if not self.enabled:
            return bytes((VERSION_CLEAR,)) + plaintext
        nonce = os.urandom(NONCE_BYTES)
        return self.current_header + nonce + self._current.encrypt(nonce, plaintext, label.encode())

    def decrypt(self, stored: bytes, label: str, *, allow_clear: bool = False) -> bytes:
        """The plaintext of a stored value; DecryptionError if it cannot be read faithfully."""
        if not stored:
            raise DecryptionError(f"{label}: empty stored value")
        version = stored[0]
        if version == VERSION_CLEAR:
            if self.enabled and not allow_clear:
                raise DecryptionError(f"{label}: value stored in clear; run `flask keys rotate` to encrypt it")
            return stored[1:]
        if version != VERSION_AES_GCM or len(stored) < 2:
            raise DecryptionError(f"{label}: unknown ciphertext format {version}")
        key_id = key_id_of(stored)
        cipher = self._ciphers.get(key_id or "")
        if cipher is None:
            raise DecryptionError(
                f"{label}: encrypted under key id {key_id!r}, which is not in CASEWORK_ENCRYPTION_KEYS; "
                "add that key back to the ring"
            )
        start = 2 + stored[1]
        nonce = stored[start : start + NONCE_BYTES]
        try:
            return cipher.decrypt(nonce, stored[start + NONCE_BYTES :], label.encode())
        except InvalidTag:
            raise DecryptionError(
                f"{label}: authentication failed under key id {key_id!r} (wrong key for that id, or altered data)"
            ) from None

    def reencrypt(self, stored: bytes, label: str) -> bytes:
        """The value under the current key (values in clear are encrypted)."""
        return self.encrypt(self.decrypt(stored, label, allow_clear=True), label)


def header(key_id: str) -> bytes:
    """The prefix of every value encrypted under key_id (what rotation looks for)."""
    encoded = key_id.encode("ascii")
    return bytes((VERSION_AES_GCM, len(encoded))) + encoded


def key_id_of(stored: bytes) -> str | None:
    """The key id a stored value names; None for a value in clear."""
    if not stored or stored[0] != VERSION_AES_GCM:
        return None
    return bytes(stored[2 : 2 + stored[1]]).decode("ascii", errors="replace")


def ring_from_config(config: Mapping[str, Any]) -> KeyRing:
    """The ring the configuration describes; ConfigError if it is missing or malformed."""
    text = config.get("ENCRYPTION_KEYS")
    if not text:
        raise ConfigError(
            "CASEWORK_ENCRYPTION_KEYS is not set. Outside development victim data is encrypted under keys from it:"
            " `flask keys generate` prints a key; set CASEWORK_ENCRYPTION_KEYS=k1:<key>"
            " and CASEWORK_ENCRYPTION_KEY_ID=k1."
        )
    keys = parse_keys(text)
    if not keys:
        raise ConfigError("CASEWORK_ENCRYPTION_KEYS holds no key.")
    current_id = config.get("ENCRYPTION_KEY_ID")
    if not current_id:
        if len(keys) > 1:
            raise ConfigError("CASEWORK_ENCRYPTION_KEY_ID must name the current key when the ring holds several.")
        [current_id] = keys
    return KeyRing(keys, current_id, enabled=bool(config.get("ENCRYPTION_ENABLED", True)))


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = ring_from_config(app.config)


def ring() -> KeyRing:
    """The running app's key ring."""
    return current_app.extensions[EXTENSION]
