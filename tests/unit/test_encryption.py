"""The key ring: AES-GCM values carry their key id, are bound to their column, and never decrypt to garbage."""

from __future__ import annotations

import base64

import pytest

from casework.config import ConfigError
from casework.encryption import DecryptionError, KeyRing, generate_key, key_id_of, parse_keys, ring_from_config

K1, K2 = bytes(range(32)), bytes(range(1, 33))


def _ring(current: str = "k1", **keys: bytes) -> KeyRing:
    return KeyRing(keys or {"k1": K1}, current)


def test_a_value_round_trips_and_names_its_key():
    ring = _ring()
    stored = ring.encrypt(b"Nur Aisyah", "victims.full_name")
    assert b"Nur Aisyah" not in stored and key_id_of(stored) == "k1"
    assert stored[0] == 1 and stored[2:4] == b"k1"
    assert ring.decrypt(stored, "victims.full_name") == b"Nur Aisyah"


def test_the_same_value_encrypts_differently_every_time():
    ring = _ring()
    assert ring.encrypt(b"x", "victims.phone") != ring.encrypt(b"x", "victims.phone")


def test_a_value_moved_to_another_column_does_not_decrypt():
    ring = _ring()
    with pytest.raises(DecryptionError, match="victims.email: authentication failed"):
        ring.decrypt(ring.encrypt(b"x", "victims.phone"), "victims.email")


def test_an_altered_value_is_refused():
    stored = bytearray(_ring().encrypt(b"990101-14-5678", "victims.national_id"))
    stored[-1] ^= 1
    with pytest.raises(DecryptionError, match="authentication failed"):
        _ring().decrypt(bytes(stored), "victims.national_id")


def test_a_value_under_a_key_no_longer_in_the_ring_is_a_clear_error():
    old = _ring("k1", k1=K1).encrypt(b"secret", "victims.full_name")
    with pytest.raises(DecryptionError, match="key id 'k1', which is not in CASEWORK_ENCRYPTION_KEYS"):
        _ring("k2", k2=K2).decrypt(old, "victims.full_name")


def test_the_wrong_key_under_a_known_id_is_refused_not_garbage():
    stored = _ring("k1", k1=K1).encrypt(b"secret", "victims.full_name")
    with pytest.raises(DecryptionError, match="wrong key"):
        _ring("k1", k1=K2).decrypt(stored, "victims.full_name")


def test_old_and_new_keys_both_decrypt_and_rotation_moves_to_the_current_one():
    old = _ring("k1", k1=K1).encrypt(b"a", "victims.email")
    ring = _ring("k2", k1=K1, k2=K2)
    new = ring.reencrypt(old, "victims.email")
    assert key_id_of(new) == "k2" and ring.decrypt(new, "victims.email") == ring.decrypt(old, "victims.email") == b"a"


def test_values_in_clear_are_read_only_with_encryption_disabled_or_by_rotation():
    off = KeyRing({"k1": K1}, "k1", enabled=False)
    clear = off.encrypt(b"plain", "victims.phone")
    assert clear == b"\x00plain" and off.decrypt(clear, "victims.phone") == b"plain"
    with pytest.raises(DecryptionError, match="stored in clear"):
        _ring().decrypt(clear, "victims.phone")
    assert key_id_of(_ring().reencrypt(clear, "victims.phone")) == "k1"


def test_keys_parse_from_configuration():
    text = f"k1:{base64.b64encode(K1).decode()}, k2:{base64.urlsafe_b64encode(K2).decode()}"
    assert parse_keys(text) == {"k1": K1, "k2": K2}
    assert len(base64.b64decode(generate_key())) == 32


@pytest.mark.parametrize(
    "config, message",
    [
        ({}, "CASEWORK_ENCRYPTION_KEYS is not set"),
        ({"ENCRYPTION_KEYS": "k1"}, "must be 'id:base64key"),
        ({"ENCRYPTION_KEYS": "bad id:AAAA"}, "must be 'id:base64key"),
        ({"ENCRYPTION_KEYS": "k1:not base64!"}, "key 'k1' is not valid base64"),
        ({"ENCRYPTION_KEYS": f"k1:{base64.b64encode(b'short').decode()}"}, "key 'k1' must be 32 bytes"),
        ({"ENCRYPTION_KEYS": f"k1:{base64.b64encode(K1).decode()},k1:{base64.b64encode(K2).decode()}"}, "twice"),
        (
            {"ENCRYPTION_KEYS": f"k1:{base64.b64encode(K1).decode()}", "ENCRYPTION_KEY_ID": "k9"},
            "CASEWORK_ENCRYPTION_KEY_ID 'k9' is not one of the keys",
        ),
        (
            {"ENCRYPTION_KEYS": f"k1:{base64.b64encode(K1).decode()},k2:{base64.b64encode(K2).decode()}"},
            "must name the current key",
        ),
    ],
)
def test_a_missing_or_malformed_ring_is_a_configuration_error(config, message):
    with pytest.raises(ConfigError, match=message) as raised:
        ring_from_config(config)
    assert base64.b64encode(K1).decode() not in str(raised.value)  # never echo a key


def test_one_key_is_the_current_one_without_naming_it():
    assert ring_from_config({"ENCRYPTION_KEYS": f"k1:{base64.b64encode(K1).decode()}"}).current_id == "k1"
