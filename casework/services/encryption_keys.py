"""The encryption key ring against the stored data: checking it at start-up, counting values per key,
and rotating every encrypted value to the current key while the service runs.

Checking: the `encryption_keys` table records each key id that encrypted data here with a
fingerprint of its key. A configured key whose fingerprint differs (the wrong key under a known id),
or a recorded key that is not retired and missing from the ring, is a ConfigError: the process
stops before it writes anything or fails on its first read.

Rotating: every column whose type is an encrypted one (`casework.models.encrypted`) is walked in
primary-key order, a batch of rows per transaction. Only rows holding a value not under the current
key are selected, `FOR UPDATE SKIP LOCKED`: a row a request is writing is left alone (never waited
for, so no deadlock with a request that locks several rows) and taken in a later pass. A value is
decrypted and encrypted again unchanged, so a concurrent write is never lost: either it committed
before the batch read the row, or it waits for the batch's commit and then writes its own value
(under the current key). Interrupted, it simply starts again: it looks for what is not yet on the
current key. When nothing is left, the other recorded keys are retired (they may leave the ring).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError

from casework import encryption
from casework.config import ConfigError
from casework.encryption import KeyRing
from casework.extensions import db
from casework.models.encrypted import encrypted_columns
from casework.models.encryption_keys import EncryptionKey

log = logging.getLogger("casework.encryption")

BATCH_SIZE = 500
CLEAR = "(in clear)"


def check_ring(ring: KeyRing | None = None) -> None:
    """Record the current key (id and fingerprint) and compare the ring with the recorded keys.
    ConfigError naming the key id (never a key) when one is wrong or missing. Flushes; the caller commits."""
    ring = ring or encryption.ring()
    if not sa.inspect(db.session.connection()).has_table(EncryptionKey.__tablename__):
        return  # not migrated yet: the migration that creates the table records the key
    if ring.enabled:
        db.session.execute(  # a key made current again is no longer retired
            insert(EncryptionKey)
            .values(key_id=ring.current_id, fingerprint=encryption.fingerprint(ring.keys[ring.current_id]))
            .on_conflict_do_update(
                index_elements=[EncryptionKey.key_id],
                set_={"retired_at": None},
                where=EncryptionKey.retired_at.is_not(None),
            )
        )
    recorded = db.session.scalars(sa.select(EncryptionKey).order_by(EncryptionKey.key_id)).all()
    for row in recorded:
        key = ring.keys.get(row.key_id)
        if key is not None and encryption.fingerprint(key) != row.fingerprint:
            raise ConfigError(
                f"CASEWORK_ENCRYPTION_KEYS: key {row.key_id!r} is not the key that encrypted this database's data "
                "under that id (its fingerprint differs). Restore the right key."
            )
    missing = [row.key_id for row in recorded if row.retired_at is None and row.key_id not in ring.keys]
    if missing:
        raise ConfigError(
            f"Data here is encrypted under key id(s) {', '.join(map(repr, missing))}, missing from "
            "CASEWORK_ENCRYPTION_KEYS. Add them back; `flask keys rotate` retires a key once no value uses it."
        )


def check_at_start(app: Any) -> None:
    """check_ring() when a process starts serving (gunicorn, worker); commits. If the database cannot
    be reached the check is skipped with a warning (readiness reports the database), not fatal."""
    with app.app_context():
        try:
            check_ring()
            db.session.commit()
        except OperationalError:
            db.session.rollback()
            log.warning("encryption key check skipped: the database is not reachable")
        finally:
            db.session.remove()


def values_per_key() -> dict[str, int]:
    """How many stored values each key id encrypts (values in clear under CLEAR), every column."""
    counts: dict[str, int] = {}
    for table, columns in encrypted_columns(db.metadata):
        for column in columns:
            raw = sa.type_coerce(column, sa.LargeBinary)
            key_id = sa.case(
                (sa.func.get_byte(raw, 0) == 0, sa.literal(CLEAR)),
                else_=sa.func.encode(sa.func.substring(raw, 3, sa.func.get_byte(raw, 1)), "escape"),
            )
            query = sa.select(key_id, sa.func.count()).select_from(table).where(column.is_not(None)).group_by(key_id)
            for name, count in db.session.execute(query):
                counts[name] = counts.get(name, 0) + count
    return counts


def _stale(columns: list[sa.Column[Any]], ring: KeyRing) -> sa.ColumnElement[bool]:
    """Rows with a value not under the current key (compared on the ciphertext's header)."""
    header = ring.current_header
    return sa.or_(
        *(
            sa.and_(
                column.is_not(None),
                sa.func.substring(sa.type_coerce(column, sa.LargeBinary), 1, len(header)) != header,
            )
            for column in columns
        )
    )


def pending(ring: KeyRing | None = None) -> int:
    """Rows (in all tables) holding a value not yet under the current key."""
    ring = ring or encryption.ring()
    return sum(
        db.session.scalar(sa.select(sa.func.count()).select_from(table).where(_stale(columns, ring))) or 0
        for table, columns in encrypted_columns(db.metadata)
    )


@dataclass
class RotationResult:
    rows: dict[str, int] = field(default_factory=dict)  # rows rewritten per table
    passes: int = 0
    retired: list[str] = field(default_factory=list)


def rotate(
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    pause: float = 0.2,
) -> RotationResult:
    """Re-encrypt every value not under the current key, batch by batch, each batch committed on its
    own connection; repeat passes until none is left (rows locked by requests come in a later pass).
    Then retire the other keys. ConfigError with encryption disabled (it would write values in clear)."""
    ring = encryption.ring()
    if not ring.enabled:
        raise ConfigError("Encryption is disabled (CASEWORK_ENCRYPTION_ENABLED=off): nothing to rotate to.")
    check_ring(ring)
    db.session.commit()
    result = RotationResult()
    while True:
        result.passes += 1
        moved = sum(_rotate_table(table, columns, ring, batch_size, progress, result) for table, columns in _tables())
        if pending(ring) == 0:
            break
        db.session.rollback()  # end the read transaction before waiting
        if not moved:
            time.sleep(pause)  # what is left is locked by requests right now
    result.retired = _retire_others(ring)
    db.session.commit()
    return result


def _tables() -> list[tuple[sa.Table, list[sa.Column[Any]]]]:
    return list(encrypted_columns(db.metadata))


def _rotate_table(
    table: sa.Table,
    columns: list[sa.Column[Any]],
    ring: KeyRing,
    batch_size: int,
    progress: Callable[[int], None] | None,
    result: RotationResult,
) -> int:
    [key] = table.primary_key.columns
    raw = [sa.type_coerce(column, sa.LargeBinary).label(column.name) for column in columns]
    update = (
        sa.update(table)
        .where(key == sa.bindparam("_key"))
        .values({column.name: sa.bindparam(f"_{column.name}", type_=sa.LargeBinary) for column in columns})
    )
    moved, last = 0, None
    while True:
        with db.engine.begin() as connection:
            query = sa.select(key, *raw).where(_stale(columns, ring)).order_by(key).limit(batch_size)
            if last is not None:
                query = query.where(key > last)
            rows = connection.execute(query.with_for_update(skip_locked=True)).all()
            if not rows:
                return moved
            connection.execute(
                update,
                [
                    {
                        "_key": row[0],
                        **{
                            f"_{column.name}": _current(value, column, ring)
                            for column, value in zip(columns, row[1:], strict=True)
                        },
                    }
                    for row in rows
                ],
            )
        last = rows[-1][0]
        moved += len(rows)
        result.rows[table.name] = result.rows.get(table.name, 0) + len(rows)
        if progress:
            progress(len(rows))


def _current(value: Any, column: sa.Column[Any], ring: KeyRing) -> bytes | None:
    """The value under the current key (unchanged when it already is)."""
    if value is None:
        return None
    stored = bytes(value)
    if stored.startswith(ring.current_header):
        return stored
    return ring.reencrypt(stored, column.type.label)  # type: ignore[attr-defined]


def _retire_others(ring: KeyRing) -> list[str]:
    retired = db.session.scalars(
        sa.update(EncryptionKey)
        .where(EncryptionKey.key_id != ring.current_id, EncryptionKey.retired_at.is_(None))
        .values(retired_at=sa.func.now())
        .returning(EncryptionKey.key_id)
    ).all()
    return sorted(retired)
