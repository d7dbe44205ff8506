"""The encryption keys stored data was written under: their ids and fingerprints, not the keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import Model


class EncryptionKey(Model):
    """A key id that encrypted data here, with a fingerprint of its key (casework.encryption.fingerprint).

    At start-up the configured ring is checked against these rows: a key whose fingerprint differs
    (the wrong key under a known id), or a key id that may still encrypt data but is missing from
    the ring, stops the process. `flask keys rotate` retires a key once no value uses it.
    """

    __tablename__ = "encryption_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    first_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
