"""Export passwords on their way to the job: sealed with the app's secret, never stored in clear.

The web process seals the password (AES-GCM, a key derived from SECRET_KEY, the export's id as
associated data so a sealed password cannot be replayed for another export) and passes the sealed
text as a job argument; the worker opens it, encrypts the file, and forgets it. The export row
records only that the file is protected. The job is enqueued with result_ttl=0, so RQ drops it
(and its sealed argument) from Redis as soon as it has run.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hashlib.sha256(b"casework export passwords\x00" + secret).digest()


def seal(password: str, export_id: int) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key()).encrypt(nonce, password.encode(), str(export_id).encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_sealed(sealed: str, export_id: int) -> str:
    """The password; ValueError if the text was not sealed for this export with this secret."""
    raw = base64.urlsafe_b64decode(sealed.encode())
    try:
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], str(export_id).encode()).decode()
    except InvalidTag as exc:
        raise ValueError("the sealed password does not open") from exc
